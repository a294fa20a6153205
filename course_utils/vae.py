"""Вариационный автокодировщик (VAE) на Keras 3 для любого бэкенда.

Всё написано на ``keras.ops`` и ``keras.random``, поэтому модель обучается
одинаково на TensorFlow, JAX и PyTorch. Здесь:

* :class:`Sampling` — слой выборки ``z = mu + sigma * eps`` (трюк с перепараметризацией);
* :func:`kl_divergence` — KL-дивергенция N(mu, sigma^2) от N(0, I) в замкнутом виде;
* :class:`VAE` — модель, которая переопределяет ``compute_loss`` и сообщает метрики
  ``loss``, ``reconstruction_loss``, ``kl_loss``;
* строители кодировщика и декодера из лекции: для Fashion-MNIST и для лиц CelebA.

Соглашение о функции потерь (как в лекции, чтобы числа совпадали с её логами)::

    loss = beta * (ошибка реконструкции, усреднённая по пикселям одного изображения)
         + KL (сумма по измерениям скрытого пространства),

оба слагаемых усреднены по батчу. Значит, ``beta`` здесь взвешивает реконструкцию,
а не KL: большое ``beta`` — то же, что маленький вес KL в бета-VAE.
"""

from __future__ import annotations

import math
import numbers

import keras
from keras import layers, ops

__all__ = [
    "Sampling",
    "kl_divergence",
    "VAE",
    "build_fashion_encoder",
    "build_fashion_decoder",
    "build_face_encoder",
    "build_face_decoder",
]

_RECONSTRUCTIONS = ("bce", "mse")


@keras.saving.register_keras_serializable(package="course_utils")
class Sampling(layers.Layer):
    """Выборка ``z = z_mean + exp(z_log_var / 2) * eps``, ``eps ~ N(0, I)``.

    Вход — список ``[z_mean, z_log_var]`` одинаковой формы ``(batch, dim)``.
    Случайность берётся из собственного ``SeedGenerator`` слоя: при заданном
    ``seed`` последовательность выборок воспроизводима на любом бэкенде. Градиенты
    проходят через выборку (трюк с перепараметризацией): ``dz/dz_mean = 1``,
    ``dz/dz_log_var = exp(z_log_var / 2) * eps / 2`` — второй зависит от шума ``eps``.
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(
            ops.shape(z_mean), dtype=self.compute_dtype, seed=self.seed_generator
        )
        # Перепараметризация: случайность только в epsilon, и при фиксированном epsilon z —
        # гладкая функция z_mean и z_log_var: dz/dz_mean = 1, dz/dz_log_var = sigma*epsilon/2.
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        config = super().get_config()
        config["seed"] = self.seed
        return config


def kl_divergence(z_mean, z_log_var):
    """KL(N(z_mean, exp(z_log_var)) || N(0, I)) для каждого примера, форма ``(batch,)``.

    Замкнутый вид: ``-1/2 * sum(1 + log sigma^2 - mu^2 - sigma^2)`` по измерениям
    скрытого пространства (последняя ось).
    """
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


def _scale_for_replicas(loss):
    """Делит потерю на число копий модели под ``tf.distribute`` (иначе — без изменений).

    MirroredStrategy складывает градиенты копий, поэтому Keras ждёт от ``compute_loss``
    потерю, делённую на их число (так делают встроенные потери Keras), и сам умножает
    её обратно для журнала ``loss``.
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        if replicas > 1:
            loss = loss / replicas
    return loss


def _per_image_mean(values):
    """Среднее по всем осям, кроме первой (батча): одно число на изображение."""
    return ops.mean(values, axis=tuple(range(1, len(values.shape))))


@keras.saving.register_keras_serializable(package="course_utils")
class VAE(keras.Model):
    """Вариационный автокодировщик из кодировщика и декодера.

    Аргументы:
        encoder: модель ``x -> [z_mean, z_log_var, z]``.
        decoder: модель ``z -> реконструкция`` (значения в 0..1).
        beta: вес ошибки реконструкции (в лекции 500 для Fashion-MNIST, 2000 для лиц).
        reconstruction: ``"bce"`` — бинарная перекрёстная энтропия (Fashion-MNIST),
            ``"mse"`` — среднеквадратичная ошибка (лица).

    ``model(x)`` возвращает ``(z_mean, z_log_var, reconstruction)``; ``fit`` вызывается
    только с ``x``. В логах обучения и ``evaluate`` — ``loss``, ``reconstruction_loss``,
    ``kl_loss`` (и ``val_...`` при валидации).
    """

    def __init__(self, encoder, decoder, beta=500.0, reconstruction="bce", **kwargs):
        super().__init__(**kwargs)
        if reconstruction not in _RECONSTRUCTIONS:
            raise ValueError(
                f"reconstruction={reconstruction!r} не поддерживается: "
                f"выберите одно из {_RECONSTRUCTIONS} ('bce' для Fashion-MNIST, 'mse' для лиц)."
            )
        if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not beta > 0:
            raise ValueError(f"beta должно быть положительным числом, получено {beta!r}.")
        self.encoder = encoder
        self.decoder = decoder
        self.beta = float(beta)
        self.reconstruction = reconstruction
        # Ключ "loss" добавляет сам Keras; эти два трекера дают слагаемые по отдельности.
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")
        # Все веса живут в кодировщике и декодере: если они построены, построена и модель
        # (её можно сохранить сразу, не вызывая на данных).
        self.built = bool(getattr(encoder, "built", False) and getattr(decoder, "built", False))

    def call(self, inputs, training=False):
        # training передаётся вниз: BatchNormalization в модели для лиц ведёт себя по-разному.
        z_mean, z_log_var, z = self.encoder(inputs, training=training)
        reconstruction = self.decoder(z, training=training)
        return z_mean, z_log_var, reconstruction

    def reconstruction_error(self, x, reconstruction):
        """Ошибка реконструкции каждого изображения (среднее по пикселям), форма ``(batch,)``."""
        x = ops.cast(x, reconstruction.dtype)
        if self.reconstruction == "bce":
            # binary_crossentropy усредняет по последней оси (каналам), остальное — здесь.
            per_pixel = keras.losses.binary_crossentropy(x, reconstruction)
        else:
            per_pixel = ops.square(x - reconstruction)
        return _per_image_mean(per_pixel)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if y_pred is None:
            y_pred = self(x, training=training)
        z_mean, z_log_var, reconstruction = y_pred
        reconstruction_loss = self.beta * ops.mean(self.reconstruction_error(x, reconstruction))
        kl_loss = ops.mean(kl_divergence(z_mean, z_log_var))
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return _scale_for_replicas(reconstruction_loss + kl_loss)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "decoder": keras.saving.serialize_keras_object(self.decoder),
                "beta": self.beta,
                "reconstruction": self.reconstruction,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"])
        return cls(**config)


# --- Fashion-MNIST (32x32x1, скрытое пространство 2-D) -------------------------------


def build_fashion_encoder(image_size=32, embedding_dim=2):
    """Кодировщик из лекции: три свёртки с шагом 2, затем z_mean, z_log_var и выборка z.

    При ``image_size=32, embedding_dim=2`` — 100 868 параметров.
    """
    if image_size % 8:
        raise ValueError(f"image_size={image_size}: нужен размер, кратный 8 (в лекции 32).")
    encoder_input = keras.Input(shape=(image_size, image_size, 1), name="encoder_input")
    x = encoder_input
    for filters in (32, 64, 128):
        x = layers.Conv2D(filters, 3, strides=2, activation="relu", padding="same")(x)
    x = layers.Flatten()(x)
    z_mean = layers.Dense(embedding_dim, name="z_mean")(x)
    z_log_var = layers.Dense(embedding_dim, name="z_log_var")(x)
    z = Sampling(name="sampling")([z_mean, z_log_var])
    return keras.Model(encoder_input, [z_mean, z_log_var, z], name="encoder")


def build_fashion_decoder(embedding_dim=2, image_size=32):
    """Декодер из лекции: Dense -> 4x4x128 -> три транспонированные свёртки -> 32x32x1.

    При ``embedding_dim=2`` — 246 273 параметра.
    """
    if image_size % 8:
        raise ValueError(f"image_size={image_size}: нужен размер, кратный 8 (в лекции 32).")
    shape_before_flattening = (image_size // 8, image_size // 8, 128)
    decoder_input = keras.Input(shape=(embedding_dim,), name="decoder_input")
    # math.prod даёт int; Dense в Keras 3 не принимает numpy-целое (ошибка лекции).
    x = layers.Dense(math.prod(shape_before_flattening))(decoder_input)
    x = layers.Reshape(shape_before_flattening)(x)
    for filters in (128, 64, 32):
        x = layers.Conv2DTranspose(filters, 3, strides=2, activation="relu", padding="same")(x)
    decoder_output = layers.Conv2D(
        1, 3, strides=1, activation="sigmoid", padding="same", name="decoder_output"
    )(x)
    return keras.Model(decoder_input, decoder_output, name="decoder")


# --- Лица CelebA (64x64x3, скрытое пространство 200-D) -------------------------------

_FACE_BLOCKS = 5  # пять свёрток с шагом 2: 64 -> 2


def _check_face_size(image_size):
    step = 2**_FACE_BLOCKS
    if image_size % step:
        raise ValueError(f"image_size={image_size}: нужен размер, кратный {step} (в лекции 64).")


def build_face_encoder(image_size=64, channels=3, num_features=64, z_dim=200):
    """Кодировщик лиц: 5 x (Conv2D с шагом 2 + BatchNorm + LeakyReLU) до 2x2x64, затем z.

    При параметрах по умолчанию — 253 584 параметра, из них 640 необучаемых
    (скользящие средние и дисперсии BatchNormalization).
    """
    _check_face_size(image_size)
    encoder_input = keras.Input(shape=(image_size, image_size, channels), name="encoder_input")
    x = encoder_input
    for _ in range(_FACE_BLOCKS):
        x = layers.Conv2D(num_features, 3, strides=2, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU()(x)
    x = layers.Flatten()(x)
    z_mean = layers.Dense(z_dim, name="z_mean")(x)
    z_log_var = layers.Dense(z_dim, name="z_log_var")(x)
    z = Sampling(name="sampling")([z_mean, z_log_var])
    return keras.Model(encoder_input, [z_mean, z_log_var, z], name="encoder")


def build_face_decoder(image_size=64, channels=3, num_features=64, z_dim=200):
    """Декодер лиц: Dense + BatchNorm + LeakyReLU, 5 x (Conv2DTranspose с шагом 2 + BN +
    LeakyReLU) до 64x64, затем Conv2DTranspose с шагом 1 в ``channels`` каналов с сигмоидой.

    При параметрах по умолчанию — 240 131 параметр, из них 1 152 необучаемых.
    """
    _check_face_size(image_size)
    side = image_size // 2**_FACE_BLOCKS
    shape_before_flattening = (side, side, num_features)
    decoder_input = keras.Input(shape=(z_dim,), name="decoder_input")
    x = layers.Dense(math.prod(shape_before_flattening))(decoder_input)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU()(x)
    x = layers.Reshape(shape_before_flattening)(x)
    for _ in range(_FACE_BLOCKS):
        x = layers.Conv2DTranspose(num_features, 3, strides=2, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU()(x)
    decoder_output = layers.Conv2DTranspose(
        channels, 3, strides=1, activation="sigmoid", padding="same", name="decoder_output"
    )(x)
    return keras.Model(decoder_input, decoder_output, name="decoder")
