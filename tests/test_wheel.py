"""Курс из установленного пакета, как его видит Colab: wheel в свежем окружении вне
репозитория (``tools/wheel_env.py``), без интернета.

Здесь — что в wheel есть и чего нет, и что установленный пакет находит свои данные. Каждый
ноутбук из wheel, один в пустой папке, выполняет ``make nbval`` (``tools/nbval_wheel.py``):
там же сверяются и его выводы.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from course_utils.config import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "tools"))
from set_repo import repo_files  # noqa: E402
from wheel_env import build_wheel, make_env, run  # noqa: E402

pytestmark = pytest.mark.backends("tensorflow")  # проверка wheel — один раз, под TensorFlow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """wheel, собранный из файлов репозитория под git (как из свежего клона)."""
    return build_wheel(tmp_path_factory.mktemp("clone"), tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def wheel_env(wheel, tmp_path_factory) -> dict:
    """Свежее окружение с одним пакетом курса из wheel; переменные среды для запуска в нём."""
    return make_env(wheel, tmp_path_factory.mktemp("venv"), tmp_path_factory.mktemp("home"))


def test_wheel_contains_every_module_and_the_sample_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    tracked = [p.relative_to(REPO_ROOT).as_posix() for p in repo_files(REPO_ROOT)]
    modules = [p for p in tracked if p.startswith("course_utils/") and p.endswith(".py")]
    missing = [p for p in modules if p not in names]
    assert not missing, (
        f"в wheel нет {missing}: добавьте подпакет в [tool.setuptools] packages (pyproject.toml)"
    )
    data = [p for p in tracked if p.startswith("data/")]
    assert data, "в репозитории нет встроенных данных data/"
    packaged = ["course_utils/sample_data/" + p.removeprefix("data/") for p in data]
    assert not [p for p in packaged if p not in names], "в wheel не все файлы data/"


def test_wheel_carries_the_students_checks_and_none_of_the_instructors_code(wheel):
    """Студент ставит самопроверку (course_utils.checks), но не проверку преподавателя
    (course_grader из instructor/) и не её зависимости."""
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    checks = {f"course_utils/checks/{m}.py" for m in ("__init__", "selfcheck", "verify")}
    assert checks <= names, f"в wheel нет {sorted(checks - names)}"
    tracked = [p.relative_to(REPO_ROOT).as_posix() for p in repo_files(REPO_ROOT)]
    instructor = [p for p in tracked if p.startswith("instructor/") and p.endswith(".py")]
    assert "instructor/course_grader/sandbox.py" in instructor
    assert not [n for n in names if n.split("/")[0] in ("course_grader", "instructor")], (
        "в wheel студента — пакет преподавателя"
    )
    # Ни под каким именем: в wheel нет файла с содержимым модуля преподавателя.
    packed = {archive.read(n) for n in names if n.endswith(".py")}
    copied = [p for p in instructor if (REPO_ROOT / p).read_bytes() in packed]
    assert not copied, f"в wheel студента — модули преподавателя: {copied}"
    (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    requires = {
        Requirement(line.removeprefix("Requires-Dist:")).name
        for line in archive.read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist:")
    }
    grader_only = {"nbgrader", "dask", "distributed", "tqdm", "nh3", "copydetect"}
    assert not requires & grader_only, f"зависимости проверки у студента: {requires & grader_only}"


def test_installed_package_finds_its_own_sample_data(wheel_env):
    code = (
        "import course_utils.config as c, course_utils.data as d;"
        "(x, y), (xt, yt) = d.load_fashion_mnist();"
        "print(c.__file__); print(c.SAMPLE_DATA_DIR); print(len(x), len(xt))"
    )
    out = run([wheel_env["python"], "-c", code], env=wheel_env["env"], cwd=wheel_env["venv"])
    module, data_dir, sizes = out.strip().splitlines()[-3:]
    assert Path(module).is_relative_to(wheel_env["venv"]), (
        f"пакет импортирован не из wheel: {module}"
    )
    assert Path(data_dir).is_relative_to(wheel_env["venv"]), f"данные не из пакета: {data_dir}"
    assert sizes == "2000 500"
