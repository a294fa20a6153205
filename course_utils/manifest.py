"""Структура курса из ``course.toml``: ноутбуки, задания nbgrader и наборы данных.

Единственное место, где перечислены ноутбуки и задания: отсюда берут списки Makefile
(через командную строку ниже), программа запуска ноутбуков и тесты.

Командная строка (её вызывает Makefile)::

    python -m course_utils.manifest [--root ПАПКА] run-list [--backend jax]
    python -m course_utils.manifest assignments
    python -m course_utils.manifest assignment ИМЯ ПОЛЕ   # source, student_version, kernel, notebook
    python -m course_utils.manifest kernels
    python -m course_utils.manifest check                 # манифест совпадает с файлами
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from course_utils.config import REPO_ROOT

MANIFEST_NAME = "course.toml"
#: Значения KERAS_BACKEND, которые понимает курс.
BACKENDS = ("tensorflow", "jax", "torch")
#: Где лежат ноутбуки и исходники заданий (папка курса nbgrader).
NOTEBOOKS_DIR = "notebooks"
GRADING_SOURCE_DIR = "grading/source"


@dataclass(frozen=True)
class Notebook:
    path: str
    title: str
    datasets: tuple[str, ...]
    backends: tuple[str, ...]
    has_widgets: bool


@dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    source: str  #: ноутбук преподавателя (эталон и тесты), grading/source/<name>/<файл>
    student_version: str  #: куда `make release` кладёт версию для студентов
    kernel: str  #: ядро Jupyter, в котором nbgrader выполняет работы
    datasets: tuple[str, ...]
    backends: tuple[str, ...]
    #: Срок сдачи (дата и время с часовым поясом) или None — без срока.
    deadline: datetime | None = None
    #: Что с работой после срока (course_grader.late, instructor/): ``penalty`` — минус
    #: ``late_penalty_per_day`` % баллов за каждые начатые сутки, не больше
    #: ``late_penalty_max`` %; ``reject`` — после срока не принимается (0 баллов).
    late_policy: str = "penalty"
    late_penalty_per_day: float = 0.0
    late_penalty_max: float = 100.0

    @property
    def notebook(self) -> str:
        """Имя файла ноутбука внутри папки задания (так его называет и nbgrader)."""
        return Path(self.source).name


@dataclass(frozen=True)
class Course:
    root: Path
    notebooks: tuple[Notebook, ...]
    assignments: tuple[Assignment, ...]
    datasets: dict[str, str]  #: имя набора -> название

    def run_list(self, backend: str | None = None) -> list[str]:
        """Ноутбуки для выполнения по порядку: учебные, затем эталоны заданий.

        Версии для студентов не решены (в них ``raise NotImplementedError``), поэтому
        вместо них выполняется ``source``. ``backend`` оставляет только ноутбуки,
        которые на нём выполняются.
        """
        entries = [*self.notebooks, *self.assignments]
        return [
            getattr(entry, "path", None) or entry.source
            for entry in entries
            if backend is None or backend in entry.backends
        ]

    def assignment(self, name: str) -> Assignment:
        for assignment in self.assignments:
            if assignment.name == name:
                return assignment
        known = ", ".join(a.name for a in self.assignments)
        raise KeyError(f"В {MANIFEST_NAME} нет задания {name!r}; есть: {known}.")

    def problems(self) -> list[str]:
        """Расхождения манифеста с файлами репозитория (пустой список, если их нет)."""
        found = []
        listed_notebooks = [nb.path for nb in self.notebooks]
        student_versions = [a.student_version for a in self.assignments]
        sources = [a.source for a in self.assignments]
        for kind, paths in (
            ("ноутбук", listed_notebooks + student_versions),
            ("задание", [a.name for a in self.assignments]),
        ):
            repeated = sorted({p for p in paths if paths.count(p) > 1})
            if repeated:
                found.append(f"{kind} указан дважды: {', '.join(repeated)}")
        for path in listed_notebooks + student_versions + sources:
            if not (self.root / path).is_file():
                found.append(f"{path}: указан в {MANIFEST_NAME}, но файла нет")
        on_disk = {
            p.relative_to(self.root).as_posix() for p in (self.root / NOTEBOOKS_DIR).glob("*.ipynb")
        }
        for path in sorted(on_disk - set(listed_notebooks) - set(student_versions)):
            found.append(f"{path}: ноутбука нет в {MANIFEST_NAME} (добавьте запись [[notebooks]])")
        on_disk = {
            p.relative_to(self.root).as_posix()
            for p in (self.root / GRADING_SOURCE_DIR).glob("*/*.ipynb")
        }
        for path in sorted(on_disk - set(sources)):
            found.append(f"{path}: задания нет в {MANIFEST_NAME} (добавьте запись [[assignments]])")
        for a in self.assignments:
            # Проверка работ (course_grader, instructor/) ищет <задание>/<задание>.ipynb.
            if a.source != f"{GRADING_SOURCE_DIR}/{a.name}/{a.name}.ipynb":
                found.append(
                    f"{a.name}: source должен быть {GRADING_SOURCE_DIR}/{a.name}/{a.name}.ipynb"
                )
            if Path(a.student_version).parent.as_posix() != NOTEBOOKS_DIR:
                found.append(f"{a.name}: student_version должен лежать в {NOTEBOOKS_DIR}/")
            found += _late_problems(a)
        for entry in [*self.notebooks, *self.assignments]:
            label = getattr(entry, "path", None) or entry.name
            for name in entry.datasets:
                if name not in self.datasets:
                    found.append(f"{label}: набора {name!r} нет в [datasets]")
            for backend in entry.backends:
                if backend not in BACKENDS:
                    found.append(f"{label}: неизвестный бэкенд {backend!r} (есть {BACKENDS})")
        return found


#: Допустимые значения ``late_policy``.
LATE_POLICIES = ("penalty", "reject")


def _late_problems(a: Assignment) -> list[str]:
    """Ошибки в сроке и правилах опоздания задания (пустой список, если их нет)."""
    found = []
    if a.deadline is not None and (
        not isinstance(a.deadline, datetime) or a.deadline.utcoffset() is None
    ):
        found.append(
            f"{a.name}: deadline должен быть датой и временем с часовым поясом, "
            "например deadline = 2027-05-31T23:59:00+03:00"
        )
    if a.late_policy not in LATE_POLICIES:
        found.append(f"{a.name}: late_policy {a.late_policy!r}, допустимо: {LATE_POLICIES}")
    for key in ("late_penalty_per_day", "late_penalty_max"):
        value = getattr(a, key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
            found.append(f"{a.name}: {key} — число процентов от 0 до 100, а не {value!r}")
    return found


def load(root: Path | str = REPO_ROOT) -> Course:
    """Читает ``course.toml`` из ``root``."""
    root = Path(root)
    with open(root / MANIFEST_NAME, "rb") as f:
        data = tomllib.load(f)
    notebooks = tuple(
        Notebook(
            path=entry["path"],
            title=entry["title"],
            datasets=tuple(entry.get("datasets", ())),
            backends=tuple(entry.get("backends", BACKENDS)),
            has_widgets=bool(entry.get("has_widgets", False)),
        )
        for entry in data.get("notebooks", ())
    )
    assignments = tuple(
        Assignment(
            name=entry["name"],
            title=entry["title"],
            source=entry["source"],
            student_version=entry["student_version"],
            kernel=entry["kernel"],
            datasets=tuple(entry.get("datasets", ())),
            backends=tuple(entry.get("backends", BACKENDS)),
            deadline=entry.get("deadline"),
            late_policy=entry.get("late_policy", "penalty"),
            late_penalty_per_day=entry.get("late_penalty_per_day", 0.0),
            late_penalty_max=entry.get("late_penalty_max", 100.0),
        )
        for entry in data.get("assignments", ())
    )
    return Course(root, notebooks, assignments, dict(data.get("datasets", {})))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Запросы к course.toml (для Makefile).")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="папка с course.toml")
    commands = parser.add_subparsers(dest="command", required=True)
    run_list = commands.add_parser("run-list", help="ноутбуки для выполнения (эталоны заданий)")
    run_list.add_argument("--backend", choices=BACKENDS)
    commands.add_parser("assignments", help="имена заданий")
    field = commands.add_parser("assignment", help="поле задания")
    field.add_argument("name")
    field.add_argument("field", choices=("source", "student_version", "kernel", "notebook"))
    commands.add_parser("kernels", help="ядра Jupyter, которые нужны заданиям")
    commands.add_parser("check", help="манифест совпадает с файлами репозитория")
    args = parser.parse_args(argv)

    course = load(args.root)
    if args.command == "run-list":
        lines = course.run_list(args.backend)
    elif args.command == "assignments":
        lines = [a.name for a in course.assignments]
    elif args.command == "assignment":
        lines = [getattr(course.assignment(args.name), args.field)]
    elif args.command == "kernels":
        lines = sorted({a.kernel for a in course.assignments})
    else:
        lines = course.problems()
        if lines:
            print("\n".join(lines), file=sys.stderr)
            return 1
        lines = [f"{MANIFEST_NAME}: всё на месте"]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
