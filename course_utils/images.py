"""Изображения в курсе: одно преобразование в numpy, одно правило диапазона, одна сетка.

* :func:`to_numpy` — массив numpy из тензора любого бэкенда Keras (и из пакета tf.data);
* :func:`to_unit_range` — значения к 0..1 по одному правилу для всего курса;
* :func:`show_grid` — сетка картинок; серые рисуются палитрой :data:`GRAY_CMAP`
  (как в лекции: 0 — белый, 1 — чёрный), цветные — как есть.

Этим пользуются ``display`` (:mod:`course_utils.utils`), помощники скрытого пространства
(:mod:`course_utils.vae_utils`) и исследователь (:mod:`course_utils.explorer`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["GRAY_CMAP", "to_numpy", "to_unit_range", "show_grid"]

#: Палитра серых изображений во всём курсе (как ``display`` лекции): 0 — белый, 1 — чёрный.
GRAY_CMAP = "gray_r"


def to_numpy(x) -> np.ndarray:
    """numpy-массив из массива, списка, числа или тензора любого бэкенда Keras."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, (list, tuple, int, float)):
        return np.asarray(x)
    if type(x).__module__.startswith("tensorflow"):
        return np.asarray(x.numpy())  # пакеты tf.data при любом бэкенде Keras
    import keras

    return np.asarray(keras.ops.convert_to_numpy(x))


def to_unit_range(images) -> np.ndarray:
    """Значения изображений к 0..1 (``float32``) по одному правилу для всего курса.

    * максимум больше 1 — это 0..255: делим на 255;
    * иначе, если минимум меньше 0 — это -1..1: берём ``(x + 1) / 2``;
    * иначе (0..1) — значения не меняются.

    Выходящее за 0..1 после этого обрезается.
    """
    images = to_numpy(images).astype("float32")
    if images.size and images.max() > 1.0:
        images = images / 255.0
    elif images.size and images.min() < 0.0:
        images = (images + 1.0) / 2.0
    return np.clip(images, 0.0, 1.0)


def show_grid(
    rows, titles=None, row_labels=None, cell_size=1.4, figsize=None, cmap=GRAY_CMAP, save_to=None
):
    """Рисует сетку ``rows`` формы ``(строки, столбцы, h, w[, c])`` и показывает её.

    Значения приводятся к 0..1 правилом :func:`to_unit_range`; серые изображения
    (``c`` = 1 или без оси канала) рисуются с ``vmin=0, vmax=1`` палитрой ``cmap``.
    ``titles`` — подписи столбцов (над первой строкой), ``row_labels`` — подписи строк.
    ``figsize`` по умолчанию — ``cell_size`` дюймов на картинку. ``save_to`` — файл, куда
    сохранить рисунок (папки создаются). Возвращает ``matplotlib.figure.Figure``; повторно
    Jupyter его не выводит.
    """
    import matplotlib.pyplot as plt

    rows = to_unit_range(rows)
    if rows.ndim == 5 and rows.shape[-1] == 1:
        rows = rows[..., 0]
    n_rows, n_cols = rows.shape[:2]
    if figsize is None:
        figsize = (n_cols * cell_size, n_rows * cell_size + (0.3 if titles is not None else 0))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=figsize, squeeze=False)
    for r in range(n_rows):
        for c in range(n_cols):
            ax, image = axes[r, c], rows[r, c]
            ax.imshow(image, cmap=cmap if image.ndim == 2 else None, vmin=0, vmax=1)
            if row_labels is None:
                ax.axis("off")
            else:  # подпись строки — это ylabel: оси остаются, деления убираются
                ax.set_xticks([])
                ax.set_yticks([])
            if r == 0 and titles is not None:
                ax.set_title(titles[c], fontsize=9)
        if row_labels is not None:
            axes[r, 0].set_ylabel(row_labels[r], fontsize=9)
    if titles is not None or row_labels is not None:
        fig.tight_layout()
    if save_to is not None:
        save_to = Path(save_to)
        save_to.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(save_to, bbox_inches="tight")
    plt.show()
    # Рисунок уже показан: убираем его из pyplot (иначе копятся открытые рисунки)
    # и не даём Jupyter вывести возвращённый объект второй раз.
    plt.close(fig)
    fig._ipython_display_ = _already_shown
    return fig


def _already_shown():
    return None
