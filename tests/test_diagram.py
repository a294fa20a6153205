"""Схема VAE строится по самим моделям: слои, связи и формы берутся из Keras."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from keras import layers, models  # noqa: E402

from course_utils import diagram, vae  # noqa: E402


def test_layer_graph_reads_branches_from_the_model():
    encoder = vae.build_fashion_encoder()
    # Keras нумерует имена слоёв в процессе (flatten, flatten_1, ...): имя берём у модели.
    flatten = next(layer.name for layer in encoder.layers if isinstance(layer, layers.Flatten))
    graph = {
        name: (kind, shape, inputs) for name, kind, shape, inputs in diagram.layer_graph(encoder)
    }
    assert graph["z_mean"] == ("Dense", (2,), [flatten])
    assert graph["z_log_var"][2] == [flatten]
    assert graph["sampling"] == ("Sampling", (2,), ["z_mean", "z_log_var"])
    assert graph["encoder_input"] == ("InputLayer", (32, 32, 1), [])


def _texts(fig):
    return [t.get_text() for t in fig.axes[0].texts]


def test_draw_vae_draws_every_layer_with_its_shape():
    encoder, decoder = vae.build_fashion_encoder(), vae.build_fashion_decoder()
    fig = diagram.draw_vae(encoder, decoder)
    boxes = [p for p in fig.axes[0].patches if type(p).__name__ == "FancyBboxPatch"]
    assert len(boxes) == len(encoder.layers) + len(decoder.layers) - 1  # вход декодера = z
    texts = _texts(fig)
    for shape in ("32×32×1", "16×16×32", "4×4×128", "2048", "32×32×32"):
        assert shape in texts
    assert {"z_mean", "z_log_var", "z (Sampling)", "кодировщик", "декодер"} <= set(texts)
    plt.close(fig)


def test_draw_vae_follows_the_architecture():
    encoder = vae.build_fashion_encoder(embedding_dim=3)
    inputs = layers.Input(shape=(3,))
    decoder = models.Model(inputs, layers.Dense(7)(inputs))
    fig = diagram.draw_vae(encoder, decoder)
    texts = _texts(fig)
    assert texts.count("3") == 3 and "7" in texts  # z_mean, z_log_var, z и выход Dense(7)
    assert "Conv2DTranspose" not in texts
    plt.close(fig)
