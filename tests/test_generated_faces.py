"""Офлайн-замена CelebA: раскладка, детерминированность, безопасная запись."""

import hashlib
import json
import os

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from course_utils import generated_faces
from course_utils.celeba import CELEBA_ATTRIBUTES
from course_utils.generated_faces import RENDERED_ATTRIBUTES, generate_celeba_sample, is_generated

N_SMALL = 240  # хватает, чтобы у каждого атрибута были обе группы


@pytest.fixture(scope="module")
def sample_root(tmp_path_factory):
    return generate_celeba_sample(
        n_images=N_SMALL, seed=3, cache=tmp_path_factory.mktemp("c"), verbose=False
    )


def _digest(folder):
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


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
    assert is_generated(sample_root)
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
    real_draw = generated_faces._draw_face

    def failing(attr, params, i):
        if i == 7:
            raise KeyboardInterrupt
        return real_draw(attr, params, i)

    monkeypatch.setattr(generated_faces, "_draw_face", failing)
    with pytest.raises(KeyboardInterrupt):
        generate_celeba_sample(n_images=10, seed=1, cache=tmp_path, verbose=False)
    assert list((tmp_path / "celeba-sample").iterdir()) == []
    monkeypatch.setattr(generated_faces, "_draw_face", real_draw)
    root = generate_celeba_sample(n_images=10, seed=1, cache=tmp_path, verbose=False)
    assert len(os.listdir(root / "img_align_celeba" / "img_align_celeba")) == 10


def test_generator_rejects_empty_request(tmp_path):
    with pytest.raises(ValueError, match="хотя бы одно"):
        generate_celeba_sample(n_images=0, cache=tmp_path, verbose=False)
