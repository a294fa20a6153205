"""Небольшие помощники ноутбуков: взять пакет изображений и показать их в ряд."""

from __future__ import annotations

import sys

import numpy as np

from course_utils.images import GRAY_CMAP, show_grid, to_numpy, to_unit_range

#: Размер пакета по умолчанию, когда :func:`sample_batch` режет массив.
DEFAULT_BATCH_SIZE = 32


def sample_batch(data, batch_size=None):
    """Возвращает один пакет изображений как numpy-массив.

    ``data`` может быть:

    * ``tf.data.Dataset``, уже разбитым на пакеты (``.batch(...)``): берётся его
      первый пакет; если элемент — пара ``(x, y)``, метки ``y`` отбрасываются;
    * массивом numpy или тензором бэкенда Keras: берутся первые ``batch_size``
      примеров (по умолчанию 32);
    * парой ``(x, y)`` из массивов: берутся первые примеры ``x``.

    ``batch_size`` для ``tf.data.Dataset`` необязателен: если задан, пакет
    укорачивается до ``batch_size`` примеров. Примеры не перемешиваются: для
    случайной выборки перемешайте данные заранее.
    """
    if batch_size is not None and (
        not isinstance(batch_size, (int, np.integer))
        or isinstance(batch_size, bool)
        or batch_size < 1
    ):
        raise ValueError(f"batch_size должен быть целым числом >= 1, получено {batch_size!r}.")
    if _is_tf_dataset(data):
        element = next(iter(data.take(1)), None)
        if element is None:
            raise ValueError("sample_batch: набор данных пуст, пакет взять неоткуда.")
        if isinstance(element, (tuple, list)):
            element = element[0]
        batch = to_numpy(element)
        if batch.ndim == 0:
            raise ValueError("sample_batch: элемент набора — скаляр, а не пакет примеров.")
        return batch if batch_size is None else batch[:batch_size]
    if isinstance(data, tuple):
        if not data:
            raise ValueError("sample_batch: получен пустой кортеж.")
        data = data[0]
    array = to_numpy(data)
    if array.ndim == 0:
        raise ValueError("sample_batch ожидает массив примеров, а получен скаляр.")
    if len(array) == 0:
        raise ValueError("sample_batch: массив пуст, пакет взять неоткуда.")
    return array[: batch_size or DEFAULT_BATCH_SIZE]


def display(images, n=10, size=(20, 3), cmap=GRAY_CMAP, as_type="float32", save_to=None):
    """Показывает ПЕРВЫЕ ``n`` изображений в один ряд (не случайные).

    ``images`` — массив numpy или тензор бэкенда Keras формы ``(k, h, w)``,
    ``(k, h, w, 1)`` (оттенки серого) или ``(k, h, w, 3)`` (RGB; 4 — RGBA). Если
    изображений меньше ``n``, показываются все, что есть.

    Диапазон значений приводится к 0..1 правилом
    :func:`course_utils.images.to_unit_range` (проверяются показываемые изображения):
    максимум больше 1 — это 0..255, иначе минимум меньше 0 — это -1..1, иначе 0..1;
    выходящее за 0..1 обрезается. Оттенки серого рисуются с
    ``vmin=0, vmax=1`` (без автоматического растягивания контраста) в палитре
    ``cmap`` (по умолчанию ``"gray_r"``: 0 — белый, 1 — чёрный); для RGB ``cmap``
    не используется. ``as_type`` — тип, в который переводятся значения 0..1 перед
    рисованием. ``size`` — размер рисунка в дюймах.

    ``save_to`` — путь к файлу (png, pdf, ...), куда сохранить рисунок; недостающие
    папки создаются, существующий файл по этому пути перезаписывается.

    Рисунок показывается сразу (``plt.show()``) и возвращается как
    ``matplotlib.figure.Figure`` (например, для ``fig.savefig``). Повторно в
    ноутбуке он не выводится, даже если вызов стоит последней строкой ячейки.
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n должно быть целым числом >= 1, получено {n!r}.")
    images = to_numpy(images)
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] not in (1, 3, 4)):
        raise ValueError(
            "display ожидает пакет изображений формы (k, h, w), (k, h, w, 1) или (k, h, w, 3), "
            f"получена форма {images.shape}. Одно изображение передайте как images[None]."
        )
    if len(images) == 0:
        raise ValueError("display: изображений нет (пустой массив).")
    images = to_unit_range(images[:n]).astype(as_type)
    return show_grid(images[None], figsize=size, cmap=cmap, save_to=save_to)


def _is_tf_dataset(data):
    tf = sys.modules.get("tensorflow")  # не импортируем TensorFlow ради проверки
    return tf is not None and isinstance(data, tf.data.Dataset)


def count_ru(n: int, one: str, few: str, many: str) -> str:
    """Число со словом в нужной форме и с русским разделителем тысяч (неразрывный пробел):
    ``count_ru(43, "шаг", "шага", "шагов")`` -> «43 шага», ``count_ru(3440, ...)`` ->
    «3 440 шагов»."""
    n = int(n)
    last_two, last = abs(n) % 100, abs(n) % 10
    if last == 1 and last_two != 11:
        word = one
    elif 2 <= last <= 4 and not 12 <= last_two <= 14:
        word = few
    else:
        word = many
    return f"{n:,}".replace(",", "\u00a0") + f" {word}"
