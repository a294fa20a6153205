"""Независимая мера атрибутов лица: маленький классификатор и его честная проверка.

Чтобы проверить, что вектор признака в скрытом пространстве VAE делает то, что обещает,
нужна мера атрибута, которая не зависит от самого VAE и одинаково работает на
нарисованных лицах и на фотографиях CelebA. Здесь это маленькая свёрточная сеть,
обученная на тех же размеченных лицах (:func:`train_attribute_classifier`). Её качество
измеряется на отложенных лицах (ROC AUC, :func:`roc_auc`); атрибут, у которого AUC ниже
порога :data:`AUC_BAR`, считается **неизмеримым**: его строки печатаются, но выводов по
ним не делается. Отложенные лица классификатор не видел при обучении — на них же
проверяются векторы VAE (:func:`attribute_effects`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "AUC_BAR",
    "MIN_EFFECT",
    "roc_auc",
    "AttributeClassifier",
    "train_attribute_classifier",
    "attribute_effects",
    "report_attribute_effects",
]

#: Порог надёжности: атрибут измерим, если AUC классификатора на отложенных лицах не ниже.
AUC_BAR = 0.9
#: Наименьший рост вероятности между крайними alpha, который считается работой вектора:
#: рост с 0,00 до 0,01 — формально рост, но на картинке его не видно.
MIN_EFFECT = 0.1


def roc_auc(labels, scores) -> float:
    """Площадь под ROC-кривой: вероятность, что случайное лицо с атрибутом получит оценку
    выше случайного лица без него (ничьи — пополам). Считается через ранги
    (статистика Манна — Уитни); ``nan``, если одной из групп нет."""
    from scipy.stats import rankdata

    labels = np.asarray(labels).astype(bool).ravel()
    scores = np.asarray(scores, dtype="float64").ravel()
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _as_unit_float(images):
    x = np.asarray(images)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"Ожидались RGB-изображения (batch, H, W, 3), получено {x.shape}.")
    return x.astype("float32") / 255.0 if x.dtype == np.uint8 else x.astype("float32")


def _blurred(x):
    """Те же изображения, уменьшенные вдвое и увеличенные обратно: так классификатор
    учится узнавать атрибуты и на размытых выходах VAE."""
    import keras

    n, height, width, channels = x.shape
    # среднее по блокам 2x2 (то же, что "area" в TensorFlow, но на любом бэкенде)
    half = x.reshape(n, height // 2, 2, width // 2, 2, channels).mean(axis=(2, 4))
    resized = keras.ops.image.resize(half, (height, width), interpolation="bilinear")
    return np.asarray(keras.ops.convert_to_numpy(resized), dtype="float32")


def build_classifier_model(n_attributes, image_size=64):
    """Четыре блока «свёртка с шагом 2 + BatchNorm + ReLU», Dense и по сигмоиде на атрибут
    (атрибуты лица привязаны к месту — рот внизу, шляпа вверху, — поэтому Flatten, а не
    глобальное среднее)."""
    import keras
    from keras import layers

    inputs = keras.Input((image_size, image_size, 3))
    x = inputs
    for filters in (32, 48, 64, 96):
        x = layers.Conv2D(filters, 3, strides=2, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
    x = layers.Dropout(0.3)(layers.Flatten()(x))
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(n_attributes, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="attribute_classifier")


@dataclass
class AttributeClassifier:
    """Обученный классификатор атрибутов и его качество на отложенных лицах."""

    model: object
    names: tuple
    auc: dict  # атрибут -> ROC AUC на отложенных лицах
    holdout: np.ndarray  # номера отложенных изображений (их классификатор не видел)
    bar: float = AUC_BAR
    history: dict = field(default_factory=dict)

    def measurable(self):
        """Атрибуты, которые классификатор различает надёжно (AUC не ниже порога)."""
        return [name for name in self.names if self.auc[name] >= self.bar]

    def predict(self, images):
        """Вероятности атрибутов: словарь ``имя -> (batch,)``; изображения 0..1 или uint8."""
        x = _as_unit_float(images)
        probs = np.asarray(self.model.predict(x, batch_size=256, verbose=0))
        return {name: probs[:, j] for j, name in enumerate(self.names)}

    def report(self):
        """Печатает AUC каждого атрибута и вывод: измерим или нет."""
        print(
            f"Классификатор атрибутов: ROC AUC на {len(self.holdout)} отложенных лицах "
            f"(порог надёжности {self.bar})"
        )
        for name in self.names:
            verdict = "измерим" if self.auc[name] >= self.bar else "НЕ измерим (выводов нет)"
            print(f"  {name:<12} AUC {self.auc[name]:.3f}  {verdict}")


def train_attribute_classifier(
    images,
    labels,
    names,
    holdout_fraction=0.25,
    epochs=10,
    batch_size=64,
    seed=0,
    bar=AUC_BAR,
    verbose=0,
):
    """Обучает классификатор атрибутов ``names`` и измеряет его AUC на отложенных лицах.

    ``images`` — ``(n, H, W, 3)`` (uint8 или 0..1), ``labels`` — таблица или словарь с
    метками 0/1 (или -1/1) для каждого имени. Последние ``holdout_fraction`` изображений
    откладываются: на них считается AUC, и их же стоит брать для проверки VAE.
    К обучающим лицам добавляются их размытые копии (выходы VAE размыты).
    """
    import keras

    names = tuple(names)
    x = _as_unit_float(images)
    y = np.stack([np.asarray(labels[name]) > 0 for name in names], axis=1).astype("float32")
    n_train = int(round(len(x) * (1 - holdout_fraction)))
    if n_train < 1 or n_train >= len(x):
        raise ValueError(f"Слишком мало изображений ({len(x)}), чтобы отложить часть для проверки.")
    keras.utils.set_random_seed(seed)
    model = build_classifier_model(len(names), x.shape[1])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    train_x = np.concatenate([x[:n_train], _blurred(x[:n_train])])
    train_y = np.concatenate([y[:n_train], y[:n_train]])
    history = model.fit(
        train_x, train_y, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=verbose
    )
    holdout = np.arange(n_train, len(x))
    probs = np.asarray(model.predict(x[holdout], batch_size=256, verbose=0))
    auc = {name: roc_auc(y[holdout, j], probs[:, j]) for j, name in enumerate(names)}
    return AttributeClassifier(model, names, auc, holdout, bar, history.history)


def attribute_effects(vae, classifier, vectors, probe, alphas=(-2, 0, 2)):
    """Что делает каждый вектор признака: средние вероятности всех атрибутов по ``probe``
    после сдвига ``z_mean + alpha * v``.

    Возвращает словарь ``вектор -> {"alphas": ..., "probs": {атрибут: [p при каждом alpha]}}``.
    Сдвиги всех лиц для всех ``alpha`` декодируются одним вызовом на вектор.
    """
    from course_utils.vae_utils import decode, encode_mean

    probe = _as_unit_float(probe)
    z = encode_mean(probe, vae)
    effects = {}
    for name, vector in vectors.items():
        shifted = np.concatenate([z + alpha * np.asarray(vector)[None] for alpha in alphas])
        probs = classifier.predict(decode(shifted, vae))
        effects[name] = {
            "alphas": list(alphas),
            "probs": {
                other: [float(p.mean()) for p in np.split(probs[other], len(alphas))]
                for other in classifier.names
            },
        }
    return effects


def report_attribute_effects(effects, classifier, min_effect=MIN_EFFECT):
    """Печатает таблицу эффектов и возвращает вердикты ``атрибут -> "растёт" | "не растёт" |
    "не измерим"``. «Растёт» — вероятность атрибута строго растёт с alpha и между крайними
    alpha вырастает не меньше чем на ``min_effect``. Утечка — самое большое изменение
    вероятности другого измеримого атрибута между крайними alpha."""
    measurable = set(classifier.measurable())
    alphas = next(iter(effects.values()))["alphas"] if effects else []
    header = "".join(f"{f'α={a:+g}' if a else 'α=0':>8}" for a in alphas)
    print(f"{'вектор':<12}{header}   вывод        утечка (наибольшая)")
    verdicts = {}
    for name, effect in effects.items():
        own = effect["probs"][name]
        if name not in measurable:
            verdict = "не измерим"
        else:
            rises = all(a < b for a, b in zip(own, own[1:])) and own[-1] - own[0] >= min_effect
            verdict = "растёт" if rises else "не растёт"
        leaks = {
            other: p[-1] - p[0]
            for other, p in effect["probs"].items()
            if other != name and other in measurable
        }
        leak = max(leaks.items(), key=lambda item: abs(item[1])) if leaks else ("-", 0.0)
        values = "".join(f"{p:>8.2f}" for p in own)
        print(f"{name:<12}{values}   {verdict:<12} {leak[0]} {leak[1]:+.2f}")
        verdicts[name] = verdict
    return verdicts
