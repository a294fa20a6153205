"""Числа качества VAE для лиц сверены с независимыми вычислениями."""

import math

import numpy as np
import pytest

from course_utils.face_quality import (
    active_dimensions,
    diversity_ratio,
    kl_per_dimension,
    morph_smoothness,
    psnr,
    reconstruction_psnr,
)

pytestmark = pytest.mark.backend_free  # не зависит от KERAS_BACKEND: только под TensorFlow


def test_psnr_of_a_known_error():
    x = np.zeros((2, 4, 4, 3), "float32")
    assert psnr(x, x + 0.1) == pytest.approx(20.0, abs=1e-4)  # 10 lg(1 / 0.01)
    assert psnr(np.zeros((1, 2, 2, 3), np.uint8), np.full((1, 2, 2, 3), 255, np.uint8)) == 0.0


def test_morph_smoothness_and_diversity():
    even = np.linspace(0, 1, 6)[:, None, None, None] * np.ones((6, 2, 2, 3))
    assert morph_smoothness(even) == pytest.approx(1.0)
    jump = np.array([0, 0.1, 0.2, 0.9, 1.0])[:, None, None, None] * np.ones((5, 2, 2, 3))
    assert morph_smoothness(jump) == pytest.approx(0.7 / 0.25)
    rng = np.random.default_rng(0)
    real = rng.random((50, 4, 4, 3))
    assert diversity_ratio(real * 0.5, real) == pytest.approx(0.5)
    assert diversity_ratio(np.repeat(real[:1], 50, 0), real) == pytest.approx(0.0, abs=1e-5)


class _FixedEncoderVAE:
    """Кодировщик возвращает заданные mu и log sigma^2; декодер возвращает вход как есть."""

    def __init__(self, mu, log_var):
        self.mu, self.log_var = mu, log_var

    def encoder(self, x, training=False):
        n = len(x)
        return self.mu[:n], self.log_var[:n], self.mu[:n]

    def decoder(self, z, training=False):
        return np.full((len(z), 2, 2, 3), 0.5, "float32")


def test_kl_per_dimension_and_active_dimensions():
    mu = np.array([[1.0, 0.0, 0.05], [-1.0, 0.0, -0.05]], "float32")
    log_var = np.array([[math.log(0.25), 0.0, 0.0]] * 2, "float32")
    vae = _FixedEncoderVAE(mu, log_var)
    kl = kl_per_dimension(vae, np.zeros((2, 2, 2, 3), "float32"))
    # KL(N(m, s^2) || N(0, 1)) = (s^2 + m^2 - 1 - ln s^2) / 2
    expected_first = (0.25 + 1.0 - 1 - math.log(0.25)) / 2
    np.testing.assert_allclose(kl, [expected_first, 0.0, 0.05**2 / 2], rtol=1e-5)
    assert active_dimensions(vae, np.zeros((2, 2, 2, 3), "float32")) == 1
    images = np.zeros((2, 2, 2, 3), "float32")
    assert reconstruction_psnr(vae, images) == pytest.approx(10 * math.log10(1 / 0.25), abs=1e-4)
