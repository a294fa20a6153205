"""Переключатели курса: откуда брать данные и насколько коротко обучать.

Все ноутбуки и вспомогательные функции читают эти две переменные окружения
только здесь, чтобы у каждого переключателя было одно место:

* ``COURSE_DATA`` — откуда брать данные:
  ``sample`` — встроенные небольшие выборки из ``data/`` (работает без интернета);
  не задана или ``download`` — настоящие наборы (Keras скачивает их сам);
  путь к папке — готовые копии наборов в раскладке ``fashion-mnist/``,
  ``cifar-10/cifar-10-python.tar.gz``, ``celeba-dataset/``.
* ``COURSE_FAST=1`` — профиль CI: мало данных и мало эпох.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

#: Корень репозитория (папка с ``data/`` и ``notebooks/``), когда курс работает из клона.
REPO_ROOT = Path(__file__).resolve().parent.parent


def _sample_data_dir() -> Path:
    """Встроенные данные: в установленном пакете — ``course_utils/sample_data``, в клоне — ``data/``.

    Пакет (wheel, ``pip install``) несёт папку ``data/`` репозитория внутри себя под именем
    ``sample_data`` (``[tool.setuptools.package-dir]`` в ``pyproject.toml``); в клоне
    (и при ``pip install -e .``) её там нет, и данные читаются прямо из ``data/``.
    """
    packaged = resources.files("course_utils") / "sample_data"
    return Path(str(packaged)) if packaged.is_dir() else REPO_ROOT / "data"


#: Встроенные офлайн-данные.
SAMPLE_DATA_DIR = _sample_data_dir()


def data_source() -> str:
    """Возвращает ``"sample"``, ``"download"`` или путь к папке с наборами данных."""
    value = os.environ.get("COURSE_DATA", "").strip()
    return value if value and value != "download" else "download"


def use_sample_data() -> bool:
    """Истина, если задано ``COURSE_DATA=sample`` (встроенные офлайн-данные)."""
    return data_source() == "sample"


def local_datasets_dir() -> Path | None:
    """Папка с локальными копиями наборов, если ``COURSE_DATA`` — путь, иначе ``None``."""
    source = data_source()
    if source in ("sample", "download"):
        return None
    path = Path(source).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(
            f"COURSE_DATA={source!r}: такой папки нет. Укажите папку с наборами данных, "
            "или COURSE_DATA=sample для встроенных данных, или уберите переменную, "
            "чтобы скачать наборы из интернета."
        )
    return path


def fast_mode() -> bool:
    """Истина в профиле CI (``COURSE_FAST=1``): мало данных и эпох."""
    return os.environ.get("COURSE_FAST", "").strip().lower() in ("1", "true", "yes")


def cache_dir() -> Path:
    """Папка для сгенерированных данных и временных файлов курса.

    ``COURSE_CACHE`` задаёт её явно; иначе ``~/.cache/vae-course``.
    """
    path = Path(os.environ.get("COURSE_CACHE", Path.home() / ".cache" / "vae-course"))
    path.mkdir(parents=True, exist_ok=True)
    return path
