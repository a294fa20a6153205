"""Опоздания: штраф по сроку и правилам задания из ``course.toml``.

Штраф не хранится в баллах проверки (``result.json``): он вычисляется при выгрузке оценок
(``make export``) из записанного времени сдачи (``timestamp.txt`` рядом с работой, его
пишет ``make collect``) и правил задания. Поэтому после любой перепроверки штраф снова
верный: баллы — от проверки, штраф — от времени сдачи.

Правило ``penalty``: опоздание в сутках округляется вверх (1 секунда после срока — это
1 сутки), штраф — ``late_penalty_per_day`` % набранных баллов за сутки, не больше
``late_penalty_max`` %. Правило ``reject``: работа после срока не принимается (0 баллов).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from course_utils.manifest import Assignment

#: Файл со временем сдачи в папке работы (так его называет и nbgrader).
TIMESTAMP_FILE = "timestamp.txt"


@dataclass(frozen=True)
class Late:
    """Опоздание одной работы и его цена."""

    submitted_at: datetime | None
    deadline: datetime | None
    days_late: int = 0
    percent: float = 0.0  #: на сколько процентов уменьшаются баллы
    rejected: bool = False  #: работа после срока не принимается

    def apply(self, score: float) -> float:
        """Баллы после штрафа (баллы проверки не меняются)."""
        if self.rejected:
            return 0.0
        return round(score * (1 - self.percent / 100), 4)

    def describe(self) -> str:
        """Одна фраза для студента: когда сдано, срок и что из этого следует."""
        if self.deadline is None:
            return "Срок сдачи не задан: штрафа за опоздание нет."
        deadline = _show(self.deadline)
        if self.submitted_at is None:
            return f"Срок сдачи — {deadline}; время сдачи не записано: штрафа нет."
        submitted = _show(self.submitted_at)
        if self.days_late == 0:
            return f"Сдано {submitted}, срок — {deadline}: вовремя."
        if self.rejected:
            return (
                f"Сдано {submitted}, срок — {deadline}: опоздание {self.days_late} сут.; "
                "после срока работы не принимаются, оценка 0."
            )
        return (
            f"Сдано {submitted}, срок — {deadline}: опоздание {self.days_late} сут., "
            f"штраф {self.percent:g} % баллов."
        )


def _show(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip()


def assess(assignment: Assignment, submitted_at: datetime | None) -> Late:
    """Опоздание работы, сданной в ``submitted_at``, по правилам ``assignment``."""
    deadline = assignment.deadline
    if deadline is None or submitted_at is None or submitted_at <= deadline:
        return Late(submitted_at, deadline)
    days = math.ceil((submitted_at - deadline).total_seconds() / 86400)
    if assignment.late_policy == "reject":
        return Late(submitted_at, deadline, days, 100.0, rejected=True)
    percent = min(assignment.late_penalty_per_day * days, assignment.late_penalty_max)
    return Late(submitted_at, deadline, days, float(percent))


def read_timestamp(folder: Path) -> datetime | None:
    """Время сдачи из ``timestamp.txt`` папки работы (ISO 8601; без пояса — UTC)."""
    path = Path(folder) / TIMESTAMP_FILE
    if not path.is_file() or path.is_symlink():
        return None
    try:
        moment = datetime.fromisoformat(path.read_text(encoding="utf-8").strip()[:64])
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def write_timestamp(folder: Path, moment: datetime) -> None:
    (Path(folder) / TIMESTAMP_FILE).write_text(moment.isoformat(), encoding="utf-8")
