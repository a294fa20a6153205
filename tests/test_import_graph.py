"""Модули пакетов ``course_utils`` и ``course_grader`` не импортируют друг друга по кругу,
а пакет студента (``course_utils``) не импортирует пакет преподавателя (``course_grader``).

Граф строится по тексту модулей (``ast``), поэтому учитываются и импорты внутри функций:
круг из «ленивых» импортов — тоже круг, просто спрятанный до первого вызова.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.backend_free  # не зависит от KERAS_BACKEND: только под TensorFlow

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "course_utils"
#: Пакет преподавателя (отдельный дистрибутив course-grader, в wheel студента его нет).
GRADER = ROOT / "instructor" / "course_grader"


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Всё, что модуль импортирует где угодно в файле (и ``importlib.import_module("...")``)."""
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets.add(node.module)
            # from course_utils import generated_faces — импорт модуля
            targets |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            targets.add(node.args[0].value)
    return targets


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Модуль -> модули того же пакета, которые он импортирует (где угодно в файле)."""
    modules = {module_name(path, package): path for path in package.rglob("*.py")}
    return {
        name: {t for t in imported(path) if t in modules and t != name}
        for name, path in modules.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Какой-нибудь круг в графе (список модулей) или ``None``."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return stack[stack.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_sees_a_cycle_and_its_absence():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_celeba_depends_on_generated_faces_one_way():
    graph = import_graph()
    assert "course_utils.generated_faces" in graph["course_utils.celeba"]
    assert "course_utils.celeba" not in graph["course_utils.generated_faces"]


@pytest.mark.parametrize("package", [PACKAGE, GRADER], ids=lambda p: p.name)
def test_package_has_no_import_cycles(package):
    cycle = find_cycle(import_graph(package))
    assert cycle is None, "модули импортируют друг друга по кругу: " + " -> ".join(cycle)


def test_imported_sees_lazy_and_dynamic_imports(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "import importlib\n"
        "def f():\n"
        "    from course_grader import pipeline\n"
        "    return importlib.import_module('course_grader.sandbox')\n",
        encoding="utf-8",
    )
    assert {"course_grader", "course_grader.pipeline", "course_grader.sandbox"} <= imported(module)


def test_students_package_never_imports_the_instructors():
    """``course_utils`` (его ставит студент) не зависит от ``course_grader``: наоборот можно."""
    offenders = {
        module_name(path): sorted(t for t in imported(path) if t.split(".")[0] == "course_grader")
        for path in PACKAGE.rglob("*.py")
    }
    offenders = {name: found for name, found in offenders.items() if found}
    assert not offenders, f"course_utils импортирует пакет преподавателя: {offenders}"
    # Проверка преподавателя ставит баллы теми же проверками, что самопроверка студента.
    grader = {t for path in GRADER.rglob("*.py") for t in imported(path)}
    assert {"course_utils.checks.verify", "course_utils.checks.evidence"} <= grader
