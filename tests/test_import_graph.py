"""Модули пакета ``course_utils`` не импортируют друг друга по кругу.

Граф строится по тексту модулей (``ast``), поэтому учитываются и импорты внутри функций:
круг из «ленивых» импортов — тоже круг, просто спрятанный до первого вызова.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "course_utils"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Модуль -> модули того же пакета, которые он импортирует (где угодно в файле)."""
    modules = {module_name(path): path for path in package.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets.add(node.module)
                # from course_utils import generated_faces — импорт модуля
                targets |= {f"{node.module}.{alias.name}" for alias in node.names}
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


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


def test_course_utils_has_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "модули импортируют друг друга по кругу: " + " -> ".join(cycle)
