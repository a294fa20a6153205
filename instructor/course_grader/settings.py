"""Настройки проверки работ: папки курса, пределы песочницы, источник данных.

Настройки передаются исполнителям вместе с работой (pickle), поэтому это простая
неизменяемая запись; :meth:`GradingSettings.from_env` читает их из переменных окружения.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from course_utils import manifest
from course_utils.config import REPO_ROOT


@dataclass(frozen=True)
class GradingSettings:
    """Настройки проверки (передаются исполнителям вместе с работой)."""

    course_dir: Path = REPO_ROOT / "grading"
    #: Задание и ядро — по умолчанию первое задание из course.toml.
    assignment: str = field(default_factory=lambda: manifest.load().assignments[0].name)
    kernel_name: str = field(default_factory=lambda: manifest.load().assignments[0].kernel)
    #: Предел на одну ячейку, секунды.
    cell_timeout: int = 1200
    #: Предел памяти всей работы (ядро и всё, что оно запустило), МБ.
    memory_mb: int = 6144
    #: Предел числа процессов и потоков работы.
    max_pids: int = 1024
    #: Предел места на диске одной работы, МБ (папка работы, каждая tmpfs, каждый файл).
    disk_mb: int = 2048
    #: ``bwrap`` или ``none`` (без песочницы: только для своих, заведомо честных ноутбуков).
    sandbox: str = "bwrap"
    #: ``COURSE_DATA`` для работы и для проверяющего (один и тот же источник).
    course_data: str = "download"
    #: ``COURSE_FAST`` для работы.
    fast: bool = False
    #: Папки, скрытые от работы, кроме папки курса, домашней и /tmp (``GRADING_HIDE``).
    hide: tuple[str, ...] = ()
    #: Бэкенд Keras работы — первый из ``backends`` задания в course.toml (не из окружения
    #: того, кто запускает проверку: оценка не должна зависеть от его ``KERAS_BACKEND``).
    backend: str = ""

    def __post_init__(self):
        # Пути — настоящие (без ссылок и ``..``): в песочнице /tmp и папки курса скрыты,
        # и путь через ссылку, который виден проверяющему, работе не виден.
        object.__setattr__(self, "course_dir", Path(self.course_dir).expanduser().resolve())
        if self.course_data not in ("sample", "download"):
            resolved = str(Path(self.course_data).expanduser().resolve())
            object.__setattr__(self, "course_data", resolved)
        if not self.backend:
            assignment = next(
                (a for a in manifest.load().assignments if a.name == self.assignment), None
            )
            backend = assignment.backends[0] if assignment and assignment.backends else "tensorflow"
            object.__setattr__(self, "backend", backend)

    @classmethod
    def from_env(cls, **overrides) -> GradingSettings:
        """Настройки из переменных окружения ``GRADING_*``, ``COURSE_DATA``, ``COURSE_FAST``."""
        env = os.environ
        values = {
            "cell_timeout": int(env.get("GRADING_CELL_TIMEOUT", cls.cell_timeout)),
            "memory_mb": int(env.get("GRADING_MEMORY_MB", cls.memory_mb)),
            "max_pids": int(env.get("GRADING_MAX_PIDS", cls.max_pids)),
            "disk_mb": int(env.get("GRADING_DISK_MB", cls.disk_mb)),
            "sandbox": env.get("GRADING_SANDBOX", cls.sandbox),
            "course_data": env.get("COURSE_DATA", "").strip() or "download",
            "fast": env.get("COURSE_FAST", "").strip().lower() in ("1", "true", "yes"),
            "hide": tuple(p for p in env.get("GRADING_HIDE", "").split(os.pathsep) if p),
        }
        values.update(overrides)
        settings = cls(**values)
        if settings.sandbox not in ("bwrap", "none"):
            raise ValueError(f"GRADING_SANDBOX={settings.sandbox!r}: допустимо bwrap или none.")
        return settings

    @property
    def memory_bytes(self) -> int:
        """Предел памяти одной проверки в байтах (по нему планировщик считает, сколько влезет)."""
        return self.memory_mb * 1024 * 1024

    @property
    def source(self) -> Path:
        return self.course_dir / "source" / self.assignment / f"{self.assignment}.ipynb"

    def submissions(self) -> list[Path]:
        """Папки сданных работ ``submitted/<студент>/`` (в каждой — папка задания)."""
        root = self.course_dir / "submitted"
        return (
            sorted(p for p in root.iterdir() if (p / self.assignment).is_dir())
            if root.is_dir()
            else []
        )

    def notebook(self, submission_dir: Path) -> Path:
        return submission_dir / self.assignment / f"{self.assignment}.ipynb"

    def autograded(self, student: str) -> Path:
        return self.course_dir / "autograded" / student / self.assignment

    def feedback(self, student: str) -> Path:
        return self.course_dir / "feedback" / student / self.assignment

    def hidden(self) -> list[Path]:
        """Что работа не должна видеть: папки курса (база, работы, эталон) и домашняя."""
        paths = [self.course_dir, REPO_ROOT / "grading", Path.home(), *map(Path, self.hide)]
        unique = []
        for p in paths:
            p = p.expanduser().resolve()
            if p not in unique and p != Path("/"):
                unique.append(p)
        return unique
