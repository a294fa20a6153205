"""Собирает встроенные данные ``data/`` из официальных файлов наборов (``make sample-data``).

Запуск: ``python tools/make_sample_data.py [--source ../shared/datasets] [--out data]``.
``--source`` — папка в раскладке ``COURSE_DATA=<папка>`` (``fashion-mnist/*.gz``,
``cifar-10/cifar-10-python.tar.gz``). Результат одинаков байт в байт при каждом запуске:
gzip без имени файла, с ``mtime=0`` и уровнем 9; tar с нулевыми временем и владельцем.
Контрольные суммы результата записаны в реестре наборов (``course_utils/data.py``), и тест
(tests/test_sample_data.py) сверяет их. Как отбираются изображения — в ``data/README.md``.
"""

from __future__ import annotations

import argparse
import gzip
import io
import pickle
import shutil
import struct
import sys
import tarfile
from pathlib import Path

import numpy as np

from course_utils import readers
from course_utils.data import REGISTRY

COURSE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = COURSE_ROOT.parent / "shared" / "datasets"
#: Сколько изображений каждого класса берётся: (обучение, тест).
FASHION_PER_CLASS = (200, 50)
CIFAR_PER_CLASS = (100, 25)
CIFAR_TRAIN_BATCHES = 5


def first_per_class(labels: np.ndarray, n: int) -> np.ndarray:
    """Индексы первых ``n`` примеров каждого класса 0..9 в исходном порядке."""
    labels = np.asarray(labels).reshape(-1)
    return np.sort(np.concatenate([np.flatnonzero(labels == c)[:n] for c in range(10)]))


def gzip_bytes(raw: bytes) -> bytes:
    """gzip без имени файла и времени: одинаковые байты при каждом запуске."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9, mtime=0, filename="") as f:
        f.write(raw)
    return out.getvalue()


def idx_bytes(array: np.ndarray) -> bytes:
    """Массив uint8 в формате IDX (как официальные файлы MNIST / Fashion-MNIST)."""
    header = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def fashion_mnist(source: Path, out: Path) -> None:
    folder, target = source / "fashion-mnist", out / "fashion-mnist"
    target.mkdir(parents=True, exist_ok=True)
    for split, per_class in zip(("train", "t10k"), FASHION_PER_CLASS):
        labels = readers.read_idx_gz(folder / f"{split}-labels-idx1-ubyte.gz")
        images = readers.read_idx_gz(folder / f"{split}-images-idx3-ubyte.gz")
        keep = first_per_class(labels, per_class)
        for kind, array in (("images-idx3", images[keep]), ("labels-idx1", labels[keep])):
            (target / f"{split}-{kind}-ubyte.gz").write_bytes(gzip_bytes(idx_bytes(array)))
    shutil.copyfile(folder / "LICENSE", target / "LICENSE")


def _tar_member(name: str, payload: bytes | None) -> tuple[tarfile.TarInfo, io.BytesIO | None]:
    info = tarfile.TarInfo(name)
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
    if payload is None:
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        return info, None
    info.mode, info.size = 0o644, len(payload)
    return info, io.BytesIO(payload)


def _batch(label: str, source_batch: dict, keep: np.ndarray) -> bytes:
    batch = {
        b"batch_label": label.encode(),
        b"labels": [int(source_batch[b"labels"][i]) for i in keep],
        b"data": np.ascontiguousarray(source_batch[b"data"][keep]),
        b"filenames": [source_batch[b"filenames"][i] for i in keep],
    }
    return pickle.dumps(batch, protocol=4)


def cifar10(source: Path, out: Path) -> None:
    folder = "cifar-10-batches-py"
    with tarfile.open(source / "cifar-10" / "cifar-10-python.tar.gz", mode="r:gz") as archive:

        def load(name):
            return readers.load_cifar10_pickle(archive.extractfile(f"{folder}/{name}"))

        meta = load("batches.meta")
        train = [load(f"data_batch_{i}") for i in range(1, CIFAR_TRAIN_BATCHES + 1)]
        test = load("test_batch")
    merged = {
        key: np.concatenate([b[key] for b in train])
        if key == b"data"
        else sum((list(b[key]) for b in train), [])
        for key in (b"labels", b"data", b"filenames")
    }
    keep = first_per_class(merged[b"labels"], CIFAR_PER_CLASS[0])
    members = [(folder, None), (f"{folder}/batches.meta", pickle.dumps(meta, protocol=2))]
    for i, part in enumerate(np.array_split(keep, CIFAR_TRAIN_BATCHES), start=1):
        label = f"training batch {i} of {CIFAR_TRAIN_BATCHES} (course sample)"
        members.append((f"{folder}/data_batch_{i}", _batch(label, merged, part)))
    keep = first_per_class(test[b"labels"], CIFAR_PER_CLASS[1])
    members.append(
        (f"{folder}/test_batch", _batch("testing batch 1 of 1 (course sample)", test, keep))
    )
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for name, payload in members:
            archive.addfile(*_tar_member(name, payload))
    (out / "cifar-10-sample.tar.gz").write_bytes(gzip_bytes(tar.getvalue()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=COURSE_ROOT / "data")
    args = parser.parse_args(argv)
    if not args.source.is_dir():
        print(
            f"Нет папки с официальными файлами наборов: {args.source}. Укажите её: "
            "--source <папка с fashion-mnist/ и cifar-10/>.",
            file=sys.stderr,
        )
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    fashion_mnist(args.source, args.out)
    cifar10(args.source, args.out)
    differ = []
    for dataset in REGISTRY.values():
        for name, expected in dataset.sample_files.items():
            same = readers.sha256(args.out / name) == expected
            differ += [] if same else [name]
            print(f"{'ok' if same else 'ИНОЙ ХЕШ':8} {name}")
    if differ:
        print(
            "Контрольные суммы не совпали с реестром course_utils.data.REGISTRY: другие "
            "исходные файлы или другая версия numpy/zlib. Если выборка изменена намеренно, "
            "впишите новые суммы в реестр.",
            file=sys.stderr,
        )
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
