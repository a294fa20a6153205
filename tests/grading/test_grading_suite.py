"""Проверка проверяющего: галерея честных решений и атаки, все в одном запуске ``grade_all``.

Одна копия папки курса во временной папке; в ней — выдача (``nbgrader generate_assignment``),
работы из :mod:`tests.grading.submissions` и ОДИН запуск координатора, как ``make grade``.
Каждая работа выполняется в своей песочнице; тесты сверяют баллы, состояния, отзывы, базу
оценок и то, что за пределами песочниц ничего не изменилось и не осталось процессов.
Профиль CI: ``COURSE_FAST=1 COURSE_DATA=sample``, короткий предел на ячейку.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import psutil
import pytest

from course_grader import records
from course_grader.pipeline import GradingSettings, PreflightError, grade_all
from course_utils.checks import evidence, verify
from course_utils.config import REPO_ROOT

from . import submissions

ASSIGNMENT = "cifar10_vae"
POINTS = evidence.points_from_source(submissions.SOURCE)
FULL = dict(POINTS)
ZERO = {key: 0.0 for key in POINTS}
#: Проверки, баллы которых ставятся по модели, загруженной чистым процессом.
MODEL_CHECKS = ("test_vae", "test_training", "test_reconstruction", "test_morph")

#: Что заслуживает каждая работа: состояние и баллы по проверкам.
EXPECTED = {
    "reference": ("graded", FULL),
    "lecture_style": ("graded", FULL),
    "best_checkpoint": ("graded", FULL),
    "dense_vae": ("graded", FULL),
    "chollet_style": ("graded", FULL),
    "blank": ("graded", ZERO),
    "monkeypatch": ("graded", ZERO),
    "ast_transformer": ("graded", ZERO),
    # Классы верны, рисунок нарисован; данные, модель и обучение поддельные.
    "fake_objects": (
        "graded",
        {**ZERO, "test_classes": POINTS["test_classes"], "test_figure": POINTS["test_figure"]},
    ),
    "tamper": ("graded", ZERO),
    "detached_process": ("graded", ZERO),
    # Цикл не прерывается: ядро не отвечает, выносить нечего.
    "sigint_loop": ("timed_out", ZERO),
    # Цикл прерван по пределу, следующая ячейка выполнена: классы и рисунок засчитаны.
    "endless_loop": (
        "graded",
        {**ZERO, "test_classes": POINTS["test_classes"], "test_figure": POINTS["test_figure"]},
    ),
    "memory_hog": ("killed_memory", ZERO),
    "kernel_death": ("kernel_died", ZERO),
    "network": ("graded", {**ZERO, "test_classes": POINTS["test_classes"]}),
    "duplicated_grade_cells": ("graded", FULL),
    # Вынос подменён после проверки (ссылка на ноутбук преподавателя, канал): классы
    # засчитаны, подмена записана, ссылка не пройдена, чтение не зависло.
    "symlink_after_export": (
        "evidence_tampered",
        {**ZERO, "test_classes": POINTS["test_classes"]},
    ),
    "fifo_after_export": ("evidence_tampered", {**ZERO, "test_classes": POINTS["test_classes"]}),
    "hostile_strings": ("graded", ZERO),
    "huge_output": ("graded", {**ZERO, "test_classes": POINTS["test_classes"]}),
    "disk_hog": ("killed_disk", ZERO),
    "many_cells": ("unreadable", ZERO),
    # Необученная модель, выдуманная история и подменённые после выноса реконструкции:
    # засчитано то, что сделано (классы, данные, пара, рисунок), но не модель.
    "forged_history": ("graded", {**FULL, **dict.fromkeys(MODEL_CHECKS, 0.0)}),
    # PCA на numpy вместо VAE: модель, обучение, реконструкции и морфинг — ноль.
    "stand_in": ("graded", {**FULL, **dict.fromkeys(MODEL_CHECKS, 0.0)}),
    "cross_fade": ("graded", {**FULL, "test_morph": 0.0}),
    "plain_autoencoder": ("graded", {**FULL, "test_vae": 0.0}),
    "unreadable": ("unreadable", ZERO),
}


def _tree_hashes(root: Path, pattern: str = "*") -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob(pattern))
        if p.is_file()
    }


def _leftovers() -> list[str]:
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if (
            any(marker in cmdline for marker in submissions.DETACHED_MARKERS)
            and "pytest" not in cmdline
        ):
            found.append(f"{proc.info['pid']}: {cmdline}")
    return found


#: Предел на ячейку для обычных работ — с запасом на занятую машину (обучение в профиле CI
#: идёт десятки секунд), и короткий — для зависающих работ: их обычные ячейки (pandas,
#: matplotlib, без Keras) идут секунды, а бесконечный цикл занимает ядро на весь предел.
CELL_TIMEOUT, LOOP_CELL_TIMEOUT = 600, 25
#: Предел диска в тестах: эталону хватает с запасом, работа «disk_hog» его превышает.
DISK_MB = 512


def _settings(course: Path, **overrides) -> GradingSettings:
    values = {
        "course_dir": course,
        "cell_timeout": CELL_TIMEOUT,
        "memory_mb": 2048,
        "max_pids": 256,
        "disk_mb": DISK_MB,
        "course_data": "sample",
        "fast": True,
    }
    values.update(overrides)
    return GradingSettings(**values)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    if shutil.which("bwrap") is None:
        pytest.fail(
            "Нет bubblewrap (bwrap): `sudo apt-get install bubblewrap` (.ci/run ставит его сам)."
        )
    course = tmp_path_factory.mktemp("grading") / "course"
    shutil.copytree(REPO_ROOT / "grading" / "source", course / "source")
    shutil.copy(REPO_ROOT / "grading" / "nbgrader_config.py", course)
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT, "--force"],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return course


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    """Все работы, проверенные одним запуском координатора (как `make grade`)."""
    works = {**submissions.gallery(), **submissions.attacks(course)}
    loops = submissions.loops()

    def submit(student, nb):
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{ASSIGNMENT}.ipynb")

    for student, nb in works.items():
        submit(student, nb)
    broken = course / "submitted" / "unreadable" / ASSIGNMENT
    broken.mkdir(parents=True)
    (broken / f"{ASSIGNMENT}.ipynb").write_text('{"cells": [ это не JSON', encoding="utf-8")
    assert set(EXPECTED) == {*works, *loops, "unreadable"}

    protected = {
        "source": _tree_hashes(course / "source"),
        "submitted": _tree_hashes(course / "submitted"),
        # Файлы кода (кэш .pyc пишет сам интерпретатор проверяющего).
        "course_utils": _tree_hashes(REPO_ROOT / "course_utils", "*.py"),
        "course_grader": _tree_hashes(REPO_ROOT / "instructor", "*.py"),
    }
    lines: list[str] = []
    saved = os.environ.get("JOBS"), os.environ.get("KERAS_BACKEND")
    os.environ["JOBS"] = saved[0] or "2"  # две работы сразу: обе копии ядра помещаются в память CI
    # Бэкенд решает задание (course.toml), а не окружение проверяющего: с KERAS_BACKEND=jax
    # работы в стиле лекции (tf.GradientTape) получают свои баллы.
    os.environ["KERAS_BACKEND"] = "jax"
    try:
        grade_all(_settings(course), echo=lines.append)
        assert _tree_hashes(course / "submitted") == protected["submitted"]
        # Зависающие работы сданы позже: следующий запуск проверяет только их.
        for student, nb in loops.items():
            submit(student, nb)
        protected["submitted"] = _tree_hashes(course / "submitted")
        late: list[str] = []
        # Эталон проверен первым запуском; в короткий предел на ячейку он не обязан уложиться.
        results = grade_all(
            _settings(course, cell_timeout=LOOP_CELL_TIMEOUT),
            echo=late.append,
            reference_first=False,
        )
    finally:
        for key, value in zip(("JOBS", "KERAS_BACKEND"), saved):
            if value is None:
                os.environ.pop(key)
            else:
                os.environ[key] = value
    assert f"проверяются: {len(loops)}" in late[0]
    assert any("Эталон: 10 из 10" in line for line in lines), lines
    return {
        "course": course,
        "results": {r.student: r for r in results},
        "protected": protected,
        "summary": "\n".join(late),
        "log": "\n".join(lines + late),
    }


# --------------------------------------------------------------------------- баллы


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_each_submission_gets_what_it_earned(graded, student):
    result = graded["results"][student]
    status, points = EXPECTED[student]
    got = {c.grade_id: c.points for c in result.checks}
    messages = "\n".join(f"{c.grade_id}: {c.points:g} — {c.message}" for c in result.checks)
    assert (result.status, got) == (status, points), (
        f"{student}: {result.status} {result.detail}\n{messages}"
    )
    assert result.max_score == sum(POINTS.values())
    for check in result.checks:
        assert check.message, f"{student}/{check.grade_id}: нет сообщения"


def test_lost_points_say_what_to_fix(graded):
    results = graded["results"]
    morph = {c.grade_id: c.message for c in results["cross_fade"].checks}["test_morph"]
    assert "промежуточные" in morph and "не смешивайте пиксели" in morph
    vae = {c.grade_id: c.message for c in results["plain_autoencoder"].checks}["test_vae"]
    assert "Sampling" in vae
    timed_out = {c.grade_id: c.message for c in results["sigint_loop"].checks}["test_classes"]
    assert f"не уложилась в предел {LOOP_CELL_TIMEOUT} с" in timed_out


def test_typed_student_id_is_reported(graded):
    assert graded["results"]["reference"].student_id_typed == "1032259319"
    assert graded["results"]["blank"].student_id_typed is None


# --------------------------------------------------------------------------- итоги


def test_every_student_has_a_row_and_feedback(graded):
    course = graded["course"]
    with open(course / "grades.csv", newline="", encoding="utf-8") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert set(rows) == set(EXPECTED)
    for student, (status, points) in EXPECTED.items():
        row = rows[student]
        assert row["status"] == status
        assert {key: float(row[key]) for key in POINTS} == points
        assert float(row["score"]) == sum(points.values())
        # Время — от чтения файла до отзыва (у нечитаемого ноутбука — доли секунды).
        assert float(row["seconds"]) > 0 or status == "unreadable"
        html = (course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text(
            encoding="utf-8"
        )
        for title, _ in verify.CHECKS.values():
            assert title in html
        # Исходного кода проверок в отзыве нет — только названия и сообщения.
        assert "def check_" not in html and "ctx.ex" not in html and "HIDDEN TESTS" not in html
    assert rows["reference"]["student_id_typed"] == "1032259319"
    assert "студент" in graded["summary"] and "reference" in graded["summary"]


def test_gradebook_holds_exactly_the_verified_scores(graded):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{graded['course'] / 'gradebook.db'}") as gb:
        for student, (_, points) in EXPECTED.items():
            submission = gb.find_submission(ASSIGNMENT, student)
            assert submission.score == sum(points.values()), student
            assert submission.max_score == sum(POINTS.values())
        assert {c.name for c in gb.find_notebook(ASSIGNMENT, ASSIGNMENT).grade_cells} == set(POINTS)


def _feedback(course: Path, student: str) -> str:
    return (course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text(
        encoding="utf-8"
    )


def test_tampered_export_leaks_no_instructor_file(graded):
    course = graded["course"]
    for student in ("symlink_after_export", "fifo_after_export"):
        result = graded["results"][student]
        assert "не обычный файл" in result.detail, result.detail
        autograded = course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        # Ячейка классов сдана из эталона (с метками решения); остальных ячеек эталона нет.
        for text in (_feedback(course, student), autograded.read_text(encoding="utf-8")):
            assert "BETA = 4 * 32 * 32 * 3" not in text and "def keep_classes" not in text
    # Ячейки отзыва — из сданного ноутбука (две ячейки кода), а не из подменённого файла.
    nb = nbformat.read(
        course / "autograded" / "symlink_after_export" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4
    )
    assert len(nb.cells) == 2


def test_student_strings_are_inert_for_their_readers(graded):
    course = graded["course"]
    with open(course / "grades.csv", newline="", encoding="utf-8") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    typed = rows["hostile_strings"]["student_id_typed"]
    assert typed.startswith("'=HYPERLINK("), typed  # текст, а не формула
    assert "\x1b" not in typed and "\\x1b[2K\\x0d10/10 graded" in typed  # и не команда терминалу
    assert "\x1b" not in graded["log"] and "\r" not in graded["log"]
    assert "\\x1b[2K\\x0d10/10 graded" in graded["log"]  # виден, но не действует
    page = _feedback(course, "hostile_strings")
    # Код студента виден как текст (&lt;img … onerror=…), но ни одного активного тега.
    assert "<script" not in page and not re.search(r"<[^>]*\son\w+=", page)
    assert "HYPERLINK" in page  # строка студента в отзыве есть — как текст
    assert "Content-Security-Policy" in page


def test_huge_output_and_many_cells_are_bounded(graded):
    course = graded["course"]
    assert len(_feedback(course, "huge_output")) < 2_000_000
    assert "ячеек кода 100000" in graded["results"]["many_cells"].detail
    message = {c.grade_id: c.message for c in graded["results"]["disk_hog"].checks}
    assert "на диске" in message["test_classes"]


GALLERY = ("reference", "lecture_style", "best_checkpoint", "dense_vae", "chollet_style")
VERDICT = re.compile(r"^([✔✘…]) (test_\w+) — ", re.MULTILINE)


def _outputs(course: Path, student: str) -> list[tuple[str, str]]:
    """(id ячейки, текст её вывода) выполненного ноутбука работы."""
    path = course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    if not path.is_file():
        return []
    nb = nbformat.read(path, as_version=4)
    return [
        (cell.get("id", ""), "".join(o.get("text", "") for o in cell.outputs))
        for cell in nb.cells
        if cell.cell_type == "code"
    ]


def test_self_check_agrees_with_the_grade(graded):
    """Где самопроверка в ноутбуке решает (✔ или ✘), её вердикт — это оценка проверки."""
    compared = 0
    for student in EXPECTED:
        points = {c.grade_id: c.points for c in graded["results"][student].checks}
        for _, text in _outputs(graded["course"], student):
            for mark, grade_id in VERDICT.findall(text):
                if mark != "…":
                    assert points[grade_id] == (POINTS[grade_id] if mark == "✔" else 0.0), (
                        f"{student}/{grade_id}: самопроверка {mark}, оценка {points[grade_id]:g}"
                    )
                    compared += 1
    assert compared >= 8 * len(GALLERY)  # сверено на деле, а не пропущено


def test_gallery_passes_every_self_check_cell(graded):
    course = graded["course"]
    for student in GALLERY:
        outputs = _outputs(course, student)
        marks = {g: m for _, text in outputs for m, g in VERDICT.findall(text)}
        assert set(marks) == set(POINTS) and "✘" not in marks.values(), (student, marks)
        nb = nbformat.read(
            course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4
        )
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        assert not [o for o in errors if o.output_type == "error"], student
        summary = next(text for cell_id, text in outputs if cell_id == "self_check_summary")
        assert "Видно здесь: " in summary and "При сдаче проверяется ещё" in summary


# --------------------------------------------------------------------------- изоляция


def test_nothing_outside_the_sandboxes_changed(graded):
    protected = graded["protected"]
    course = graded["course"]
    assert _tree_hashes(course / "source") == protected["source"]
    assert _tree_hashes(course / "submitted") == protected["submitted"]
    assert _tree_hashes(REPO_ROOT / "course_utils", "*.py") == protected["course_utils"]
    assert _tree_hashes(REPO_ROOT / "instructor", "*.py") == protected["course_grader"]


def test_attacks_saw_no_secrets_and_no_network(graded):
    course = graded["course"]

    def outputs(student):
        nb = nbformat.read(
            course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4
        )
        return "".join(
            o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
        )

    # Песочница не видит ни базы, ни чужих работ, ни ноутбука преподавателя: все пути пусты.
    tamper = outputs("tamper")
    assert "gradebook.db': []" in tamper and "*.ipynb': []" in tamper, tamper
    assert "Read-only file system" in tamper
    assert "сети нет" in outputs("network")


def test_no_process_left_behind(graded):
    assert graded["results"]["detached_process"].status == "graded"
    assert _leftovers() == []


def test_memory_cap_and_kill_are_reported(graded):
    result = graded["results"]["memory_hog"]
    assert result.status == "killed_memory"
    message = {c.grade_id: c.message for c in result.checks}["test_classes"]
    assert "памяти" in message


# --------------------------------------------------------------------------- пересдача


def test_resubmitted_notebook_is_regraded_and_others_are_not(graded):
    course = graded["course"]
    settings = _settings(course)
    before = {s: records.load_result(settings, s)[0].seconds for s in EXPECTED}
    # Студент «blank» пересдал работу: теперь в ней верные классы.
    path = course / "submitted" / "blank" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = nbformat.read(path, as_version=4)
    source = nbformat.read(submissions.SOURCE, as_version=4)
    solution = next(c for c in source.cells if c.get("id") == "classes_solution")
    next(c for c in nb.cells if c.get("id") == "classes_solution").source = solution.source
    nbformat.write(nb, path)
    lines: list[str] = []
    results = {r.student: r for r in grade_all(settings, echo=lines.append)}
    assert any("проверяются: 1" in line for line in lines), lines
    assert results["blank"].score == POINTS["test_classes"]
    assert results["blank"].notebook_sha256 == records.notebook_hash(path)
    after = {s: records.load_result(settings, s)[0].seconds for s in EXPECTED}
    assert {s for s in EXPECTED if before[s] != after[s]} <= {"blank"}

    # make regrade STUDENT=network: только эта работа, даже без изменений.
    lines.clear()
    grade_all(settings, students=["network"], echo=lines.append)
    assert any("проверяются: 1" in line for line in lines), lines


# --------------------------------------------------------------------------- сбои инфраструктуры


def _assert_stops_before_grading(settings: GradingSettings, expected_words: str) -> None:
    with pytest.raises(PreflightError, match=expected_words):
        grade_all(settings, echo=lambda line: None)
    assert not (settings.course_dir / "grades.csv").exists()
    assert not (settings.course_dir / "autograded").exists()


def test_missing_dataset_stops_before_anyone_is_graded(tmp_path, course):
    empty = tmp_path / "course"
    shutil.copytree(course / "source", empty / "source")
    settings = _settings(empty, course_data=str(tmp_path / "no-such-folder"))
    _assert_stops_before_grading(settings, "CIFAR-10 не загружается")


def test_missing_kernel_stops_before_anyone_is_graded(tmp_path, course):
    empty = tmp_path / "course"
    shutil.copytree(course / "source", empty / "source")
    _assert_stops_before_grading(_settings(empty, kernel_name="no-such-kernel"), "Нет ядра Jupyter")


def test_missing_sandbox_tool_stops_before_anyone_is_graded(tmp_path, course, monkeypatch):
    empty = tmp_path / "course"
    shutil.copytree(course / "source", empty / "source")
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    _assert_stops_before_grading(_settings(empty), "bubblewrap")
