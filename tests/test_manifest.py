"""course.toml — единственный список ноутбуков и заданий курса.

Сторож: каждый ноутбук и каждое задание в репозитории перечислены в манифесте, и наоборот.
Новый ноутбук или задание = один файл + одна запись в манифесте: это проверяется на
временной копии курса, в которую добавлены пробный ноутбук и пробное задание.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_utils import manifest
from course_utils.config import REPO_ROOT

pytestmark = pytest.mark.backend_free  # не зависит от KERAS_BACKEND: только под TensorFlow


def test_manifest_lists_exactly_the_course_files():
    problems = manifest.load().problems()
    assert problems == [], "course.toml расходится с файлами:\n" + "\n".join(problems)


def test_student_versions_are_replaced_by_sources_in_the_run_list():
    course = manifest.load()
    run = course.run_list()
    for assignment in course.assignments:
        assert assignment.source in run
        assert assignment.student_version not in run
    assert [nb.path for nb in course.notebooks] == run[: len(course.notebooks)]


def test_run_list_per_backend_follows_the_backends_field():
    course = manifest.load()
    for backend in manifest.BACKENDS:
        expected = [nb.path for nb in course.notebooks if backend in nb.backends]
        expected += [a.source for a in course.assignments if backend in a.backends]
        assert course.run_list(backend) == expected


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "course_utils.manifest", "--root", str(root), *args],
        capture_output=True,
        text=True,
    )


# ---------------------------------------------------------------- временная копия курса


def _copy_course(tmp_path: Path) -> Path:
    root = tmp_path / "course"
    root.mkdir()
    for name in ("course.toml", "Makefile", "pyproject.toml"):
        shutil.copy2(REPO_ROOT / name, root / name)
    shutil.copytree(
        REPO_ROOT / "notebooks",
        root / "notebooks",
        ignore=shutil.ignore_patterns(
            "checkpoint", "logs", "models", "output", ".ipynb_checkpoints"
        ),
    )
    shutil.copytree(
        REPO_ROOT / "grading",
        root / "grading",
        ignore=shutil.ignore_patterns(
            "gradebook.db*",
            ".nbgrader.log",
            "release",
            "autograded",
            "feedback",
            "grades.csv",
            "submitted",
            ".ipynb_checkpoints",
        ),
    )
    return root


def _throwaway_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Пробный ноутбук"),
        nbformat.v4.new_code_cell("1 + 1"),
    ]
    return nb


def _throwaway_assignment() -> nbformat.NotebookNode:
    """Задание nbgrader из двух ячеек: решение и тест на 3 балла."""
    nb = nbformat.v4.new_notebook()
    solution = nbformat.v4.new_code_cell("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION")
    solution.metadata["nbgrader"] = {
        "grade": False,
        "solution": True,
        "locked": False,
        "grade_id": "answer",
        "schema_version": 3,
    }
    test = nbformat.v4.new_code_cell("assert answer == 42")
    test.metadata["nbgrader"] = {
        "grade": True,
        "solution": False,
        "locked": True,
        "points": 3,
        "grade_id": "test_answer",
        "schema_version": 3,
    }
    nb.cells = [solution, test]
    return nb


@pytest.fixture
def course_copy(tmp_path) -> Path:
    root = _copy_course(tmp_path)
    nbformat.write(_throwaway_notebook(), root / "notebooks" / "99_throwaway.ipynb")
    (root / "grading" / "source" / "throwaway").mkdir()
    nbformat.write(
        _throwaway_assignment(), root / "grading" / "source" / "throwaway" / "throwaway.ipynb"
    )
    return root


def _add_entries(root: Path) -> None:
    with open(root / "course.toml", "a", encoding="utf-8") as f:
        f.write(
            '\n[[notebooks]]\npath = "notebooks/99_throwaway.ipynb"\ntitle = "Пробный"\n'
            'backends = ["tensorflow"]\n'
            '\n[[assignments]]\nname = "throwaway"\ntitle = "Пробное задание"\n'
            'source = "grading/source/throwaway/throwaway.ipynb"\n'
            'student_version = "notebooks/98_quiz.ipynb"\nkernel = "vae-course"\n'
        )


def test_guard_reports_files_missing_from_the_manifest(course_copy):
    result = _cli(course_copy, "check")
    assert result.returncode == 1
    assert "notebooks/99_throwaway.ipynb: ноутбука нет в course.toml" in result.stderr
    assert "grading/source/throwaway/throwaway.ipynb: задания нет в course.toml" in result.stderr


def test_guard_reports_manifest_entries_without_files(course_copy):
    _add_entries(course_copy)
    (course_copy / "notebooks" / "99_throwaway.ipynb").unlink()
    problems = manifest.load(course_copy).problems()
    assert problems == [
        "notebooks/99_throwaway.ipynb: указан в course.toml, но файла нет",
        "notebooks/98_quiz.ipynb: указан в course.toml, но файла нет",
    ]


def test_a_new_notebook_and_assignment_need_only_a_manifest_entry(course_copy):
    """Пробные ноутбук и задание: одна запись в course.toml, и Makefile их видит."""
    if not (REPO_ROOT / ".venv" / "bin" / "python").exists() or shutil.which("make") is None:
        pytest.skip("нужны make и .venv (make setup)")
    _add_entries(course_copy)
    (course_copy / ".venv").symlink_to(REPO_ROOT / ".venv", target_is_directory=True)

    # `make release` выдаёт все задания из манифеста, в том числе новое (без правки Makefile).
    result = subprocess.run(
        ["make", "-o", ".venv/.installed", "release"],
        cwd=course_copy,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    released = nbformat.read(course_copy / "notebooks" / "98_quiz.ipynb", as_version=4)
    assert "answer = 42" not in released.cells[0].source  # решение убрано
    assert released.cells[1].metadata["nbgrader"]["points"] == 3

    # Теперь версия для студентов есть на диске, и сторож доволен.
    assert _cli(course_copy, "check").returncode == 0
    run = _cli(course_copy, "run-list").stdout.split()
    assert "notebooks/99_throwaway.ipynb" in run
    assert "grading/source/throwaway/throwaway.ipynb" in run
    assert "notebooks/98_quiz.ipynb" not in run
    assert (
        "notebooks/99_throwaway.ipynb"
        not in _cli(course_copy, "run-list", "--backend", "jax").stdout
    )
    assert _cli(course_copy, "assignments").stdout.split()[-1] == "throwaway"


def _with_assignment_keys(tmp_path: Path, keys: str) -> Path:
    root = _copy_course(tmp_path)
    text = (root / "course.toml").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.startswith(("deadline", "late_")):
            text = text.replace(line + "\n", "")
    text = text.replace('kernel = "vae-course"\n', f'kernel = "vae-course"\n{keys}\n', 1)
    (root / "course.toml").write_text(text, encoding="utf-8")
    return root


def test_deadline_and_late_policy_are_read_from_the_manifest():
    (assignment,) = manifest.load().assignments
    assert assignment.deadline is not None and assignment.deadline.utcoffset() is not None
    assert assignment.late_policy in manifest.LATE_POLICIES


def test_guard_reports_a_bad_deadline_or_late_policy(tmp_path):
    root = _with_assignment_keys(
        tmp_path,
        'deadline = 2027-05-31T23:59:00\nlate_policy = "maybe"\nlate_penalty_per_day = 150',
    )
    problems = "\n".join(manifest.load(root).problems())
    assert "deadline должен быть датой и временем с часовым поясом" in problems
    assert "late_policy 'maybe'" in problems
    assert "late_penalty_per_day — число процентов от 0 до 100, а не 150" in problems


def test_an_assignment_without_deadline_is_valid(tmp_path):
    root = _with_assignment_keys(tmp_path, "")
    (assignment,) = manifest.load(root).assignments
    assert assignment.deadline is None and manifest.load(root).problems() == []
