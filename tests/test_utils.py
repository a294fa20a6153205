"""sample_batch и display: источники данных, правила диапазона, формы, ошибки."""

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest
import tensorflow as tf
from IPython.core.formatters import DisplayFormatter
from matplotlib.figure import Figure

from course_utils.utils import DEFAULT_BATCH_SIZE, display, sample_batch


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(40, 8, 8, 1), dtype=np.uint8)


# --------------------------------------------------------------------------- sample_batch


def test_sample_batch_dataset_of_pairs_drops_labels(images):
    labels = np.arange(len(images))
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(16)
    batch = sample_batch(dataset)
    assert isinstance(batch, np.ndarray)
    np.testing.assert_array_equal(batch, images[:16])


def test_sample_batch_dataset_of_images_and_batch_size(images):
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(16)
    np.testing.assert_array_equal(sample_batch(dataset), images[:16])
    np.testing.assert_array_equal(sample_batch(dataset, batch_size=5), images[:5])


def test_sample_batch_arrays_tuples_and_tensors(images):
    np.testing.assert_array_equal(sample_batch(images, batch_size=7), images[:7])
    assert len(sample_batch(images)) == DEFAULT_BATCH_SIZE
    np.testing.assert_array_equal(sample_batch((images, np.zeros(40)), 3), images[:3])
    batch = sample_batch(keras.ops.convert_to_tensor(images), batch_size=4)
    assert isinstance(batch, np.ndarray)
    np.testing.assert_array_equal(batch, images[:4])
    # Меньше примеров, чем batch_size, — все, что есть.
    assert len(sample_batch(images[:3], batch_size=10)) == 3


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: tf.data.Dataset.from_tensor_slices(np.zeros((0, 2, 2))).batch(4), "пуст"),
        (lambda: np.zeros((0, 8, 8)), "пуст"),
        (lambda: np.float32(3.0), "скаляр"),
    ],
)
def test_sample_batch_rejects_empty(make, message):
    with pytest.raises(ValueError, match=message):
        sample_batch(make())


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, True])
def test_sample_batch_rejects_bad_batch_size(images, batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        sample_batch(images, batch_size=batch_size)


# --------------------------------------------------------------------------- display


def shown(fig):
    """Массивы, которые реально отданы imshow, по порядку осей."""
    return [np.asarray(ax.images[0].get_array()) for ax in fig.axes]


def test_display_shows_first_n_images_and_returns_figure(images):
    figures_before = plt.get_fignums()
    fig = display(images, n=6)
    assert isinstance(fig, Figure)
    arrays = shown(fig)
    assert len(arrays) == 6
    for i, array in enumerate(arrays):
        np.testing.assert_allclose(array, images[i, ..., 0] / 255.0, rtol=1e-6)
    # Не остаётся открытых рисунков pyplot (лишней пустой картинки в ноутбуке).
    assert plt.get_fignums() == figures_before


def test_display_returned_figure_is_not_shown_twice_in_jupyter(images):
    fig = display(images, n=2)
    assert DisplayFormatter().format(fig) == ({}, {})


def test_display_fewer_images_than_n(images):
    fig = display(images[:3], n=10)
    assert len(fig.axes) == 3


@pytest.mark.parametrize(
    "values, expected",
    [
        (np.array([0, 51, 255], np.uint8), np.array([0.0, 0.2, 1.0])),  # max > 1: /255
        (np.array([0.0, 127.5, 255.0]), np.array([0.0, 0.5, 1.0])),  # float 0..255 тоже
        (np.array([-1.0, 0.0, 1.0]), np.array([0.0, 0.5, 1.0])),  # min < 0: (x + 1) / 2
        (np.array([0.0, 0.25, 0.5]), np.array([0.0, 0.25, 0.5])),  # 0..1: как есть
    ],
    ids=["uint8-0..255", "float-0..255", "-1..1", "0..1"],
)
def test_display_value_range_rules(values, expected):
    imgs = np.broadcast_to(values, (2, 3, 3)).copy()
    fig = display(imgs, n=2)
    for array in shown(fig):
        np.testing.assert_allclose(array, np.broadcast_to(expected, (3, 3)), atol=1e-6)


def test_display_grayscale_uses_fixed_range_and_cmap():
    imgs = np.full((2, 4, 4, 1), 0.25, np.float32)  # тусклое: контраст не растягивается
    fig = display(imgs, cmap="gray_r")
    image = fig.axes[0].images[0]
    assert image.get_array().shape == (4, 4)
    assert image.get_clim() == (0.0, 1.0)
    assert image.get_cmap().name == "gray_r"


def test_display_rgb_and_backend_tensor():
    rng = np.random.default_rng(1)
    imgs = rng.uniform(-1.0, 1.0, size=(3, 5, 5, 3)).astype("float32")
    fig = display(keras.ops.convert_to_tensor(imgs), cmap=None)
    arrays = shown(fig)
    assert len(arrays) == 3 and arrays[0].shape == (5, 5, 3)
    np.testing.assert_allclose(arrays[2], (imgs[2] + 1.0) / 2.0, atol=1e-6)


def test_display_saves_and_creates_folders(tmp_path, images):
    target = tmp_path / "new" / "folder" / "grid.png"
    fig = display(images, n=3, save_to=target)
    assert isinstance(fig, Figure)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((8, 8)), "форма"),
        (np.zeros((2, 8, 8, 2)), "форма"),
        (np.zeros((1, 2, 8, 8, 1)), "форма"),
        (np.zeros((0, 8, 8)), "изображений нет"),
    ],
)
def test_display_rejects_bad_shapes(bad, message):
    with pytest.raises(ValueError, match=message):
        display(bad)


@pytest.mark.parametrize("n", [0, -1, 2.0])
def test_display_rejects_bad_n(images, n):
    with pytest.raises(ValueError, match="n должно быть"):
        display(images, n=n)


# Формы слова «шаг» для чисел, выписанные по словарю, а не по правилу в коде.
STEPS = {
    0: "шагов",
    1: "шаг",
    2: "шага",
    4: "шага",
    5: "шагов",
    11: "шагов",
    12: "шагов",
    14: "шагов",
    21: "шаг",
    22: "шага",
    43: "шага",
    80: "шагов",
    101: "шаг",
    111: "шагов",
    112: "шагов",
    122: "шага",
    1000: "шагов",
    3441: "шаг",
}


@pytest.mark.parametrize(("n", "word"), sorted(STEPS.items()))
def test_count_ru_agrees_with_the_dictionary(n, word):
    from course_utils.utils import count_ru

    text = count_ru(n, "шаг", "шага", "шагов")
    assert text.endswith(f" {word}")
    assert text.split(" ")[0].replace("\u00a0", "") == str(n)


def test_count_ru_separates_thousands_russian_style():
    from course_utils.utils import count_ru

    assert count_ru(3440, "шаг", "шага", "шагов") == "3\u00a0440 шагов"
    assert count_ru(253584, "параметр", "параметра", "параметров") == "253\u00a0584 параметра"
