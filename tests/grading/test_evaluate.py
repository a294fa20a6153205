"""Чистый процесс проверки модели (``course_utils.checks.evaluate``) без песочницы: быстро."""

from __future__ import annotations

import json

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from keras import layers  # noqa: E402

from course_utils.checks import evaluate  # noqa: E402


class TinySampling(layers.Layer):
    """Свой слой выборки, как в лекции: Keras в чистом процессе его не знает."""

    def call(self, inputs):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(keras.ops.shape(z_mean))
        return z_mean + keras.ops.exp(0.5 * z_log_var) * eps


def _save_models(folder, encoder_extra=None):
    image = keras.Input(shape=(32, 32, 3))
    x = layers.Flatten()(image)
    if encoder_extra is not None:
        x = encoder_extra(x)
    z_mean, z_log_var = layers.Dense(4)(x), layers.Dense(4)(x)
    encoder = keras.Model(image, [z_mean, z_log_var, TinySampling()([z_mean, z_log_var])])
    point = keras.Input(shape=(4,))
    decoded = layers.Reshape((32, 32, 3))(layers.Dense(3072, activation="sigmoid")(point))
    decoder = keras.Model(point, decoded)
    encoder.save(folder / "encoder.keras")
    decoder.save(folder / "decoder.keras")
    rng = np.random.default_rng(0)
    np.savez(
        folder / "questions.npz",
        heldout=rng.random((6, 32, 32, 3), dtype=np.float32),
        pair=rng.random((2, 32, 32, 3), dtype=np.float32),
        frames=np.int64(8),
    )
    return encoder, decoder


def test_untrained_model_is_loaded_answers_and_is_marked_untrained(tmp_path):
    _save_models(tmp_path)
    evaluate.main([str(tmp_path)])
    report = json.loads((tmp_path / "out" / "evaluation.json").read_text())
    assert report == {"loaded": True, "substituted": ["TinySampling"], "trained": False}
    with np.load(tmp_path / "out" / "evaluation.npz") as answers:
        assert answers["reconstructions"].shape == (6, 32, 32, 3)
        assert answers["line_frames"].shape == (8, 32, 32, 3)
        assert answers["z_mean"].shape == (6, 4) and answers["kl"].shape == (6,)


def test_changed_weights_count_as_trained(tmp_path):
    encoder, decoder = _save_models(tmp_path)
    for name, model in (("encoder", encoder), ("decoder", decoder)):
        for weight in model.weights:
            if weight.path.endswith("bias"):
                weight.assign(np.full(weight.shape, 0.1, "float32"))
        model.save(tmp_path / f"{name}.keras")
    evaluate.main([str(tmp_path)])
    assert json.loads((tmp_path / "out" / "evaluation.json").read_text())["trained"] is True


def test_lambda_layer_is_refused_by_safe_mode(tmp_path):
    _save_models(tmp_path, encoder_extra=layers.Lambda(lambda t: t * 1.0))
    evaluate.main([str(tmp_path)])
    report = json.loads((tmp_path / "out" / "evaluation.json").read_text())
    assert "error" in report and "loaded" not in report
