"""Векторы признаков, их добавление и морфинг (course_utils.vae_utils)."""

import keras
import matplotlib
import numpy as np
import pytest

from course_utils import vae_utils
from course_utils.vae_utils import (
    add_vector_to_images,
    get_vector_from_label,
    morph,
    morph_faces,
)

matplotlib.use("Agg")


class CountingDecoder:
    """Обёртка декодера, которая считает вызовы (и ``__call__``, и ``predict``)."""

    def __init__(self, decoder):
        self.decoder = decoder
        self.calls = 0

    def __call__(self, z, **kwargs):
        self.calls += 1
        return self.decoder(z, **kwargs)

    def predict(self, z, **kwargs):
        self.calls += 1
        return self.decoder.predict(z, **kwargs)


class IdentityVAE:
    """Модель без обучения: z_mean — пиксели изображения 2x2x1, декодер — обратная форма.

    Тогда декодирование точки ``z`` — это ровно ``z`` в форме картинки, и результаты
    функций можно проверить точно.
    """

    def __init__(self):
        self.decoder = CountingDecoder(lambda z, training=False: np.reshape(z, (-1, 2, 2, 1)))

    def encoder(self, images, training=False):
        z = np.asarray(images, dtype="float32").reshape(len(images), -1)
        return z, np.zeros_like(z), z


def _batch(rng, n_pos, n_neg, pos_value=1.0, neg_value=-1.0, labels=(1, 0)):
    x = rng.normal(0, 0.05, size=(n_pos + n_neg, 2, 2, 1)).astype("float32")
    x[:n_pos, 0, 0, 0] += pos_value
    x[n_pos:, 0, 0, 0] += neg_value
    y = np.array([labels[0]] * n_pos + [labels[1]] * n_neg)
    return x, y


# --- get_vector_from_label --------------------------------------------------------------


@pytest.mark.parametrize("labels", [(1, 0), (1, -1)])
def test_vector_points_from_negative_to_positive_and_is_unit(labels):
    rng = np.random.default_rng(0)
    data = [_batch(rng, 6, 10, labels=labels) for _ in range(8)]
    vec = get_vector_from_label(data, IdentityVAE(), 4, "Smiling", verbose=False)
    assert vec.shape == (4,)
    assert np.linalg.norm(vec) == pytest.approx(1.0, abs=1e-6)
    assert vec[0] > 0.99  # направление «без признака -> с признаком»


def test_batches_without_one_group_are_skipped(capsys):
    rng = np.random.default_rng(1)
    # только с признаком и очень далеко по второй координате: если бы батч учли, вектор
    # повернулся бы к ней
    lonely = (np.full((8, 2, 2, 1), 50.0, dtype="float32"), np.ones(8, dtype=int))
    data = [lonely] + [_batch(rng, 5, 5) for _ in range(6)]
    vec = get_vector_from_label(data, IdentityVAE(), 4, "Smiling", tolerance=0.0)
    assert vec[0] > 0.99 and abs(vec[1]) < 0.05
    assert "пропущено батчей без одной из групп: 1" in capsys.readouterr().out


def test_one_group_only_is_a_clear_error():
    rng = np.random.default_rng(2)
    data = [_batch(rng, 0, 8) for _ in range(3)]
    with pytest.raises(ValueError, match="с атрибутом 'Blond_Hair'"):
        get_vector_from_label(data, IdentityVAE(), 4, "Blond_Hair", verbose=False)
    with pytest.raises(ValueError, match="пары"):
        get_vector_from_label([np.zeros((4, 2, 2, 1))], IdentityVAE(), 4, "X", verbose=False)
    with pytest.raises(ValueError, match="embedding_dim"):
        get_vector_from_label([_batch(rng, 2, 2)], IdentityVAE(), 3, "X", verbose=False)


def test_stops_when_means_settle_or_at_the_cap():
    rng = np.random.default_rng(3)
    same = _batch(rng, 8, 8)
    consumed = []

    def stream(n):
        for i in range(n):
            consumed.append(i)
            yield same

    # одинаковые батчи: со второго средние не двигаются — остановка сразу
    vec = get_vector_from_label(stream(50), IdentityVAE(), 4, "Smiling", verbose=False)
    assert len(consumed) == 2 and np.linalg.norm(vec) == pytest.approx(1.0, abs=1e-6)
    # порог 0 не достижим на шумных батчах: останавливает предел числа изображений
    consumed.clear()
    noisy = (_batch(rng, 8, 8) for _ in range(50))
    vec = get_vector_from_label(
        noisy, IdentityVAE(), 4, "Smiling", tolerance=0.0, max_images=48, verbose=False
    )
    assert np.linalg.norm(vec) == pytest.approx(1.0, abs=1e-6)
    assert next(noisy)  # генератор не исчерпан: остановились на пределе


def test_progress_table_is_compact(capsys):
    rng = np.random.default_rng(4)
    data = [_batch(rng, 8, 8) for _ in range(30)]
    get_vector_from_label(data, IdentityVAE(), 4, "Smiling", tolerance=0.0, print_every=10)
    lines = capsys.readouterr().out.splitlines()
    assert "POS move" in lines[1] and "Δ distance" in lines[1]
    rows = [line for line in lines[2:] if line.strip()[:1].isdigit()]
    assert len(rows) == 4  # первый, 10-й, 20-й и последний (30-й) батчи
    assert rows[-1].split()[0] == str(30 * 16)
    get_vector_from_label(data, IdentityVAE(), 4, "Smiling", verbose=False)
    assert capsys.readouterr().out == ""


# --- add_vector_to_images ----------------------------------------------------------------


def test_add_vector_grid_is_exact_and_decoded_in_one_call(monkeypatch):
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(1))
    rng = np.random.default_rng(5)
    images = rng.random((7, 2, 2, 1)).astype("float32")
    vae = IdentityVAE()
    vec = np.array([1.0, 0, 0, 0], dtype="float32")
    alphas = (-2, 0, 1.5)
    grid = add_vector_to_images(images, vae, vec, n=3, alphas=alphas)
    assert grid.shape == (3, 4, 2, 2, 1)
    assert vae.decoder.calls == 1 and shown == [1]
    np.testing.assert_array_equal(grid[:, 0], images[:3])
    for column, alpha in enumerate(alphas, start=1):
        expected = images[:3].copy()
        expected[:, 0, 0, 0] += alpha
        np.testing.assert_allclose(grid[:, column], expected, atol=1e-6)


def test_add_vector_reads_batches_and_checks_sizes():
    rng = np.random.default_rng(6)
    data = [_batch(rng, 2, 2) for _ in range(3)]  # 4 изображения в батче, метки лишние
    grid = add_vector_to_images(data, IdentityVAE(), np.ones(4), n=6, show=False)
    assert grid.shape == (6, 10, 2, 2, 1)
    np.testing.assert_array_equal(grid[4:, 0], data[1][0][:2])
    with pytest.raises(ValueError, match="Длина вектора"):
        add_vector_to_images(data, IdentityVAE(), np.ones(3), n=2, show=False)
    with pytest.raises(ValueError, match="только 12"):
        add_vector_to_images(data, IdentityVAE(), np.ones(4), n=20, show=False)


# --- morph ---------------------------------------------------------------------------------


def test_morph_includes_both_end_points_in_one_call():
    rng = np.random.default_rng(7)
    a, b = rng.random((2, 2, 2, 1)).astype("float32")
    vae = IdentityVAE()
    alphas, decoded = morph(a, b, vae, n_steps=5)
    assert vae.decoder.calls == 1
    np.testing.assert_allclose(alphas, [0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(decoded[0], a, atol=1e-6)
    np.testing.assert_allclose(decoded[-1], b, atol=1e-6)
    np.testing.assert_allclose(decoded[2], (a + b) / 2, atol=1e-6)
    with pytest.raises(ValueError, match="хотя бы 2"):
        morph(a, b, vae, n_steps=1)


@pytest.mark.parametrize(
    "call",
    [
        lambda vae, x: morph(vae, x[0], x[1]),
        lambda vae, x: vae_utils.encode_mean(vae, x),
        lambda vae, x: vae_utils.decode(vae, np.zeros((1, 4))),
        lambda vae, x: morph_faces(vae, x, show=False),
        lambda vae, x: add_vector_to_images(vae, x, np.ones(4), show=False),
        lambda vae, x: get_vector_from_label(vae, [(x, np.arange(len(x)) % 2)], 4, "a"),
    ],
    ids=["morph", "encode_mean", "decode", "morph_faces", "add_vector_to_images", "get_vector"],
)
def test_model_first_is_explained(call):
    """Везде один порядок — данные, потом модель; старый порядок даёт понятную ошибку."""
    x = np.zeros((4, 2, 2, 1), "float32")
    with pytest.raises(TypeError, match="сначала данные, потом модель"):
        call(IdentityVAE(), x)


def test_morph_faces_strip(monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "show", lambda: None)
    rng = np.random.default_rng(8)
    data = [_batch(rng, 3, 3)]
    vae = IdentityVAE()
    strip = morph_faces(data, vae, n_steps=4, pair=(1, 4))
    assert strip.shape == (6, 2, 2, 1) and vae.decoder.calls == 1
    np.testing.assert_array_equal(strip[0], data[0][0][1])
    np.testing.assert_array_equal(strip[-1], data[0][0][4])
    np.testing.assert_allclose(strip[1], data[0][0][1], atol=1e-6)  # alpha = 0
    np.testing.assert_allclose(strip[-2], data[0][0][4], atol=1e-6)  # alpha = 1


# --- с настоящей моделью Keras ------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras_vae():
    from course_utils.vae import VAE, build_face_decoder, build_face_encoder

    keras.utils.set_random_seed(0)
    encoder = build_face_encoder(image_size=32, channels=3, num_features=8, z_dim=6)
    decoder = build_face_decoder(image_size=32, channels=3, num_features=8, z_dim=6)
    return VAE(encoder, decoder, beta=2000, reconstruction="mse")


def test_helpers_work_with_a_keras_vae(keras_vae):
    rng = np.random.default_rng(9)
    images = rng.random((10, 32, 32, 3)).astype("float32")
    labels = np.arange(10) % 2
    data = [(images[:5], labels[:5]), (images[5:], labels[5:])]
    vec = get_vector_from_label(data, keras_vae, 6, "Smiling", verbose=False)
    assert np.linalg.norm(vec) == pytest.approx(1.0, abs=1e-5)

    counting = CountingDecoder(keras_vae.decoder)

    class Wrapped:
        encoder = keras_vae.encoder
        decoder = counting

    grid = add_vector_to_images(images, Wrapped(), vec, n=4, show=False)
    assert grid.shape == (4, 10, 32, 32, 3) and counting.calls == 1
    strip = morph_faces(images, Wrapped(), n_steps=6, show=False)
    assert strip.shape == (8, 32, 32, 3) and counting.calls == 2
    # концы морфинга — декодированные z_mean изображений A и B
    z = vae_utils.encode_mean(images[:2], keras_vae)
    ends = vae_utils.decode(z, keras_vae)
    np.testing.assert_allclose(strip[1], ends[0], atol=1e-5)
    np.testing.assert_allclose(strip[-2], ends[1], atol=1e-5)


# --- измерено, а не на глаз ---------------------------------------------------------------------


def _small_dense_vae(size, z_dim):
    from keras import layers

    from course_utils.vae import VAE, Sampling

    inputs = keras.Input((size, size, 3))
    h = layers.Dense(256, activation="relu")(layers.Flatten()(inputs))
    z_mean, z_log_var = layers.Dense(z_dim)(h), layers.Dense(z_dim)(h)
    encoder = keras.Model(inputs, [z_mean, z_log_var, Sampling(seed=1)([z_mean, z_log_var])])
    latent = keras.Input((z_dim,))
    h = layers.Dense(256, activation="relu")(latent)
    pixels = layers.Dense(size * size * 3, activation="sigmoid")(h)
    decoder = keras.Model(latent, layers.Reshape((size, size, 3))(pixels))
    return VAE(encoder, decoder, beta=20000, reconstruction="mse")


EPOCHS_SMALL, BATCH_SMALL = 30, 32


def test_attribute_vector_raises_its_attribute_more_than_random_directions(faces_classifier):
    """Обучаем маленький VAE на нарисованных лицах: вектор Blond_Hair, прибавленный к
    отложенным лицам, поднимает вероятность светлых волос по независимому классификатору
    (правило ноутбука 03), вычтенный — опускает, и делает это сильнее, чем случайные
    направления той же длины. Регрессионная проверка того, что ноутбук 03 только печатает.

    Атрибут — светлые волосы, а не улыбка: у такой маленькой модели улыбка (несколько пикселей
    рта) в скрытом пространстве не выделена, и случайные направления меняли вероятность улыбки
    не меньше её вектора (2026-12-07, три бэкенда, по нескольку seed); цвет волос занимает
    большую часть лица, и его вектор выделяется с запасом."""
    from course_utils.face_attributes import attribute_effects

    classifier, images, labels = faces_classifier  # 800 лиц 32×32, классификатор — conftest
    size, z_dim, name = 32, 16, "Blond_Hair"
    x, blond = images.astype("float32") / 255, labels[name].to_numpy()
    keras.utils.set_random_seed(0)
    vae = _small_dense_vae(size, z_dim)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    vae.fit(x, epochs=EPOCHS_SMALL, batch_size=BATCH_SMALL, verbose=0)

    seen = classifier.holdout.min()  # вектор — по лицам, которых нет среди проверочных
    batches = [(x[i : i + 64], blond[i : i + 64]) for i in range(0, seen, 64)]
    vector = get_vector_from_label(batches, vae, z_dim, name, verbose=False)
    # Контроль: 8 случайных единичных направлений — насколько меняет вероятность любой сдвиг.
    rng = np.random.default_rng(0)
    random = rng.normal(size=(8, z_dim))
    random /= np.linalg.norm(random, axis=1, keepdims=True)
    vectors = {name: vector, **{f"random_{i}": v.astype("float32") for i, v in enumerate(random)}}
    effects = attribute_effects(vae, classifier, vectors, x[classifier.holdout])
    less, same, more = effects[name]["probs"][name]
    random_rises = [
        abs(e["probs"][name][2] - e["probs"][name][0]) for k, e in effects.items() if k != name
    ]
    probs = (
        f"P(светлые волосы) при alpha -2, 0, 2: {less:.3f} {same:.3f} {more:.3f}; "
        f"у случайных направлений |рост| {sorted(round(r, 3) for r in random_rises)}"
    )
    # Измерено (TensorFlow, JAX, PyTorch; seed 0–2; 2026-12-08): рост 0.53–0.70, вероятности
    # 0.03–0.05 → 0.18–0.27 → 0.56–0.73; у случайных направлений медиана |роста| 0.05–0.15.
    assert less < same < more and more - less >= 0.1, probs
    assert more - less >= 2 * float(np.median(random_rises)), probs
