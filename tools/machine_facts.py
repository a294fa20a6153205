"""Что записать о машине рядом с замером времени: загрузка, число ядер, занятость процессора,
момент (UTC).

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


def busy_seconds() -> float | None:
    """Сколько секунд процессорного времени (всех ядер) машина потратила на работу с запуска,
    по ``/proc/stat``; ``None``, если его нет (не Linux).

    Разность двух замеров — процессор, занятый за это время всеми процессами машины. Учёт
    дочерних процессов (``getrusage``) её занижает: процессы в песочнице bubblewrap и ядра
    Jupyter ждёт не тот, кто их запустил, и в него они не попадают.
    """
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = stat.readline().split()[1:8]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq = map(int, fields)
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def processor(cpuinfo: str = "/proc/cpuinfo") -> str:
    """Процессор одной строкой: «AMD EPYC, семейство 25, модель 1, AVX2 без AVX-512».

    Время обучения на CPU сильно зависит от векторных команд: на одном и том же коде шаг
    с AVX-512 бывал вдвое быстрее, чем без него. Пустая строка — если ``/proc/cpuinfo`` нет.
    """
    try:
        with open(cpuinfo, encoding="utf-8") as info:
            text = info.read().split("\n\n")[0]
    except OSError:
        return ""
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    flags = set(fields.get("flags", "").split())
    simd = (
        "AVX-512" if "avx512f" in flags else ("AVX2 без AVX-512" if "avx2" in flags else "без AVX2")
    )
    return (
        f"{fields.get('model name', '?')}, семейство {fields.get('cpu family', '?')}, "
        f"модель {fields.get('model', '?')}, {simd}"
    )
