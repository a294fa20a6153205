"""Загрузка наборов данных курса: Fashion-MNIST и CIFAR-10 (CelebA — в ``celeba.py``).

Откуда берутся данные, решает ``COURSE_DATA`` (см. :mod:`course_utils.config`):

* не задана или ``download`` — настоящие наборы через ``keras.datasets``
  (Keras скачивает их сам, с индикатором прогресса, и кладёт в свой кэш);
* ``sample`` — небольшие настоящие подвыборки из папки ``data/`` репозитория
  (работает без интернета);
* путь к папке — локальные копии наборов в раскладке
  ``fashion-mnist/*.gz`` и ``cifar-10/cifar-10-python.tar.gz``.

Встроенные выборки и локальные копии читаются тем же кодом, что и настоящие
наборы: Fashion-MNIST — самим ``keras.datasets.fashion_mnist.load_data()``
(из временной копии файлов), CIFAR-10 — читателем официального архива
:func:`read_cifar10_archive`.

Keras импортируется внутри функций: так ``KERAS_BACKEND`` можно задать уже
после ``import course_utils``.
"""

from __future__ import annotations

import contextlib
import pickle
import re
import shutil
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

import numpy as np

from course_utils.config import (
    SAMPLE_DATA_DIR,
    cache_dir,
    local_datasets_dir,
    use_sample_data,
)

#: Четыре официальных файла Fashion-MNIST (имена те же, что скачивает Keras).
FASHION_MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
#: Встроенная выборка CIFAR-10 в раскладке официального архива.
CIFAR10_SAMPLE_ARCHIVE = SAMPLE_DATA_DIR / "cifar-10-sample.tar.gz"
#: Где лежит архив CIFAR-10 внутри папки ``COURSE_DATA=<папка>``.
CIFAR10_ARCHIVE_IN_FOLDER = Path("cifar-10") / "cifar-10-python.tar.gz"

_HOW_TO_GO_OFFLINE = (
    "Чтобы работать без интернета, задайте переменную окружения COURSE_DATA=sample "
    "(небольшие встроенные выборки из папки data/ репозитория), например в первой ячейке "
    "ноутбука: os.environ['COURSE_DATA'] = 'sample'; или COURSE_DATA=<папка> с локальными "
    "копиями наборов (fashion-mnist/*.gz, cifar-10/cifar-10-python.tar.gz)."
)


class DatasetDownloadError(RuntimeError):
    """Keras не смог скачать набор данных (обычно — нет интернета)."""


# --------------------------------------------------------------------------- Fashion-MNIST


def load_fashion_mnist():
    """Загружает Fashion-MNIST в формате Keras.

    Возвращает ``((x_train, y_train), (x_test, y_test))``: ``x`` — ``uint8`` формы
    ``(n, 28, 28)`` со значениями 0..255, ``y`` — ``uint8`` формы ``(n,)`` с метками 0..9.
    Полный набор: 60 000 обучающих и 10 000 тестовых изображений; встроенная выборка
    (``COURSE_DATA=sample``): 2 000 и 500 (по 200 и 50 каждого класса).

    Данные всегда читает ``keras.datasets.fashion_mnist.load_data()``; для выборки и
    локальной папки ему подкладывается временная копия файлов (в подпапке
    :func:`course_utils.config.cache_dir`), сами файлы пользователя не меняются.
    """
    if use_sample_data():
        return _fashion_mnist_from_folder(_sample_path("fashion-mnist"))
    folder = local_datasets_dir()
    if folder is not None:
        return _fashion_mnist_from_folder(folder / "fashion-mnist")
    import keras

    return _download("Fashion-MNIST", keras.datasets.fashion_mnist.load_data)


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


def _fashion_mnist_from_folder(folder):
    """Читает четыре .gz из ``folder`` настоящим загрузчиком Keras, через временную копию."""
    folder = Path(folder)
    missing = [name for name in FASHION_MNIST_FILES if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"В папке {folder} нет файлов Fashion-MNIST: {', '.join(missing)}. Нужны четыре "
            f"официальных файла: {', '.join(FASHION_MNIST_FILES)}."
        )
    import keras

    with tempfile.TemporaryDirectory(prefix="keras-home-", dir=cache_dir()) as home:
        target = Path(home) / "datasets" / "fashion-mnist"
        target.mkdir(parents=True)
        for name in FASHION_MNIST_FILES:
            shutil.copyfile(folder / name, target / name)
        with _keras_home(home):
            try:
                return keras.datasets.fashion_mnist.load_data()
            except Exception as exc:
                raise ValueError(
                    f"Не удалось прочитать Fashion-MNIST из {folder}: файлы повреждены или "
                    f"не в формате IDX ({type(exc).__name__}: {exc})."
                ) from exc


@contextlib.contextmanager
def _keras_home(path):
    """Временно направляет кэш Keras (``KERAS_HOME``) в ``path``.

    ``keras.datasets.fashion_mnist.load_data()`` не принимает ``cache_dir``, а переменную
    ``KERAS_HOME`` Keras читает один раз при импорте и хранит в своей конфигурации;
    ``get_file`` берёт папку из ``keras_home()``. Поэтому на время чтения подменяется
    это значение и затем восстанавливается.
    """
    from keras.src.backend import config

    if not hasattr(config, "_KERAS_DIR") or not callable(getattr(config, "keras_home", None)):
        raise RuntimeError(
            "Эта версия Keras хранит папку кэша иначе, чем ожидает course_utils; "
            "используйте Keras 3.9 или новее."
        )
    previous = config._KERAS_DIR
    config._KERAS_DIR = str(path)
    try:
        if config.keras_home() != str(path):
            raise RuntimeError("Не удалось временно сменить папку кэша Keras.")
        yield
    finally:
        config._KERAS_DIR = previous


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
    читаются :func:`read_cifar10_archive`.
    """
    keep = check_cifar10_classes(classes)
    if use_sample_data():
        data = read_cifar10_archive(_sample_path(CIFAR10_SAMPLE_ARCHIVE.name))
    elif (folder := local_datasets_dir()) is not None:
        data = read_cifar10_archive(folder / CIFAR10_ARCHIVE_IN_FOLDER)
    else:
        import keras

        data = _download("CIFAR-10", keras.datasets.cifar10.load_data)
        if keras.config.image_data_format() == "channels_first":
            data = tuple((np.ascontiguousarray(x.transpose(0, 2, 3, 1)), y) for x, y in data)
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


def read_cifar10_archive(path):
    """Читает архив CIFAR-10 в официальной раскладке (``cifar-10-python.tar.gz``).

    Внутри ожидаются ``cifar-10-batches-py/data_batch_1..N`` и ``test_batch`` — словари
    pickle с ключами ``data`` (``uint8``, ``(n, 3072)``) и ``labels``. Архив читается
    потоком, без распаковки на диск, и НИКОГДА не изменяется и не удаляется (в отличие от
    ``keras.datasets.cifar10.load_data()``, который удаляет архив с «чужой» контрольной
    суммой). pickle разбирается с ограничением: разрешены только объекты numpy-массивов.

    Возвращает ``((x_train, y_train), (x_test, y_test))`` в формате Keras: ``x`` —
    ``uint8`` ``(n, 32, 32, 3)``, ``y`` — ``uint8`` ``(n, 1)``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Архив CIFAR-10 не найден: {path}. " + _HOW_TO_GO_OFFLINE)
    batches = {}
    try:
        # "r|gz": один проход по потоку, без распаковки на диск.
        with tarfile.open(path, mode="r|gz") as archive:
            for member in archive:
                name = PurePosixPath(member.name)
                wanted = name.name == "test_batch" or re.fullmatch(r"data_batch_\d+", name.name)
                if member.isfile() and name.parent.name == "cifar-10-batches-py" and wanted:
                    batches[name.name] = _read_cifar10_batch(archive.extractfile(member))
    except Exception as exc:
        raise ValueError(
            f"Архив CIFAR-10 {path} повреждён или это не cifar-10-python.tar.gz "
            f"({type(exc).__name__}: {exc}). Файл оставлен как есть; скачайте архив заново "
            "или задайте COURSE_DATA=sample."
        ) from exc
    train_names = sorted(
        (name for name in batches if name.startswith("data_batch_")),
        key=lambda name: int(name.rsplit("_", 1)[1]),
    )
    if not train_names or "test_batch" not in batches:
        raise ValueError(
            f"В архиве {path} нет cifar-10-batches-py/data_batch_* и test_batch: "
            "это не архив CIFAR-10 в официальной раскладке. Файл оставлен как есть."
        )
    x_train = np.concatenate([batches[name][0] for name in train_names])
    y_train = np.concatenate([batches[name][1] for name in train_names])
    return (x_train, y_train), batches["test_batch"]


def _read_cifar10_batch(stream):
    """Один пакет CIFAR-10 -> (x uint8 (n, 32, 32, 3), y uint8 (n, 1))."""
    batch = _RestrictedUnpickler(stream, encoding="bytes").load()
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
        raise pickle.UnpicklingError(f"недопустимый объект в pickle: {module}.{name}")


# --------------------------------------------------------------------------- общее


def _sample_path(name):
    """Путь внутри ``data/``; понятная ошибка, если встроенных данных нет."""
    path = SAMPLE_DATA_DIR / name
    if not path.exists():
        raise FileNotFoundError(
            f"COURSE_DATA=sample: встроенные данные не найдены ({path}). Они лежат в папке "
            "data/ клона репозитория курса (git clone), а в пакет, установленный через pip, "
            "не входят. Склонируйте репозиторий и установите его: pip install -e ., "
            "или уберите COURSE_DATA, чтобы скачать наборы из интернета."
        )
    return path


def _download(name, load_data):
    """Вызывает загрузчик ``keras.datasets``; при ошибке объясняет, как работать офлайн."""
    try:
        return load_data()
    except Exception as exc:
        raise DatasetDownloadError(
            f"Не удалось загрузить {name} через keras.datasets "
            f"({type(exc).__name__}: {exc}). Скорее всего, нет доступа к интернету. "
            + _HOW_TO_GO_OFFLINE
        ) from exc


# --------------------------------------------------------------------------- CelebA
# Загрузчики CelebA живут в course_utils/celeba.py (генератор офлайн-лиц — в generated_faces.py);
# реэкспорт здесь, чтобы все наборы загружались из одного модуля.
from course_utils.celeba import load_celeba, load_celeba_labelled  # noqa: E402,F401
