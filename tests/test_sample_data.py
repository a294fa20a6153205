"""Встроенные данные ``data/``: контрольные суммы реестра и сборка заново байт в байт."""

import subprocess
import sys

import numpy as np
import pytest

from course_utils import manifest
from course_utils.config import REPO_ROOT, SAMPLE_DATA_DIR
from course_utils.data import REGISTRY
from course_utils.readers import sha256

pytestmark = pytest.mark.backend_free  # не зависит от KERAS_BACKEND: только под TensorFlow

BUILDER = REPO_ROOT / "tools" / "make_sample_data.py"
SAMPLE_FILES = {name: digest for d in REGISTRY.values() for name, digest in d.sample_files.items()}


def test_every_sample_file_is_registered_with_its_hash():
    on_disk = {
        p.relative_to(SAMPLE_DATA_DIR).as_posix()
        for p in SAMPLE_DATA_DIR.rglob("*")
        if p.is_file() and p.name != "README.md" and "__pycache__" not in p.parts
    }
    assert on_disk == set(SAMPLE_FILES)
    for name, expected in SAMPLE_FILES.items():
        assert sha256(SAMPLE_DATA_DIR / name) == expected, name


def test_manifest_and_registry_name_the_same_datasets():
    course = manifest.load()
    assert course.datasets == {name: d.title for name, d in REGISTRY.items()}


def test_make_sample_data_rebuilds_identical_bytes(shared_datasets, tmp_path):
    result = subprocess.run(
        [sys.executable, str(BUILDER), "--source", str(shared_datasets), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    rebuilt = {name: sha256(tmp_path / name) for name in SAMPLE_FILES}
    expected = dict(SAMPLE_FILES)
    if int(np.__version__.split(".")[0]) < 2:
        # numpy 1.x называет в pickle модуль numpy.core (numpy 2 — numpy._core): те же
        # массивы, другие байты. Архив в data/ записан numpy 2.
        for files in (rebuilt, expected):
            del files["cifar-10-sample.tar.gz"]
    else:
        assert result.returncode == 0, result.stdout + result.stderr
    assert rebuilt == expected
