"""Tests for course_utils.vae: the maths of the loss, the sampling layer, training and saving.

Everything goes through keras.ops / numpy, so the file runs under TensorFlow, JAX and PyTorch
(only the autodiff helper below dispatches on the backend).
"""

import math

import keras
import numpy as np
import pytest
from keras import ops
from scipy import stats

from course_utils.vae import (
    VAE,
    Sampling,
    build_face_decoder,
    build_face_encoder,
    build_fashion_decoder,
    build_fashion_encoder,
    kl_divergence,
)

MU = np.array([[0.0, 0.0, 0.0], [1.5, -0.7, 0.3]], dtype="float32")
LOG_VAR = np.array([[0.0, 0.0, 0.0], [-1.2, 0.8, -0.3]], dtype="float32")


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


def _non_trainable(model):
    return sum(math.prod(w.shape) for w in model.non_trainable_weights)


def _fashion_like_batch(n=16, seed=0):
    """A fixed batch that looks a little like Fashion-MNIST: dark background, bright blobs."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:32, 0:32]
    images = np.zeros((n, 32, 32, 1), dtype="float32")
    for i in range(n):
        cy, cx = rng.uniform(10, 22, size=2)
        r = rng.uniform(4, 9)
        images[i, ..., 0] = ((yy - cy) ** 2 + (xx - cx) ** 2 < r**2) * rng.uniform(0.5, 1.0)
    return images


def _numpy_bce(x, p):
    p = np.clip(p, 1e-7, 1 - 1e-7)  # the clipping keras.losses.binary_crossentropy uses
    return -(x * np.log(p) + (1 - x) * np.log(1 - p))


def _numpy_kl(mu, log_var):
    return -0.5 * np.sum(1 + log_var - mu**2 - np.exp(log_var), axis=-1)


# --- KL divergence ------------------------------------------------------------------------


def test_kl_divergence_matches_monte_carlo_estimate():
    closed_form = _np(kl_divergence(ops.convert_to_tensor(MU), ops.convert_to_tensor(LOG_VAR)))
    assert closed_form.shape == (2,)
    assert closed_form[0] == pytest.approx(0.0, abs=1e-6)  # q = p gives zero

    rng = np.random.default_rng(1)
    mu, sigma = MU.astype("float64"), np.exp(0.5 * LOG_VAR.astype("float64"))
    n = 200_000
    z = mu[None] + sigma[None] * rng.standard_normal((n, *mu.shape))
    log_q = stats.norm.logpdf(z, loc=mu, scale=sigma).sum(axis=-1)
    log_p = stats.norm.logpdf(z).sum(axis=-1)
    monte_carlo = (log_q - log_p).mean(axis=0)
    np.testing.assert_allclose(closed_form, monte_carlo, rtol=0.02, atol=0.01)


# --- Sampling -------------------------------------------------------------------------------


def test_sampling_has_the_requested_mean_and_variance():
    n = 50_000
    z_mean = np.repeat(MU[1:], n, axis=0)
    z_log_var = np.repeat(LOG_VAR[1:], n, axis=0)
    z = _np(Sampling(seed=3)([ops.convert_to_tensor(z_mean), ops.convert_to_tensor(z_log_var)]))
    assert z.shape == (n, 3)
    sigma = np.exp(0.5 * LOG_VAR[1])
    # 5 standard errors of the sample mean / variance
    np.testing.assert_allclose(z.mean(axis=0), MU[1], atol=5 * sigma.max() / np.sqrt(n))
    np.testing.assert_allclose(z.var(axis=0), sigma**2, rtol=5 * np.sqrt(2 / n))


def test_sampling_is_reproducible_with_a_seed_and_random_across_calls():
    inputs = [ops.convert_to_tensor(MU), ops.convert_to_tensor(LOG_VAR)]
    first, second = Sampling(seed=7), Sampling(seed=7)
    a, b = _np(first(inputs)), _np(second(inputs))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, _np(first(inputs)))  # the seed generator moves on


def _value_and_gradients(fn, *args):
    """fn(*args) and the gradients of sum(fn(*args)) with respect to each argument."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        variables = [tf.Variable(a) for a in args]
        with tf.GradientTape() as tape:
            out = fn(*variables)
            total = tf.reduce_sum(out)
        return _np(out), [_np(g) for g in tape.gradient(total, variables)]
    if backend == "jax":
        import jax

        def total(*a):
            with keras.StatelessScope():
                out = fn(*a)
            return ops.sum(out), out

        (_, out), grads = jax.value_and_grad(total, argnums=tuple(range(len(args))), has_aux=True)(
            *args
        )
        return _np(out), [_np(g) for g in grads]
    if backend == "torch":
        import torch

        tensors = [torch.tensor(a, requires_grad=True) for a in args]
        out = fn(*tensors)
        out.sum().backward()
        return _np(out.detach()), [_np(t.grad) for t in tensors]
    pytest.skip(f"no autodiff helper for backend {backend!r}")


def test_sampling_gradients_follow_the_reparameterisation_trick():
    layer = Sampling(seed=11)
    z, (grad_mean, grad_log_var) = _value_and_gradients(
        lambda m, lv: layer([m, lv]), MU.copy(), LOG_VAR.copy()
    )
    sigma = np.exp(0.5 * LOG_VAR)
    epsilon = (z - MU) / sigma  # the noise this very call drew
    np.testing.assert_allclose(grad_mean, np.ones_like(MU), rtol=1e-6)
    np.testing.assert_allclose(grad_log_var, 0.5 * epsilon * sigma, rtol=1e-4, atol=1e-6)
    assert np.abs(epsilon).max() > 0.01  # the check above is not trivially zero


# --- Builders -------------------------------------------------------------------------------


def test_fashion_builders_have_the_lecture_parameter_counts():
    encoder, decoder = build_fashion_encoder(), build_fashion_decoder()
    assert encoder.count_params() == 100_868
    assert decoder.count_params() == 246_273
    assert encoder.name == "encoder" and decoder.name == "decoder"
    assert [tuple(o.shape) for o in encoder.outputs] == [(None, 2)] * 3
    assert tuple(decoder.output.shape) == (None, 32, 32, 1)


def test_face_builders_have_the_lecture_parameter_counts():
    encoder, decoder = build_face_encoder(), build_face_decoder()
    assert encoder.count_params() == 253_584
    assert _non_trainable(encoder) == 640
    assert decoder.count_params() == 240_131
    assert _non_trainable(decoder) == 1_152
    assert [tuple(o.shape) for o in encoder.outputs] == [(None, 200)] * 3
    assert tuple(decoder.output.shape) == (None, 64, 64, 3)


def test_bad_arguments_give_clear_errors():
    encoder, decoder = build_fashion_encoder(), build_fashion_decoder()
    with pytest.raises(ValueError, match="reconstruction"):
        VAE(encoder, decoder, reconstruction="l1")
    with pytest.raises(ValueError, match="beta"):
        VAE(encoder, decoder, beta=0)
    with pytest.raises(ValueError, match="image_size"):
        build_face_encoder(image_size=48)


# --- The loss -------------------------------------------------------------------------------


@pytest.mark.parametrize("reconstruction", ["bce", "mse"])
def test_loss_is_beta_times_reconstruction_plus_kl(reconstruction):
    keras.utils.set_random_seed(0)
    encoder, decoder = build_fashion_encoder(), build_fashion_decoder()
    x = _fashion_like_batch()
    for beta in (1.0, 500.0):
        vae = VAE(encoder, decoder, beta=beta, reconstruction=reconstruction)
        y_pred = vae(x)
        z_mean, z_log_var, recon = (_np(t) for t in y_pred)
        loss = _np(vae.compute_loss(x=x, y_pred=y_pred))
        if reconstruction == "bce":
            per_pixel = _numpy_bce(x, recon)
        else:
            per_pixel = (x - recon) ** 2
        expected_recon = per_pixel.reshape(len(x), -1).mean(axis=1).mean()
        expected_kl = _numpy_kl(z_mean, z_log_var).mean()
        np.testing.assert_allclose(loss, beta * expected_recon + expected_kl, rtol=1e-5)


def _deterministic_loss(vae, x):
    """The VAE loss with z = z_mean (no sampling noise), to compare two states of a model."""
    z_mean, z_log_var, _ = vae.encoder(x, training=False)
    recon = vae.decoder(z_mean, training=False)
    return float(_np(vae.compute_loss(x=x, y_pred=(z_mean, z_log_var, recon))))


def test_one_training_step_lowers_the_loss_and_logs_the_three_keys():
    keras.utils.set_random_seed(0)
    x = _fashion_like_batch(32)
    vae = VAE(build_fashion_encoder(), build_fashion_decoder(), beta=500.0)
    vae.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3))
    before = _deterministic_loss(vae, x)
    vae.train_on_batch(x)
    after = _deterministic_loss(vae, x)
    assert after < before

    history = vae.fit(x, epochs=1, batch_size=16, validation_data=(x, x), verbose=0)
    keys = {"loss", "reconstruction_loss", "kl_loss"}
    assert set(history.history) == keys | {f"val_{k}" for k in keys}
    logs = vae.evaluate(x, batch_size=16, return_dict=True, verbose=0)
    assert set(logs) == keys
    assert logs["loss"] == pytest.approx(logs["reconstruction_loss"] + logs["kl_loss"], rel=1e-4)


# --- training flag and saving ------------------------------------------------------------


def test_training_flag_reaches_batch_normalisation():
    keras.utils.set_random_seed(0)
    vae = VAE(build_face_encoder(), build_face_decoder(), beta=2000.0, reconstruction="mse")
    x = np.random.default_rng(0).random((4, 64, 64, 3), dtype="float32")
    inference = _np(vae(x, training=False)[0])
    np.testing.assert_allclose(inference, _np(vae.encoder(x, training=False)[0]), rtol=1e-5)
    assert not np.allclose(inference, _np(vae(x, training=True)[0]), atol=1e-4)


@pytest.mark.parametrize("kind", ["fashion", "face"])
def test_saved_vae_loads_back_with_the_same_encoder(tmp_path, kind):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    if kind == "fashion":
        vae = VAE(build_fashion_encoder(), build_fashion_decoder(), beta=500.0)
        x = _fashion_like_batch(8)
    else:
        vae = VAE(build_face_encoder(), build_face_decoder(), beta=2000.0, reconstruction="mse")
        x = rng.random((8, 64, 64, 3), dtype="float32")
    vae.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3))
    vae.fit(x, epochs=1, batch_size=4, verbose=0)  # moves weights and BatchNorm statistics

    path = tmp_path / "vae.keras"
    vae.save(path)
    loaded = keras.saving.load_model(path)  # safe mode on

    assert isinstance(loaded, VAE)
    assert (loaded.beta, loaded.reconstruction) == (vae.beta, vae.reconstruction)
    assert loaded.count_params() == vae.count_params()
    z_mean = _np(vae(x)[0])
    np.testing.assert_allclose(_np(loaded(x)[0]), z_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        _np(loaded.decoder(z_mean)), _np(vae.decoder(z_mean)), rtol=1e-5, atol=1e-6
    )
    assert set(loaded.evaluate(x, batch_size=4, return_dict=True, verbose=0)) == {
        "loss",
        "reconstruction_loss",
        "kl_loss",
    }
