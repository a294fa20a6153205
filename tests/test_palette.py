"""Цвета классов: легенда на каждой диаграмме рассеяния классов, понятные ошибки."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from course_utils.palette import CLASS_COLORS, FASHION_MNIST_CLASSES_RU, class_scatter  # noqa: E402


def test_points_get_their_class_colour_and_legend_names_every_class():
    labels = np.array([3, 0, 9, 3])
    points = np.arange(8, dtype="float32").reshape(4, 2)
    fig, ax = plt.subplots()
    class_scatter(ax, points, labels)
    drawn = [to_hex(c, keep_alpha=False) for c in ax.collections[0].get_facecolors()]
    assert drawn == [CLASS_COLORS[k].lower() for k in labels]
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == list(FASHION_MNIST_CLASSES_RU)
    assert [to_hex(h.get_color()) for h in legend.legend_handles] == [
        c.lower() for c in CLASS_COLORS
    ]
    plt.close(fig)


def test_colours_are_distinct_and_legend_can_be_left_out():
    assert len(set(CLASS_COLORS)) == len(CLASS_COLORS) == 10
    fig, ax = plt.subplots()
    class_scatter(ax, np.zeros((2, 2)), [0, 1], legend=False)
    assert ax.get_legend() is None
    plt.close(fig)


def test_labels_outside_the_class_list_are_rejected_in_russian():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="метки должны быть от 0 до 9"):
        class_scatter(ax, np.zeros((1, 2)), [10])
    with pytest.raises(ValueError, match="цветов 10, а классов 11"):
        class_scatter(ax, np.zeros((1, 2)), [0], class_names=[str(i) for i in range(11)])
    plt.close(fig)


def test_explorer_scatter_uses_the_class_colours_with_a_legend(monkeypatch):
    import keras

    from course_utils.explorer import latent_explorer

    inputs = keras.Input(shape=(2,))
    decoder = keras.Model(inputs, keras.layers.Reshape((2, 2, 1))(keras.layers.Dense(4)(inputs)))
    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.gcf()))
    labels = np.arange(20) % 10
    latent_explorer(decoder, embeddings=np.zeros((20, 2)), labels=labels)
    space = shown[0].axes[0]
    drawn = [to_hex(c, keep_alpha=False) for c in space.collections[0].get_facecolors()]
    assert drawn == [CLASS_COLORS[k].lower() for k in labels]
    assert [t.get_text() for t in space.get_legend().get_texts()] == list(FASHION_MNIST_CLASSES_RU)
