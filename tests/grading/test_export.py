"""make export: CSV для импорта в Moodle и Canvas и архив отзывов в их раскладке.

Работы собираются из архивов «как из LMS» (tests/grading/lms_archives.py), итоги проверки
пишутся напрямую (без песочницы: её проверяет test_grading_suite и test_term): здесь
проверяются форматы, штраф за опоздание и обезвреживание.
"""

from __future__ import annotations

import csv
import re
import shutil
import zipfile
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import nbformat
import pytest

from course_grader import collect, export, records
from course_grader.settings import GradingSettings
from course_utils import manifest
from course_utils.checks import evidence
from course_utils.config import REPO_ROOT

from .lms_archives import Work, canvas_zip, moodle_zip, roster

ASSIGNMENT = manifest.load().assignments[0]
NOTEBOOK = ASSIGNMENT.notebook
MSK = timezone(timedelta(hours=3))
POINTS = evidence.points_from_source(REPO_ROOT / ASSIGNMENT.source)
MAX = sum(POINTS.values())
# Срок из course.toml: работа за 2 ч до него — вовремя, через 30 ч — опоздание 2 сут.
DEADLINE = ASSIGNMENT.deadline.astimezone(MSK).replace(tzinfo=None)
ON_TIME, LATE = DEADLINE - timedelta(hours=2), DEADLINE + timedelta(hours=30)
# Moodle убирает «/» из имён папок; остальное в имени — как ввёл пользователь.
HOSTILE_NAME = '=HYPERLINK("evil.example","x") <img src=x onerror=alert(1)>\x1b[2J'


def _notebook(marker: str) -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"STUDENT_ID = {marker!r}", id="answer")]
    return nbformat.writes(nb).encode("utf-8")


def _course(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(REPO_ROOT / "grading" / "source", course / "source")
    roster(
        course / "roster.csv",
        [("s1", "Иван Петров", "ivan@example.org", "101"), ("s2", "Анна Смирнова", "", "102")],
    )
    return course


def _grade(settings, student, lost=(), message="верно"):
    """Итог проверки, как его пишет make grade (баллы по проверкам из ноутбука преподавателя)."""
    checks = [
        records.CheckResult(g, f"проверка {g}", 0.0 if g in lost else p, p, message)
        for g, p in POINTS.items()
    ]
    notebook = settings.notebook(settings.course_dir / "submitted" / student)
    result = records.SubmissionResult(
        student, "graded", checks, notebook_sha256=records.notebook_hash(notebook)
    )
    records.save_result(settings, result)
    return result


def _works():
    return [
        Work("Иван Петров", "101", _notebook("1"), ON_TIME, attachment_id="7001"),
        Work("Анна Смирнова", "102", _notebook("2"), LATE, late=True, attachment_id="7002"),
        Work(HOSTILE_NAME, "103", _notebook("3"), ON_TIME, attachment_id="7003"),
    ]


@pytest.fixture
def moodle(tmp_path):
    course = _course(tmp_path)
    (course / "roster.csv").unlink()  # без списка: студентов называют номера Moodle
    collect.collect(moodle_zip(tmp_path / "m.zip", _works()), course, ASSIGNMENT)
    settings = GradingSettings(course_dir=course)
    for student in ("moodle-101", "moodle-102", "moodle-103"):
        _grade(settings, student, lost=("test_morph",) if student == "moodle-102" else ())
    return settings


def _read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_moodle_worksheet_has_the_columns_moodle_reads_and_the_late_penalty(moodle):
    result = export.export(moodle, "moodle")
    rows = _read_csv(moodle.course_dir / "export" / "moodle" / "grades.csv")
    header = rows[0]
    # Столбцы, по которым Moodle импортирует лист оценок (assignfeedback_offline).
    for column in ("Identifier", "Grade", "Last modified (grade)", "Feedback comments"):
        assert column in header
    table = {row[header.index("Identifier")]: dict(zip(header, row)) for row in rows[1:]}
    assert set(table) == {"Participant 101", "Participant 102", "Participant 103"}
    on_time, late_row = table["Participant 101"], table["Participant 102"]
    assert float(on_time["Grade"]) == MAX and on_time["Late penalty %"] == "0"
    # Опоздание 30 ч = 2 начатых суток по 10 % (course.toml): 20 % от набранных баллов.
    earned = MAX - POINTS["test_morph"]
    assert late_row["Days late"] == "2" and late_row["Late penalty %"] == "20"
    assert float(late_row["Grade"]) == pytest.approx(earned * 0.8)
    assert late_row["test_morph"] == "0" and float(late_row["Maximum Grade"]) == MAX
    assert "штраф 20 %" in late_row["Feedback comments"]
    assert datetime.fromisoformat(late_row["Last modified (grade)"]).tzinfo is not None
    assert [r.student for r in result.rows] == ["moodle-101", "moodle-102", "moodle-103"]


def test_moodle_feedback_zip_uses_the_upload_layout(moodle):
    export.export(moodle, "moodle")
    with zipfile.ZipFile(moodle.course_dir / "export" / "moodle" / "feedback.zip") as z:
        names = sorted(z.namelist())
        pages = {n: z.read(n).decode("utf-8") for n in names}
    pattern = re.compile(r"^[^_/]+_(\d+)_assignsubmission_file_/cifar10_vae_feedback\.html$")
    assert sorted(pattern.match(n)[1] for n in names) == ["101", "102", "103"], names
    assert "Иван Петров_101_assignsubmission_file_/cifar10_vae_feedback.html" in names
    late_page = next(p for n, p in pages.items() if "_102_" in n)
    assert "опоздание 2 сут." in late_page and "штраф 20 %" in late_page
    assert "Content-Security-Policy" in late_page


def test_the_penalty_survives_a_regrade_and_is_never_stored(moodle):
    export.export(moodle, "moodle")
    # Перепроверка (новый итог с теми же баллами) — штраф тот же: он от времени сдачи.
    _grade(moodle, "moodle-102")
    export.export(moodle, "moodle")
    rows = _read_csv(moodle.course_dir / "export" / "moodle" / "grades.csv")
    header = rows[0]
    row = next(dict(zip(header, r)) for r in rows[1:] if r[0] == "Participant 102")
    assert float(row["Grade"]) == pytest.approx(MAX * 0.8)
    saved, _ = records.load_result(moodle, "moodle-102")
    assert saved.score == MAX  # в итоге проверки — баллы без штрафа


def test_stale_or_ungraded_work_is_not_exported(moodle, tmp_path):
    newer = moodle_zip(
        tmp_path / "newer.zip",
        [Work("Иван Петров", "101", _notebook("1b"), ON_TIME + timedelta(minutes=5))],
    )
    collect.collect(newer, moodle.course_dir, ASSIGNMENT)
    result = export.export(moodle, "moodle")
    assert "moodle-101" not in [r.student for r in result.rows]
    assert dict(result.problems)["moodle-101"] == "работа изменилась после проверки: make grade"


def test_hostile_names_stay_inert_in_csv_zip_and_terminal(moodle):
    feedback = moodle.feedback("moodle-103")
    feedback.mkdir(parents=True)
    (feedback / f"{ASSIGNMENT.name}.html").write_text(
        "<html><body><script>alert(1)</script><img src=x onerror=alert(2)>"
        "<a href='javascript:alert(3)'>x</a><p>вывод</p></body></html>",
        encoding="utf-8",
    )
    result = export.export(moodle, "moodle")
    rows = _read_csv(moodle.course_dir / "export" / "moodle" / "grades.csv")
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    hostile = next(r for r in rows if r[0] == "Participant 103")
    assert hostile[1] == "'" + HOSTILE_NAME.replace("\x1b", "\\x1b")  # ESC виден, не действует
    assert "\x1b" not in (moodle.course_dir / "export" / "moodle" / "grades.csv").read_text("utf-8")
    with zipfile.ZipFile(moodle.course_dir / "export" / "moodle" / "feedback.zip") as z:
        (name,) = [n for n in z.namelist() if "_103_" in n]
        page = z.read(name).decode("utf-8")
    assert "/" not in name.split("_assignsubmission_file_")[0]
    assert "<script" not in page and "javascript:" not in page
    assert not re.search(r"<[^>]*\son\w+\s*=", page)  # ни одного обработчика событий
    assert "<p>вывод</p>" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # имя — текст
    assert "\x1b" not in result.text()


def test_canvas_csv_and_feedback_zip(tmp_path):
    course = _course(tmp_path)
    collect.collect(canvas_zip(tmp_path / "c.zip", _works()[:2]), course, ASSIGNMENT)
    settings = GradingSettings(course_dir=course)
    for student in ("s1", "s2"):
        _grade(settings, student)
    result = export.export(settings, "canvas", canvas_assignment_id="4242")
    assert result.problems == []
    rows = _read_csv(course / "export" / "canvas" / "grades.csv")
    column = f"{ASSIGNMENT.title} (4242)"
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column]
    assert rows[1][0].strip() == "Points Possible" and float(rows[1][5]) == MAX
    grades = {row[1]: float(row[5]) for row in rows[2:]}
    assert grades == {"101": MAX, "102": pytest.approx(MAX * 0.8)}
    with zipfile.ZipFile(course / "export" / "canvas" / "feedback.zip") as z:
        names = sorted(z.namelist())
    # Canvas берёт первые два числа из имени файла: user id и attachment id работы.
    ids = [[p for p in n.split("_") if p.isdigit()][:2] for n in names]
    assert ids == [["101", "7001"], ["102", "7002"]] and all("/" not in n for n in names)


def test_canvas_late_marker_disagreeing_with_the_time_is_listed(tmp_path):
    course = _course(tmp_path)
    works = [replace(_works()[0], late=True)]  # отметка LATE, а время — до срока
    collect.collect(canvas_zip(tmp_path / "c.zip", works), course, ASSIGNMENT)
    settings = GradingSettings(course_dir=course)
    _grade(settings, "s1")
    result = export.export(settings, "canvas")
    assert "расходятся" in dict(result.problems)["s1"]


def test_unknown_lms_is_a_clear_error(moodle, capsys):
    with pytest.raises(ValueError, match="допустимо moodle или canvas"):
        export.export(moodle, "blackboard")
    assert export.main(["--lms", "blackboard", "--course-dir", str(moodle.course_dir)]) == 2
    assert "Выгрузка не выполнена" in capsys.readouterr().err
