"""Чтение файлов наборов в их официальных форматах и общая ошибка наборов данных.

* IDX в gzip (Fashion-MNIST, MNIST): :func:`read_idx_gz`;
* архив CIFAR-10 ``cifar-10-python.tar.gz``: :func:`read_cifar10_archive`
  (pickle разбирается с ограничением: только объекты numpy-массивов).

Файлы только читаются: их никогда не меняют и не удаляют.
"""

from __future__ import annotations

import gzip
import hashlib
import pickle
import re
import struct
import tarfile
from pathlib import Path, PurePosixPath

import numpy as np


class DatasetError(RuntimeError):
    """Набор данных не загрузился. Сообщение: что не так, затем — что сделать."""

    def __init__(self, what: str, todo: str):
        super().__init__(f"{what} Что сделать: {todo}")
        self.what, self.todo = what, todo


def sha256(path: Path) -> str:
    """Контрольная сумма файла (hex)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --------------------------------------------------------------------------- IDX


def read_idx_gz(path: Path) -> np.ndarray:
    """Массив ``uint8`` из файла IDX, сжатого gzip (формат MNIST / Fashion-MNIST)."""
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes())
        zero, dtype, ndim = raw[:2], raw[2], raw[3]
        if zero != b"\0\0" or dtype != 0x08:
            raise ValueError("в заголовке нет признака IDX uint8 (00 00 08)")
        shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
        return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(shape)
    except (OSError, EOFError, ValueError, IndexError, struct.error) as exc:
        raise DatasetError(
            f"Файл {path} повреждён или не в формате IDX ({type(exc).__name__}: {exc}); "
            "он оставлен как есть.",
            "скачайте официальный файл заново или задайте COURSE_DATA=sample.",
        ) from exc


# --------------------------------------------------------------------------- CIFAR-10


def read_cifar10_archive(path: Path):
    """Читает архив CIFAR-10 в официальной раскладке (``cifar-10-python.tar.gz``).

    Внутри ожидаются ``cifar-10-batches-py/data_batch_1..N`` и ``test_batch``. Архив
    читается потоком, без распаковки на диск, и НИКОГДА не изменяется и не удаляется
    (в отличие от ``keras.datasets.cifar10.load_data()``, который удаляет архив с «чужой»
    контрольной суммой).

    Возвращает ``((x_train, y_train), (x_test, y_test))`` в формате Keras: ``x`` —
    ``uint8`` ``(n, 32, 32, 3)``, ``y`` — ``uint8`` ``(n, 1)``.
    """
    path = Path(path)
    batches = {}
    try:
        # "r|gz": один проход по потоку, без распаковки на диск.
        with tarfile.open(path, mode="r|gz") as archive:
            for member in archive:
                name = PurePosixPath(member.name)
                wanted = name.name == "test_batch" or re.fullmatch(r"data_batch_\d+", name.name)
                if member.isfile() and name.parent.name == "cifar-10-batches-py" and wanted:
                    batch = load_cifar10_pickle(archive.extractfile(member))
                    batches[name.name] = _images_and_labels(batch)
    except Exception as exc:
        raise DatasetError(
            f"Архив CIFAR-10 {path} повреждён или это не cifar-10-python.tar.gz "
            f"({type(exc).__name__}: {exc}). Файл оставлен как есть.",
            "скачайте архив заново или задайте COURSE_DATA=sample.",
        ) from exc
    train_names = sorted(
        (name for name in batches if name.startswith("data_batch_")),
        key=lambda name: int(name.rsplit("_", 1)[1]),
    )
    if not train_names or "test_batch" not in batches:
        raise DatasetError(
            f"В архиве {path} нет cifar-10-batches-py/data_batch_* и test_batch: это не архив "
            "CIFAR-10 в официальной раскладке. Файл оставлен как есть.",
            "возьмите официальный cifar-10-python.tar.gz или задайте COURSE_DATA=sample.",
        )
    x_train = np.concatenate([batches[name][0] for name in train_names])
    y_train = np.concatenate([batches[name][1] for name in train_names])
    return (x_train, y_train), batches["test_batch"]


def load_cifar10_pickle(stream) -> dict:
    """Словарь одного файла ``cifar-10-batches-py`` (ключи — bytes), без исполнения кода."""
    return _RestrictedUnpickler(stream, encoding="bytes").load()


def _images_and_labels(batch: dict):
    """Пакет CIFAR-10 -> (x uint8 (n, 32, 32, 3), y uint8 (n, 1))."""
    data = np.asarray(batch[b"data"], dtype=np.uint8)
    labels = np.asarray(batch[b"labels"])
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != len(data):
        raise ValueError(f"неожиданная форма пакета: data {data.shape}, labels {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError("метки вне диапазона 0..9")
    x = np.ascontiguousarray(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    return x, labels.astype(np.uint8).reshape(-1, 1)


class _RestrictedUnpickler(pickle.Unpickler):
    """pickle без исполнения произвольного кода: только то, что нужно numpy-массиву."""

    def find_class(self, module, name):
        if module in ("numpy.core.multiarray", "numpy._core.multiarray") and name == "_reconstruct":
            # Архивы, записанные numpy 1.x и 2.x, называют модуль по-разному.
            try:
                from numpy._core.multiarray import _reconstruct
            except ImportError:  # numpy < 2
                from numpy.core.multiarray import _reconstruct
            return _reconstruct
        if module == "numpy" and name in ("ndarray", "dtype"):
            return getattr(np, name)
        if module == "_codecs" and name == "encode":  # bytes в pickle протокола 2
            import codecs

            return codecs.encode
        raise pickle.UnpicklingError(f"недопустимый объект в pickle: {module}.{name}")
