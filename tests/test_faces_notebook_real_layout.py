"""Ноутбук 03 на «настоящем» CelebA: папка в раскладке Kaggle без пометки генератора.

Run All не должен останавливаться ни на одной проверке, а ноутбук — понимать, что данные
настоящие, и всё равно печатать измерения (AUC классификатора и таблицу векторов).
"""

import shutil

import nbformat
import pytest
from nbclient import NotebookClient

from course_utils.config import REPO_ROOT
from course_utils.generated_faces import generate_celeba_sample, is_generated

NOTEBOOK = REPO_ROOT / "notebooks" / "03_vae_celeba_faces.ipynb"


def _text(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", []))


@pytest.mark.backends("tensorflow")  # ноутбуки курса выполняются на TensorFlow (как в make nbval)
def test_notebook_runs_on_a_real_celeba_layout(tmp_path, monkeypatch):
    generated = generate_celeba_sample(
        n_images=400, seed=5, cache=tmp_path / "cache", verbose=False
    )
    stand_in = tmp_path / "datasets" / "celeba-dataset"
    shutil.copytree(generated, stand_in)
    (stand_in / "manifest.json").unlink()  # у настоящего набора такой пометки нет
    assert not is_generated(stand_in)
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "datasets"))
    monkeypatch.delenv("CELEBA_DIR", raising=False)
    monkeypatch.setenv("COURSE_FAST", "1")
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "cache"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    workdir = tmp_path / "run"
    workdir.mkdir()
    NotebookClient(nb, timeout=900, resources={"metadata": {"path": str(workdir)}}).execute()
    cells = {cell.get("id"): cell for cell in nb.cells}
    assert "данные: настоящий CelebA" in _text(cells["cell-006"])
    assert "ROC AUC на 40 отложенных лицах" in _text(cells["faces-classifier"])
    table = _text(cells["cell-048"])
    assert all(name in table for name in ("Smiling", "Blond_Hair", "Wearing_Hat"))
