"""Самопроверка упражнений в конце ноутбуков 01, 02 и 03.

Каждая функция ``check_...`` принимает ответ студента, ничего не возвращает (в ноутбуке
под ячейкой не появляется лишнего ``Out``) и:

* печатает «Верно!», если ответ правильный (в любой разумной записи:
  число, строка «50 240», дробь; ``keras.ops`` или numpy; класс или его экземпляр);
* печатает «Ответа пока нет», если упражнение ещё не начато
  (ответ ``None`` или заготовка не изменена) — так «Run All» проходит до конца;
* поднимает :class:`ExerciseError` (наследник ``AssertionError``) с объяснением, что не
  так, если ответ неверный.

Подсказки — в ноутбуках под каждым упражнением; эталонные решения — в
``docs/exercise_answers.md``.
"""

from __future__ import annotations

import math
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np

__all__ = [
    "ExerciseError",
    "check_dense_params",
    "check_scale_shift",
    "check_clip_layer",
    "check_tiny_net",
    "check_kl_divergence",
    "check_sampling",
    "check_beta_kl",
    "check_grid_points",
    "check_attribute_vector",
    "check_morph_points",
    "check_psnr",
]


class ExerciseError(AssertionError):
    """Ответ неверный: в сообщении — что именно не так и что проверить."""


def _fail(message: str):
    raise ExerciseError(message)


def _not_started(what: str) -> None:
    print(f"Ответа пока нет: {what}")


def _correct(message: str) -> None:
    print(f"Верно! {message}")


def _to_number(answer) -> float:
    """Число из ответа: int, float, numpy-число, Fraction или строка («50 240», «0,5», «1/2»)."""
    if isinstance(answer, str):
        text = answer.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
        text = text.replace("−", "-").replace(",", ".")
        try:
            return float(Fraction(text))
        except (ValueError, ZeroDivisionError):
            _fail(f"Не получается прочитать число из строки {answer!r}: запишите, например, 0.5.")
    if isinstance(answer, bool):
        _fail("Ответ должен быть числом, а не True/False.")
    try:
        value = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        _fail(f"Ответ должен быть числом, получено {type(answer).__name__}.")
    if value.size != 1:
        _fail(f"Ответ должен быть одним числом, получен массив формы {value.shape}.")
    return float(value.reshape(()))


def _numpy(x) -> np.ndarray:
    """Массив numpy из тензора любого бэкенда, списка или массива."""
    import keras

    return np.asarray(keras.ops.convert_to_numpy(x), dtype="float64")


def _layer_class(answer):
    """Класс слоя или модели: принимаем и сам класс, и его экземпляр."""
    return answer if isinstance(answer, type) else type(answer)


def _overrides(cls, base, method: str) -> None:
    return getattr(cls, method, None) is not getattr(base, method, None)


# --- Ноутбук 01 --------------------------------------------------------------------


def check_dense_params(answer) -> None:
    """Упражнение 01.1: сколько параметров у ``Dense(64)`` на входе из 784 чисел."""
    if answer is None:
        return _not_started(
            "запишите в answer число параметров (или выражение, которое его считает)."
        )
    value = _to_number(answer)
    expected = 784 * 64 + 64
    if value == expected:
        return _correct(f"784·64 весов матрицы + 64 смещения = {expected:_}".replace("_", " "))
    if value == 784 * 64:
        _fail(f"{value:.0f} — это только матрица весов: не забыли смещения (bias)?")
    if value == 785 * 65 or value == 784 * 65:
        _fail(f"{value:.0f}: у слоя одно смещение на каждый из 64 нейронов, не на вход.")
    _fail(f"{value:g} — не то. Матрица весов 784×64 плюс вектор смещений длины 64.")


def _started_layer_class(answer, name):
    """Класс слоя из ответа или ``None``, если ответа ещё нет (об этом печатается);
    не слой Keras — ошибка."""
    import keras

    if answer is None:
        _not_started(f"напишите класс {name}.")
        return None
    cls = _layer_class(answer)
    if not (isinstance(cls, type) and issubclass(cls, keras.layers.Layer)):
        _fail(f"{name} должен быть наследником keras.layers.Layer.")
    if not _overrides(cls, keras.layers.Layer, "call"):
        _not_started(f"у {name} ещё нет метода call.")
        return None
    return cls


def check_scale_shift(answer) -> None:
    """Упражнение 01.2: слой ``ScaleShift`` — ``x * gamma + beta`` с весами из ``build``.

    ``gamma`` инициализируется единицами, ``beta`` — нулями, по одному числу на признак
    (последняя ось входа). Имена и формы весов могут быть любыми, лишь бы вычисление
    было верным: проверяется поведение.
    """

    cls = _started_layer_class(answer, "ScaleShift")
    if cls is None:
        return None
    layer = cls()
    if layer.weights:
        _fail(
            "Веса созданы в __init__, а размер входа там ещё неизвестен: создайте их в "
            "build(self, input_shape) по input_shape[-1]."
        )
    rng = np.random.default_rng(0)
    for features in (3, 7):
        layer = cls()
        x = rng.normal(size=(4, features)).astype("float32")
        y = _numpy(layer(x))
        if y.shape != x.shape:
            _fail(f"На входе форма {x.shape}, а на выходе {y.shape}: форма должна сохраниться.")
        if len(layer.trainable_weights) != 2:
            _fail(f"Обучаемых весов {len(layer.trainable_weights)}, а нужно два: gamma и beta.")
        if not np.allclose(y, x, atol=1e-6):
            _fail("Сразу после создания слой должен возвращать вход: gamma = 1, beta = 0.")
        values = [_numpy(w) for w in layer.trainable_weights]
        ones = [i for i, v in enumerate(values) if np.all(v == 1)]
        if len(ones) != 1 or any(v.size != features for v in values):
            _fail(f"Нужны два вектора по {features} чисел (по одному на признак): gamma и beta.")
        gamma_var = layer.trainable_weights[ones[0]]
        beta_var = layer.trainable_weights[1 - ones[0]]
        gamma = rng.normal(size=gamma_var.shape).astype("float32")
        beta = rng.normal(size=beta_var.shape).astype("float32")
        gamma_var.assign(gamma)
        beta_var.assign(beta)
        expected = x * gamma.reshape(-1) + beta.reshape(-1)
        if not np.allclose(_numpy(layer(x)), expected, atol=1e-5):
            _fail("Вычисление неверно: слой должен возвращать inputs * gamma + beta.")
    return _correct("ScaleShift создаёт веса по размеру входа и считает x·gamma + beta.")


def check_clip_layer(answer) -> None:
    """Упражнение 01.3: слой ``Clip(low, high)`` сохраняется в ``.keras`` и загружается.

    Проверяется: обрезка значений, ``get_config`` с ``low`` и ``high`` (любым способом
    записи словаря), регистрация класса — модель с ним загружается без ``custom_objects``.
    """
    import keras

    cls = _started_layer_class(answer, "Clip")
    if cls is None:
        return None
    layer = cls(low=-0.5, high=2.0)
    x = np.array([[-3.0, -0.5, 0.0, 1.0, 5.0]], dtype="float32")
    if not np.allclose(_numpy(layer(x)), np.clip(x, -0.5, 2.0)):
        _fail("Значения должны обрезаться до отрезка [low, high] (keras.ops.clip).")
    config = layer.get_config()
    if config.get("low") != -0.5 or config.get("high") != 2.0:
        _fail(
            "get_config должен вернуть low и high вместе с настройками базового класса: "
            "{**super().get_config(), 'low': self.low, 'high': self.high}."
        )
    clone = cls.from_config(config)
    if not np.allclose(_numpy(clone(x)), np.clip(x, -0.5, 2.0)):
        _fail("Слой, созданный из get_config (from_config), считает не так, как исходный.")
    if keras.saving.get_registered_object(keras.saving.get_registered_name(cls)) is not cls:
        _fail(
            "Класс не зарегистрирован: добавьте декоратор "
            "@keras.saving.register_keras_serializable(package=...)."
        )
    inputs = keras.Input(shape=(5,))
    model = keras.Model(inputs, cls(low=-0.5, high=2.0)(inputs))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.keras"
        model.save(path)
        restored = keras.saving.load_model(path)
    if not np.allclose(_numpy(restored(x)), np.clip(x, -0.5, 2.0)):
        _fail("После сохранения в .keras и загрузки модель считает иначе.")
    return _correct("Clip обрезает значения, и модель с ним сохраняется и загружается.")


def check_tiny_net(answer) -> None:
    """Упражнение 01.4: модель-наследник ``TinyNet`` = ``Dense(32, relu)`` → ``Dense(10, softmax)``.

    Принимается класс (создаётся без аргументов) или уже созданная модель.
    """
    import keras

    if answer is None:
        return _not_started("напишите класс TinyNet.")
    cls = _layer_class(answer)
    if not (isinstance(cls, type) and issubclass(cls, keras.Model)):
        _fail("TinyNet должен быть наследником keras.Model.")
    if cls is not keras.Model and not _overrides(cls, keras.Model, "call"):
        return _not_started("у TinyNet ещё нет метода call.")
    model = answer() if isinstance(answer, type) else answer
    x = np.random.default_rng(1).random((3, 784), dtype="float32")
    y = _numpy(model(x))
    if y.shape != (3, 10):
        _fail(f"Выход формы {y.shape}, а нужен (3, 10): десять классов.")
    if not np.allclose(y.sum(axis=1), 1.0, atol=1e-5) or (y < 0).any():
        _fail("Строки выхода — не вероятности: у последнего слоя должна быть активация softmax.")
    params = model.count_params()
    expected = 784 * 32 + 32 + 32 * 10 + 10
    if params != expected:
        _fail(f"Параметров {params}, а у Dense(32) → Dense(10) на входе 784 их {expected}.")
    hidden = [layer for layer in model.layers if getattr(layer, "units", None) == 32]
    if not hidden or getattr(hidden[0].activation, "__name__", "") != "relu":
        _fail("У скрытого слоя Dense(32) должна быть активация relu.")
    return _correct(
        f"TinyNet: {expected:_} параметров, выход — вероятности 10 классов.".replace("_", " ")
    )


# --- Ноутбук 02 --------------------------------------------------------------------


def _kl_reference(mean, log_var):
    return -0.5 * np.sum(1 + log_var - mean**2 - np.exp(log_var), axis=1)


def check_kl_divergence(answer) -> None:
    """Упражнение 02.1: ``kl(z_mean, z_log_var)`` — KL для каждого изображения, форма ``(n,)``.

    Функция может быть написана на ``keras.ops`` или numpy; ответ формы ``(n, 1)`` тоже
    принимается.
    """
    if answer is None:
        return _not_started("напишите функцию kl(z_mean, z_log_var).")
    rng = np.random.default_rng(2)
    mean = rng.normal(size=(6, 3)).astype("float32")
    log_var = rng.normal(scale=1.5, size=(6, 3)).astype("float32")
    result = _call(answer, mean, log_var)
    if result is None:
        return _not_started("функция kl пока возвращает None.")
    got = _numpy(result)
    expected = _kl_reference(mean, log_var)
    if got.size == 1:
        _fail(
            "Получилось одно число: нужна KL для каждого изображения (сумма по оси 1, без среднего по батчу)."
        )
    if got.size != expected.size:
        _fail(
            f"Форма ответа {got.shape}, а нужна (n,) = ({len(mean)},): сумма по измерениям z (axis=1)."
        )
    got = got.reshape(-1)
    if np.allclose(got, expected, rtol=1e-4, atol=1e-4):
        return _correct("KL считается как −½·Σ(1 + log σ² − μ² − σ²) по измерениям.")
    if np.allclose(got, -0.5 * np.sum(1 + log_var - mean**2 - np.exp(mean), axis=1), atol=1e-4):
        _fail("Здесь exp(z_mean) — ошибка варианта лекции: σ² — это exp(z_log_var).")
    if np.allclose(got, expected / mean.shape[1], atol=1e-4):
        _fail("Получилось среднее по измерениям: KL — сумма по ним (ops.sum(..., axis=1)).")
    if np.allclose(got, -expected, atol=1e-4):
        _fail("Знак перевёрнут: KL неотрицательна, перед суммой стоит −½.")
    _fail("Значения не совпадают с KL-дивергенцией: сверьтесь с формулой в разделе о потерях.")


def _call(answer, *arrays):
    """Вызывает функцию студента на тензорах бэкенда, как в модели (на PyTorch функция на
    keras.ops не вычтет тензор из numpy-массива); функцию на numpy, которой тензоры не
    подходят, — на массивах numpy."""
    import keras

    try:
        return answer(
            *[keras.ops.convert_to_tensor(a) if isinstance(a, np.ndarray) else a for a in arrays]
        )
    except Exception:  # noqa: BLE001 — вторая попытка покажет студенту его собственную ошибку
        return answer(*arrays)


def check_sampling(answer) -> None:
    """Упражнение 02.2: ``sample(z_mean, z_log_var, epsilon)`` — трюк с перепараметризацией."""
    if answer is None:
        return _not_started("напишите функцию sample(z_mean, z_log_var, epsilon).")
    rng = np.random.default_rng(3)
    mean = rng.normal(size=(5, 2)).astype("float32")
    log_var = rng.normal(size=(5, 2)).astype("float32")
    epsilon = rng.normal(size=(5, 2)).astype("float32")
    result = _call(answer, mean, log_var, epsilon)
    if result is None:
        return _not_started("функция sample пока возвращает None.")
    got = _numpy(result)
    if got.shape != mean.shape:
        _fail(f"Форма {got.shape}, а нужна {mean.shape}: z того же размера, что z_mean.")
    if np.allclose(got, mean + np.exp(0.5 * log_var) * epsilon, atol=1e-5):
        return _correct("z = μ + exp(½·log σ²)·ε: шум умножается на стандартное отклонение.")
    if np.allclose(got, mean + np.exp(log_var) * epsilon, atol=1e-5):
        _fail("ε умножено на дисперсию σ² = exp(log σ²), а нужно на σ = exp(½·log σ²).")
    if np.allclose(got, mean + log_var * epsilon, atol=1e-5):
        _fail("z_log_var — логарифм дисперсии: σ = exp(0.5 * z_log_var).")
    _fail("z должно быть z_mean + exp(0.5 * z_log_var) * epsilon.")


def check_beta_kl(answer) -> None:
    """Упражнение 02.3: чему равно β_KL = P/β при β = 2048 и P = 1024 (ответ 0,5)."""
    if answer is None:
        return _not_started("запишите в answer число β_KL.")
    value = _to_number(answer)
    if math.isclose(value, 0.5):
        return _correct(
            "β_KL = 1024/2048 = 0,5: KL весит вдвое меньше, чем в −ELBO, — реконструкции "
            "чётче, пространство менее похоже на N(0, I)."
        )
    if math.isclose(value, 2.0):
        _fail("Это β/P, а β_KL = P/β: наше β стоит перед реконструкцией, а не перед KL.")
    _fail(f"{value:g} — не то: перепишите βR + KL как (β/P)·(P·R + (P/β)·KL).")


def check_grid_points(answer, n: int = 5) -> None:
    """Упражнение 02.4: ``grid_points(n)`` — ``n²`` точек сетки в скрытом пространстве.

    Точки — центры клеток ``(k + 0.5)/n``, переведённые ``norm.ppf``, во всех парах
    (z₁, z₂); порядок точек не важен, допускается массив ``(n, n, 2)``.
    """
    from scipy.stats import norm

    if answer is None:
        return _not_started("напишите функцию grid_points(n).")
    result = answer(n)
    if result is None:
        return _not_started("функция grid_points пока возвращает None.")
    got = _numpy(result).reshape(-1, 2) if np.size(result) == 2 * n * n else _numpy(result)
    if got.shape != (n * n, 2):
        _fail(f"Для n = {n} нужно {n * n} точек формы (n², 2), получено {got.shape}.")
    if not np.isfinite(got).all():
        _fail(
            "Среди точек есть ±∞: norm.ppf(0) = −∞. Берите центры клеток (k + 0.5)/n, "
            "а не np.linspace(0, 1, n)."
        )
    axis = norm.ppf((np.arange(n) + 0.5) / n)
    expected = np.array([(a, b) for a in axis for b in axis])
    order = np.lexsort(got.T[::-1])
    if np.allclose(got[order], expected[np.lexsort(expected.T[::-1])], atol=1e-5):
        return _correct("центры клеток, переведённые Φ⁻¹, во всех n² парах.")
    plain = (np.arange(n) + 0.5) / n
    if np.allclose(np.unique(got), np.unique(plain)):
        _fail("Точки остались в [0, 1]: переведите их в скрытое пространство norm.ppf.")
    _fail("Точки не совпадают с norm.ppf((k + 0.5)/n) во всех парах.")


# --- Ноутбук 03 -------------------------------------------------------------------------


def check_attribute_vector(answer) -> None:
    """Упражнение 03.1: ``attribute_vector(z, has_attribute)`` — разность средних кодов лиц с
    признаком и без него, нормированная на единичную длину."""
    if answer is None:
        return _not_started("напишите функцию attribute_vector(z, has_attribute).")
    rng = np.random.default_rng(5)
    z = rng.normal(size=(40, 6)).astype("float32")
    has = np.arange(40) % 3 == 0
    z[has] += np.array([2.0, 0, 0, -1.0, 0, 0], dtype="float32")
    result = _call(answer, z, has)
    if result is None:
        return _not_started("функция attribute_vector пока возвращает None.")
    got = _numpy(result).reshape(-1)
    if got.shape != (z.shape[1],):
        _fail(f"Нужен один вектор длины {z.shape[1]} (размер кода), получена форма {got.shape}.")
    difference = z[has].mean(axis=0) - z[~has].mean(axis=0)
    unit = difference / np.linalg.norm(difference)
    if np.allclose(got, unit, atol=1e-4):
        return _correct("среднее кодов «с признаком» минус среднее «без», длина 1.")
    if np.allclose(got, -unit, atol=1e-4):
        _fail("Вектор смотрит в обратную сторону: вычитайте среднее лиц БЕЗ признака.")
    if np.allclose(got, difference, atol=1e-4):
        _fail("Направление верное, но длина не 1: разделите на np.linalg.norm(...).")
    positive = z[has].mean(axis=0)
    if np.allclose(got, positive / np.linalg.norm(positive), atol=1e-4):
        _fail("Это только среднее лиц с признаком: вычтите среднее лиц без него.")
    _fail("Не похоже на разность средних: сравните z[has_attribute] и z[~has_attribute].")


def check_morph_points(answer) -> None:
    """Упражнение 03.2: ``morph_points(z_a, z_b, n)`` — ``n`` точек отрезка от ``z_a`` до
    ``z_b`` через равные промежутки, оба конца включены."""
    from course_utils.vae_utils import line_points

    if answer is None:
        return _not_started("напишите функцию morph_points(z_a, z_b, n).")
    rng = np.random.default_rng(7)
    z_a, z_b = rng.normal(size=(2, 4)).astype("float32")
    n = 6
    result = _call(answer, z_a, z_b, n)
    if result is None:
        return _not_started("функция morph_points пока возвращает None.")
    got = _numpy(result)
    if got.shape != (n, z_a.size):
        _fail(
            f"Для n = {n} и кодов длины {z_a.size} нужна форма ({n}, {z_a.size}), а не {got.shape}."
        )
    if np.allclose(got, line_points(z_a, z_b, n), atol=1e-5):
        return _correct("первая точка — z_A, последняя — z_B, шаги равные.")
    if np.allclose(got, line_points(z_b, z_a, n), atol=1e-5):
        _fail("Путь идёт от B к A: при α = 0 должна получиться точка z_A.")
    lecture = np.arange(0, 1, 1 / n)[:, None]  # как в лекции: 1 не входит
    if np.allclose(got, z_a * (1 - lecture) + z_b * lecture, atol=1e-5):
        _fail("Путь не доходит до B (как в коде лекции): берите np.linspace(0, 1, n).")
    _fail("Точки не лежат на отрезке z_A·(1 − α) + z_B·α для α = 0 … 1 с равным шагом.")


def check_psnr(answer) -> None:
    """Упражнение 03.3: ``psnr(images, reconstructions)`` — PSNR в децибелах для значений
    0..1 по средней квадратичной ошибке всех значений."""
    from course_utils.face_quality import psnr

    if answer is None:
        return _not_started("напишите функцию psnr(images, reconstructions).")
    rng = np.random.default_rng(11)
    images = rng.uniform(size=(3, 8, 8, 3)).astype("float32")
    noisy = np.clip(images + rng.normal(scale=0.1, size=images.shape), 0, 1).astype("float32")
    result = _call(answer, images, noisy)
    if result is None:
        return _not_started("функция psnr пока возвращает None.")
    value = _to_number(result)
    mse = float(np.mean((images.astype("float64") - noisy) ** 2))
    expected = psnr(images, noisy)  # мера, которой ноутбук 03 оценивает реконструкции
    if math.isclose(value, expected, abs_tol=1e-3):
        return _correct(f"PSNR = 10·log₁₀(1 / MSE) = {expected:.2f} дБ.")
    if math.isclose(value, 20 * math.log10(1 / mse), abs_tol=1e-3):
        _fail("Множитель 20 — для корня из MSE (RMSE); для самой MSE — 10·log₁₀(1/MSE).")
    if math.isclose(value, 10 * math.log10(255**2 / mse), abs_tol=1e-3):
        _fail("Максимум значения здесь 1, а не 255: изображения уже переведены в 0..1.")
    if math.isclose(value, mse, rel_tol=1e-3):
        _fail("Это сама MSE: PSNR = 10·log₁₀(1 / MSE) в децибелах.")
    _fail(f"{value:g} дБ — не то: PSNR = 10·log₁₀(1 / MSE), MSE — среднее по всем значениям.")
