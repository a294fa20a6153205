"""Первая ячейка с кодом каждого ноутбука курса начинается с шаблона tools/setup_cell.ipy.

Шаблон ставит курс в Colab и выбирает бэкенд до ``import keras``. Ноутбук может добавить
к нему только комментарии-пометки сразу после первой строки (например, ``# ruff: noqa``)
и свои импорты стандартной библиотеки рядом с ``import os`` / ``import sys``; всё
остальное (свои импорты, проверки) идёт после шаблона.
"""

from __future__ import annotations

import re
import sys

import nbformat
import pytest

from course_utils import manifest
from course_utils.config import REPO_ROOT

TEMPLATE = (REPO_ROOT / "tools" / "setup_cell.ipy").read_text(encoding="utf-8").rstrip("\n")
STDLIB_IMPORT = re.compile(r"import (\w+)(?:\.\w+)*")


def _course_notebooks() -> list[str]:
    course = manifest.load()
    return [nb.path for nb in course.notebooks] + [
        path for a in course.assignments for path in (a.source, a.student_version)
    ]


def follows_template(source: str, template: str = TEMPLATE) -> bool:
    """Начинается ли ячейка с шаблона (с допустимыми вставками, см. docstring модуля)."""
    expected = template.splitlines()
    lines = source.splitlines()
    head, rest = lines[:1], lines[1:]
    while rest and rest[0].startswith("#"):  # пометки для nbval / линтера
        rest = rest[1:]
    kept = head
    for line in rest:
        if len(kept) >= len(expected):
            break
        match = STDLIB_IMPORT.fullmatch(line)
        extra_stdlib = match and match.group(1) in sys.stdlib_module_names and line not in expected
        if not extra_stdlib:
            kept.append(line)
    return kept == expected


@pytest.mark.parametrize("path", _course_notebooks())
def test_setup_cell_follows_the_template(path):
    notebook = nbformat.read(REPO_ROOT / path, as_version=4)
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert follows_template(first.source), (
        f"{path}: первая ячейка с кодом не начинается с шаблона tools/setup_cell.ipy:\n{TEMPLATE}"
    )


def test_template_check_rejects_what_matters():
    """Проверка не пропускает keras до выбора бэкенда, другой адрес и пропущенную строку."""
    assert follows_template(TEMPLATE + "\n\nimport keras")
    assert follows_template(TEMPLATE.replace("import os", "import importlib.util\nimport os"))
    assert not follows_template(TEMPLATE.replace("import sys", "import sys\nimport keras"))
    assert not follows_template(TEMPLATE.replace("github.com/", "github.com/someone-else-"))
    assert not follows_template(
        TEMPLATE.replace('os.environ.setdefault("KERAS_BACKEND", "tensorflow")\n', "")
    )
    assert not follows_template("import keras\n" + TEMPLATE)
