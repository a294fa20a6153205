"""Проверка проверяет себя: эталон — через ту же песочницу до всех работ; пути и бэкенд
задаёт задание, а не окружение того, кто запускает проверку."""

from __future__ import annotations

import importlib.util
import shutil

import nbformat
import pytest

from course_grader import pipeline
from course_grader.pipeline import GradingSettings, PreflightError, grade_all
from course_utils.checks import evidence
from course_utils.config import REPO_ROOT, SAMPLE_DATA_DIR

from . import submissions

ASSIGNMENT = "cifar10_vae"


def _course(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(REPO_ROOT / "grading" / "source", course / "source")
    return course


def _submit(course, student, nb):
    folder = course / "submitted" / student
    (folder / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(nb, folder / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    return folder


#: Предел памяти, в который эталон (TensorFlow) не помещается: так выглядит неисправная
#: проверка, которая поставила бы всем нули.
TOO_LITTLE_MEMORY_MB = 300


def test_grade_refuses_when_the_reference_loses_points(tmp_path):
    course = _course(tmp_path)
    _submit(course, "student", submissions.reference())
    settings = GradingSettings(
        course_dir=course, course_data="sample", fast=True, memory_mb=TOO_LITTLE_MEMORY_MB
    )
    lines: list[str] = []
    with pytest.raises(PreflightError, match="Эталонное решение получило 0 из 10") as error:
        grade_all(settings, echo=lines.append)
    assert "killed_memory" in str(error.value) and "Никто не проверен" in str(error.value)
    assert not (course / "grades.csv").exists() and not (course / "gradebook.db").exists()
    assert not (course / "autograded").exists() and not (course / "feedback").exists()


def test_bench_fails_instead_of_reporting_a_broken_run(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location(
        "grading_bench", REPO_ROOT / "tools" / "bench" / "grading_bench.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    monkeypatch.setenv("GRADING_MEMORY_MB", str(TOO_LITTLE_MEMORY_MB))
    out = tmp_path / "out"
    out.mkdir()
    argv = ["--students", "1", "--rounds", "1", "--no-full", "--data", "sample"]
    assert bench.main([*argv, "--out", str(out), "--workdir", str(tmp_path)]) == 1
    assert list(out.iterdir()) == []


def test_paths_are_resolved_and_the_backend_is_the_assignments(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    (tmp_path / "real" / "cifar-10").mkdir(parents=True)
    (tmp_path / "shared").symlink_to(tmp_path / "real")
    settings = GradingSettings.from_env(
        course_dir=tmp_path / "shared" / ".." / "course", course_data=str(tmp_path / "shared")
    )
    assert settings.course_data == str((tmp_path / "real").resolve())
    assert settings.course_dir == (tmp_path / "course").resolve()
    assert settings.backend == "tensorflow"
    assert pipeline._work_env(settings)["KERAS_BACKEND"] == "tensorflow"


def test_symlinked_data_under_tmp_is_seen_in_the_sandbox(tmp_path):
    """Папка курса под /tmp, COURSE_DATA — ссылка: раньше песочница данных не видела."""
    real = tmp_path / "real" / "cifar-10"
    real.mkdir(parents=True)
    shutil.copyfile(SAMPLE_DATA_DIR / "cifar-10-sample.tar.gz", real / "cifar-10-python.tar.gz")
    (tmp_path / "shared").symlink_to(tmp_path / "real")
    course = _course(tmp_path)
    reference = submissions.reference()
    imports = "import numpy as np\nfrom course_utils.assignment import classes_from_student_id\nfrom course_utils.data import load_cifar10"
    nb = submissions._only(
        imports,
        submissions._cell(reference, "classes_solution").source,
        submissions._cell(reference, "data_solution").source,
    )
    folder = _submit(course, "student", nb)
    settings = GradingSettings(course_dir=course, course_data=str(tmp_path / "shared"), fast=True)
    result = pipeline.grade_submission(folder, settings)
    got = {c.grade_id: c.points for c in result.checks}
    full = evidence.points_from_source(settings.source)
    assert (got["test_classes"], got["test_data"]) == (full["test_classes"], full["test_data"]), (
        result.checks
    )
