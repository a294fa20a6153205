"""`make run` на новой машине: ноутбук в полном профиле на встроенных данных доходит до конца.

CI выполняет ноутбуки в быстром профиле (nbval), а `make run` — в полном, со своими
настройками обучения. Рецепт, который на встроенных данных не учится, проходит быстрый
профиль, но останавливает `make run` на собственной самопроверке ноутбука (так было с
эталоном задания: «реконструкции не лучше среднего изображения»). Здесь выполняются
ноутбуки, чей полный профиль на встроенных данных короток (около минуты), ровно как их
выполняет `make run`. Ноутбуки 02 и 03 учатся в полном профиле минуты и час; их полный
прогон — `make run` (время — в таблице README).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils import manifest
from course_utils.config import REPO_ROOT

#: Ноутбуки курса, чей полный профиль на встроенных данных занимает около минуты.
SHORT_FULL_PROFILE = ("01_custom_layers_and_models", "cifar10_vae")


def _run_list():
    return [p for p in manifest.load().run_list() if Path(p).stem in SHORT_FULL_PROFILE]


def test_the_short_list_names_notebooks_of_the_course():
    assert len(_run_list()) == len(SHORT_FULL_PROFILE)


# make run выполняет ноутбуки на бэкенде по умолчанию: достаточно прогона под TensorFlow.
@pytest.mark.backends("tensorflow")
@pytest.mark.parametrize("notebook", _run_list())
def test_notebook_runs_to_the_end_in_the_full_profile_on_embedded_data(notebook, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("COURSE_FAST", "KERAS_BACKEND")}
    env.update(COURSE_DATA="sample", COURSE_CACHE=str(tmp_path / "cache"))
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "tools" / "run_notebooks.py"), notebook]
        + ["--build-dir", str(tmp_path / "build")],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
