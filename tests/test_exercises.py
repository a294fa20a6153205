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
    assert len(blocks) == 8
    for block in blocks:
        namespace = {
            "keras": keras,
            "np": np,
            **{n: getattr(exercises, n) for n in exercises.__all__},
        }
        exec(block, namespace)  # noqa: S102 — наш собственный файл с ответами
    assert capsys.readouterr().out.count("Верно!") == 8


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
