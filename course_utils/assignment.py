"""Задание по теме №2: классы CIFAR-10 по номеру студенческого билета.

Правило задания: читаем цифры номера с конца и берём первые четыре *разные*.
Для номера ``1032259319`` это 9, 1, 3, 5, то есть классы 1, 3, 5, 9.

Номер лучше передавать строкой: целое число теряет ведущие нули
(``int("0012345")`` — это ``12345``), а для этого правила нули в начале номера
могут быть важны, если остальных разных цифр не хватает.
"""

from __future__ import annotations

import pandas as pd

#: Названия классов CIFAR-10 по-английски (индекс = метка класса).
CIFAR10_CLASSES_EN: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

#: Названия классов CIFAR-10 по-русски (индекс = метка класса).
CIFAR10_CLASSES_RU: tuple[str, ...] = (
    "самолёт",
    "автомобиль",
    "птица",
    "кошка",
    "олень",
    "собака",
    "лягушка",
    "лошадь",
    "корабль",
    "грузовик",
)

#: Сколько разных классов оставляет задание.
NUM_CLASSES = 4

_DIGITS = "0123456789"


def classes_from_student_id(student_id: str | int) -> list[int]:
    """Возвращает четыре метки классов CIFAR-10 по номеру студенческого билета.

    Цифры номера читаются с конца; берутся первые четыре разные цифры,
    результат отсортирован по возрастанию. Пробелы вокруг номера игнорируются.

    Номер можно передать строкой или целым числом. Целое число теряет ведущие
    нули (``0012345`` превращается в ``12345``), поэтому, если номер начинается
    с нуля, передавайте его строкой.

    >>> classes_from_student_id("1032259319")
    [1, 3, 5, 9]

    Raises:
        TypeError: номер не строка и не целое число.
        ValueError: номер пуст, содержит что-то кроме цифр или в нём меньше
            четырёх разных цифр.
    """
    if isinstance(student_id, bool) or not isinstance(student_id, (str, int)):
        raise TypeError(
            'Номер студенческого билета должен быть строкой (например, "1032259319") '
            f"или целым числом, а получено значение типа {type(student_id).__name__}."
        )
    text = str(student_id).strip()
    if not text:
        raise ValueError(
            "Номер студенческого билета пуст. Впишите свой номер строкой, "
            'например STUDENT_ID = "1032259319".'
        )
    bad = sorted({ch for ch in text if ch not in _DIGITS})
    if bad:
        shown = ", ".join(repr(ch) for ch in bad)
        raise ValueError(
            f"Номер студенческого билета {text!r} должен состоять только из цифр 0-9, "
            f"а в нём есть другие символы: {shown}. Уберите их (пробелы, дефисы, буквы)."
        )

    found: list[int] = []
    for ch in reversed(text):
        digit = int(ch)
        if digit not in found:
            found.append(digit)
            if len(found) == NUM_CLASSES:
                return sorted(found)

    raise ValueError(
        f"В номере {text!r} только {len(found)} разных цифр(ы) "
        f"({', '.join(map(str, sorted(found)))}), а для задания нужно {NUM_CLASSES}. "
        "Проверьте номер; если он записан целым числом и начинается с нуля, "
        "запишите его строкой, чтобы не потерять ведущие нули."
    )


def _check_labels(classes) -> list[int]:
    labels = [int(c) for c in classes]
    wrong = [c for c in labels if not 0 <= c < len(CIFAR10_CLASSES_EN)]
    if wrong:
        raise ValueError(f"Метки классов CIFAR-10 — числа от 0 до 9, а получены: {wrong}.")
    return labels


def classes_table(classes) -> pd.DataFrame:
    """Таблица выбранных классов: метка, название по-русски и по-английски.

    В ноутбуке достаточно сделать её последней строкой ячейки — Jupyter покажет
    её как таблицу.
    """
    labels = _check_labels(classes)
    return pd.DataFrame(
        {
            "метка": labels,
            "класс": [CIFAR10_CLASSES_RU[c] for c in labels],
            "class": [CIFAR10_CLASSES_EN[c] for c in labels],
        }
    )


def print_classes(classes) -> None:
    """Печатает таблицу выбранных классов обычным текстом (без HTML)."""
    print(classes_table(classes).to_string(index=False))
