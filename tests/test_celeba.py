"""CelebA: поиск папки, проверка CSV, загрузчики и офлайн-генератор лиц."""

import hashlib
import json
import os

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from course_utils import celeba
from course_utils.celeba import (
    CELEBA_ATTRIBUTES,
    RENDERED_ATTRIBUTES,
    attribute_score,
    generate_celeba_sample,
    load_celeba,
    load_celeba_labelled,
    read_attributes,
)

N_SMALL = 240  # хватает, чтобы у каждого атрибута были обе группы


@pytest.fixture(scope="module")
def sample_root(tmp_path_factory):
    """Небольшой сгенерированный набор во временной папке (общий для модуля)."""
    return generate_celeba_sample(n_images=N_SMALL, seed=3, cache=tmp_path_factory.mktemp("c"),
                                  verbose=False)  # fmt: skip


def _digest(folder):
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def _copy_dataset(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


# --- генератор ------------------------------------------------------------------------


def test_generated_layout_matches_celeba(sample_root):
    images = sample_root / "img_align_celeba" / "img_align_celeba"
    files = sorted(os.listdir(images))
    assert files[0] == "000001.jpg" and len(files) == N_SMALL
    with Image.open(images / files[0]) as im:
        assert im.size == (178, 218) and im.mode == "RGB"
    table = pd.read_csv(sample_root / "list_attr_celeba.csv")
    assert list(table.columns) == ["image_id", *CELEBA_ATTRIBUTES]
    assert len(CELEBA_ATTRIBUTES) == 40
    assert table["image_id"].tolist() == files
    assert set(np.unique(table[list(CELEBA_ATTRIBUTES)].to_numpy())) == {-1, 1}
    for name in RENDERED_ATTRIBUTES:  # обе группы встречаются
        assert 0 < (table[name] == 1).mean() < 1


def test_generator_is_deterministic(tmp_path, sample_root):
    again = generate_celeba_sample(n_images=N_SMALL, seed=3, cache=tmp_path / "a", verbose=False)
    assert again != sample_root
    assert _digest(again) == _digest(sample_root)
    other = generate_celeba_sample(n_images=N_SMALL, seed=4, cache=tmp_path / "b", verbose=False)
    assert _digest(other) != _digest(sample_root)


def test_generator_reuses_complete_set(tmp_path):
    root = generate_celeba_sample(n_images=12, seed=1, cache=tmp_path, verbose=False)
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["count"] == 12 and manifest["seed"] == 1
    stamp = (root / "list_attr_celeba.csv").stat().st_mtime_ns
    assert generate_celeba_sample(n_images=12, seed=1, cache=tmp_path, verbose=False) == root
    assert (root / "list_attr_celeba.csv").stat().st_mtime_ns == stamp
    # ни одной временной папки не осталось
    assert [p.name for p in (tmp_path / "celeba-sample").iterdir()] == [root.name]


def test_generator_never_touches_a_foreign_folder(tmp_path):
    root = generate_celeba_sample(n_images=5, seed=1, cache=tmp_path, verbose=False)
    (root / "manifest.json").unlink()  # теперь это «чужая» неполная папка
    (root / "my_notes.txt").write_text("мои файлы")
    with pytest.raises(FileExistsError, match="не удаляет"):
        generate_celeba_sample(n_images=5, seed=1, cache=tmp_path, verbose=False)
    assert (root / "my_notes.txt").read_text() == "мои файлы"


def test_interrupted_generation_leaves_no_half_set(tmp_path, monkeypatch):
    real_draw = celeba._draw_face

    def failing(attr, params, i):
        if i == 7:
            raise KeyboardInterrupt
        return real_draw(attr, params, i)

    monkeypatch.setattr(celeba, "_draw_face", failing)
    with pytest.raises(KeyboardInterrupt):
        generate_celeba_sample(n_images=10, seed=1, cache=tmp_path, verbose=False)
    assert list((tmp_path / "celeba-sample").iterdir()) == []
    monkeypatch.setattr(celeba, "_draw_face", real_draw)
    root = generate_celeba_sample(n_images=10, seed=1, cache=tmp_path, verbose=False)
    assert len(os.listdir(root / "img_align_celeba" / "img_align_celeba")) == 10


def test_generator_rejects_empty_request(tmp_path):
    with pytest.raises(ValueError, match="хотя бы одно"):
        generate_celeba_sample(n_images=0, cache=tmp_path, verbose=False)


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
    calls = []
    monkeypatch.setattr(celeba, "generate_celeba_sample", lambda: calls.append(1) or sample_root)
    assert celeba.celeba_dir() == sample_root and calls == [1]
    # без настроек скачать CelebA нельзя: понятная ошибка
    monkeypatch.delenv("COURSE_DATA")
    with pytest.raises(FileNotFoundError, match="COURSE_DATA=sample"):
        celeba.celeba_dir()


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
    """Метки с перемешиванием относятся к своим картинкам: сверяем с измерением."""
    for name in ("Wearing_Hat", "Pale_Skin"):
        data = load_celeba_labelled(name, data_dir=sample_root, batch_size=50, seed=5)
        agree, total = 0, 0
        for images, labels in data:
            labels = labels.numpy()
            assert set(np.unique(labels)) <= {0, 1}
            scores = attribute_score(images.numpy(), name)
            cut = 0.45 if name == "Wearing_Hat" else 0.8
            agree += int(((scores > cut) == (labels == 1)).sum())
            total += len(labels)
        assert total == N_SMALL and agree == total


def test_labelled_validation_split(sample_root):
    val = load_celeba_labelled("Male", data_dir=sample_root, batch_size=64, seed=1,
                               validation_split=0.2, subset="validation")  # fmt: skip
    images, labels = next(iter(val))
    assert images.shape[1:] == (64, 64, 3) and labels.shape == (len(images),)


# --- измерения ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_arrays(sample_root):
    """Все изображения (64x64, 0..1, по порядку файлов) и таблица атрибутов."""
    data = load_celeba(data_dir=sample_root, batch_size=N_SMALL, shuffle=False)
    return next(iter(data)).numpy(), read_attributes(sample_root)


@pytest.mark.parametrize("name", RENDERED_ATTRIBUTES)
def test_scores_separate_rendered_attributes(sample_arrays, name):
    images, table = sample_arrays
    scores = attribute_score(images, name)
    has = table[name].to_numpy() == 1
    # каждая картинка с атрибутом получает больше, чем каждая без него
    assert scores[has].min() > scores[~has].max()


def test_score_accepts_uint8_and_full_size(sample_root, sample_arrays):
    images, _ = sample_arrays
    first = sample_root / "img_align_celeba" / "img_align_celeba" / "000001.jpg"
    full = np.asarray(Image.open(first).convert("RGB"))  # 218x178, uint8
    for name in RENDERED_ATTRIBUTES:
        from_full = attribute_score(full, name)  # уменьшается до 64x64 внутри
        from_small = float(attribute_score(images[:1], name)[0])
        assert from_full.shape == (1,)
        assert float(from_full[0]) == pytest.approx(from_small, abs=0.1 * (1 + abs(from_small)))


def test_score_rejects_unknown_attribute_and_bad_shape(sample_arrays):
    images, _ = sample_arrays
    with pytest.raises(KeyError, match="Smiling"):
        attribute_score(images, "Smile")
    with pytest.raises(KeyError, match="Измеримы"):
        attribute_score(images, "Young")  # есть в CelebA, но не нарисован
    with pytest.raises(ValueError, match="RGB"):
        attribute_score(images[..., 0], "Smiling")
