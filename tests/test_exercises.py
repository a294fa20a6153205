"""Самопроверка упражнений: верные ответы в разных записях принимаются, неверные — нет."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers, ops
from scipy.stats import norm

from course_utils import exercises
from course_utils.exercises import ExerciseError

ANSWERS = Path(__file__).resolve().parents[1] / "docs" / "exercise_answers.md"


def test_reference_answers_pass_their_checks(capsys):
    blocks = re.findall(r"```python\n(.*?)```", ANSWERS.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 11
    for block in blocks:
        namespace = {
            "keras": keras,
            "np": np,
            **{n: getattr(exercises, n) for n in exercises.__all__},
        }
        exec(block, namespace)  # noqa: S102 — наш собственный файл с ответами
    assert capsys.readouterr().out.count("Верно!") == 11


# --- ответа пока нет: печать, без исключения ------------------------------------------


def correct(check, answer, capsys):
    """Проверка прошла: без исключения и с «Верно!» в выводе."""
    check(answer)
    return "Верно!" in capsys.readouterr().out


def not_started(check, answer, capsys):
    """Ответа нет: без исключения, с напоминанием в выводе."""
    check(answer)
    return "Ответа пока нет" in capsys.readouterr().out


@pytest.mark.parametrize("name", [n for n in exercises.__all__ if n.startswith("check_")])
def test_missing_answer_is_not_an_error(name, capsys):
    assert not_started(getattr(exercises, name), None, capsys)


def test_untouched_templates_are_not_errors(capsys):
    class ScaleShift(layers.Layer):
        pass

    class TinyNet(keras.Model):
        pass

    assert not_started(exercises.check_scale_shift, ScaleShift, capsys)
    assert not_started(exercises.check_clip_layer, ScaleShift, capsys)
    assert not_started(exercises.check_tiny_net, TinyNet, capsys)
    assert not_started(exercises.check_kl_divergence, lambda m, v: None, capsys)
    assert not_started(exercises.check_sampling, lambda m, v, e: None, capsys)
    assert not_started(exercises.check_grid_points, lambda n: None, capsys)
    assert not_started(exercises.check_attribute_vector, lambda z, has: None, capsys)
    assert not_started(exercises.check_morph_points, lambda a, b, n: None, capsys)
    assert not_started(exercises.check_psnr, lambda x, y: None, capsys)


# --- 01.1 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer", [50240, 784 * 64 + 64, np.int64(50240), 50240.0, "50 240", "50\u00a0240"]
)
def test_dense_params_accepts(answer, capsys):
    assert correct(exercises.check_dense_params, answer, capsys)


@pytest.mark.parametrize(
    ("answer", "says"),
    [(50176, "смещения"), (785 * 65, "одно смещение"), (1000, "не то"), ("много", "прочитать")],
)
def test_dense_params_rejects(answer, says):
    with pytest.raises(ExerciseError, match=says):
        exercises.check_dense_params(answer)


# --- 01.2 ----------------------------------------------------------------------------


class ScaleShiftOps(layers.Layer):
    def build(self, input_shape):
        self.beta = self.add_weight(shape=(input_shape[-1],), initializer="zeros")
        self.gamma = self.add_weight(shape=(input_shape[-1],), initializer="ones")

    def call(self, inputs):
        return ops.add(ops.multiply(inputs, self.gamma), self.beta)


class ScaleShiftRow(layers.Layer):  # веса-строки (1, d) и имена по-своему
    def build(self, input_shape):
        self.scale = self.add_weight(shape=(1, input_shape[-1]), initializer="ones", name="s")
        self.shift = self.add_weight(shape=(1, input_shape[-1]), initializer="zeros", name="t")

    def call(self, inputs):
        return inputs * self.scale + self.shift


@pytest.mark.parametrize("cls", [ScaleShiftOps, ScaleShiftRow])
def test_scale_shift_accepts_both_styles(cls, capsys):
    assert correct(exercises.check_scale_shift, cls, capsys)
    assert correct(exercises.check_scale_shift, cls(), capsys)


class WeightsInInit(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.gamma = self.add_weight(shape=(3,), initializer="ones")
        self.beta = self.add_weight(shape=(3,), initializer="zeros")

    def call(self, inputs):
        return inputs * self.gamma + self.beta


class ShiftMinusScale(ScaleShiftOps):
    def call(self, inputs):
        return (inputs + self.beta) * self.gamma


class OneWeight(layers.Layer):
    def build(self, input_shape):
        self.gamma = self.add_weight(shape=(input_shape[-1],), initializer="ones")

    def call(self, inputs):
        return inputs * self.gamma


@pytest.mark.parametrize(
    ("cls", "says"),
    [(WeightsInInit, "build"), (ShiftMinusScale, "inputs \\* gamma \\+ beta"), (OneWeight, "два")],
)
def test_scale_shift_rejects(cls, says):
    with pytest.raises(ExerciseError, match=says):
        exercises.check_scale_shift(cls)


# --- 01.3 ----------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="test_exercises")
class ClipUpdate(layers.Layer):  # get_config через update, обрезка через minimum/maximum
    def __init__(self, low=0.0, high=1.0, **kwargs):
        super().__init__(**kwargs)
        self.low, self.high = low, high

    def call(self, inputs):
        return ops.minimum(ops.maximum(inputs, self.low), self.high)

    def get_config(self):
        config = super().get_config()
        config.update(low=self.low, high=self.high)
        return config


def test_clip_accepts_another_style(capsys):
    assert correct(exercises.check_clip_layer, ClipUpdate, capsys)


class ClipNotRegistered(layers.Layer):
    def __init__(self, low=0.0, high=1.0, **kwargs):
        super().__init__(**kwargs)
        self.low, self.high = low, high

    def call(self, inputs):
        return ops.clip(inputs, self.low, self.high)

    def get_config(self):
        return {**super().get_config(), "low": self.low, "high": self.high}


@keras.saving.register_keras_serializable(package="test_exercises")
class ClipNoConfig(ClipNotRegistered):
    def get_config(self):
        return super(ClipNotRegistered, self).get_config()


@pytest.mark.parametrize(
    ("cls", "says"), [(ClipNotRegistered, "зарегистрирован"), (ClipNoConfig, "get_config")]
)
def test_clip_rejects(cls, says):
    with pytest.raises(ExerciseError, match=says):
        exercises.check_clip_layer(cls)


# --- 01.4 ----------------------------------------------------------------------------


def test_tiny_net_accepts_an_instance_and_a_functional_model(capsys):
    inputs = keras.Input(shape=(784,))
    hidden = layers.Dense(32, activation="relu")(inputs)
    functional = keras.Model(inputs, layers.Dense(10, activation="softmax")(hidden))
    assert correct(exercises.check_tiny_net, functional, capsys)
    sequential = keras.Sequential(
        [layers.Dense(32, activation="relu"), layers.Dense(10, activation="softmax")]
    )
    assert correct(exercises.check_tiny_net, sequential, capsys)


@pytest.mark.parametrize(
    ("hidden", "last", "says"),
    [
        (("relu", 64), "softmax", "Параметров"),
        (("relu", 32), None, "softmax"),
        (("sigmoid", 32), "softmax", "relu"),
    ],
)
def test_tiny_net_rejects(hidden, last, says):
    model = keras.Sequential(
        [layers.Dense(hidden[1], activation=hidden[0]), layers.Dense(10, activation=last)]
    )
    with pytest.raises(ExerciseError, match=says):
        exercises.check_tiny_net(model)


# --- 02.1 ----------------------------------------------------------------------------


def kl_numpy(mean, log_var):
    return -0.5 * np.sum(1 + log_var - mean**2 - np.exp(log_var), axis=1, keepdims=True)


def kl_ops(mean, log_var):
    return ops.sum(-0.5 * (1 + log_var - ops.square(mean) - ops.exp(log_var)), axis=1)


@pytest.mark.parametrize("fn", [kl_numpy, kl_ops])
def test_kl_accepts_numpy_and_ops(fn, capsys):
    assert correct(exercises.check_kl_divergence, fn, capsys)


@pytest.mark.parametrize(
    ("fn", "says"),
    [
        (lambda m, v: -0.5 * ops.sum(1 + v - m**2 - ops.exp(m), axis=1), "exp\\(z_mean\\)"),
        (lambda m, v: -0.5 * ops.mean(1 + v - m**2 - ops.exp(v), axis=1), "среднее по измерениям"),
        (lambda m, v: ops.mean(kl_ops(m, v)), "одно число"),
        (lambda m, v: -kl_ops(m, v), "Знак"),
        (lambda m, v: kl_ops(m, v) + 1, "не совпадают"),
    ],
)
def test_kl_rejects(fn, says):
    with pytest.raises(ExerciseError, match=says):
        exercises.check_kl_divergence(fn)


# --- 02.2 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fn",
    [
        lambda m, v, e: m + ops.exp(0.5 * v) * e,
        lambda m, v, e: m + np.sqrt(np.exp(v)) * e,
        lambda m, v, e: ops.add(m, ops.multiply(ops.exp(v / 2), e)),
    ],
)
def test_sampling_accepts(fn, capsys):
    assert correct(exercises.check_sampling, fn, capsys)


@pytest.mark.parametrize(
    ("fn", "says"),
    [
        (lambda m, v, e: m + ops.exp(v) * e, "дисперсию"),
        (lambda m, v, e: m + v * e, "логарифм"),
        (lambda m, v, e: m, "z должно"),
    ],
)
def test_sampling_rejects(fn, says):
    with pytest.raises(ExerciseError, match=says):
        exercises.check_sampling(fn)


# --- 02.3 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer", [0.5, 1024 / 2048, "0,5", "1/2", Fraction(1, 2), np.float32(0.5)]
)
def test_beta_kl_accepts(answer, capsys):
    assert correct(exercises.check_beta_kl, answer, capsys)


@pytest.mark.parametrize(
    ("answer", "says"), [(2, "β/P"), ("2,0", "β/P"), (1024, "не то"), (True, "True")]
)
def test_beta_kl_rejects(answer, says):
    with pytest.raises(ExerciseError, match=says):
        exercises.check_beta_kl(answer)


# --- 02.4 ----------------------------------------------------------------------------


def grid_meshgrid(n):
    axis = norm.ppf((np.arange(n) + 0.5) / n)
    return np.stack(np.meshgrid(axis, axis), axis=-1)  # (n, n, 2): форма сетки тоже годится


def grid_loops(n):
    return [[norm.ppf((i + 0.5) / n), norm.ppf((j + 0.5) / n)] for i in range(n) for j in range(n)]


@pytest.mark.parametrize("fn", [grid_meshgrid, grid_loops])
def test_grid_accepts(fn, capsys):
    assert correct(exercises.check_grid_points, fn, capsys)


def grid_linspace(n):
    axis = norm.ppf(np.linspace(0, 1, n))
    return np.stack([a.ravel() for a in np.meshgrid(axis, axis)], axis=1)


def grid_unit_square(n):
    axis = (np.arange(n) + 0.5) / n
    return np.stack([a.ravel() for a in np.meshgrid(axis, axis)], axis=1)


def grid_diagonal(n):
    axis = norm.ppf((np.arange(n) + 0.5) / n)
    return np.stack([axis, axis], axis=1)


@pytest.mark.parametrize(
    ("fn", "says"),
    [(grid_linspace, "∞"), (grid_unit_square, "norm.ppf"), (grid_diagonal, "точек формы")],
)
def test_grid_rejects(fn, says):
    with pytest.raises(ExerciseError, match=says):
        exercises.check_grid_points(fn)


# --- 03.1 ----------------------------------------------------------------------------


def vector_numpy(z, has):
    has = np.asarray(has, dtype=bool)
    d = z[has].mean(axis=0) - z[~has].mean(axis=0)
    return d / np.linalg.norm(d)


def vector_ops(z, has):
    mask = ops.cast(ops.convert_to_tensor(has), "float32")[:, None]
    positive = ops.sum(z * mask, axis=0) / ops.sum(mask)
    negative = ops.sum(z * (1 - mask), axis=0) / ops.sum(1 - mask)
    d = positive - negative
    return d / ops.sqrt(ops.sum(ops.square(d)))


def vector_labels_01(z, has):  # метки 0/1 как числа, как в таблице атрибутов
    labels = np.asarray(has).astype(int)
    d = z[labels == 1].mean(axis=0) - z[labels == 0].mean(axis=0)
    return d / np.sqrt((d**2).sum())


@pytest.mark.parametrize("fn", [vector_numpy, vector_ops, vector_labels_01])
def test_attribute_vector_accepts(fn, capsys):
    assert correct(exercises.check_attribute_vector, fn, capsys)


def vector_reversed(z, has):
    return -vector_numpy(z, has)


def vector_unnormalised(z, has):
    return z[has].mean(axis=0) - z[~has].mean(axis=0)


def vector_positive_only(z, has):
    m = z[has].mean(axis=0)
    return m / np.linalg.norm(m)


def vector_of_all(z, has):
    return z.mean(axis=0) / np.linalg.norm(z.mean(axis=0))


@pytest.mark.parametrize(
    ("fn", "says"),
    [
        (vector_reversed, "обратную сторону"),
        (vector_unnormalised, "длина не 1"),
        (vector_positive_only, "только среднее"),
        (vector_of_all, "разность средних"),
        (lambda z, has: z, "один вектор"),
    ],
)
def test_attribute_vector_rejects(fn, says):
    with pytest.raises(ExerciseError, match=says):
        exercises.check_attribute_vector(fn)


# --- 03.2 ----------------------------------------------------------------------------


def morph_linspace(z_a, z_b, n):
    alphas = np.linspace(0, 1, n)[:, None]
    return z_a * (1 - alphas) + z_b * alphas


def morph_loop(z_a, z_b, n):
    return [z_a + (z_b - z_a) * k / (n - 1) for k in range(n)]


def morph_ops(z_a, z_b, n):
    alphas = ops.reshape(ops.linspace(0.0, 1.0, n), (n, 1))
    return ops.convert_to_tensor(z_a)[None] * (1 - alphas) + ops.convert_to_tensor(z_b) * alphas


@pytest.mark.parametrize("fn", [morph_linspace, morph_loop, morph_ops])
def test_morph_points_accepts(fn, capsys):
    assert correct(exercises.check_morph_points, fn, capsys)


def morph_lecture(z_a, z_b, n):
    alphas = np.arange(0, 1, 1 / n)[:, None]
    return z_a * (1 - alphas) + z_b * alphas


@pytest.mark.parametrize(
    ("fn", "says"),
    [
        (morph_lecture, "не доходит до B"),
        (lambda a, b, n: morph_linspace(b, a, n), "от B к A"),
        (lambda a, b, n: morph_linspace(a, b, n + 1), "нужна форма"),
        (lambda a, b, n: morph_linspace(a, b, n) ** 2, "не лежат на отрезке"),
    ],
)
def test_morph_points_rejects(fn, says):
    with pytest.raises(ExerciseError, match=says):
        exercises.check_morph_points(fn)


# --- 03.3 ----------------------------------------------------------------------------


def psnr_numpy(x, y):
    return 10 * np.log10(1 / np.mean((x - y) ** 2))


def psnr_ops(x, y):
    return 10 * ops.log(1 / ops.mean(ops.square(x - y))) / np.log(10)


def psnr_from_rmse(x, y):  # 20·log10(1/RMSE) — то же самое
    return 20 * np.log10(1 / np.sqrt(np.mean((x - y) ** 2)))


@pytest.mark.parametrize("fn", [psnr_numpy, psnr_ops, psnr_from_rmse])
def test_psnr_accepts(fn, capsys):
    assert correct(exercises.check_psnr, fn, capsys)


@pytest.mark.parametrize(
    ("fn", "says"),
    [
        (lambda x, y: 20 * np.log10(1 / np.mean((x - y) ** 2)), "Множитель 20"),
        (lambda x, y: 10 * np.log10(255**2 / np.mean((x - y) ** 2)), "255"),
        (lambda x, y: np.mean((x - y) ** 2), "сама MSE"),
        (lambda x, y: np.log10(1 / np.mean((x - y) ** 2)), "PSNR = 10"),
    ],
)
def test_psnr_rejects(fn, says):
    with pytest.raises(ExerciseError, match=says):
        exercises.check_psnr(fn)
