"""Семестр целиком: make collect -> make grade -> make similarity -> make export.

Одни и те же работы приходят архивом Moodle и архивом Canvas (раскладки — из
tests/grading/lms_archives.py): честная работа вовремя (решение, написанное независимо от
эталона: эталон и галерею уже проверяет test_grading_suite), её почти-копия, сданная с
опозданием, работа студента не из списка группы, второй файл с чужим именем и негодный файл
студента, чьё имя в LMS — формула и HTML. В песочнице проверяются только две работы и
только ОДИН раз (курс Moodle, JOBS=2); курс Canvas получает те же файлы (те же sha256),
поэтому его `grade_all` только читает готовые итоги. Профиль CI: COURSE_FAST=1, COURSE_DATA=sample.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
import zipfile
from datetime import timedelta, timezone
from pathlib import Path

import nbformat
import pytest

from course_grader import collect, export, late, similarity
from course_grader.pipeline import GradingSettings, grade_all
from course_utils import manifest
from course_utils.config import REPO_ROOT

from . import term_works
from .lms_archives import Work, canvas_zip, moodle_zip, roster

ASSIGNMENT = manifest.load().assignments[0]
NOTEBOOK = ASSIGNMENT.notebook
MSK = timezone(timedelta(hours=3))
DEADLINE = ASSIGNMENT.deadline.astimezone(MSK).replace(tzinfo=None)
ON_TIME, LATE = DEADLINE - timedelta(days=1), DEADLINE + timedelta(hours=30)
# Moodle убирает «/» из имён папок; остальное — как ввёл студент.
HOSTILE = '=HYPERLINK("evil.example";"x")<img src=x onerror=alert(1)>'
# Штраф за 30 ч опоздания по правилам course.toml (2 начатых суток).
LATE_PERCENT = min(ASSIGNMENT.late_penalty_per_day * 2, ASSIGNMENT.late_penalty_max)


def _bytes(nb) -> bytes:
    return nbformat.writes(nb).encode("utf-8")


def _works() -> list[Work]:
    honest = term_works.independent()
    return [
        Work("Иван Петров", "101", _bytes(honest), ON_TIME, attachment_id="7001"),
        Work("Иван Петров", "101", _bytes(honest), ON_TIME, file_name="копия.ipynb",
             attachment_id="7011"),
        Work("Анна Смирнова", "102", _bytes(term_works.near_copy(honest)), LATE, late=True,
             attachment_id="7002"),
        Work("Чужой Человек", "999", _bytes(honest), ON_TIME, attachment_id="7999"),
        Work(HOSTILE, "104", b'{"cells": [ broken', ON_TIME, attachment_id="7004"),
    ]  # fmt: skip


def _course(root: Path) -> Path:
    """Папка курса: ноутбук преподавателя, выдача nbgrader (база оценок), список группы."""
    shutil.copytree(REPO_ROOT / "grading" / "source", root / "source")
    shutil.copy(REPO_ROOT / "grading" / "nbgrader_config.py", root)
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT.name, "--force"],
        cwd=root, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    roster(
        root / "roster.csv",
        [
            ("s1", "Иван Петров", "ivan@example.org", "101"),
            ("s2", "Анна Смирнова", "anna@example.org", "102"),
            ("s4", "", "", "104"),  # имени нет: в выгрузку идёт имя из LMS
        ],
    )
    return root


def _settings(course: Path) -> GradingSettings:
    return GradingSettings(
        course_dir=course, cell_timeout=600, memory_mb=2048, max_pids=256,
        course_data="sample", fast=True,
    )  # fmt: skip


@pytest.fixture(scope="session")
def term(tmp_path_factory):
    if shutil.which("bwrap") is None:
        pytest.fail("Нет bubblewrap (bwrap): `sudo apt-get install bubblewrap`.")
    root = tmp_path_factory.mktemp("term")
    moodle = _course(root / "moodle")
    canvas = root / "canvas"
    shutil.copytree(moodle, canvas)
    works = _works()
    reports = {
        "moodle": collect.collect(moodle_zip(root / "moodle.zip", works), moodle, ASSIGNMENT),
        "canvas": collect.collect(canvas_zip(root / "canvas.zip", works), canvas, ASSIGNMENT),
    }
    saved = os.environ.get("JOBS")
    os.environ["JOBS"] = saved or "2"
    try:
        # Эталон через песочницу проверяет test_grading_suite: здесь — только работы семестра.
        graded = {
            r.student: r
            for r in grade_all(_settings(moodle), echo=lambda _: None, reference_first=False)
        }
        # Те же работы, те же итоги: курс Canvas получает их готовыми и ничего не выполняет.
        for part in ("autograded", "feedback"):
            shutil.copytree(moodle / part, canvas / part)
        lines: list[str] = []
        again = {
            r.student: r
            for r in grade_all(_settings(canvas), echo=lines.append, reference_first=False)
        }
    finally:
        if saved is None:
            os.environ.pop("JOBS")
    assert "проверяются: 0" in lines[0]
    assert {s: r.score for s, r in again.items()} == {s: r.score for s, r in graded.items()}
    return {
        "courses": {"moodle": moodle, "canvas": canvas},
        "collected": reports,
        "graded": graded,
        "similarity": {lms: similarity.similarity(_settings(c)) for lms, c in
                       (("moodle", moodle), ("canvas", canvas))},
        "export": {lms: export.export(_settings(c), lms) for lms, c in
                   (("moodle", moodle), ("canvas", canvas))},
    }  # fmt: skip


@pytest.mark.parametrize("lms", ["moodle", "canvas"])
def test_every_known_student_is_filed_and_problems_are_listed(term, lms):
    report = term["collected"][lms]
    assert report.lms == lms
    assert sorted(s.split(" ")[0] for s in report.filed) == ["s1", "s2", "s4"]
    problems = [why for _, why in report.problems]
    assert any(f"нет в списке группы (номер {lms} 999)" in why for why in problems)
    assert any(why.startswith("s4: ноутбук не читается") for why in problems)
    assert any(why.startswith("s1: файл называется не") for why in problems)
    assert len(problems) == 3
    course = term["courses"][lms]
    assert (course / "grades.csv").is_file()  # grades.csv остаётся
    assert late.read_timestamp(course / "submitted" / "s2" / ASSIGNMENT.name) > ASSIGNMENT.deadline


def test_grades_come_from_the_sandbox(term):
    graded = term["graded"]
    assert graded["s1"].status == "graded" and graded["s1"].score == graded["s1"].max_score
    assert graded["s2"].status == "graded" and graded["s2"].score > 0
    assert graded["s4"].status == "unreadable"
    assert sorted(graded) == ["s1", "s2", "s4"]


@pytest.mark.parametrize("lms", ["moodle", "canvas"])
def test_the_near_copy_pair_is_in_the_report(term, lms):
    report = term["similarity"][lms]
    assert [(p.a, p.b) for p in report.pairs] == [("s1", "s2")]
    assert report.compared == 2 and dict(report.skipped)["s4"].startswith("ноутбук не читается")


def _csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_moodle_csv_applies_the_late_penalty(term):
    course = term["courses"]["moodle"]
    rows = {r["Identifier"]: r for r in _csv(course / "export" / "moodle" / "grades.csv")}
    assert sorted(rows) == [f"Participant {n}" for n in (101, 102, 104)]
    s1, s2 = term["graded"]["s1"], term["graded"]["s2"]
    assert float(rows["Participant 101"]["Grade"]) == pytest.approx(s1.score)
    assert float(rows["Participant 102"]["Grade"]) == pytest.approx(
        s2.score * (1 - LATE_PERCENT / 100), abs=0.01
    )
    assert rows["Participant 102"]["Late penalty %"] == f"{LATE_PERCENT:g}"
    assert rows["Participant 104"]["Full name"] == "'" + HOSTILE  # текст, не формула
    with zipfile.ZipFile(course / "export" / "moodle" / "feedback.zip") as z:
        ids = sorted(re.match(r"^[^_/]+_(\d+)_assignsubmission_file_/", n)[1] for n in z.namelist())
    assert ids == ["101", "102", "104"]


def test_canvas_csv_applies_the_late_penalty(term):
    course = term["courses"]["canvas"]
    rows = _csv(course / "export" / "canvas" / "grades.csv")
    assert rows[0]["Student"].strip() == "Points Possible"
    grades = {r["ID"]: float(r[ASSIGNMENT.title]) for r in rows[1:]}
    s2 = term["graded"]["s2"]
    assert grades["102"] == pytest.approx(s2.score * (1 - LATE_PERCENT / 100), abs=0.01)
    assert set(grades) == {"101", "102", "104"}
    with zipfile.ZipFile(course / "export" / "canvas" / "feedback.zip") as z:
        assert len(z.namelist()) == 3


def test_exported_pages_stay_inert_in_chromium(term):
    """Отзыв студента с именем-атакой и отчёт о похожих решениях открываются в Chromium:
    ни скрипт, ни обработчик события не выполняются."""
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("Нет Chromium: `make test` ставит его сам (tools/system_deps.sh).")
    course = term["courses"]["moodle"]
    out = course / "export" / "opened"
    with zipfile.ZipFile(course / "export" / "moodle" / "feedback.zip") as z:
        (name,) = [n for n in z.namelist() if "_104_" in n]
        out.mkdir()
        (out / "hostile.html").write_bytes(z.read(name))
    pages = [out / "hostile.html", term["similarity"]["moodle"].path]
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            for page_path in pages:
                page = browser.new_page()
                dialogs = []
                page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
                page.goto(page_path.as_uri())
                page.wait_for_load_state("load")
                assert dialogs == [], page_path
                assert page.evaluate("document.scripts.length") == 0
                assert "onerror" not in page.evaluate(
                    "Array.from(document.querySelectorAll('*')).flatMap("
                    "e => Array.from(e.attributes).map(a => a.name)).join(' ')"
                )
                if page_path == pages[0]:
                    # Имя-атака видно как текст: санитайзер его не потерял, а обезвредил.
                    assert "<img src=x onerror=alert(1)>" in page.inner_text("body")
                page.close()
        finally:
            browser.close()
