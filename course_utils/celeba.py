"""Набор лиц CelebA: где он лежит, как его прочитать и как проверить таблицу атрибутов.

Настоящий CelebA (Kaggle, ``jessicali9530/celeba-dataset``) распаковывается так::

    celeba-dataset/
        img_align_celeba/img_align_celeba/000001.jpg ...   (178x218, JPEG)
        list_attr_celeba.csv                               (image_id + 40 столбцов -1/1)

:func:`load_celeba` и :func:`load_celeba_labelled` читают эту раскладку через
``keras.utils.image_dataset_from_directory`` (изображения подгружаются с диска батчами,
весь набор в память не попадает); :func:`load_celeba_arrays` читает часть набора в память
(uint8) вместе с метками — так обучение не декодирует одни и те же JPEG каждую эпоху;
:func:`memory_batches` делает из такого массива пакеты для ``fit``.

Где взять данные, решает :func:`celeba_dir`: папка, указанная явно; иначе, если установлен
``kagglehub`` (в Colab он есть), — загрузка с Kaggle; при ``COURSE_DATA=sample`` или если
загрузить не вышло — нарисованная замена из :mod:`course_utils.generated_faces`.
"""

from __future__ import annotations

import difflib
import os
import warnings
from pathlib import Path

import numpy as np

from course_utils import config, generated_faces
from course_utils.celeba_layout import CELEBA_ATTRIBUTES, CSV_NAME, IMAGE_EXTENSIONS, image_files

__all__ = [
    "CELEBA_ATTRIBUTES",
    "celeba_dir",
    "celeba_image_dir",
    "image_files",
    "read_attributes",
    "load_celeba",
    "load_celeba_labelled",
    "load_celeba_arrays",
]

KAGGLE_DATASET = "jessicali9530/celeba-dataset"


# --- Где лежат данные --------------------------------------------------------------


def _how_to_get_data() -> str:
    return (
        "Как получить CelebA: через Kaggle CLI "
        f"`kaggle datasets download -d {KAGGLE_DATASET}` и `unzip celeba-dataset.zip "
        "-d celeba-dataset`, или вручную со страницы "
        f"https://www.kaggle.com/datasets/{KAGGLE_DATASET} (архив ~1,3 ГБ). "
        "Распакуйте так, чтобы получилось celeba-dataset/img_align_celeba/img_align_celeba/*.jpg "
        "и celeba-dataset/list_attr_celeba.csv, и укажите папку: аргументом data_dir, "
        "переменной CELEBA_DIR или COURSE_DATA=<папка, в которой лежит celeba-dataset>. "
        "Или установите kagglehub (pip install kagglehub): тогда курс скачает набор сам. "
        "Без настоящих данных задайте COURSE_DATA=sample: курс сам нарисует похожий "
        "набор лиц с той же раскладкой."
    )


def celeba_dir(data_dir=None) -> Path:
    """Папка набора (та, в которой лежат ``img_align_celeba/`` и ``list_attr_celeba.csv``).

    Порядок поиска: аргумент ``data_dir``; переменная ``CELEBA_DIR``;
    ``<COURSE_DATA>/celeba-dataset``, если ``COURSE_DATA`` — папка; при
    ``COURSE_DATA=sample`` — сгенерированный набор в кэше курса (создаётся при первом
    вызове; в профиле CI, ``COURSE_FAST=1``, — меньший, ``FAST_SAMPLE_SIZE`` лиц). Иначе
    набор скачивается с Kaggle через ``kagglehub`` (в Colab он установлен);
    если ``kagglehub`` нет или загрузка не удалась, печатается, что случилось и как это
    исправить, и берётся сгенерированный набор.
    """
    if data_dir is None:
        data_dir = os.environ.get("CELEBA_DIR") or None
    if data_dir is None:
        local = config.local_datasets_dir()
        if local is not None:
            data_dir = local / "celeba-dataset"
        elif config.use_sample_data():
            return _generated_sample()
        else:
            downloaded, problem = _download_with_kagglehub()
            if downloaded is not None:
                return downloaded
            warnings.warn(
                f"{problem} Поэтому дальше — сгенерированная замена CelebA (нарисованные "
                "лица). " + _how_to_get_data(),
                stacklevel=2,
            )
            return _generated_sample()
    path = Path(data_dir).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(f"Папки с CelebA нет: {path}. " + _how_to_get_data())
    return path


def _generated_sample() -> Path:
    """Сгенерированная замена CelebA: в профиле CI — меньшая (ему хватает 512 лиц)."""
    if config.fast_mode():
        return generated_faces.generate_celeba_sample(generated_faces.FAST_SAMPLE_SIZE)
    return generated_faces.generate_celeba_sample()


def _download_with_kagglehub():
    """``(папка, None)`` после загрузки через ``kagglehub`` или ``(None, причина)``."""
    try:
        import kagglehub
    except ImportError:
        return None, "CelebA не найден, а пакета kagglehub для загрузки с Kaggle нет."
    try:
        path = Path(kagglehub.dataset_download(KAGGLE_DATASET))
        image_files(celeba_image_dir(path))  # проверяем, что раскладка та, что ждём
        if not (path / CSV_NAME).is_file():
            raise FileNotFoundError(f"в {path} нет {CSV_NAME}")
    except Exception as error:  # сеть, доступ к Kaggle, неполный архив
        return None, f"Загрузить CelebA через kagglehub не удалось ({error})."
    return path, None


def celeba_image_dir(data_dir=None) -> Path:
    """Папка с самими JPEG-файлами (в архиве с Kaggle она вложена дважды)."""
    root = celeba_dir(data_dir)
    for candidate in (root / "img_align_celeba" / "img_align_celeba", root / "img_align_celeba"):
        if candidate.is_dir() and any(
            f.name.lower().endswith(IMAGE_EXTENSIONS) for f in os.scandir(candidate)
        ):
            return candidate
    raise FileNotFoundError(
        f"В {root} нет изображений: ожидалась папка img_align_celeba/img_align_celeba "
        "с файлами 000001.jpg и далее. " + _how_to_get_data()
    )


def read_attributes(data_dir=None):
    """Таблица атрибутов (``pandas.DataFrame``) в порядке файлов на диске.

    Строки переставлены так, как ``image_dataset_from_directory`` перечисляет файлы,
    и проверено, что каждому изображению соответствует ровно одна строка.
    """
    import pandas as pd

    root = celeba_dir(data_dir)
    csv_path = root / CSV_NAME
    if not csv_path.is_file():
        raise FileNotFoundError(f"Нет файла атрибутов {csv_path}. " + _how_to_get_data())
    attributes = pd.read_csv(csv_path)
    if "image_id" not in attributes.columns:
        raise ValueError(
            f"{csv_path}: нет столбца image_id — это не list_attr_celeba.csv из CelebA. "
            + _how_to_get_data()
        )
    files = image_files(celeba_image_dir(root))
    ids = attributes["image_id"].astype(str)
    file_set, id_set = set(files), set(ids)
    if len(ids) != len(id_set) or file_set != id_set:
        missing = sorted(file_set - id_set)[:3]
        extra = sorted(id_set - file_set)[:3]
        raise ValueError(
            f"Строки {csv_path.name} не совпадают с изображениями: файлов {len(files)}, "
            f"строк {len(ids)} (уникальных {len(id_set)}); изображения без строки: "
            f"{missing or 'нет'}; строки без изображения: {extra or 'нет'}. "
            "Скорее всего, архив распакован не полностью или CSV от другой версии набора. "
            + _how_to_get_data()
        )
    return attributes.set_index("image_id").loc[files].reset_index()


def _check_label(label, columns) -> None:
    if label in columns:
        return
    close = difflib.get_close_matches(str(label), list(columns), n=3, cutoff=0.4)
    hint = f" Возможно, вы имели в виду: {', '.join(close)}." if close else ""
    raise KeyError(
        f"Атрибута {label!r} нет в list_attr_celeba.csv.{hint} Все атрибуты: {', '.join(columns)}."
    )


# --- Загрузка ------------------------------------------------------------------------


def _to_unit_float(images):
    # image_dataset_from_directory всегда отдаёт tf.data (при любом бэкенде Keras),
    # поэтому внутри map — операции TensorFlow, а не keras.ops
    import tensorflow as tf

    return tf.cast(images, tf.float32) / 255.0


def _image_dataset(
    image_dir, labels, image_size, batch_size, shuffle, seed, validation_split, subset
):
    import keras

    if validation_split and subset is None:
        subset = "both"
    return keras.utils.image_dataset_from_directory(
        str(image_dir),
        labels=labels,
        label_mode=None if labels is None else "int",
        color_mode="rgb",
        image_size=(image_size, image_size),
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        validation_split=validation_split or None,
        subset=subset if validation_split else None,
        interpolation="bilinear",
    )


def load_celeba(
    data_dir=None,
    image_size=64,
    batch_size=128,
    shuffle=True,
    seed=42,
    validation_split=None,
    subset=None,
):
    """Изображения CelebA как ``tf.data.Dataset`` батчей ``(batch, size, size, 3)``, float32 0..1.

    Файлы читаются с диска по мере надобности и уменьшаются до ``image_size`` билинейной
    интерполяцией (как в лекции). ``validation_split=0.2`` с ``subset="training"`` или
    ``"validation"`` возвращает одну часть, без ``subset`` — пару ``(train, validation)``.
    Папку ищет :func:`celeba_dir`.
    """
    image_dir = celeba_image_dir(data_dir)
    data = _image_dataset(
        image_dir, None, image_size, batch_size, shuffle, seed, validation_split, subset
    )
    if isinstance(data, list):
        return tuple(part.map(_to_unit_float) for part in data)
    return data.map(_to_unit_float)


def load_celeba_labelled(
    label,
    data_dir=None,
    image_size=64,
    batch_size=128,
    shuffle=True,
    seed=42,
    validation_split=None,
    subset=None,
):
    """Пары ``(изображения, метки)``: метка 1, если у лица есть атрибут ``label``, иначе 0.

    В CSV CelebA значения -1/1; здесь они переведены в 0/1 (int32). Порядок строк CSV
    сверяется с порядком файлов, который использует ``image_dataset_from_directory``,
    поэтому метки точно относятся к своим изображениям. Остальные аргументы — как у
    :func:`load_celeba`. Неизвестное имя атрибута — ``KeyError`` с похожими именами.
    """
    attributes = read_attributes(data_dir)
    _check_label(label, [c for c in attributes.columns if c != "image_id"])
    values = attributes[label].to_numpy()
    if not np.isin(values, (-1, 1)).all():
        raise ValueError(f"Столбец {label!r} должен содержать только -1 и 1.")
    labels = (values > 0).astype("int32").tolist()
    image_dir = celeba_image_dir(data_dir)
    data = _image_dataset(
        image_dir, labels, image_size, batch_size, shuffle, seed, validation_split, subset
    )
    prepare = lambda x, y: (_to_unit_float(x), y)  # noqa: E731
    if isinstance(data, list):
        return tuple(part.map(prepare) for part in data)
    return data.map(prepare)


def load_celeba_arrays(attributes=(), data_dir=None, image_size=64, limit=None):
    """Первые ``limit`` изображений набора (все, если ``None``) в памяти и их метки.

    Возвращает ``(images, labels)``: ``images`` — uint8 ``(n, size, size, 3)`` в порядке
    файлов (4 байта на пиксель меньше, чем float32), ``labels`` — ``pandas.DataFrame`` с
    ``image_id`` и столбцами ``attributes`` в 0/1. Так набор декодируется из JPEG один раз,
    а не каждую эпоху обучения.
    """
    import keras

    table = read_attributes(data_dir) if attributes else None
    for name in attributes:
        _check_label(name, [c for c in table.columns if c != "image_id"])
    image_dir = celeba_image_dir(data_dir)
    n_files = len(image_files(image_dir))
    count = n_files if limit is None else min(int(limit), n_files)
    data = _image_dataset(image_dir, None, image_size, 256, False, None, None, None)
    chunks, seen = [], 0
    for batch in data:
        chunks.append(np.clip(np.round(keras.ops.convert_to_numpy(batch)), 0, 255).astype("uint8"))
        seen += len(chunks[-1])
        if seen >= count:
            break
    images = np.concatenate(chunks)[:count]
    if table is None:
        return images, None
    labels = table[["image_id", *attributes]].iloc[:count].copy()
    labels[list(attributes)] = (labels[list(attributes)] > 0).astype("int32")
    return images, labels.reset_index(drop=True)


def memory_batches(images, batch_size=128, seed=42, autotune=False):
    """Пакеты для ``fit`` из массива uint8 в памяти: ``tf.data.Dataset`` float32 0..1.

    Порядок изображений каждую эпоху новый (перемешивается весь массив, ``seed`` делает
    порядок воспроизводимым), в 0..1 пакет переводится прямо перед шагом, следующий пакет
    готовится, пока идёт шаг (``prefetch``).

    Автонастройка tf.data выключена. Её поток просыпается через 10 мс, 20 мс, 40 мс… (период
    удваивается до минуты), а итератор, которому ``fit`` в конце эпохи уступает место новому,
    иногда ждёт его следующего пробуждения: при занятом процессоре эпоха, посчитанная за
    45 с, длится 81,9 с (``docs/faces_runs.md``). Подстраивать здесь нечего: буфер
    ``prefetch`` и перевод в 0..1 заданы явно. ``autotune=True`` — прежний конвейер, с
    автонастройкой (только для замеров: ``tools/faces_speed.py``, ``make bench``).
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = autotune
    return (
        tf.data.Dataset.from_tensor_slices(images)
        .shuffle(len(images), seed=seed)
        .batch(batch_size)
        .map(_to_unit_float)
        .prefetch(2)
        .with_options(options)
    )
