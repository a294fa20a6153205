"""Откуда взялась оценка: версия проверяющего, хеш работы, настройки, время, песочница.

Запись кладётся в ``result.json`` рядом с каждым итогом (:func:`record`), её показывают
выгрузки (``make export``): по ней оценку можно воспроизвести — взять тот же коммит
проверяющего, тот же ноутбук (sha256) и те же настройки.
"""

from __future__ import annotations

import dataclasses
import functools
import subprocess
from datetime import datetime, timezone
from importlib import metadata

from course_utils.config import REPO_ROOT


@functools.lru_cache(maxsize=1)
def grader_commit() -> str:
    """Коммит git проверяющего; ``+изменения``, если код проверки не закоммичен; ``""`` без git."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=20
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "course_utils", "instructor", "grading/source"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    if head.returncode != 0:
        return ""
    return head.stdout.strip() + ("+изменения" if dirty.stdout.strip() else "")


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return ""


def record(settings, result) -> dict:
    """Запись о проверке одной работы (для ``result.json``)."""
    values = {
        k: (str(v) if not isinstance(v, int | float | bool | str) else v)
        for k, v in dataclasses.asdict(settings).items()
    }
    return {
        "grader_commit": grader_commit(),
        "course_utils_version": _version("course-utils"),
        "course_grader_version": _version("course-grader"),
        "graded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "notebook_sha256": result.notebook_sha256,
        "status": result.status,
        "sandbox": settings.sandbox,
        "settings": values,
    }
