"""Печатает файл ограничений pip: каждая зависимость курса — на своей нижней границе.

``make test-oldest`` ставит с ним отдельное окружение и так проверяет, что самые старые
версии, которые разрешают ``pyproject.toml`` и ``instructor/pyproject.toml`` (пакет
преподавателя; например, Keras и TensorFlow лекции, nbgrader),
действительно работают. Точные версии (``==``) остаются как есть; зависимость без нижней
границы — ошибка: её старейшую версию проверить нельзя.
"""

from __future__ import annotations

import sys
from pathlib import Path

from packaging.requirements import Requirement

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
#: Пакет преподавателя (course-grader): его зависимости ставятся в то же окружение.
GRADER_PYPROJECT = PYPROJECT.parent / "instructor" / "pyproject.toml"


def lowest_pins(
    pyproject: Path = PYPROJECT,
    extras: tuple[str, ...] = ("dev",),
    also: tuple[Path, ...] = (GRADER_PYPROJECT,),
) -> list[str]:
    """Строки ``имя==нижняя_граница`` для зависимостей проекта, его дополнений ``extras`` и
    зависимостей проектов ``also`` (кроме самого проекта: он ставится из папки)."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    lines = list(project["dependencies"])
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    for path in also:
        lines += tomllib.loads(path.read_text(encoding="utf-8"))["project"]["dependencies"]
    pins = []
    for line in lines:
        requirement = Requirement(line)
        if requirement.name == project["name"]:
            continue
        lower = [s.version for s in requirement.specifier if s.operator in (">=", "==")]
        if not lower:
            raise SystemExit(f"{requirement.name}: нет нижней границы в {pyproject.name}")
        pins.append(f"{requirement.name}=={lower[0]}")
    return pins


if __name__ == "__main__":
    sys.stdout.write("".join(f"{pin}\n" for pin in lowest_pins()))
