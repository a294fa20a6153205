"""`make nbval` (tools/nbval_wheel.py): каждая копия ноутбука одна в своей папке и сама
проверяет, что ядро взяло пакет курса из wheel."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import course_utils
from course_utils.config import REPO_ROOT

pytestmark = pytest.mark.backend_free  # не зависит от KERAS_BACKEND: только под TensorFlow

sys.path.insert(0, str(REPO_ROOT / "tools"))

import nbval_wheel  # noqa: E402

NOTEBOOK = REPO_ROOT / "notebooks" / "01_custom_layers_and_models.ipynb"


def _check_runs(source: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", source], capture_output=True, text=True)


def test_copy_is_alone_keeps_the_notebook_and_ends_with_the_wheel_check(tmp_path):
    venv = tmp_path / "venv"
    copy = nbval_wheel.copy_alone(NOTEBOOK, tmp_path / "run" / "01", venv)
    assert [p.name for p in copy.parent.iterdir()] == [NOTEBOOK.name]
    original = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    cells = json.loads(copy.read_text(encoding="utf-8"))["cells"]
    assert cells[:-1] == original  # выводы для сверки nbval — те же, что в репозитории
    assert cells[-1]["id"] == "wheel-check" and str(venv) in cells[-1]["source"]


def test_wheel_check_fails_when_the_package_comes_from_elsewhere(tmp_path):
    elsewhere = _check_runs(nbval_wheel.WHEEL_CHECK.format(venv=str(tmp_path)))
    assert elsewhere.returncode != 0 and "AssertionError" in elsewhere.stderr
    here = Path(course_utils.__file__).parent.parent  # откуда пакет берёт этот интерпретатор
    assert _check_runs(nbval_wheel.WHEEL_CHECK.format(venv=str(here))).returncode == 0


def test_celeba_in_the_kaggle_layout_looks_real_to_the_course(tmp_path):
    from course_utils.celeba import load_celeba_arrays
    from course_utils.generated_faces import FAST_SAMPLE_SIZE, is_generated

    folder = nbval_wheel.kaggle_layout_celeba(tmp_path / "datasets")
    assert folder == tmp_path / "datasets" / "celeba-dataset" and not is_generated(folder)
    images, labels = load_celeba_arrays(("Smiling",), data_dir=folder, image_size=16)
    assert len(images) == len(labels) == FAST_SAMPLE_SIZE
    # Папку, которая уже есть, функция не трогает: копирование в неё падает.
    with pytest.raises(FileExistsError):
        nbval_wheel.kaggle_layout_celeba(tmp_path / "datasets")


def test_real_celeba_check_fails_on_drawn_faces_or_unmeasured_vectors(tmp_path):
    copy = nbval_wheel.copy_alone(NOTEBOOK, tmp_path / "run", tmp_path / "venv", real_celeba=True)
    cells = json.loads(copy.read_text(encoding="utf-8"))["cells"]
    assert [c["id"] for c in cells[-2:]] == ["real-celeba-check", "wheel-check"]
    state = (
        "class C: auc = dict.fromkeys({names})\n"
        "classifier, ATTRIBUTES = C(), ('Smiling', 'Male')\n"
        "REAL_DATA, DATA_NAME, verdicts = {real}, 'x', dict.fromkeys({names})\n"
    )
    measured = state.format(real=True, names=("Smiling", "Male"))
    assert _check_runs(measured + nbval_wheel.REAL_CELEBA_CHECK).returncode == 0
    for broken in (
        state.format(real=False, names=("Smiling", "Male")),  # нарисованные лица с пометкой
        state.format(real=True, names=("Smiling",)),  # вектор Male не измерен
    ):
        result = _check_runs(broken + nbval_wheel.REAL_CELEBA_CHECK)
        assert result.returncode != 0 and "AssertionError" in result.stderr
