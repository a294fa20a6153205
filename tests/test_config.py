"""The two switches COURSE_DATA and COURSE_FAST, read in one place."""

import pytest

from course_utils import config

pytestmark = pytest.mark.backend_free  # не зависит от KERAS_BACKEND: только под TensorFlow


@pytest.mark.parametrize(
    ("value", "sample", "folder"),
    [
        ("", False, None),
        ("download", False, None),
        ("sample", True, None),
        (" sample ", True, None),
    ],
)
def test_course_data_modes(monkeypatch, value, sample, folder):
    monkeypatch.setenv("COURSE_DATA", value)
    assert config.use_sample_data() is sample
    assert config.local_datasets_dir() is folder


def test_course_data_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    assert not config.use_sample_data()
    assert config.local_datasets_dir() == tmp_path


def test_course_data_missing_folder_explains_the_choices(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="COURSE_DATA=sample"):
        config.local_datasets_dir()


@pytest.mark.parametrize(
    ("value", "fast"), [("1", True), ("true", True), ("0", False), ("", False)]
)
def test_fast_mode(monkeypatch, value, fast):
    monkeypatch.setenv("COURSE_FAST", value)
    assert config.fast_mode() is fast


def test_cache_dir_follows_course_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "cache"))
    assert config.cache_dir() == tmp_path / "cache"
    assert (tmp_path / "cache").is_dir()
