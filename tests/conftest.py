"""Общие фикстуры тестов (небольшие; другие тесты могут ими пользоваться)."""

from pathlib import Path

import pytest

from course_utils.config import REPO_ROOT


def pytest_collection_modifyitems(config, items):
    """Тест с пометкой ``backends("tensorflow", ...)`` идёт только под этими бэкендами Keras, а
    под другими снимается (deselected), а не пропускается: пропуск в отчёте всегда значит,
    что чего-то не хватает (данных, программы), а не что тест здесь и не нужен."""
    import keras

    backend = keras.backend.backend()
    keep, drop = [], []
    for item in items:
        marker = item.get_closest_marker("backends")
        (drop if marker and backend not in marker.args else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


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
