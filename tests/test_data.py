"""Загрузчики данных: настоящие наборы, встроенная выборка, фильтр классов, плохие входы."""

import gzip
import io
import pickle
import shutil
import tarfile

import keras
import numpy as np
import pytest

from course_utils import config, data
from course_utils.config import REPO_ROOT, SAMPLE_DATA_DIR
from course_utils.data import DatasetError

CIFAR10_ARCHIVE_IN_FOLDER = data.REGISTRY["cifar10"].local_path


@pytest.fixture
def sample_mode(monkeypatch, course_cache):
    monkeypatch.setenv("COURSE_DATA", "sample")


@pytest.fixture
def no_keras_download(monkeypatch):
    """Загрузчики keras.datasets падают: встроенные/локальные данные не должны их звать."""

    def refuse():
        raise AssertionError("keras.datasets не должен вызываться")

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", refuse)


@pytest.fixture(scope="module")
def real_cifar10():
    """Настоящий CIFAR-10 через COURSE_DATA=<папка> (читается один раз на модуль)."""
    shared = REPO_ROOT.parent / "shared" / "datasets"
    archive = shared / CIFAR10_ARCHIVE_IN_FOLDER
    if not archive.is_file():
        pytest.skip(f"нет настоящего архива CIFAR-10: {archive}")
    before = archive.stat()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COURSE_DATA", str(shared))
        mp.setattr(keras.datasets.cifar10, "load_data", None)  # его звать нельзя
        loaded = data.load_cifar10()
    after = archive.stat()
    # Архив пользователя не тронут (keras.datasets.cifar10 удалил бы «чужой» архив).
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    return loaded


def first_per_class(labels, n):
    keep = np.zeros(len(labels), bool)
    for c in range(10):
        keep[np.flatnonzero(labels == c)[:n]] = True
    return keep


# --------------------------------------------------------------------------- Fashion-MNIST


def test_fashion_sample_layout(sample_mode, course_cache):
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist()
    assert x_train.shape == (2000, 28, 28) and y_train.shape == (2000,)
    assert x_test.shape == (500, 28, 28) and y_test.shape == (500,)
    for array in (x_train, y_train, x_test, y_test):
        assert array.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [200] * 10
    assert np.bincount(y_test).tolist() == [50] * 10
    assert x_train.max() == 255 and x_train.min() == 0
    assert not course_cache.exists()  # ничего не копируется во временные папки


def test_fashion_real_files_read_in_place(shared_datasets, monkeypatch, course_cache):
    monkeypatch.setenv("COURSE_DATA", str(shared_datasets))
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist()
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert x_train.dtype == np.uint8 and set(np.unique(y_test)) == set(range(10))
    with gzip.open(shared_datasets / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz") as f:
        assert np.array_equal(y_test, np.frombuffer(f.read(), np.uint8, offset=8))
    assert not course_cache.exists()

    # Встроенная выборка — первые 200/50 изображений каждого класса (data/README.md).
    monkeypatch.setenv("COURSE_DATA", "sample")
    (xs_train, ys_train), (xs_test, ys_test) = data.load_fashion_mnist()
    keep = first_per_class(y_train, 200)
    assert np.array_equal(xs_train, x_train[keep]) and np.array_equal(ys_train, y_train[keep])
    keep = first_per_class(y_test, 50)
    assert np.array_equal(xs_test, x_test[keep]) and np.array_equal(ys_test, y_test[keep])


def test_fashion_missing_files_named(tmp_path, monkeypatch, course_cache):
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    for name in data.FASHION_MNIST_FILES[:3]:
        (folder / name).write_bytes(b"x")
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    with pytest.raises(DatasetError, match="нет файлов Fashion-MNIST: t10k-labels.*Что сделать"):
        data.load_fashion_mnist()


def test_fashion_corrupt_files_explained_and_kept(tmp_path, monkeypatch, course_cache):
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    for name in data.FASHION_MNIST_FILES:
        (folder / name).write_bytes(b"not a gzip file")
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    with pytest.raises(DatasetError, match="повреждён или не в формате IDX.*Что сделать"):
        data.load_fashion_mnist()
    for name in data.FASHION_MNIST_FILES:
        assert (folder / name).read_bytes() == b"not a gzip file"


@pytest.mark.parametrize(
    "module, loader", [("fashion_mnist", "load_fashion_mnist"), ("cifar10", "load_cifar10")]
)
def test_download_failure_says_how_to_go_offline(monkeypatch, module, loader):
    monkeypatch.delenv("COURSE_DATA", raising=False)
    failure = Exception("URL fetch failure on https://example.invalid: None -- no network")

    def offline():
        raise failure

    monkeypatch.setattr(getattr(keras.datasets, module), "load_data", offline)
    with pytest.raises(DatasetError, match="Не удалось загрузить") as info:
        getattr(data, loader)()
    assert "COURSE_DATA=sample" in str(info.value)
    assert "URL fetch failure" in str(info.value)
    assert info.value.__cause__ is failure


# --------------------------------------------------------------------------- preprocess


def test_preprocess_pads_scales_and_adds_channel():
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    imgs[0, 0, 0] = 255
    out = data.preprocess(imgs)
    assert out.shape == (5, 32, 32, 1) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() == 1.0
    np.testing.assert_allclose(out[:, 2:30, 2:30, 0], imgs / 255.0, rtol=1e-6)
    border = np.ones((32, 32), bool)
    border[2:30, 2:30] = False
    assert np.all(out[:, border, 0] == 0.0)
    # Уже с осью канала — тот же результат.
    np.testing.assert_array_equal(data.preprocess(imgs[..., None]), out)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((28, 28), np.uint8), "формы"),
        (np.zeros((0, 28, 28), np.uint8), "пустой"),
        (np.zeros((2, 40, 40), np.uint8), "больше 32x32"),
        (np.zeros((2, 28, 28), np.float32), "целые значения 0..255"),
        (np.full((2, 28, 28), 300, np.int32), "0..255"),
    ],
)
def test_preprocess_rejects_bad_input(bad, message):
    with pytest.raises(ValueError, match=message):
        data.preprocess(bad)


# --------------------------------------------------------------------------- CIFAR-10


def test_cifar10_sample_layout(sample_mode, no_keras_download):
    (x_train, y_train), (x_test, y_test) = data.load_cifar10()
    assert x_train.shape == (1000, 32, 32, 3) and y_train.shape == (1000, 1)
    assert x_test.shape == (250, 32, 32, 3) and y_test.shape == (250, 1)
    for array in (x_train, y_train, x_test, y_test):
        assert array.dtype == np.uint8
    assert np.bincount(y_train[:, 0]).tolist() == [100] * 10
    assert np.bincount(y_test[:, 0]).tolist() == [25] * 10
    assert x_train.std() > 30  # настоящие картинки, а не нули


def test_cifar10_real_archive(real_cifar10):
    (x_train, y_train), (x_test, y_test) = real_cifar10
    assert x_train.shape == (50000, 32, 32, 3) and y_train.shape == (50000, 1)
    assert x_test.shape == (1000, 32, 32, 3) and y_test.shape == (1000, 1)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.bincount(y_train[:, 0]).tolist() == [5000] * 10
    assert set(np.unique(y_test)) == set(range(10))


def test_cifar10_sample_is_first_images_per_class(real_cifar10, sample_mode):
    (x_train, y_train), (x_test, y_test) = real_cifar10
    (xs_train, ys_train), (xs_test, ys_test) = data.load_cifar10()
    keep = first_per_class(y_train[:, 0], 100)
    assert np.array_equal(xs_train, x_train[keep]) and np.array_equal(ys_train, y_train[keep])
    keep = first_per_class(y_test[:, 0], 25)
    assert np.array_equal(xs_test, x_test[keep]) and np.array_equal(ys_test, y_test[keep])


@pytest.mark.parametrize("classes", [[9, 1], (1, 9), np.array([1, 9])])
def test_cifar10_class_filter_keeps_original_labels(sample_mode, classes):
    (x_all, y_all), (xt_all, yt_all) = data.load_cifar10()
    (x_train, y_train), (x_test, y_test) = data.load_cifar10(classes=classes)
    assert set(np.unique(y_train)) == {1, 9} and set(np.unique(y_test)) == {1, 9}
    assert np.bincount(y_train[:, 0], minlength=10)[[1, 9]].tolist() == [100, 100]
    keep = np.isin(y_all[:, 0], [1, 9])
    assert np.array_equal(x_train, x_all[keep]) and np.array_equal(y_train, y_all[keep])
    keep = np.isin(yt_all[:, 0], [1, 9])
    assert np.array_equal(x_test, xt_all[keep])
    assert y_train.shape == (200, 1) and y_train.dtype == np.uint8


@pytest.mark.parametrize(
    "classes, message",
    [
        ([10], "Неизвестный класс 10"),
        ([-1], "Неизвестный класс -1"),
        (["cat"], "Неизвестный класс 'cat'"),
        ([1.0], "Неизвестный класс 1.0"),
        ([True], "Неизвестный класс True"),
        ("cat", "списком номеров классов"),
        (3, "списком номеров классов"),
        ([], "Список классов пуст"),
        ([1, 3, 1], r"Классы повторяются: \[1\]"),
    ],
)
def test_cifar10_bad_classes(sample_mode, classes, message):
    with pytest.raises(ValueError, match=message):
        data.load_cifar10(classes=classes)


def _folder_with_archive(tmp_path, payload):
    archive = tmp_path / "cifar-10" / "cifar-10-python.tar.gz"
    archive.parent.mkdir()
    archive.write_bytes(payload)
    return archive


def _tar_gz(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return buf.getvalue()


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"this is not an archive", "повреждён"),
        (SAMPLE_DATA_DIR.joinpath("cifar-10-sample.tar.gz").read_bytes()[:200_000], "повреждён"),
        (_tar_gz({"readme.txt": b"hello"}), "нет cifar-10-batches-py/data_batch"),
    ],
    ids=["garbage", "truncated", "wrong-layout"],
)
def test_cifar10_bad_archive_is_explained_and_not_deleted(tmp_path, monkeypatch, payload, message):
    archive = _folder_with_archive(tmp_path, payload)
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    with pytest.raises(DatasetError, match=message):
        data.load_cifar10()
    assert archive.read_bytes() == payload


def test_cifar10_archive_refuses_code_in_pickle(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (exec, (f"open({str(marker)!r}, 'w').close()",))

    batch = pickle.dumps({b"data": Evil(), b"labels": [0]})
    archive = _folder_with_archive(
        tmp_path,
        _tar_gz(
            {"cifar-10-batches-py/data_batch_1": batch, "cifar-10-batches-py/test_batch": batch}
        ),
    )
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    with pytest.raises(DatasetError, match="недопустимый объект в pickle: builtins.exec"):
        data.load_cifar10()
    assert not marker.exists() and archive.is_file()


def test_cifar10_missing_archive(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    with pytest.raises(DatasetError, match="Архив CIFAR-10 не найден.*COURSE_DATA=sample"):
        data.load_cifar10()


@pytest.mark.parametrize("loader", ["load_fashion_mnist", "load_cifar10"])
def test_sample_missing_explains_where_it_lives(monkeypatch, tmp_path, course_cache, loader):
    monkeypatch.setenv("COURSE_DATA", "sample")
    monkeypatch.setattr(config, "SAMPLE_DATA_DIR", tmp_path / "no-data")
    with pytest.raises(DatasetError, match="COURSE_DATA=sample: встроенные данные .* не найдены"):
        getattr(data, loader)()


@pytest.mark.parametrize("loader", ["load_fashion_mnist", "load_cifar10"])
def test_sample_changed_is_detected_by_checksum(monkeypatch, tmp_path, loader):
    """Изменённый файл встроенной выборки не читается молча: его ловит sha256 из реестра."""
    sample = tmp_path / "data"
    shutil.copytree(SAMPLE_DATA_DIR, sample)
    name = next(iter(data.REGISTRY[loader.removeprefix("load_")].sample_files))
    with open(sample / name, "ab") as f:
        f.write(b"\0")
    monkeypatch.setenv("COURSE_DATA", "sample")
    monkeypatch.setattr(config, "SAMPLE_DATA_DIR", sample)
    with pytest.raises(DatasetError, match="изменён или повреждён.*make sample-data"):
        getattr(data, loader)()


def test_registry_loads_by_name(sample_mode):
    (x_train, _), _ = data.load("cifar10", classes=[3])
    assert x_train.shape == (100, 32, 32, 3)
    with pytest.raises(DatasetError, match="Набора 'mnist' нет.*fashion_mnist, cifar10, celeba"):
        data.load("mnist")


@pytest.mark.parametrize("name", sorted(data.REGISTRY))
def test_every_registered_loader_exists(name):
    """Реестр называет загрузчик строкой "модуль:функция": она должна указывать на функцию."""
    import importlib

    module, function = data.REGISTRY[name].loader.split(":")
    assert callable(getattr(importlib.import_module(module), function))
