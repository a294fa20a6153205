"""Работы для проверки проверяющего: честные в разных стилях (галерея) и атаки.

Каждая работа собирается из эталонного решения (ноутбука преподавателя) заменой или
добавлением ячеек, поэтому галерея следует за эталоном. ``EXPECTED`` — сколько баллов
заслуживает работа: ``FULL`` или словарь «grade_id -> 0» для проверок, которые она должна
провалить, и её состояние.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from course_utils.config import REPO_ROOT

SOURCE = REPO_ROOT / "grading" / "source" / "cifar10_vae" / "cifar10_vae.ipynb"


def reference() -> nbformat.NotebookNode:
    nb = nbformat.read(SOURCE, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def _cell(nb, cell_id):
    return next(c for c in nb.cells if c.get("id") == cell_id)


def _replace(nb, cell_id, source):
    _cell(nb, cell_id).source = source
    return nb


def _insert_after(nb, cell_id, source, new_id=None):
    index = nb.cells.index(_cell(nb, cell_id))
    cell = nbformat.v4.new_code_cell(source)
    if new_id:
        cell.id = new_id
    nb.cells.insert(index + 1, cell)
    return cell


def _head(nb, until):
    """Только ячейки до ``until`` включительно (быстрые работы без обучения)."""
    index = nb.cells.index(_cell(nb, until))
    nb.cells = nb.cells[: index + 1]
    return nb


def _only(*sources):
    """Ноутбук только из этих ячеек кода."""
    nb = reference()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    return nb


# --------------------------------------------------------------------------- галерея


LECTURE_MODEL = '''
LATENT_DIM = 48


class LectureSampling(layers.Layer):
    def call(self, inputs):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(keras.ops.shape(z_mean))
        return z_mean + keras.ops.exp(0.5 * z_log_var) * eps


class LectureVAE(keras.Model):
    """VAE из лекции: свой train_step и трекер total_loss."""

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def call(self, inputs):
        return self.decoder(self.encoder(inputs)[2])

    def train_step(self, data):
        import tensorflow as tf

        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data, training=True)
            reconstruction = self.decoder(z, training=True)
            reconstruction_loss = 3072 * keras.ops.mean(
                keras.losses.binary_crossentropy(data, reconstruction, axis=(1, 2, 3))
            )
            kl_loss = keras.ops.mean(keras.ops.sum(
                -0.5 * (1 + z_log_var - keras.ops.square(z_mean) - keras.ops.exp(z_log_var)), axis=1
            ))
            total_loss = reconstruction_loss + kl_loss
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {m.name: m.result() for m in self.metrics}


encoder_input = keras.Input(shape=(32, 32, 3))
x = encoder_input
for filters in (32, 64, 128):
    x = layers.Conv2D(filters, 3, strides=2, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU()(x)
x = layers.Flatten()(x)
z_mean = layers.Dense(LATENT_DIM, name="z_mean")(x)
z_log_var = layers.Dense(LATENT_DIM, name="z_log_var")(x)
encoder = keras.Model(encoder_input, [z_mean, z_log_var, LectureSampling()([z_mean, z_log_var])])

decoder_input = keras.Input(shape=(LATENT_DIM,))
x = layers.Dense(4 * 4 * 128)(decoder_input)
x = layers.BatchNormalization()(x)
x = layers.LeakyReLU()(x)
x = layers.Reshape((4, 4, 128))(x)
for filters in (64, 32, 32):
    x = layers.Conv2DTranspose(filters, 3, strides=2, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU()(x)
decoder = keras.Model(decoder_input, layers.Conv2D(3, 3, padding="same", activation="sigmoid")(x))

vae = LectureVAE(encoder, decoder)
vae.compile(optimizer=keras.optimizers.Adam(learning_rate=LEARNING_RATE))
'''

CHECKPOINT_TRAINING = """
checkpoint = Path(tempfile.mkdtemp()) / "best.keras"
history = vae.fit(
    x_train[:TRAIN_LIMIT], epochs=EPOCHS, batch_size=BATCH_SIZE, verbose=2,
    callbacks=[keras.callbacks.ModelCheckpoint(checkpoint, monitor="loss", save_best_only=True)],
)
# Как в ноутбуке 03: дальше работаем с лучшей сохранённой моделью.
vae = keras.models.load_model(checkpoint)
"""

DENSE_MODEL = """
LATENT_DIM = 24
BETA = 32 * 32 * 3

encoder_input = keras.Input(shape=(32, 32, 3))
x = layers.Flatten()(encoder_input)
x = layers.Dense(512, activation="relu")(x)
x = layers.Dense(256, activation="relu")(x)
z_mean = layers.Dense(LATENT_DIM)(x)
z_log_var = layers.Dense(LATENT_DIM)(x)
encoder = keras.Model(encoder_input, [z_mean, z_log_var, Sampling()([z_mean, z_log_var])])

decoder_input = keras.Input(shape=(LATENT_DIM,))
x = layers.Dense(256, activation="relu")(decoder_input)
x = layers.Dense(512, activation="relu")(x)
x = layers.Dense(32 * 32 * 3, activation="sigmoid")(x)
decoder = keras.Model(decoder_input, layers.Reshape((32, 32, 3))(x))

vae = VAE(encoder, decoder, beta=BETA, reconstruction="bce")
vae.compile(optimizer=keras.optimizers.Adam(learning_rate=LEARNING_RATE))
"""


def gallery() -> dict[str, nbformat.NotebookNode]:
    """Честные решения в разных стилях: все должны получить полный балл."""
    lecture = _replace(reference(), "model_solution", LECTURE_MODEL)
    checkpoint = _replace(reference(), "train_solution", CHECKPOINT_TRAINING)
    dense = _replace(reference(), "model_solution", DENSE_MODEL)
    return {
        "reference": reference(),
        "lecture_style": lecture,
        "best_checkpoint": checkpoint,
        "dense_vae": dense,
    }


# --------------------------------------------------------------------------- атаки

#: Атака выполняется до обучения: выигрыша нет, если бы проверка шла в ядре студента.
#: Переопределение имён в пространстве имён студента: в ядре студента это «прошло» бы все тесты.
MONKEYPATCH = """
import numpy as _real_np

STUDENT_ID = "1032259319"
classes = [0, 1, 2, 3]  # не по номеру
classes_from_student_id = lambda student_id: [0, 1, 2, 3]
len = lambda obj: 10
isinstance = lambda obj, cls: True


class _AnyNumpy:
    def __getattr__(self, name):
        value = getattr(_real_np, name)
        return (lambda *a, **k: True) if name in ("allclose", "all", "isfinite", "array_equal") else value


np = _AnyNumpy()
load_cifar10 = lambda: ((_real_np.zeros((10, 32, 32, 3), "uint8"), _real_np.zeros((10, 1))),) * 2
x_train, y_train = load_cifar10()[0]
x_test, y_test = load_cifar10()[1]


class _History:
    history = {"loss": [float("inf"), float("inf")]}


history = _History()
morph_frames = _real_np.random.rand(5, 32, 32, 3)
"""

AST_TRANSFORMER = """
import ast


class _SwallowErrors(ast.NodeTransformer):
    def visit_Module(self, node):
        handler = ast.ExceptHandler(type=ast.Name("BaseException", ast.Load()), name=None, body=[ast.Pass()])
        node.body = [ast.Try(body=node.body or [ast.Pass()], handlers=[handler], orelse=[], finalbody=[])]
        return ast.fix_missing_locations(node)


get_ipython().ast_transformers.append(_SwallowErrors())
get_ipython().showtraceback = lambda *args, **kwargs: None
"""

FAKE_OBJECTS = """
import types

STUDENT_ID = "1032259319"
classes = classes_from_student_id(STUDENT_ID)
(_xa, _ya), (_xs, _ys) = load_cifar10()
_keep = lambda y: np.isin(y.reshape(-1), classes)
x_train = np.zeros((_keep(_ya).sum(), 32, 32, 3), "float32")
y_train = _ya.reshape(-1)[_keep(_ya)]
x_test = np.zeros((_keep(_ys).sum(), 32, 32, 3), "float32")
y_test = _ys.reshape(-1)[_keep(_ys)]
LATENT_DIM = 8


def _encoder(images, training=False):
    n = len(images)
    return [np.zeros((n, 8)), np.zeros((n, 8)), np.random.normal(size=(n, 8))]


vae = types.SimpleNamespace(encoder=_encoder, decoder=lambda z, training=False: np.zeros((len(z), 32, 32, 3)))
history = types.SimpleNamespace(history={"loss": [2.0, 1.0]}, model=vae)
image_a, label_a = x_train[0], int(y_train[0])
image_b, label_b = x_train[-1], int(y_train[-1])
morph_frames = np.zeros((10, 32, 32, 3), "float32")
morph_figure = plt.figure()
morph_figure.add_subplot().imshow(np.random.rand(8, 8, 3))
"""

#: Подделка из песочницы: пишет в базу оценок, чужие работы, код курса; ищет исходник.
TAMPER = """
import glob, os, pathlib, sqlite3, subprocess, sys
found = {}
for pattern in ("{course}/gradebook.db", "{course}/submitted/*/cifar10_vae/*.ipynb",
                "{course}/source/cifar10_vae/*.ipynb", "{repo}/grading/gradebook.db"):
    found[pattern] = glob.glob(pattern)
for path in sum(found.values(), []):
    try:
        pathlib.Path(path).write_text("испорчено")
    except OSError as exc:
        found[path] = str(exc)
for path in ("{repo}/course_utils/hacked.py", "{repo}/course_utils/assignment.py"):
    try:
        with open(path, "a") as f:
            f.write("# испорчено\\n")
    except OSError as exc:
        found[path] = str(exc)
print(found)
"""

#: По этим строкам в командной строке тесты ищут процессы, оставшиеся после проверки.
DETACHED_MARKERS = ("vae-grading-detached-marker", "100007")

DETACHED = """
import subprocess, sys
# Отсоединённый процесс, который пережил бы проверку, и ещё один — через двойной fork.
subprocess.Popen([sys.executable, "-c", "import time  # vae-grading-detached-marker\\nwhile True: time.sleep(1)"],
                 start_new_session=True)
subprocess.Popen(["sh", "-c", "(setsid sleep 100007 &) ; exit 0"])
"""

SIGINT_LOOP = """
import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    pass
"""

ENDLESS_LOOP = "while True:\n    pass\n"

MEMORY_HOG = """
hog = []
while True:
    hog.append(b"\\x01" * (256 * 1024 * 1024))  # байты записаны: память занята на деле
"""

NETWORK = """
import socket, urllib.request
reached = []
for host, port in [("1.1.1.1", 53), ("pypi.org", 443), ("127.0.0.1", 22)]:
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect((host, port))
        reached.append(host)
    except OSError:
        pass
assert not [h for h in reached if h != "127.0.0.1"], f"сеть доступна: {reached}"
print("сети нет")
"""

CROSS_FADE = """
MORPH_STEPS = 10
alphas = np.linspace(0.0, 1.0, MORPH_STEPS)
ends = keras.ops.convert_to_numpy(vae.decoder(vae.encoder(np.stack([image_a, image_b]), training=False)[0]))
# Концы верные, а между ними — смесь пикселей, а не декодированные точки отрезка.
morph_frames = np.stack([ends[0] * (1 - a) + ends[1] * a for a in alphas])
"""

PLAIN_AUTOENCODER = """
LATENT_DIM = 64
encoder_input = keras.Input(shape=(32, 32, 3))
x = encoder_input
for filters in (32, 64, 128):
    x = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(x)
z = layers.Dense(LATENT_DIM)(layers.Flatten()(x))
encoder = keras.Model(encoder_input, [z, keras.ops.zeros_like(z), z])

decoder_input = keras.Input(shape=(LATENT_DIM,))
x = layers.Reshape((4, 4, 128))(layers.Dense(4 * 4 * 128, activation="relu")(decoder_input))
for filters in (64, 32, 32):
    x = layers.Conv2DTranspose(filters, 3, strides=2, padding="same", activation="relu")(x)
decoder = keras.Model(decoder_input, layers.Conv2D(3, 3, padding="same", activation="sigmoid")(x))


class PlainAutoencoder(keras.Model):
    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def call(self, x):
        return self.decoder(self.encoder(x)[0])


vae = PlainAutoencoder(encoder, decoder)
vae.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="mse")
"""


#: Рисунок без Keras (ячейка после зависшей: выполнение продолжается).
FIGURE = """
import matplotlib.pyplot as plt
import numpy as np

morph_figure, ax = plt.subplots()
ax.imshow(np.random.default_rng(0).random((8, 8, 3)))
"""


def loops() -> dict[str, nbformat.NotebookNode]:
    """Зависающие работы: их проверяют с коротким пределом на ячейку."""
    classes = (
        "from course_utils.assignment import classes_from_student_id\n"
        + _cell(reference(), "classes_solution").source
    )
    return {
        "endless_loop": _only(classes, ENDLESS_LOOP, FIGURE),
        "sigint_loop": _only(classes, SIGINT_LOOP, FIGURE),
    }


def _train_as_autoencoder(nb):
    _replace(
        nb,
        "train_solution",
        "history = vae.fit(x_train[:TRAIN_LIMIT], x_train[:TRAIN_LIMIT], epochs=EPOCHS, batch_size=BATCH_SIZE, verbose=2)",
    )
    return nb


def attacks(course: Path) -> dict[str, nbformat.NotebookNode]:
    """Работы-атаки; ``course`` — папка курса, которую они пытаются испортить."""
    blank = nbformat.read(course / "release" / "cifar10_vae" / "cifar10_vae.ipynb", as_version=4)

    monkeypatch = _head(reference(), "setup")
    monkeypatch.cells.append(nbformat.v4.new_code_cell(MONKEYPATCH))

    ast_hooks = copy.deepcopy(blank)
    _insert_after(ast_hooks, "setup", AST_TRANSFORMER)

    fake = _head(reference(), "setup")
    fake.cells.append(nbformat.v4.new_code_cell(FAKE_OBJECTS))

    # Атаки без модели — без ячейки подготовки (без Keras ядро стартует за секунды).
    tamper = _only(TAMPER.replace("{course}", str(course)).replace("{repo}", str(REPO_ROOT)))
    detached = _only(DETACHED)

    hog = _only(MEMORY_HOG)
    # Ядро завершается само (os._exit): выносить нечего, но строка и отзыв есть.
    died = _only(_cell(reference(), "classes_solution").source, "import os\nos._exit(1)")
    network = _only(
        "from course_utils.assignment import classes_from_student_id\n"
        + _cell(reference(), "classes_solution").source,
        NETWORK,
    )

    duplicated = reference()
    for grade_id in ("test_classes", "test_morph"):
        copy_cell = copy.deepcopy(_cell(duplicated, grade_id))
        duplicated.cells.insert(duplicated.cells.index(_cell(duplicated, grade_id)), copy_cell)
    extra = nbformat.v4.new_code_cell("print('лишняя ячейка с оценкой')")
    extra.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": "extra_credit",
        "points": 5,
        "locked": True,
        "solution": False,
        "task": False,
        "schema_version": 3,
    }
    duplicated.cells.append(extra)

    cross_fade = _replace(reference(), "morph_solution", CROSS_FADE)
    plain = _train_as_autoencoder(_replace(reference(), "model_solution", PLAIN_AUTOENCODER))

    return {
        "blank": blank,
        "monkeypatch": monkeypatch,
        "ast_transformer": ast_hooks,
        "fake_objects": fake,
        "tamper": tamper,
        "detached_process": detached,
        "memory_hog": hog,
        "kernel_death": died,
        "network": network,
        "duplicated_grade_cells": duplicated,
        "cross_fade": cross_fade,
        "plain_autoencoder": plain,
    }
