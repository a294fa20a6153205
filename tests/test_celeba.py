"""CelebA: поиск папки, проверка CSV, загрузчики и офлайн-генератор лиц."""

import sys
import types

import numpy as np
import pandas as pd
import pytest

from course_utils import celeba, generated_faces
from course_utils.celeba import (
    load_celeba,
    load_celeba_arrays,
    load_celeba_labelled,
    memory_batches,
    read_attributes,
)
from course_utils.generated_faces import generate_celeba_sample

N_SMALL = 240  # хватает, чтобы у каждого атрибута были обе группы


@pytest.fixture(scope="module")
def sample_root(tmp_path_factory):
    """Небольшой сгенерированный набор во временной папке (общий для модуля)."""
    return generate_celeba_sample(
        n_images=N_SMALL, seed=3, cache=tmp_path_factory.mktemp("c"), verbose=False
    )


def _copy_dataset(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


# --- где искать данные -------------------------------------------------------------------


def test_missing_folder_explains_how_to_get_data(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        celeba.celeba_dir(tmp_path / "nope")
    message = str(err.value)
    assert "kaggle datasets download -d jessicali9530/celeba-dataset" in message
    assert "COURSE_DATA=sample" in message


def test_folder_lookup_order(tmp_path, monkeypatch, sample_root):
    monkeypatch.delenv("CELEBA_DIR", raising=False)
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "cache"))
    # COURSE_DATA — папка с наборами: берётся её celeba-dataset
    datasets = tmp_path / "datasets"
    _copy_dataset(sample_root, datasets / "celeba-dataset")
    monkeypatch.setenv("COURSE_DATA", str(datasets))
    assert celeba.celeba_dir() == datasets / "celeba-dataset"
    # CELEBA_DIR важнее COURSE_DATA, аргумент важнее всего
    monkeypatch.setenv("CELEBA_DIR", str(sample_root))
    assert celeba.celeba_dir() == sample_root
    assert celeba.celeba_dir(datasets / "celeba-dataset") == datasets / "celeba-dataset"
    # COURSE_DATA=sample: сгенерированный набор из кэша курса
    monkeypatch.delenv("CELEBA_DIR")
    monkeypatch.setenv("COURSE_DATA", "sample")
    full, fast = generated_faces.SAMPLE_SIZE, generated_faces.FAST_SAMPLE_SIZE
    monkeypatch.delenv("COURSE_FAST", raising=False)
    calls = []
    monkeypatch.setattr(
        generated_faces,
        "generate_celeba_sample",
        lambda n_images=full: calls.append(n_images) or sample_root,
    )
    assert celeba.celeba_dir() == sample_root and calls == [full]
    # профиль CI рисует меньше лиц: ноутбуку 03 в нём нужно 512
    monkeypatch.setenv("COURSE_FAST", "1")
    assert celeba.celeba_dir() == sample_root and calls == [full, fast]
    monkeypatch.delenv("COURSE_FAST")
    calls.clear()
    # без настроек и без kagglehub: предупреждение с инструкцией и нарисованные лица
    monkeypatch.delenv("COURSE_DATA")
    monkeypatch.setitem(sys.modules, "kagglehub", None)  # import kagglehub -> ImportError
    with pytest.warns(UserWarning, match="kagglehub") as caught:
        assert celeba.celeba_dir() == sample_root and calls == [full]
    assert "COURSE_DATA=sample" in str(caught[0].message)


def _fake_kagglehub(download):
    module = types.ModuleType("kagglehub")
    module.dataset_download = download
    return module


def test_kagglehub_download_in_the_kaggle_layout(tmp_path, monkeypatch, sample_root):
    """Где установлен kagglehub (Colab), набор скачивается им; сеть не нужна: kagglehub
    подменён папкой в раскладке Kaggle (.../versions/2/img_align_celeba/img_align_celeba)."""
    for name in ("CELEBA_DIR", "COURSE_DATA"):
        monkeypatch.delenv(name, raising=False)
    stand_in = (
        tmp_path / "kagglehub" / "datasets" / "jessicali9530" / "celeba-dataset" / "versions" / "2"
    )
    _copy_dataset(sample_root, stand_in)
    (stand_in / "manifest.json").unlink()  # как у настоящего набора
    asked = []
    monkeypatch.setitem(
        sys.modules,
        "kagglehub",
        _fake_kagglehub(lambda handle: asked.append(handle) or str(stand_in)),
    )
    assert celeba.celeba_dir() == stand_in and asked == ["jessicali9530/celeba-dataset"]
    assert not generated_faces.is_generated(celeba.celeba_dir())
    images, labels = load_celeba_arrays(("Smiling",), limit=20)
    assert images.shape == (20, 64, 64, 3) and labels["Smiling"].isin([0, 1]).all()


@pytest.mark.parametrize("problem", ["network", "layout"])
def test_failed_kagglehub_download_falls_back_to_generated_faces(
    tmp_path, monkeypatch, sample_root, problem
):
    for name in ("CELEBA_DIR", "COURSE_DATA"):
        monkeypatch.delenv(name, raising=False)

    def download(handle):
        if problem == "network":
            raise ConnectionError("нет сети")
        (tmp_path / "empty").mkdir()
        return str(tmp_path / "empty")  # скачалось не то: картинок нет

    monkeypatch.setitem(sys.modules, "kagglehub", _fake_kagglehub(download))
    monkeypatch.setattr(generated_faces, "generate_celeba_sample", lambda: sample_root)
    with pytest.warns(UserWarning, match="kagglehub не удалось") as caught:
        assert celeba.celeba_dir() == sample_root
    assert "нет сети" in str(caught[0].message) if problem == "network" else True


def test_folder_without_images(tmp_path):
    (tmp_path / "img_align_celeba" / "img_align_celeba").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="нет изображений"):
        celeba.celeba_image_dir(tmp_path)


# --- CSV атрибутов ------------------------------------------------------------------------


def test_missing_csv(tmp_path, sample_root):
    root = _copy_dataset(sample_root, tmp_path / "celeba-dataset")
    (root / "list_attr_celeba.csv").unlink()
    with pytest.raises(FileNotFoundError, match="list_attr_celeba.csv"):
        read_attributes(root)
    with pytest.raises(FileNotFoundError, match="kaggle"):
        load_celeba_labelled("Smiling", data_dir=root)


def test_mismatched_csv(tmp_path, sample_root):
    root = _copy_dataset(sample_root, tmp_path / "celeba-dataset")
    csv = root / "list_attr_celeba.csv"
    table = pd.read_csv(csv)
    table.iloc[:-1].to_csv(csv, index=False)  # строки для последнего файла нет
    with pytest.raises(ValueError, match="не совпадают") as err:
        read_attributes(root)
    assert f"{N_SMALL:06d}.jpg" in str(err.value)
    table.drop(columns="image_id").to_csv(csv, index=False)
    with pytest.raises(ValueError, match="image_id"):
        read_attributes(root)


def test_csv_rows_are_put_in_file_order(tmp_path, sample_root):
    root = _copy_dataset(sample_root, tmp_path / "celeba-dataset")
    csv = root / "list_attr_celeba.csv"
    original = pd.read_csv(csv)
    original.sample(frac=1.0, random_state=0).to_csv(csv, index=False)
    restored = read_attributes(root)
    pd.testing.assert_frame_equal(restored, original)


def test_unknown_attribute_suggests_close_names(sample_root):
    with pytest.raises(KeyError, match="Smiling"):
        load_celeba_labelled("Smilling", data_dir=sample_root)
    with pytest.raises(KeyError, match="Blond_Hair"):
        load_celeba_labelled("blond_hair", data_dir=sample_root)


# --- загрузчики ----------------------------------------------------------------------------


def test_load_celeba_reads_generated_set(sample_root):
    data = load_celeba(data_dir=sample_root, batch_size=64)
    shapes, total = set(), 0
    for batch in data:
        x = batch.numpy()
        assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0
        shapes.add(x.shape[1:])
        total += len(x)
    assert shapes == {(64, 64, 3)} and total == N_SMALL
    train, val = load_celeba(data_dir=sample_root, batch_size=64, validation_split=0.25)
    assert sum(len(b) for b in train) + sum(len(b) for b in val) == N_SMALL
    assert sum(len(b) for b in val) == N_SMALL // 4


def test_labels_line_up_with_images(sample_root):
    """Метки после перемешивания относятся к своим картинкам: каждую картинку находим
    среди прочитанных по порядку файлов и сверяем её метку со строкой CSV."""
    table = read_attributes(sample_root)
    ordered = next(iter(load_celeba(data_dir=sample_root, batch_size=N_SMALL, shuffle=False)))
    keys = {img.tobytes(): k for k, img in enumerate(ordered.numpy())}
    for name in ("Wearing_Hat", "Smiling"):
        data = load_celeba_labelled(name, data_dir=sample_root, batch_size=50, seed=5)
        total = 0
        for images, labels in data:
            for img, label in zip(images.numpy(), labels.numpy()):
                row = keys[img.tobytes()]
                assert label == int(table[name].iloc[row] > 0)
                total += 1
        assert total == N_SMALL


def test_arrays_match_the_loader_and_the_csv(sample_root):
    images, labels = load_celeba_arrays(("Smiling", "Male"), data_dir=sample_root, limit=70)
    assert images.dtype == np.uint8 and images.shape == (70, 64, 64, 3)
    ordered = next(iter(load_celeba(data_dir=sample_root, batch_size=70, shuffle=False)))
    np.testing.assert_allclose(images / 255.0, ordered.numpy(), atol=0.5 / 255 + 1e-6)
    table = read_attributes(sample_root).iloc[:70]
    assert labels["image_id"].tolist() == table["image_id"].tolist()
    assert labels["Smiling"].tolist() == (table["Smiling"] > 0).astype(int).tolist()
    everything, none = load_celeba_arrays(data_dir=sample_root)
    assert len(everything) == N_SMALL and none is None
    with pytest.raises(KeyError, match="Smiling"):
        load_celeba_arrays(("Smilling",), data_dir=sample_root)


def test_memory_batches_are_the_plain_pipeline_without_autotune():
    """Тот же порядок и те же значения, что у конвейера без настроек (так ноутбук 03 учился
    раньше), каждую эпоху — новый порядок; автонастройка tf.data выключена."""
    import tensorflow as tf

    images = np.random.default_rng(0).integers(0, 256, (50, 4, 4, 3), dtype=np.uint8)
    plain = (
        tf.data.Dataset.from_tensor_slices(images)
        .shuffle(len(images), seed=7)
        .batch(16)
        .map(lambda x: tf.cast(x, tf.float32) / 255.0)
        .prefetch(2)
    )
    batches = memory_batches(images, batch_size=16, seed=7)
    assert batches.options().autotune.enabled is False
    assert plain.options().autotune.enabled is not False  # по умолчанию включена

    def epoch(data):
        return np.concatenate([b.numpy() for b in data])

    first, second = epoch(batches), epoch(batches)
    np.testing.assert_array_equal(first, epoch(plain))
    np.testing.assert_array_equal(second, epoch(plain))
    assert first.dtype == np.float32 and first.shape == (50, 4, 4, 3)
    assert not np.array_equal(first, second)  # порядок перемешан заново
    # autotune=True (прежний конвейер, для замеров): те же пакеты, автонастройка включена.
    old = memory_batches(images, batch_size=16, seed=7, autotune=True)
    assert old.options().autotune.enabled is True
    np.testing.assert_array_equal(epoch(old), first)
    # Все изображения по одному разу, в 0..1.
    flat = lambda a: sorted(map(bytes, np.round(a * 255).astype(np.uint8)))  # noqa: E731
    assert flat(first) == flat(images.astype(np.float32) / 255.0) == flat(second)


def test_labelled_validation_split(sample_root):
    val = load_celeba_labelled(
        "Male",
        data_dir=sample_root,
        batch_size=64,
        seed=1,
        validation_split=0.2,
        subset="validation",
    )
    images, labels = next(iter(val))
    assert images.shape[1:] == (64, 64, 3) and labels.shape == (len(images),)
