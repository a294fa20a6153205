"""environment.yml (conda) и pyproject.toml описывают один и тот же набор пакетов."""

import re
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from course_utils import manifest
from course_utils.config import REPO_ROOT
from course_utils.manifest import tomllib

pytestmark = pytest.mark.backend_free  # не зависит от KERAS_BACKEND: только под TensorFlow

ENVIRONMENT_YML = REPO_ROOT / "environment.yml"
#: Имена на conda-forge, которые отличаются от имён на PyPI.
CONDA_TO_PIP = {"matplotlib-base": "matplotlib", "tensorflow-cpu": "tensorflow", "pytorch": "torch"}
#: Что есть только в conda-окружении и не является зависимостью пакета.
CONDA_ONLY = {"python", "pip"}


@pytest.fixture(scope="module")
def pyproject():
    with open(REPO_ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


@pytest.fixture(scope="module")
def environment():
    return yaml.safe_load(ENVIRONMENT_YML.read_text(encoding="utf-8"))


def environment_python(environment):
    conda, _ = split_environment(environment)
    (python,) = [line for line in conda if conda_spec(line)[0] == "python"]
    return re.search(r"\d+(\.\d+)*", python).group()


def pyproject_requirements(project, python_version):
    """{имя: SpecifierSet} для dependencies и extra "dev" курса и зависимостей пакета
    преподавателя (instructor/pyproject.toml, кроме самого курса), нужных на этой версии Python."""
    lines = project["dependencies"] + project["optional-dependencies"]["dev"]
    with open(REPO_ROOT / "instructor" / "pyproject.toml", "rb") as f:
        lines += tomllib.load(f)["project"]["dependencies"]
    needed = [
        r
        for r in map(Requirement, lines)
        if (r.marker is None or r.marker.evaluate({"python_version": python_version}))
        and canonicalize_name(r.name) != canonicalize_name(project["name"])
    ]
    return {canonicalize_name(r.name): r.specifier for r in needed}


def split_environment(environment):
    """(conda-строки, pip-строки) из секции dependencies."""
    conda, pip = [], []
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            pip += entry["pip"]
        else:
            conda.append(entry)
    return conda, pip


def conda_spec(line):
    """'numpy>=1.26,<3' -> ('numpy', SpecifierSet); conda-шное 'x=1.2' -> '==1.2.*'."""
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*", line)
    name, version = match.groups()
    if re.fullmatch(r"=[^=<>!,]+", version):
        version = f"={version}.*" if version.count(".") < 2 else f"={version}"
    name = CONDA_TO_PIP.get(name, name)
    return canonicalize_name(name), SpecifierSet(version)


def environment_requirements(environment):
    conda, pip = split_environment(environment)
    found = {}
    for line in conda:
        name, spec = conda_spec(line)
        if name not in CONDA_ONLY:
            assert name not in found, f"{name} указан в environment.yml дважды"
            found[name] = spec
    for line in pip:
        if line.startswith("-"):
            continue  # -e .[dev], -e ./instructor: пакеты курса, проверяются отдельно
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name not in found, f"{name} указан в environment.yml дважды"
        found[name] = requirement.specifier
    return found


def test_same_package_names(pyproject, environment):
    expected = set(pyproject_requirements(pyproject, environment_python(environment)))
    listed = set(environment_requirements(environment))
    assert listed - expected == set(), "в environment.yml лишние пакеты"
    assert expected - listed == set(), "в environment.yml не хватает пакетов из pyproject.toml"


def test_same_version_bounds(pyproject, environment):
    listed = environment_requirements(environment)
    for name, spec in pyproject_requirements(pyproject, environment_python(environment)).items():
        assert listed[name] == spec, f"{name}: environment.yml {listed[name]}, pyproject {spec}"


def test_python_version_allowed_by_pyproject(pyproject, environment):
    version = environment_python(environment)
    assert Version(version) in SpecifierSet(pyproject["requires-python"])


def test_installs_the_course_package_with_dev_extra_and_the_grader(environment):
    _, pip = split_environment(environment)
    assert any(re.fullmatch(r"-e \.\[dev\]", line.strip()) for line in pip)
    assert any(re.fullmatch(r"-e \./instructor", line.strip()) for line in pip)
    assert environment["channels"] == ["conda-forge"]


def test_every_package_line_says_who_needs_it():
    """Комментарий называет номера ноутбуков курса (из course.toml) или tests."""
    course = manifest.load()
    paths = [nb.path for nb in course.notebooks] + [a.student_version for a in course.assignments]
    numbers = "|".join(re.escape(Path(path).name.split("_")[0]) for path in paths)
    who = re.compile(rf"\b(?:{numbers})\b|tests")
    in_dependencies = False
    for line in ENVIRONMENT_YML.read_text(encoding="utf-8").splitlines():
        if line.startswith("dependencies:"):
            in_dependencies = True
            continue
        stripped = line.strip()
        if not in_dependencies or not stripped.startswith("- ") or stripped.endswith(":"):
            continue
        name = re.split(r"[=<>!\s\[#]", stripped[2:], maxsplit=1)[0]
        if name in CONDA_ONLY:
            continue
        comment = line.split("#", 1)[1] if "#" in line else ""
        assert who.search(comment), f"нет комментария, кому нужен: {line!r}"
