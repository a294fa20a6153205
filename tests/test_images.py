"""course_utils.images: одно преобразование в numpy, одно правило диапазона, одна сетка."""

import keras
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_utils import images
from course_utils.images import GRAY_CMAP, show_grid, to_numpy, to_unit_range
from course_utils.utils import display
from course_utils.vae_utils import morph_faces

matplotlib.use("Agg")


def test_to_numpy_from_backend_tensor_list_and_array():
    array = np.arange(6, dtype="float32").reshape(2, 3)
    assert to_numpy(array) is array
    np.testing.assert_array_equal(to_numpy(keras.ops.convert_to_tensor(array)), array)
    np.testing.assert_array_equal(to_numpy([[0, 1, 2], [3, 4, 5]]), array)


@pytest.mark.parametrize(
    "values, expected",
    [
        (np.array([0, 51, 255], dtype="uint8"), [0.0, 0.2, 1.0]),  # 0..255
        (np.array([-1.0, 0.0, 0.5]), [0.0, 0.5, 0.75]),  # -1..1
        (np.array([0.0, 0.25, 1.0]), [0.0, 0.25, 1.0]),  # 0..1 как есть
        (np.array([-1.2, 0.0, 1.0]), [0.0, 0.5, 1.0]),  # -1..1 с выбросом: обрезка
    ],
)
def test_to_unit_range_rule(values, expected):
    result = to_unit_range(values)
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, expected, atol=1e-6)


@pytest.fixture
def shown(monkeypatch):
    """Рисунки, которые показал plt.show() (вместо вывода на экран)."""
    figures = []
    monkeypatch.setattr(plt, "show", lambda: figures.append(plt.gcf()))
    return figures


def test_grid_draws_gray_with_the_course_palette_and_fixed_range(shown, tmp_path):
    rows = np.zeros((2, 3, 4, 4, 1), "float32")
    rows[0, 0] = 0.5
    fig = show_grid(rows, titles=["a", "b", "c"], save_to=tmp_path / "sub" / "grid.png")
    assert shown == [fig] and len(fig.axes) == 6
    image = fig.axes[0].images[0]
    assert image.get_cmap().name == GRAY_CMAP == "gray_r"
    assert image.get_clim() == (0, 1)
    assert [ax.get_title() for ax in fig.axes[:3]] == ["a", "b", "c"]
    assert (tmp_path / "sub" / "grid.png").read_bytes().startswith(b"\x89PNG")


def test_display_and_morph_faces_use_one_colour_convention(shown):
    """Раньше display рисовал серые картинки gray_r, а морфинг — gray (инверсия)."""

    class Identity:
        decoder = staticmethod(lambda z, training=False: np.reshape(z, (-1, 2, 2, 1)))

        @staticmethod
        def encoder(x, training=False):
            z = np.asarray(x, "float32").reshape(len(x), -1)
            return z, z, z

    data = np.random.default_rng(0).random((2, 2, 2, 1)).astype("float32")
    display(data)
    morph_faces(data, Identity(), n_steps=3)
    cmaps = {ax.images[0].get_cmap().name for fig in shown for ax in fig.axes}
    assert cmaps == {GRAY_CMAP}


def test_rgb_ignores_the_palette(shown):
    fig = show_grid(np.ones((1, 2, 3, 3, 3), "uint8") * 255)
    np.testing.assert_allclose(fig.axes[0].images[0].get_array(), 1.0)


def test_module_is_the_only_conversion():
    """vae_utils, utils и explorer пользуются to_numpy отсюда, а не своими копиями."""
    from course_utils import explorer, utils, vae_utils

    for module in (utils, vae_utils):
        assert module.to_numpy is images.to_numpy
        assert not hasattr(module, "_to_numpy")
    assert explorer.decode_line is vae_utils.decode_line
