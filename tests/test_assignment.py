"""Тесты course_utils.assignment: классы CIFAR-10 по номеру студенческого билета."""

import pandas as pd
import pytest

from course_utils.assignment import (
    CIFAR10_CLASSES_EN,
    CIFAR10_CLASSES_RU,
    classes_from_student_id,
    classes_table,
    print_classes,
)

pytestmark = pytest.mark.backend_free  # не зависит от KERAS_BACKEND: только под TensorFlow


def test_lecture_example():
    assert classes_from_student_id("1032259319") == [1, 3, 5, 9]


def test_int_and_string_agree_without_leading_zeros():
    assert classes_from_student_id(1032259319) == classes_from_student_id("1032259319")


def test_surrounding_spaces_are_ignored():
    assert classes_from_student_id("  1032259319\n") == [1, 3, 5, 9]


def test_result_is_sorted_list_of_ints():
    result = classes_from_student_id("9876")
    assert result == [6, 7, 8, 9]
    assert all(type(c) is int for c in result)


def test_digits_are_read_from_the_end():
    # Разных цифр больше четырёх: берутся четыре последние разные (7, 6, 5, 4),
    # а не первые (1, 2, 3, 4).
    assert classes_from_student_id("1234567") == [4, 5, 6, 7]


def test_repeated_digits_are_skipped():
    # С конца: 2, 2, 1, 1, 0, 0, 9 -> первые разные 2, 1, 0, 9.
    assert classes_from_student_id("559001122") == [0, 1, 2, 9]
    assert classes_from_student_id("3333444455556666777") == [4, 5, 6, 7]


def test_leading_zeros_count_in_a_string():
    # С конца: 3, 2, 2, 2, 1, 1, 1, 0 -> 0 — четвёртая разная цифра.
    assert classes_from_student_id("01112223") == [0, 1, 2, 3]


def test_int_loses_leading_zeros():
    # Тот же номер целым числом: 01112223 == 1112223, нуля больше нет.
    with pytest.raises(ValueError, match="только 3 разных"):
        classes_from_student_id(1112223)


def test_zero_is_a_valid_class():
    assert classes_from_student_id("0123") == [0, 1, 2, 3]


@pytest.mark.parametrize("empty", ["", "   ", "\t\n"])
def test_empty_id(empty):
    with pytest.raises(ValueError, match="пуст"):
        classes_from_student_id(empty)


@pytest.mark.parametrize(
    ("bad", "char"),
    [
        ("12-34-56", "'-'"),
        ("12 3456", "' '"),
        ("AB123456", "'A'"),
        ("123456.0", "'.'"),
        ("١٢٣٤٥", "'١'"),  # арабско-индийские цифры: isdigit() их пропустил бы
    ],
)
def test_non_digit_characters(bad, char):
    with pytest.raises(ValueError, match="только из цифр") as info:
        classes_from_student_id(bad)
    assert char in str(info.value)


def test_negative_int_is_rejected():
    with pytest.raises(ValueError, match="только из цифр"):
        classes_from_student_id(-1032259319)


@pytest.mark.parametrize(
    ("student_id", "count"),
    [("7", 1), ("777777", 1), ("1212121", 2), ("1231231", 3)],
)
def test_fewer_than_four_distinct_digits(student_id, count):
    with pytest.raises(ValueError, match=f"только {count} разных"):
        classes_from_student_id(student_id)


@pytest.mark.parametrize("bad", [None, 1.5, ["1", "2"], True])
def test_wrong_type(bad):
    with pytest.raises(TypeError, match="строкой"):
        classes_from_student_id(bad)


def test_class_names():
    assert len(CIFAR10_CLASSES_EN) == len(CIFAR10_CLASSES_RU) == 10
    assert CIFAR10_CLASSES_EN[3] == "cat"
    assert CIFAR10_CLASSES_RU[3] == "кошка"
    assert len(set(CIFAR10_CLASSES_RU)) == 10


def test_classes_table():
    table = classes_table([1, 3, 5, 9])
    assert isinstance(table, pd.DataFrame)
    assert table["метка"].tolist() == [1, 3, 5, 9]
    assert table["класс"].tolist() == ["автомобиль", "кошка", "собака", "грузовик"]
    assert table["class"].tolist() == ["automobile", "cat", "dog", "truck"]


def test_classes_table_rejects_unknown_label():
    with pytest.raises(ValueError, match="от 0 до 9"):
        classes_table([1, 10])


def test_print_classes(capsys):
    print_classes([0, 8])
    out = capsys.readouterr().out
    assert "самолёт" in out and "airplane" in out
    assert "корабль" in out and "ship" in out
