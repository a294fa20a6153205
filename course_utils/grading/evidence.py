"""Что сверяет проверка: настоящие данные CIFAR-10 и файлы, вынесенные из песочницы.

Настоящие данные читаются из того же источника, что у студента (``COURSE_DATA``); из них
проверяющий сам выбирает отложенные изображения, на которые должна ответить модель
студента. Вынос читается осторожно: JSON и ``.npy`` без pickle, с пределом размера.
Баллы за проверки — из метаданных nbgrader ноутбука преподавателя.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
from pathlib import Path

import nbformat
import numpy as np

from course_utils.assignment import NUM_CLASSES, classes_from_student_id

#: Запросы к модели: столько тестовых изображений каждого класса (их выбирает проверяющий).
HELDOUT_PER_CLASS = 16
#: Предел на размер одного вынесенного файла, байт.
MAX_FILE_BYTES = 1 << 30


class NoExport(Exception):
    """Нужного файла нет в выносе: значит, переменная не определена или ячейка упала."""


# --------------------------------------------------------------------------- данные


@contextlib.contextmanager
def _course_data(course_data: str):
    old = os.environ.get("COURSE_DATA")
    os.environ["COURSE_DATA"] = course_data
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("COURSE_DATA", None)
        else:
            os.environ["COURSE_DATA"] = old


@functools.lru_cache(maxsize=2)
def real_cifar10(course_data: str):
    """Настоящий CIFAR-10 (``uint8`` и метки формы ``(n,)``) из того же источника, что у студента."""
    from course_utils.data import load_cifar10

    with _course_data(course_data):
        (x_train, y_train), (x_test, y_test) = load_cifar10()
    return (
        np.asarray(x_train, np.uint8),
        np.asarray(y_train).reshape(-1).astype(np.int64),
        np.asarray(x_test, np.uint8),
        np.asarray(y_test).reshape(-1).astype(np.int64),
    )


def heldout_indices(course_data: str) -> np.ndarray:
    """Индексы тестовых изображений, которые модель студента должна закодировать."""
    _, _, _, y_test = real_cifar10(course_data)
    rng = np.random.default_rng(20261127)
    chosen = [
        rng.choice(
            np.flatnonzero(y_test == c),
            size=min(HELDOUT_PER_CLASS, int((y_test == c).sum())),
            replace=False,
        )
        for c in range(10)
    ]
    return np.sort(np.concatenate(chosen))


def write_queries(path: Path, course_data: str) -> None:
    """Сохраняет запросы к модели (изображения всех десяти классов, ``float32`` 0..1)."""
    _, _, x_test, _ = real_cifar10(course_data)
    np.savez(path, heldout=x_test[heldout_indices(course_data)].astype("float32") / 255.0)


def row_keys(pixels: np.ndarray, labels: np.ndarray) -> list[bytes]:
    return [
        hashlib.blake2b(row.tobytes() + int(label).to_bytes(2, "little"), digest_size=16).digest()
        for row, label in zip(pixels, labels)
    ]


@functools.lru_cache(maxsize=2)
def label_by_image(course_data: str) -> dict[bytes, set[int]]:
    x_train, y_train, x_test, y_test = real_cifar10(course_data)
    found: dict[bytes, set[int]] = {}
    for x, y in ((x_train, y_train), (x_test, y_test)):
        for row, label in zip(x, y):
            found.setdefault(hashlib.blake2b(row.tobytes(), digest_size=16).digest(), set()).add(
                int(label)
            )
    return found


def points_from_source(source: Path) -> dict[str, float]:
    """Баллы за проверки: ``grade_id -> points`` ячеек с оценкой в ноутбуке преподавателя."""
    nb = nbformat.read(source, as_version=4)
    points = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            points[meta["grade_id"]] = float(meta.get("points", 0))
    return points


# --------------------------------------------------------------------------- вынос


class Export:
    """Файлы, вынесенные из песочницы: читаются осторожно (без pickle, с пределом размера)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.report: dict = {}
        path = folder / "report.json"
        with contextlib.suppress(OSError, ValueError):
            if path.is_file() and path.stat().st_size < 20_000_000:
                data = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(data, dict):
                    self.report = data

    def error(self, key: str) -> str:
        errors = self.report.get("errors")
        return str(errors.get(key, "")) if isinstance(errors, dict) else ""

    def value(self, key: str, what: str, error_key: str | None = None):
        if key not in self.report:
            raise NoExport(self._missing(error_key or key, what))
        return self.report[key]

    def array(self, name: str, what: str | None = None, error_key: str | None = None) -> np.ndarray:
        """``error_key`` — пункт выноса, ошибка которого объясняет отсутствие файла."""
        path = self.folder / f"{name}.npy"
        if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_FILE_BYTES:
            raise NoExport(self._missing(error_key or name, what or f"переменная {name}"))
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise NoExport(f"{what or name}: файл не читается ({exc}).") from exc

    def _missing(self, key: str, what: str) -> str:
        error = self.error(key)
        if error:
            return f"{what}: не удалось получить ({error})."
        return f"{what}: нет значения — ячейка, которая его создаёт, не выполнилась или имя другое."


# ------------------------------------------------------------------- что нужно проверкам


class Context:
    """Всё, что нужно проверкам: вынос, настоящие данные и выбранные классы."""

    def __init__(self, export: Export, course_data: str):
        self.ex = export
        self.course_data = course_data
        self.real = real_cifar10(course_data)

    @functools.cached_property
    def expected_classes(self) -> list[int] | None:
        with contextlib.suppress(NoExport, TypeError, ValueError):
            return classes_from_student_id(str(self.ex.value("STUDENT_ID", "STUDENT_ID")))
        return None

    @functools.cached_property
    def student_classes(self) -> list[int] | None:
        with contextlib.suppress(NoExport, TypeError, ValueError):
            classes = sorted(int(c) for c in self.ex.value("classes", "classes"))
            if len(set(classes)) == NUM_CLASSES and all(0 <= c < 10 for c in classes):
                return classes
        return None

    @property
    def data_classes(self) -> list[int] | None:
        """Классы, по которым проверяются данные и модель: объявленные студентом.

        Ошибка в самих классах стоит баллов только проверки классов: данные и модель
        сверяются с тем, что студент объявил (если объявление осмысленно).
        """
        return self.student_classes or self.expected_classes
