"""Каждая оценка прослеживается: коммит проверяющего, sha256 работы, настройки, время, песочница."""

import json
import subprocess
from datetime import datetime
from importlib import metadata

from course_grader import records
from course_grader.settings import GradingSettings
from course_utils.config import REPO_ROOT


def test_saved_result_records_where_the_grade_came_from(tmp_path):
    settings = GradingSettings(course_dir=tmp_path, sandbox="bwrap", cell_timeout=77)
    result = records.SubmissionResult(student="s1", status="timed_out", notebook_sha256="ab" * 32)
    records.save_result(settings, result)
    saved = json.loads(records.result_file(settings, "s1").read_text(encoding="utf-8"))
    record = saved["provenance"]
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
    ).stdout.strip()
    assert record["grader_commit"].startswith(head) and len(head) == 40
    assert (record["notebook_sha256"], record["status"], record["sandbox"]) == (
        "ab" * 32,
        "timed_out",
        "bwrap",
    )
    assert record["settings"]["cell_timeout"] == 77
    # Версии обоих пакетов: курса (проверки) и преподавателя (песочница, вынос).
    assert record["course_utils_version"] == metadata.version("course-utils")
    assert record["course_grader_version"] == metadata.version("course-grader")
    assert record["settings"]["course_dir"] == str(tmp_path)
    assert datetime.fromisoformat(record["graded_at"]).tzinfo is not None
    # Итог читается как раньше: запись о проверке ему не мешает.
    loaded, _ = records.load_result(settings, "s1")
    assert loaded.status == "timed_out"
