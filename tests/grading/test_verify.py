"""Проверяющий без песочницы: вынос собирается здесь же из настоящих данных (быстро)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from course_utils.assignment import classes_from_student_id
from course_utils.checks import evidence, verify

DATA = "sample"
STUDENT_ID = "1032259319"


def _export(folder, **arrays):
    report = arrays.pop("report", {})
    folder.mkdir(exist_ok=True)
    (folder / "report.json").write_text(json.dumps(report))
    for name, value in arrays.items():
        np.save(folder / f"{name}.npy", value)
    return evidence.Context(evidence.Export(folder), DATA)


def _honest_data():
    x_train, y_train, x_test, y_test = evidence.real_cifar10(DATA)
    classes = classes_from_student_id(STUDENT_ID)
    keep_train, keep_test = np.isin(y_train, classes), np.isin(y_test, classes)
    return {
        "x_train": x_train[keep_train].astype("float32") / 255,
        "y_train": y_train[keep_train],
        "x_test": x_test[keep_test].astype("float32") / 255,
        "y_test": y_test[keep_test],
        "report": {"STUDENT_ID": STUDENT_ID, "STUDENT_ID_type": "str", "classes": classes},
    }


def test_real_data_in_any_order_passes_and_changed_pixels_fail(tmp_path):
    data = _honest_data()
    order = np.random.default_rng(0).permutation(len(data["x_train"]))
    data["x_train"], data["y_train"] = data["x_train"][order], data["y_train"][order]
    assert "совпадают с CIFAR-10" in verify.check_data(_export(tmp_path / "ok", **data))

    data["x_train"] = data["x_train"].copy()
    data["x_train"][0] = np.round(np.clip(data["x_train"][0] + 10 / 255, 0, 1) * 255) / 255
    with pytest.raises(AssertionError, match="не совпадают"):
        verify.check_data(_export(tmp_path / "changed", **data))


def test_zero_images_with_right_labels_fail(tmp_path):
    data = _honest_data()
    data["x_train"] = np.zeros_like(data["x_train"])
    with pytest.raises(AssertionError, match="не совпадают"):
        verify.check_data(_export(tmp_path, **data))


def test_missing_class_images_fail(tmp_path):
    data = _honest_data()
    data["x_test"], data["y_test"] = data["x_test"][1:], data["y_test"][1:]
    with pytest.raises(AssertionError, match="нужны все изображения"):
        verify.check_data(_export(tmp_path, **data))


def _line(z_a, z_b, k):
    alphas = np.linspace(0, 1, k)[:, None]
    return z_a[None] * (1 - alphas) + z_b[None] * alphas


def test_morph_accepts_the_decoded_line_and_rejects_a_cross_fade(tmp_path):
    # «Декодер» — фиксированное нелинейное отображение: кадры отрезка в z ≠ смеси пикселей.
    rng = np.random.default_rng(1)
    weights = rng.normal(size=(4, 32 * 32 * 3))

    def decode(z):
        return (
            (1 / (1 + np.exp(-np.tanh(3 * z) @ weights))).reshape(-1, 32, 32, 3).astype("float32")
        )

    z_a, z_b = rng.normal(size=4), rng.normal(size=4)
    decoded = decode(_line(z_a, z_b, 10))
    ctx = _export(tmp_path / "ok", morph_frames=decoded, line_frames=decoded)
    assert "10 кадров" in verify.check_morph(ctx)

    ends = decoded[[0, -1]]
    fade = np.stack([ends[0] * (1 - a) + ends[1] * a for a in np.linspace(0, 1, 10)])
    ctx = _export(tmp_path / "fade", morph_frames=fade, line_frames=decoded)
    with pytest.raises(AssertionError, match="промежуточные"):
        verify.check_morph(ctx)

    ctx = _export(tmp_path / "short", morph_frames=decoded[:5], line_frames=decoded[:5])
    with pytest.raises(AssertionError, match="не меньше 8"):
        verify.check_morph(ctx)


def _encoder_answers(rng, n, dim, sampled=True):
    z_mean = rng.normal(size=(n, dim))
    z_log_var = rng.normal(-2, 0.5, size=(n, dim))
    eps = rng.normal(size=(n, dim)) if sampled else 0
    return {"z_mean": z_mean, "z_log_var": z_log_var, "z": z_mean + np.exp(z_log_var / 2) * eps}


def test_vae_needs_sampling_from_its_own_variance(tmp_path):
    rng = np.random.default_rng(2)
    n = len(evidence.heldout_indices(DATA))
    report = {"report": {"LATENT_DIM": 16, "LATENT_DIM_type": "int"}}
    ok = _export(tmp_path / "ok", **report, **_encoder_answers(rng, n, 16))
    assert "LATENT_DIM = 16" in verify.check_vae(ok)

    plain = _encoder_answers(rng, n, 16, sampled=False)
    plain["z_log_var"] = np.zeros_like(plain["z_mean"])  # [z, zeros, z]
    with pytest.raises(AssertionError, match="Sampling"):
        verify.check_vae(_export(tmp_path / "plain", **report, **plain))

    wrong_scale = _encoder_answers(rng, n, 16)
    wrong_scale["z"] = wrong_scale["z_mean"] + 5 * (wrong_scale["z"] - wrong_scale["z_mean"])
    with pytest.raises(AssertionError, match="не похожа на выборку"):
        verify.check_vae(_export(tmp_path / "scale", **report, **wrong_scale))


@pytest.mark.parametrize(
    ("history", "key"),
    [
        ({"loss": [3, 2], "kl_loss": [1, 2]}, "loss"),
        ({"total_loss": [3, 2], "reconstruction_loss": [2, 1], "kl_loss": [1, 1]}, "total_loss"),
        ({"my_elbo_loss": [3, 2], "val_my_elbo_loss": [3, 3]}, "my_elbo_loss"),
        ({"reconstruction_loss": [2, 1], "kl_loss": [1, 1]}, None),
        # Трекеры «как у Шолле»: суммарные потери — elbo, а не единственный *loss.
        ({"elbo": [3, 2], "kl_loss": [1, 2]}, "elbo"),
        ({"vae_objective_loss": [3, 2], "kl_loss": [1, 2]}, "vae_objective_loss"),
    ],
)
def test_loss_key_under_any_reasonable_name(history, key):
    assert verify.choose_loss_key(history) == key
