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


@pytest.fixture(scope="session")
def faces_classifier(tmp_path_factory):
    """800 нарисованных лиц 32×32 и классификатор их атрибутов — один на сессию: его проверяют
    тесты классификатора, им же меряют векторы атрибутов (обучение стоит секунд на бэкенд).

    Атрибуты — шесть нарисованных и Young: в нарисованном наборе это случайный шум. 32×32
    вместо 64×64: обучение вчетверо дешевле, а нарисованные атрибуты видны и так (AUC
    0,94–1,00 после 24 эпох); классификатор 64×64 проверяет ноутбук 03.
    Возвращает (классификатор, изображения uint8, таблица атрибутов)."""
    from course_utils.celeba import load_celeba_arrays
    from course_utils.face_attributes import train_attribute_classifier
    from course_utils.generated_faces import RENDERED_ATTRIBUTES, generate_celeba_sample

    root = generate_celeba_sample(
        n_images=800, seed=11, cache=tmp_path_factory.mktemp("faces"), verbose=False
    )
    names = (*RENDERED_ATTRIBUTES, "Young")
    images, labels = load_celeba_arrays(names, data_dir=root, image_size=32)
    return train_attribute_classifier(images, labels, names, epochs=24), images, labels
