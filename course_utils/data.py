"""Наборы данных курса: реестр (что это за набор, где его взять) и их загрузчики.

Откуда берутся данные, решает ``COURSE_DATA`` (см. :mod:`course_utils.config`), одинаково
для всех наборов реестра :data:`REGISTRY`:

* ``sample`` — небольшие настоящие подвыборки из ``data/`` (работают без интернета; их
  контрольные суммы записаны в реестре, ``make sample-data`` собирает их заново);
* путь к папке — локальные копии наборов в раскладке ``Dataset.local_path``
  (``fashion-mnist/*.gz``, ``cifar-10/cifar-10-python.tar.gz``, ``celeba-dataset/``);
* не задана или ``download`` — настоящие наборы из интернета (``keras.datasets``).

Встроенные выборки и локальные копии читаются тем же кодом (:mod:`course_utils.readers`).
Любая ошибка набора — :class:`DatasetError`: что не так и что сделать. Keras
импортируется внутри функций: так ``KERAS_BACKEND`` можно задать уже после импорта.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from course_utils import config
from course_utils.readers import DatasetError, read_cifar10_archive, read_idx_gz, sha256

__all__ = [
    "REGISTRY",
    "Dataset",
    "DatasetError",
    "load",
    "load_cifar10",
    "load_fashion_mnist",
    "preprocess",
    "check_cifar10_classes",
    "read_cifar10_archive",
]

_HOW_TO_GO_OFFLINE = (
    "задайте переменную окружения COURSE_DATA=sample (небольшие встроенные выборки), "
    "например в первой ячейке ноутбука: os.environ['COURSE_DATA'] = 'sample'; или "
    "COURSE_DATA=<папка> с локальными копиями наборов (fashion-mnist/*.gz, "
    "cifar-10/cifar-10-python.tar.gz)."
)


@dataclass(frozen=True)
class Dataset:
    """Набор данных курса: откуда его взять и чем загрузить."""

    name: str
    title: str
    #: Загрузчик "модуль:функция" — единственная точка входа (импортируется при вызове).
    loader: str
    #: Что лежит в ``data/`` для ``COURSE_DATA=sample`` (файл или папка); None — выборка
    #: создаётся программой (CelebA: нарисованные лица).
    sample_path: str | None
    #: Где набор внутри ``COURSE_DATA=<папка>``.
    local_path: str
    #: Файлы встроенной выборки (путь внутри ``data/``) -> sha256.
    sample_files: dict[str, str] = field(default_factory=dict)

    def load(self, *args, **kwargs):
        module, function = self.loader.split(":")
        return getattr(importlib.import_module(module), function)(*args, **kwargs)


_FASHION = "fashion-mnist/"
REGISTRY: dict[str, Dataset] = {
    dataset.name: dataset
    for dataset in (
        Dataset(
            "fashion_mnist",
            "Fashion-MNIST",
            "course_utils.data:load_fashion_mnist",
            sample_path="fashion-mnist",
            local_path="fashion-mnist",
            sample_files={
                _FASHION
                + "train-images-idx3-ubyte.gz": "06d2bdc4ebec620314eee85ddeae7181f9690b97c4bbc54f363a6e989f247264",
                _FASHION
                + "train-labels-idx1-ubyte.gz": "131387379173605d5c5fa9a1fc119c316a2e92c2e40aca9996f7bbe8470f6fa3",
                _FASHION
                + "t10k-images-idx3-ubyte.gz": "62f23d346ecf5453b7cd91a46dea7b146d0ad4afb5cf5903d46e6485c72f5f48",
                _FASHION
                + "t10k-labels-idx1-ubyte.gz": "ebf256d3d67b464b6c96356c81c6db2a538387f5dda83fec41a3049eff1eafaa",
                _FASHION
                + "LICENSE": "13ef4788476d292858fa60eb9a5f74aeca5c65770bc885ccaa05823a17ef7be1",
            },
        ),
        Dataset(
            "cifar10",
            "CIFAR-10",
            "course_utils.data:load_cifar10",
            sample_path="cifar-10-sample.tar.gz",
            local_path="cifar-10/cifar-10-python.tar.gz",
            sample_files={
                "cifar-10-sample.tar.gz": "be52aab01b191e94a4b555c9297f2d932b5843996c7487e25860fb83e59b1f61",
            },
        ),
        # Загрузчик CelebA (выборка, папка, kagglehub) — в course_utils/celeba.py.
        Dataset(
            "celeba",
            "CelebA",
            "course_utils.celeba:load_celeba",
            sample_path=None,
            local_path="celeba-dataset",
        ),
    )
}

#: Четыре официальных файла Fashion-MNIST (имена те же, что скачивает Keras).
FASHION_MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def load(name: str, *args, **kwargs):
    """Загружает набор реестра по имени (``"fashion_mnist"``, ``"cifar10"``, ``"celeba"``)."""
    if name not in REGISTRY:
        raise DatasetError(
            f"Набора {name!r} нет в курсе.", f"выберите один из: {', '.join(REGISTRY)}."
        )
    return REGISTRY[name].load(*args, **kwargs)


def locate(name: str) -> Path | None:
    """Что читать для набора: встроенная выборка или локальная копия; None — скачивать."""
    dataset = REGISTRY[name]
    if config.use_sample_data():
        return _checked_sample(dataset)
    folder = config.local_datasets_dir()
    return None if folder is None else folder / dataset.local_path


def _checked_sample(dataset: Dataset) -> Path:
    """Путь к встроенной выборке; проверяет, что её файлы на месте и не изменены."""
    root = config.SAMPLE_DATA_DIR
    for name, expected in dataset.sample_files.items():
        path = root / name
        if not path.is_file():
            raise DatasetError(
                f"COURSE_DATA=sample: встроенные данные {dataset.title} не найдены ({path}).",
                "переустановите пакет курса (pip install из репозитория курса) или уберите "
                "COURSE_DATA, чтобы скачать набор из интернета.",
            )
        if sha256(path) != expected:
            raise DatasetError(
                f"COURSE_DATA=sample: файл {path} изменён или повреждён (контрольная сумма "
                "не совпадает с реестром course_utils.data.REGISTRY).",
                "верните его (git checkout -- data/) или соберите заново: make sample-data.",
            )
    return root / dataset.sample_path


def _download(title, load_data):
    """Вызывает загрузчик ``keras.datasets``; при ошибке объясняет, как работать офлайн."""
    try:
        return load_data()
    except Exception as exc:
        raise DatasetError(
            f"Не удалось загрузить {title} через keras.datasets ({type(exc).__name__}: {exc}); "
            "скорее всего, нет доступа к интернету.",
            _HOW_TO_GO_OFFLINE,
        ) from exc


# --------------------------------------------------------------------------- Fashion-MNIST


def load_fashion_mnist():
    """Загружает Fashion-MNIST в формате Keras.

    Возвращает ``((x_train, y_train), (x_test, y_test))``: ``x`` — ``uint8`` формы
    ``(n, 28, 28)`` со значениями 0..255, ``y`` — ``uint8`` формы ``(n,)`` с метками 0..9.
    Полный набор: 60 000 обучающих и 10 000 тестовых изображений; встроенная выборка
    (``COURSE_DATA=sample``): 2 000 и 500 (по 200 и 50 каждого класса). Выборка и
    локальная папка читаются из тех же официальных файлов IDX, что скачивает Keras.
    """
    folder = locate("fashion_mnist")
    if folder is None:
        import keras

        return _download("Fashion-MNIST", keras.datasets.fashion_mnist.load_data)
    missing = [name for name in FASHION_MNIST_FILES if not (folder / name).is_file()]
    if missing:
        raise DatasetError(
            f"В папке {folder} нет файлов Fashion-MNIST: {', '.join(missing)}.",
            f"положите туда четыре официальных файла: {', '.join(FASHION_MNIST_FILES)}.",
        )
    train_x, train_y, test_x, test_y = (read_idx_gz(folder / name) for name in FASHION_MNIST_FILES)
    return (train_x, train_y), (test_x, test_y)


def preprocess(imgs):
    """Готовит изображения Fashion-MNIST для VAE.

    Принимает целочисленный массив ``(n, h, w)`` (или ``(n, h, w, 1)``) со значениями
    0..255, например ``x_train`` из :func:`load_fashion_mnist`. Возвращает ``float32``
    формы ``(n, 32, 32, 1)`` со значениями 0..1: изображение дополняется нулями (чёрной
    рамкой) по краям до 32×32 (28×28 -> по 2 пикселя с каждой стороны), чтобы размер
    делился на 2 при каждом шаге свёртки со страйдом 2, и получает ось канала.
    """
    imgs = np.asarray(imgs)
    if imgs.ndim == 4 and imgs.shape[-1] == 1:
        imgs = imgs[..., 0]
    if imgs.ndim != 3:
        raise ValueError(
            f"preprocess ожидает массив формы (n, высота, ширина), получена форма {imgs.shape}."
        )
    if imgs.shape[0] == 0:
        raise ValueError("preprocess: пустой массив, изображений нет.")
    height, width = imgs.shape[1:]
    if height > 32 or width > 32:
        raise ValueError(f"preprocess: изображения {height}x{width} больше 32x32.")
    if not np.issubdtype(imgs.dtype, np.integer):
        raise ValueError(
            f"preprocess ожидает целые значения 0..255 (uint8, как из load_fashion_mnist()), "
            f"получен тип {imgs.dtype}. Если данные уже в диапазоне 0..1, их не нужно "
            "обрабатывать ещё раз."
        )
    if imgs.min() < 0 or imgs.max() > 255:
        raise ValueError("preprocess: значения пикселей должны лежать в 0..255.")
    top, left = (32 - height) // 2, (32 - width) // 2
    imgs = imgs.astype("float32") / 255.0
    imgs = np.pad(imgs, ((0, 0), (top, 32 - height - top), (left, 32 - width - left)))
    return imgs[..., np.newaxis]


# --------------------------------------------------------------------------- CIFAR-10


def load_cifar10(classes=None):
    """Загружает CIFAR-10 в формате Keras, при желании только некоторые классы.

    Возвращает ``((x_train, y_train), (x_test, y_test))``: ``x`` — ``uint8`` формы
    ``(n, 32, 32, 3)`` со значениями 0..255, ``y`` — ``uint8`` формы ``(n, 1)``.

    ``classes`` — ``None`` (все классы) или список разных целых чисел 0..9; остаются
    только изображения этих классов, метки сохраняют исходные значения (например,
    ``classes=[1, 3]`` даёт метки 1 и 3, а не 0 и 1). Порядок примеров — исходный.

    Источник: ``keras.datasets.cifar10`` (скачивание); при ``COURSE_DATA=sample`` —
    встроенная выборка (по 100 обучающих и 25 тестовых изображений каждого класса);
    при ``COURSE_DATA=<папка>`` — ``<папка>/cifar-10/cifar-10-python.tar.gz``. Оба последних
    читаются :func:`course_utils.readers.read_cifar10_archive`.
    """
    keep = check_cifar10_classes(classes)
    archive = locate("cifar10")
    if archive is None:
        import keras

        data = _download("CIFAR-10", keras.datasets.cifar10.load_data)
        if keras.config.image_data_format() == "channels_first":
            data = tuple((np.ascontiguousarray(x.transpose(0, 2, 3, 1)), y) for x, y in data)
    elif not archive.is_file():
        raise DatasetError(f"Архив CIFAR-10 не найден: {archive}.", _HOW_TO_GO_OFFLINE)
    else:
        data = read_cifar10_archive(archive)
    if keep is None:
        return data
    return tuple(_keep_classes(x, y, keep) for x, y in data)


def check_cifar10_classes(classes):
    """Проверяет список классов CIFAR-10; возвращает кортеж int или ``None`` (все классы)."""
    if classes is None:
        return None
    if isinstance(classes, (str, bytes)) or not hasattr(classes, "__iter__"):
        raise ValueError(
            f"classes должен быть списком номеров классов 0..9, например [1, 3, 5, 9]; "
            f"получено {classes!r}."
        )
    classes = list(classes)
    if not classes:
        raise ValueError("Список классов пуст: укажите хотя бы один класс 0..9 или None для всех.")
    for label in classes:
        is_int = isinstance(label, (int, np.integer)) and not isinstance(label, (bool, np.bool_))
        if not is_int or not 0 <= label <= 9:
            raise ValueError(
                f"Неизвестный класс {label!r}: в CIFAR-10 классы — целые числа от 0 до 9."
            )
    repeated = sorted({int(c) for c in classes if classes.count(c) > 1})
    if repeated:
        raise ValueError(f"Классы повторяются: {repeated}. Укажите каждый класс один раз.")
    return tuple(int(c) for c in classes)


def _keep_classes(x, y, keep):
    mask = np.isin(y.reshape(-1), keep)
    return x[mask], y[mask]


def _keep_classes(x, y, keep):
    mask = np.isin(y.reshape(-1), keep)
    return x[mask], y[mask]
