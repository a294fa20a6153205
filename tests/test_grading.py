"""Задание и его версия для студентов: разметка nbgrader, баллы, свежесть выдачи.

Сама проверка работ (песочница, вынос, проверяющий) — в ``tests/grading/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from traitlets.config.loader import PyFileConfigLoader

from course_grader import pipeline
from course_grader.pipeline import GradingSettings
from course_utils import manifest
from course_utils.checks import evidence, verify
from course_utils.config import REPO_ROOT

GRADING = REPO_ROOT / "grading"
# Задание курса (course.toml, первое из [[assignments]]): проверки написаны для его эталона.
_ASSIGNMENT = manifest.load().assignments[0]
ASSIGNMENT = _ASSIGNMENT.name
SOURCE = REPO_ROOT / _ASSIGNMENT.source
STUDENT_VERSION = REPO_ROOT / _ASSIGNMENT.student_version


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    """Свежая выдача `nbgrader generate_assignment` в копии папки курса."""
    course = tmp_path_factory.mktemp("grading") / "course"
    shutil.copytree(GRADING / "source", course / "source")
    shutil.copy(GRADING / "nbgrader_config.py", course)
    env_path = str(Path(sys.executable).parent)
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT, "--force"],
        cwd=course,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PATH": env_path + os.pathsep + os.environ["PATH"]},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return course / "release" / ASSIGNMENT / _ASSIGNMENT.notebook


def test_config_names_course_root():
    config = PyFileConfigLoader("nbgrader_config.py", path=str(GRADING)).load_config()
    assert Path(config.CourseDirectory.root) == GRADING


def test_every_grade_cell_has_a_check_and_points_sum_to_ten():
    nb = nbformat.read(SOURCE, as_version=4)
    meta = [c.metadata["nbgrader"] for c in nb.cells if "nbgrader" in c.metadata]
    ids = [m["grade_id"] for m in meta]
    assert len(ids) == len(set(ids)), "grade_id повторяются"
    points = evidence.points_from_source(SOURCE)
    assert set(points) == set(verify.CHECKS)
    assert sum(points.values()) == 10
    assert all(m["locked"] for m in meta if m["grade"])
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source


def test_rules_table_lists_every_check_with_its_points():
    nb = nbformat.read(SOURCE, as_version=4)
    rules = next(c.source for c in nb.cells if c.get("id") == "rules")
    rows = [line for line in rules.splitlines() if line.startswith("| `")]
    assert [float(row.rstrip(" |").rsplit("|", 1)[1]) for row in rows] == list(
        evidence.points_from_source(SOURCE).values()
    )
    assert f"{GradingSettings.cell_timeout // 60} минут на одну ячейку" in rules
    assert f"памяти — {GradingSettings.memory_mb // 1024} ГБ" in rules
    assert f"на диске — {GradingSettings.disk_mb // 1024} ГБ" in rules
    assert f"не больше {pipeline.MAX_CODE_CELLS} ячеек кода" in rules


def test_self_check_uses_the_graders_points():
    """Самопроверка в ноутбуке студента берёт баллы из verify.POINTS: они те же, что в метаданных."""
    assert verify.POINTS == evidence.points_from_source(SOURCE)
    nb = nbformat.read(SOURCE, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("grade"):
            assert f'self_check("{grade_id}")' in cell.source


def test_student_version_is_fresh(released):
    fresh = nbformat.read(released, as_version=4)
    committed = nbformat.read(STUDENT_VERSION, as_version=4)

    def essence(nb):
        return [
            (c.cell_type, c.source, c.metadata.get("nbgrader"), c.get("outputs", []))
            for c in nb.cells
        ]

    assert essence(committed) == essence(fresh), (
        "Версия для студентов устарела: выполните `make release`."
    )
    assert committed.metadata.get("kernelspec") == fresh.metadata.get("kernelspec")


def test_student_version_has_no_solutions():
    text = STUDENT_VERSION.read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", 'STUDENT_ID = "1032259319"'):
        assert marker not in text
    assert "raise NotImplementedError()" in text
