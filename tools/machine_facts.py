"""Что записать о машине рядом с замером времени: загрузка, число ядер, момент (UTC).

Только стандартная библиотека: ``tools/time_make_test.py`` запускается ещё до того, как
``make test`` создаст ``.venv``.
"""

from __future__ import annotations

import datetime
import os


def load_now() -> list[float]:
    """Средняя загрузка машины за 1, 5 и 15 минут."""
    return [round(x, 2) for x in os.getloadavg()]


def cpus() -> int:
    """Сколько ядер доступно этому процессу."""
    return len(os.sched_getaffinity(0))


def utc_stamp(moment: datetime.datetime | None = None) -> str:
    """``2026-12-07 10:40 UTC`` для ``moment`` (по умолчанию — сейчас)."""
    moment = moment or datetime.datetime.now(datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
