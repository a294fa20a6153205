"""Tests for course_utils.explorer: sliders drive the decoded image."""

import io

import ipywidgets as widgets
import keras
import matplotlib
import numpy as np
import pytest
from PIL import Image

from course_utils.explorer import IMAGE_CLASS, SLIDER_CLASS, decode_line, latent_explorer, to_png

matplotlib.use("Agg")


def _tiny_decoder(latent_dim=2):
    """A decoder whose image clearly depends on z: Dense -> 8x8x1 with a sigmoid."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(latent_dim,))
    x = keras.layers.Dense(64, activation="sigmoid", kernel_initializer="random_normal")(inputs)
    return keras.Model(inputs, keras.layers.Reshape((8, 8, 1))(x))


def test_moving_a_slider_changes_the_image():
    explorer = latent_explorer(_tiny_decoder(), show_static=False)
    z1, z2 = explorer.sliders
    assert all(isinstance(s, widgets.FloatSlider) for s in (z1, z2))
    assert [s.description for s in (z1, z2)] == ["z₁", "z₂"]
    assert all(SLIDER_CLASS in s._dom_classes for s in (z1, z2))
    assert isinstance(explorer.image, widgets.Image)
    assert IMAGE_CLASS in explorer.image._dom_classes

    before = bytes(explorer.image.value)
    assert before.startswith(b"\x89PNG")
    z1.value = 2.5
    after_z1 = bytes(explorer.image.value)
    assert after_z1 != before
    z2.value = -2.0
    assert bytes(explorer.image.value) != after_z1
    assert explorer.label.value == "z = (2.50, -2.00)"

    # the picture is the decoder's output at the slider point
    expected = to_png(explorer.decode(2.5, -2.0), "gray_r", 160)
    assert bytes(explorer.image.value) == expected


def test_static_figure_is_drawn(monkeypatch):
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr(plt, "show", lambda *a, **k: shown.append(plt.gcf()))
    embeddings = np.random.default_rng(0).normal(size=(50, 2))
    latent_explorer(_tiny_decoder(), embeddings=embeddings, labels=np.arange(50) % 10)
    assert len(shown) == 1


def test_to_png_scales_up_and_applies_the_colour_map():
    image = np.zeros((4, 4, 1), dtype="float32")
    image[0, 0, 0] = 1.0
    decoded = np.asarray(Image.open(io.BytesIO(to_png(image, "gray_r", size=40))))
    assert decoded.shape == (40, 40)
    assert decoded[0, 0] == 0 and decoded[-1, -1] == 255  # gray_r: 1 is black, 0 is white
    plain = np.asarray(Image.open(io.BytesIO(to_png(image, "gray", size=40))))
    assert plain[0, 0] == 255 and plain[-1, -1] == 0


def test_decode_line_includes_both_ends_in_one_batch():
    decoder = _tiny_decoder()
    points, images = decode_line((-1, 2), (3, 0), decoder, n=5)
    np.testing.assert_allclose(points[0], [-1, 2])
    np.testing.assert_allclose(points[-1], [3, 0])
    assert images.shape == (5, 8, 8, 1)


def test_explorer_rejects_a_latent_space_that_is_not_2d():
    with pytest.raises(ValueError, match="двумерн"):
        latent_explorer(_tiny_decoder(latent_dim=3), show_static=False)
