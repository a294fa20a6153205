"""make collect: работы из архивов Moodle и Canvas и из папки — в submitted/, без догадок."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import nbformat
import pytest

from course_grader import collect, late
from course_utils import manifest

from .lms_archives import Work, canvas_zip, moodle_zip, roster

ASSIGNMENT = manifest.load().assignments[0]
MSK = timezone(timedelta(hours=3))
DEADLINE = datetime(2027, 5, 31, 23, 59, tzinfo=MSK)
ASSIGNMENT = replace(ASSIGNMENT, deadline=DEADLINE)
NOTEBOOK = ASSIGNMENT.notebook
ON_TIME = datetime(2027, 5, 30, 12, 0)
LATE = datetime(2027, 6, 2, 9, 30)


def _notebook(marker: str) -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"STUDENT_ID = {marker!r}", id="answer")]
    return nbformat.writes(nb).encode("utf-8")


def _files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.fixture
def course(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    roster(
        course / "roster.csv",
        [
            ("s1", "Иван Петров", "ivan@example.org", "101"),
            ("s2", "Анна Смирнова", "anna@example.org", "102"),
            ("s3", "Пётр Сидоров", "", ""),
            ("s4", "Мария Ким", "", "104"),
            ("s5", "Олег Орлов", "", "105"),
        ],
    )
    return course


def test_moodle_archive_files_known_students_and_lists_every_problem(tmp_path, course):
    archive = moodle_zip(
        tmp_path / "moodle.zip",
        [
            Work("Иван Петров", "101", _notebook("1"), ON_TIME),
            Work("Анна Смирнова", "102", _notebook("2"), LATE),
            # Нет lms_id в списке: сопоставляется по полному имени (ё = е, регистр любой).
            Work("ПЕТР Сидоров", "103", _notebook("3"), ON_TIME),
            Work("Чужой Человек", "999", _notebook("x"), ON_TIME),
            Work("Мария Ким", "104", b'{"cells": [ broken', ON_TIME),
            Work("Олег Орлов", "105", _notebook("5"), ON_TIME, file_name="solution.ipynb"),
            Work("Олег Орлов", "105", b"%PDF-1.4", ON_TIME, file_name="report.pdf"),
        ],
    )
    report = collect.collect(archive, course, ASSIGNMENT)
    assert report.lms == "moodle"
    assert sorted(s.split(" ")[0] for s in report.filed) == ["s1", "s2", "s3", "s4"]
    problems = dict(report.problems)
    assert (
        "нет в списке группы (номер moodle 999)"
        in problems[f"Чужой Человек_999_assignsubmission_file_/{NOTEBOOK}"]
    )
    assert "ноутбук не читается" in problems[f"Мария Ким_104_assignsubmission_file_/{NOTEBOOK}"]
    assert (
        f"файл называется не {NOTEBOOK}"
        in problems["Олег Орлов_105_assignsubmission_file_/solution.ipynb"]
    )
    assert "не ноутбук" in problems["Олег Орлов_105_assignsubmission_file_/report.pdf"]
    assert len(report.problems) == 4
    submitted = course / "submitted"
    assert sorted(p.name for p in submitted.iterdir()) == ["s1", "s2", "s3", "s4"]
    assert (submitted / "s2" / ASSIGNMENT.name / NOTEBOOK).read_bytes() == _notebook("2")
    # Время ZIP без пояса читается в поясе срока (МСК).
    assert late.read_timestamp(submitted / "s2" / ASSIGNMENT.name) == LATE.replace(tzinfo=MSK)
    info = json.loads((submitted / "s3" / ASSIGNMENT.name / collect.INFO_FILE).read_text())
    assert (info["lms"], info["lms_id"], info["lms_name"]) == ("moodle", "103", "ПЕТР Сидоров")
    text = report.text()
    assert "Разложено работ: 4" in text and "требуют внимания: 4" in text


def test_canvas_archive_reads_ids_late_marker_and_refuses_duplicates(tmp_path, course):
    archive = canvas_zip(
        tmp_path / "canvas.zip",
        [
            Work("petrovivan", "101", _notebook("1"), ON_TIME, attachment_id="7001"),
            Work("smirnovaanna", "102", _notebook("2"), LATE, late=True, attachment_id="7002"),
            Work("kimmaria", "104", _notebook("4a"), ON_TIME, attachment_id="7004"),
            Work(
                "kimmaria", "104", _notebook("4b"), ON_TIME, attachment_id="7005",
                file_name="cifar10_vae-1.ipynb",
            ),
            Work("stranger", "555", _notebook("x"), ON_TIME),
        ],
    )  # fmt: skip
    report = collect.collect(archive, course, ASSIGNMENT)
    assert report.lms == "canvas"
    assert sorted(s.split(" ")[0] for s in report.filed) == ["s1", "s2"]
    problems = dict(report.problems)
    assert "несколько файлов работы" in problems["s4"]
    assert "нет в списке группы (номер canvas 555)" in problems[f"stranger_555_900_{NOTEBOOK}"]
    assert not (course / "submitted" / "s4").exists()
    info = json.loads(
        (course / "submitted" / "s2" / ASSIGNMENT.name / collect.INFO_FILE).read_text()
    )
    assert (info["lms_id"], info["attachment_id"]) == ("102", "7002")
    assert info["versions"][0]["late_marker"] is True


def test_without_roster_the_lms_id_names_the_student(tmp_path):
    course = tmp_path / "course"
    archive = moodle_zip(tmp_path / "m.zip", [Work("Иван Петров", "101", _notebook("1"), ON_TIME)])
    report = collect.collect(archive, course, ASSIGNMENT)
    assert report.problems == []
    assert (course / "submitted" / "moodle-101" / ASSIGNMENT.name / NOTEBOOK).is_file()


def test_a_later_collect_keeps_every_version_and_the_latest_counts(tmp_path, course):
    folder = course / "submitted" / "s1" / ASSIGNMENT.name
    first = moodle_zip(tmp_path / "1.zip", [Work("Иван Петров", "101", _notebook("v1"), ON_TIME)])
    collect.collect(first, course, ASSIGNMENT)
    again = collect.collect(first, course, ASSIGNMENT)
    assert again.unchanged == ["s1"] and again.filed == []

    newer = ON_TIME + timedelta(hours=5)
    second = moodle_zip(tmp_path / "2.zip", [Work("Иван Петров", "101", _notebook("v2"), newer)])
    assert collect.collect(second, course, ASSIGNMENT).filed
    assert (folder / NOTEBOOK).read_bytes() == _notebook("v2")

    # Архив, скачанный раньше, принёс версию старше: она сохранена, но не считается.
    older = ON_TIME - timedelta(days=1)
    third = moodle_zip(tmp_path / "3.zip", [Work("Иван Петров", "101", _notebook("v0"), older)])
    assert collect.collect(third, course, ASSIGNMENT).filed == []
    assert (folder / NOTEBOOK).read_bytes() == _notebook("v2")
    assert late.read_timestamp(folder) == newer.replace(tzinfo=MSK)
    kept = sorted((folder / "versions").iterdir())
    assert [p.read_bytes() for p in kept] == [_notebook("v0"), _notebook("v1"), _notebook("v2")]
    info = json.loads((folder / collect.INFO_FILE).read_text())
    assert info["counting"] == kept[2].name


def test_a_notebook_put_by_hand_is_kept_as_a_version(tmp_path, course):
    folder = course / "submitted" / "s1" / ASSIGNMENT.name
    folder.mkdir(parents=True)
    (folder / NOTEBOOK).write_bytes(_notebook("by hand"))
    archive = moodle_zip(tmp_path / "m.zip", [Work("Иван Петров", "101", _notebook("1"), ON_TIME)])
    collect.collect(archive, course, ASSIGNMENT)
    versions = {p.read_bytes() for p in (folder / "versions").iterdir()}
    assert versions == {_notebook("by hand"), _notebook("1")}


HOSTILE = [
    "../../escaped.ipynb",
    "/tmp/absolute.ipynb",
    f"Иван Петров_101_assignsubmission_file_/../../../{NOTEBOOK}",
    f"Иван Петров_101_assignsubmission_file_/sub/../../{NOTEBOOK}",
    f"=cmd|' /C calc'!A0 \x1b[2J<script>_103_assignsubmission_file_/{NOTEBOOK}",
]


def test_hostile_entry_names_never_write_outside_the_course(tmp_path, course):
    archive = tmp_path / "hostile.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name in HOSTILE:
            z.writestr(name, _notebook("evil"))
        link = zipfile.ZipInfo(f"Иван Петров_101_assignsubmission_file_/{NOTEBOOK}")
        link.external_attr = 0o120777 << 16
        z.writestr(link, "/etc/passwd")
    before = _files(tmp_path)
    report = collect.collect(archive, course, ASSIGNMENT)
    # Ни один файл не разложен: имена не по раскладке, ссылка, номер не из списка группы.
    assert _files(tmp_path) == before
    assert report.filed == [] and len(report.problems) == len(HOSTILE) + 1
    problems = dict(report.problems)
    assert "символическая ссылка" in problems[f"Иван Петров_101_assignsubmission_file_/{NOTEBOOK}"]
    assert "не по раскладке" in problems["../../escaped.ipynb"]
    assert f"файл называется не {NOTEBOOK}" in problems[HOSTILE[2]]
    text = report.text()
    assert "\x1b" not in text and "\\x1b[2J" in text


def test_plain_folder_and_clear_errors(tmp_path, course):
    source = tmp_path / "inbox"
    (source / "s1").mkdir(parents=True)
    (source / "s1" / NOTEBOOK).write_bytes(_notebook("1"))
    (source / "nobody").mkdir()
    (source / "nobody" / NOTEBOOK).write_bytes(_notebook("x"))
    report = collect.collect(source, course, ASSIGNMENT)
    assert report.lms == "folder"
    assert [s.split(" ")[0] for s in report.filed] == ["s1"]
    assert "нет в списке группы" in dict(report.problems)[f"nobody/{NOTEBOOK}"]

    with pytest.raises(collect.CollectError, match="нет такого файла или папки"):
        collect.collect(tmp_path / "missing.zip", course, ASSIGNMENT)
    (tmp_path / "not.zip").write_text("просто текст", encoding="utf-8")
    with pytest.raises(collect.CollectError, match="не читается как ZIP"):
        collect.collect(tmp_path / "not.zip", course, ASSIGNMENT)
    roster(course / "roster.csv", [("../x", "Злой", "", "1")])
    with pytest.raises(collect.CollectError, match="student_id"):
        collect.collect(source, course, ASSIGNMENT)


def test_utc_extended_timestamp_wins_over_the_dos_time(tmp_path, course):
    moment = datetime(2027, 6, 1, 7, 0, tzinfo=timezone.utc)
    info = zipfile.ZipInfo(
        f"Иван Петров_101_assignsubmission_file_/{NOTEBOOK}", (1999, 1, 1, 0, 0, 0)
    )
    info.extra = b"UT\x05\x00\x01" + int(moment.timestamp()).to_bytes(4, "little")
    with zipfile.ZipFile(tmp_path / "ut.zip", "w") as z:
        z.writestr(info, _notebook("1"))
    collect.collect(tmp_path / "ut.zip", course, ASSIGNMENT)
    assert late.read_timestamp(course / "submitted" / "s1" / ASSIGNMENT.name) == moment


def test_command_line_reports_a_missing_source_in_russian(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "course_grader.collect", str(tmp_path / "nope.zip"),
         "--course-dir", str(tmp_path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Сбор не выполнен" in result.stderr and "FROM=" in result.stderr
    assert collect.main([str(tmp_path), "--assignment", "nope", "--course-dir", str(tmp_path)]) == 2
