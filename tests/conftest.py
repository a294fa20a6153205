"""Общие фикстуры тестов (небольшие; другие тесты могут ими пользоваться)."""

from pathlib import Path

import pytest

from course_utils.config import REPO_ROOT

#: Настоящие копии наборов данных рядом с проектом (на машине студента их нет).
SHARED_DATASETS = REPO_ROOT.parent / "shared" / "datasets"


@pytest.fixture
def shared_datasets() -> Path:
    """Папка ``../shared/datasets``; тест пропускается, если её нет."""
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"нет папки с настоящими наборами данных: {SHARED_DATASETS}")
    return SHARED_DATASETS


@pytest.fixture
def course_cache(tmp_path, monkeypatch) -> Path:
    """Отдельная ``COURSE_CACHE`` во временной папке теста."""
    path = tmp_path / "course-cache"
    monkeypatch.setenv("COURSE_CACHE", str(path))
    return path
