"""Проверка задания через nbgrader: выдача, автопроверка, отзывы, экспорт оценок.

Всё делается в копии папки ``grading/`` во временной папке: закоммиченную папку курса
тесты не трогают. Работы выполняются в профиле CI (``COURSE_FAST=1 COURSE_DATA=sample``)
с коротким пределом на ячейку; оценки читаются из базы nbgrader (``Gradebook``),
а не из кода возврата (nbgrader завершается с кодом 0, даже когда всё упало).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from nbgrader.api import Gradebook
from traitlets.config.loader import PyFileConfigLoader

from course_utils import manifest
from course_utils.config import REPO_ROOT

GRADING = REPO_ROOT / "grading"
# Задание курса (course.toml, первое из [[assignments]]): эти тесты написаны для его эталона.
_ASSIGNMENT = manifest.load().assignments[0]
ASSIGNMENT = _ASSIGNMENT.name
NOTEBOOK = _ASSIGNMENT.notebook
SOURCE = REPO_ROOT / _ASSIGNMENT.source
STUDENT_VERSION = REPO_ROOT / _ASSIGNMENT.student_version
KERNEL = _ASSIGNMENT.kernel
# Предел на ячейку в CI: обучение в профиле CI идёт секунды, бесконечный цикл — до предела.
CELL_TIMEOUT = "60"
# Страховка от зависания всего nbgrader (не проверка скорости).
PROCESS_TIMEOUT = 1500

# Баллы за каждую ячейку с тестами — из метаданных nbgrader эталона (одно место).
POINTS = {
    cell.metadata["nbgrader"]["grade_id"]: cell.metadata["nbgrader"]["points"]
    for cell in nbformat.read(SOURCE, as_version=4).cells
    if cell.metadata.get("nbgrader", {}).get("grade")
}
TOTAL = sum(POINTS.values())


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # nbgrader вызывает команду `alembic` из того же окружения: она должна быть в PATH.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.update(COURSE_FAST="1", COURSE_DATA="sample", GRADING_CELL_TIMEOUT=CELL_TIMEOUT)
    return env


def _nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT,
    )
    assert result.returncode == 0, f"nbgrader {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


def _cells_by_id(nb) -> dict[str, nbformat.NotebookNode]:
    return {cell.metadata.get("nbgrader", {}).get("grade_id", cell.get("id")): cell for cell in nb.cells}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """Копия папки курса, в которой выдано задание (generate_assignment)."""
    if KERNEL not in KernelSpecManager().find_kernel_specs():
        pytest.fail(
            f"Нет ядра Jupyter {KERNEL!r}, в котором nbgrader выполняет работы. "
            "Выполните `make setup` (ставит его командой "
            f"`python -m ipykernel install --sys-prefix --name {KERNEL}`)."
        )
    course = tmp_path_factory.mktemp("grading") / "course"
    shutil.copytree(
        GRADING,
        course,
        ignore=shutil.ignore_patterns(
            "gradebook.db*", ".nbgrader.log", "release", "autograded", "feedback",
            "grades.csv", "submitted", ".ipynb_checkpoints",
        ),
    )
    _nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    return course


def _reference():
    nb = nbformat.read(SOURCE, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def _replace(nb, grade_id, source):
    _cells_by_id(nb)[grade_id].source = source


def _submissions(course: Path) -> dict[str, nbformat.NotebookNode]:
    blank = nbformat.read(course / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)

    wrong = _reference()
    # Номер тот же, но классы взяты с начала номера, а не с конца; данные — по этим классам.
    _replace(wrong, "classes_solution", 'STUDENT_ID = "1032259319"\nclasses = [0, 1, 2, 3]')

    tampered = _reference()
    # Модель построена с размерностью 64, а LATENT_DIM говорит другое ...
    cells = _cells_by_id(tampered)
    cells["model_solution"].source += "\nLATENT_DIM = LATENT_DIM + 1"
    # ... а тест на это «исправлен», и ячейка с тестом рисунка удалена.
    cells["test_latent"].source = 'print("тест пройден")'
    tampered.cells = [c for c in tampered.cells if c is not cells["test_figure"]]

    endless = _reference()
    cells = _cells_by_id(endless)
    cells["morph_solution"].source = "while True:\n    pass\n" + cells["morph_solution"].source

    return {
        "reference": _reference(),
        "blank": blank,
        "wrong_classes": wrong,
        "tampered": tampered,
        "endless_loop": endless,
    }


@pytest.fixture(scope="module")
def graded(course: Path) -> Path:
    """Пять работ, проверенные одним запуском `nbgrader autograde`, с отзывами и экспортом."""
    for student, nb in _submissions(course).items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / NOTEBOOK)
    _nbgrader(course, "autograde", ASSIGNMENT, "--force")
    _nbgrader(course, "generate_feedback", ASSIGNMENT, "--force")
    _nbgrader(course, "export")
    return course


def _scores(course: Path, student: str) -> tuple[float, dict[str, float]]:
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submission = gb.find_submission(ASSIGNMENT, student)
        per_cell = {
            grade_id: gb.find_grade(grade_id, ASSIGNMENT, ASSIGNMENT, student).score
            for grade_id in POINTS
        }
        return submission.score, per_cell


# --- задание и его версия для студентов ---------------------------------------------------


def test_config_names_course_kernel_and_timeout(monkeypatch):
    monkeypatch.setenv("GRADING_CELL_TIMEOUT", "77")
    config = PyFileConfigLoader("nbgrader_config.py", path=str(GRADING)).load_config()
    assert config.Execute.kernel_name == KERNEL
    assert config.Execute.timeout == 77
    assert config.OverwriteCells.add_missing_cells is True
    assert Path(config.CourseDirectory.root) == GRADING


def test_source_points_and_cells():
    nb = nbformat.read(SOURCE, as_version=4)
    meta = [c.metadata["nbgrader"] for c in nb.cells if "nbgrader" in c.metadata]
    ids = [m["grade_id"] for m in meta]
    assert len(ids) == len(set(ids)), "grade_id повторяются"
    # Баллы — целые положительные, и оцениваются все ячейки, которые ссылаются ниже по имени.
    assert all(isinstance(m["points"], int) and m["points"] > 0 for m in meta if m["grade"])
    assert {"test_classes", "test_latent"} <= set(POINTS)
    # Все тесты только для чтения, в каждом решении — разметка решения.
    assert all(m["locked"] for m in meta if m["grade"])
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source


def test_student_version_is_fresh(course):
    """Версия для студентов (student_version в course.toml) совпадает со свежей выдачей `nbgrader generate_assignment`."""
    fresh = nbformat.read(course / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)
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


def test_student_version_has_no_solutions_or_hidden_tests():
    text = STUDENT_VERSION.read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "HIDDEN TESTS", 'STUDENT_ID = "1032259319"', "_labels_of"):
        assert marker not in text
    assert "raise NotImplementedError()" in text


# --- автопроверка ---------------------------------------------------------------------------


def test_reference_gets_full_marks(graded):
    score, per_cell = _scores(graded, "reference")
    assert per_cell == POINTS
    assert score == TOTAL


def test_blank_student_version_gets_zero(graded):
    score, per_cell = _scores(graded, "blank")
    assert score == 0
    assert set(per_cell.values()) == {0}


def test_wrong_classes_lose_exactly_class_points(graded):
    score, per_cell = _scores(graded, "wrong_classes")
    assert per_cell == {**POINTS, "test_classes": 0}
    assert score == TOTAL - POINTS["test_classes"]


def test_edited_and_deleted_tests_are_restored(graded):
    score, per_cell = _scores(graded, "tampered")
    # Исправленный тест заменён исходным и не прошёл; удалённый возвращён и прошёл.
    assert per_cell == {**POINTS, "test_latent": 0}
    assert score == TOTAL - POINTS["test_latent"]
    autograded = nbformat.read(
        graded / "autograded" / "tampered" / ASSIGNMENT / NOTEBOOK, as_version=4
    )
    cells = _cells_by_id(autograded)
    assert "LATENT_DIM" in cells["test_latent"].source
    assert "morph_figure" in cells["test_figure"].source


def test_endless_loop_is_interrupted_and_graded(graded):
    score, per_cell = _scores(graded, "endless_loop")
    lost = ("test_morph", "test_morph_ends", "test_figure")
    assert per_cell == {**POINTS, **{key: 0 for key in lost}}
    assert score == TOTAL - sum(POINTS[key] for key in lost)
    autograded = nbformat.read(
        graded / "autograded" / "endless_loop" / ASSIGNMENT / NOTEBOOK, as_version=4
    )
    errors = [o for o in _cells_by_id(autograded)["morph_solution"].outputs if o.output_type == "error"]
    assert errors, "ячейка с бесконечным циклом должна завершиться ошибкой по пределу времени"


def test_feedback_and_grades_csv(graded):
    students = ["reference", "blank", "wrong_classes", "tampered", "endless_loop"]
    for student in students:
        html = graded / "feedback" / student / ASSIGNMENT / f"{Path(NOTEBOOK).stem}.html"
        assert html.is_file() and html.stat().st_size > 0
    with open(graded / "grades.csv", newline="", encoding="utf-8") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    assert set(rows) == set(students)
    for student in students:
        assert float(rows[student]["score"]) == _scores(graded, student)[0]
        assert float(rows[student]["max_score"]) == TOTAL
