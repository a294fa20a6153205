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
import io
import json
import os
import stat
import time
from pathlib import Path

import numpy as np

from course_utils.assignment import NUM_CLASSES, classes_from_student_id

#: Запросы к модели: столько тестовых изображений каждого класса (их выбирает проверяющий).
HELDOUT_PER_CLASS = 16
#: Предел на размер одного вынесенного файла, байт.
MAX_FILE_BYTES = 1 << 30


#: Предел на чтение одного файла выноса, секунды (обычный файл читается за доли секунды).
READ_TIMEOUT = 60.0


class NoExport(Exception):
    """Нужного файла нет в выносе: значит, переменная не определена или ячейка упала."""


class Tampered(NoExport):
    """Файл выноса подменён: ссылка, канал, устройство, папка или слишком большой файл."""


def read_evidence(folder: Path, name: str, max_bytes: int = MAX_FILE_BYTES) -> bytes | None:
    """Содержимое файла ``folder/name``, который писала песочница; ``None`` — файла нет.

    Папку ``folder`` (``export/``) и сам файл открывают без перехода по ссылкам
    (``O_NOFOLLOW``; родитель папки — папка работы, её создал проверяющий), канал и
    устройство — без ожидания (``O_NONBLOCK``), а читается только обычный файл
    (``fstat``) не больше ``max_bytes`` байт и не дольше :data:`READ_TIMEOUT` секунд.
    Всё остальное — :class:`Tampered`, а не зависание или чтение чужого файла.
    """
    if "/" in name or name in ("", ".", ".."):
        raise ValueError(f"имя файла выноса {name!r}")
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        dir_fd = os.open(folder.parent, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return None
    fd = -1
    try:
        try:
            sub_fd = os.open(folder.name, flags | os.O_DIRECTORY, dir_fd=dir_fd)
        except FileNotFoundError:
            return None
        except OSError as exc:  # ELOOP: ссылка; ENOTDIR: не папка
            raise Tampered(f"папка выноса {folder.name} — не папка ({exc.strerror})") from exc
        os.close(dir_fd)
        dir_fd = sub_fd
        try:
            fd = os.open(name, flags, dir_fd=dir_fd)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise Tampered(f"{name}: не обычный файл ({exc.strerror})") from exc
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Tampered(f"{name}: не обычный файл")
        if info.st_size > max_bytes:
            raise Tampered(f"{name}: {info.st_size} байт, больше предела {max_bytes}")
        deadline = time.monotonic() + READ_TIMEOUT
        chunks, total = [], 0
        while chunk := os.read(fd, 1 << 20):
            total += len(chunk)
            if total > max_bytes or time.monotonic() > deadline:
                raise Tampered(f"{name}: файл растёт во время чтения или читается слишком долго")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        if fd >= 0:
            os.close(fd)
        os.close(dir_fd)


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


#: Выбор тестовых изображений для вопросов ядру студента и — другой — чистому процессу.
KERNEL_SEED, CLEAN_SEED = 20261127, 20261207
#: Предел на размер сохранённого кодировщика или декодера (``.keras``), байт.
MAX_MODEL_BYTES = 500_000_000


def heldout_indices(course_data: str, seed: int = KERNEL_SEED) -> np.ndarray:
    """Индексы тестовых изображений, которые модель студента должна закодировать."""
    _, _, _, y_test = real_cifar10(course_data)
    rng = np.random.default_rng(seed)
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


def write_questions(path: Path, course_data: str, export: Export) -> None:
    """Вопросы чистому процессу (:mod:`.evaluate`): тестовые изображения, которых ядро
    студента не видело, пара A, B из выноса (если она годится) и число кадров морфинга."""
    _, _, x_test, _ = real_cifar10(course_data)
    questions = {
        "heldout": x_test[heldout_indices(course_data, CLEAN_SEED)].astype("float32") / 255.0
    }
    with contextlib.suppress(NoExport, ValueError):
        pair = np.stack([export.array("image_a"), export.array("image_b")]).astype("float32")
        frames = export.array("morph_frames")
        if pair.shape == (2, 32, 32, 3) and np.all(np.isfinite(pair)) and 2 <= len(frames) <= 1000:
            questions.update(pair=pair, frames=np.int64(len(frames)))
    np.savez(path, **questions)


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
    # Здесь, а не в начале модуля: импорт nbformat (через jsonschema) занимает около 3 с, а
    # модуль импортирует первая ячейка каждого ноутбука задания (самопроверка).
    import nbformat

    nb = nbformat.read(source, as_version=4)
    points = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            points[meta["grade_id"]] = float(meta.get("points", 0))
    return points


# --------------------------------------------------------------------------- вынос


class Export:
    """Файлы, вынесенные из песочницы: читаются осторожно (:func:`read_evidence`, без pickle).

    ``tampered`` — что оказалось подменено (ссылка, канал, не файл, слишком большой файл):
    такой файл считается отсутствующим, а работа получает состояние ``evidence_tampered``.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.tampered: list[str] = []
        self.report: dict = self.json("report.json")

    def read(self, name: str, max_bytes: int = MAX_FILE_BYTES) -> bytes | None:
        """Файл выноса или ``None``; подмена записывается в ``tampered`` (и тоже ``None``)."""
        try:
            return read_evidence(self.folder, name, max_bytes)
        except Tampered as exc:
            if str(exc) not in self.tampered:
                self.tampered.append(str(exc))
            return None
        except OSError:
            return None

    def json(self, name: str, max_bytes: int = 20_000_000) -> dict:
        data = self.read(name, max_bytes)
        with contextlib.suppress(ValueError):
            value = json.loads(data.decode("utf-8")) if data is not None else {}
            if isinstance(value, dict):
                return value
        return {}

    def error(self, key: str) -> str:
        errors = self.report.get("errors")
        return str(errors.get(key, "")) if isinstance(errors, dict) else ""

    def value(self, key: str, what: str, error_key: str | None = None):
        if key not in self.report:
            raise NoExport(self._missing(error_key or key, what))
        return self.report[key]

    def array(self, name: str, what: str | None = None, error_key: str | None = None) -> np.ndarray:
        """``error_key`` — пункт выноса, ошибка которого объясняет отсутствие файла."""
        data = self.read(f"{name}.npy")
        if data is None:
            if any(t.startswith((f"{name}.npy:", "папка выноса")) for t in self.tampered):
                raise NoExport(f"{what or name}: файл выноса подменён, результат не засчитан.")
            raise NoExport(self._missing(error_key or name, what or f"переменная {name}"))
        try:
            return np.load(io.BytesIO(data), allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise NoExport(f"{what or name}: файл не читается ({exc}).") from exc

    def _missing(self, key: str, what: str) -> str:
        error = self.error(key)
        if error:
            return f"{what}: не удалось получить ({error})."
        return f"{what}: нет значения — ячейка, которая его создаёт, не выполнилась или имя другое."


# ------------------------------------------------------------------- что нужно проверкам


#: Почему модель без ответов чистого процесса не получает баллов за модель.
NOT_KERAS = (
    "vae.encoder и vae.decoder должны быть моделями Keras (keras.Model): баллы за модель, "
    "обучение, реконструкции и морфинг ставятся по ответам модели, которую проверяющий "
    "загружает сам; функции numpy, таблицы и другие подстановки их не получают."
)


class Context:
    """Всё, что нужно проверкам: вынос, ответы чистого процесса, настоящие данные, классы.

    ``clean`` — папка ответов чистого процесса (:mod:`.evaluate`) или ``None``.
    """

    def __init__(self, export: Export, course_data: str, clean: Export | None = None):
        self.ex = export
        self.course_data = course_data
        self.real = real_cifar10(course_data)
        self.clean_report = clean.json("evaluation.json") if clean is not None else {}
        self.clean_arrays: dict[str, np.ndarray] = {}
        data = clean.read("evaluation.npz") if self.clean_report.get("loaded") else None
        with contextlib.suppress(OSError, ValueError):
            if data is not None:
                with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                    self.clean_arrays = {k: npz[k] for k in npz.files}

    @functools.cached_property
    def model_state(self) -> str:
        """Откуда ответы модели: ``clean`` — чистый процесс загрузил модель Keras;
        ``not_keras`` — кодировщик или декодер не модели Keras (баллов за модель нет);
        ``needs_review`` — модель Keras, которую не удалось загрузить: ответы из ядра
        студента, работу нужно посмотреть глазами; ``kernel`` — модели нет вовсе."""
        if self.clean_arrays:
            return "clean"
        claims = [self.ex.report.get(f"{n}_is_keras") for n in ("encoder", "decoder")]
        if False in claims:
            return "not_keras"
        return "needs_review" if all(claims) else "kernel"

    @property
    def heldout_seed(self) -> int:
        return CLEAN_SEED if self.model_state == "clean" else KERNEL_SEED

    def model_array(self, name: str, what: str, error_key: str = "vae") -> np.ndarray:
        """Ответ модели: из чистого процесса, а если модель не загрузилась — из выноса ядра."""
        state = self.model_state
        if state == "clean":
            if name not in self.clean_arrays:
                raise NoExport(f"{what}: нет ответа модели.")
            return self.clean_arrays[name]
        if state == "not_keras":
            raise AssertionError(NOT_KERAS)
        return self.ex.array(name, what, error_key)

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
