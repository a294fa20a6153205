"""Время `make test` и `make run` — в ``docs/test_times.json``, откуда его берут README и
docs/benchmarks.md.

Два способа получить запись:

* ``python tools/time_make_test.py -- make test`` — выполнить команду (вывод идёт на экран
  как обычно) и записать её время, процессорное время её дочерних процессов и всей машины за
  это время, среднюю загрузку машины до и после, коммит и итог каждого набора тестов (строки
  pytest «N passed … in Xs»);
* ``python tools/time_make_test.py --from-log LOG`` — то же по сохранённому выводу команды
  ``time make test > LOG 2>&1`` (время и процессор — из строк ``real``/``user``/``sys``
  в конце, загрузка тогда неизвестна; ``--commit`` — какой коммит проверялся).

``--command "make run"`` с ``--from-log`` записывает прогон ``make run`` по выводу
``/usr/bin/time -v make run > LOG 2>&1`` (итогов pytest в нём нет; ``-- make run`` меряет сам).

Запись добавляется, только если команда прошла (код 0). Затем ``python tools/readme_times.py``
переписывает абзац о ``make test`` в README и docs/benchmarks.md (``make times`` делает оба шага
для ноутбуков; этот — отдельно, он идёт полчаса).
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

from machine_facts import busy_seconds, cpus, load_now, processor, utc_stamp

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "docs" / "test_times.json"

#: Итог pytest: «544 passed, 3 warnings in 1512.85s (0:25:12)» (с рамкой из «=» или без).
SUMMARY = re.compile(r"^=* ?(?P<counts>\d+ (?:passed|failed)[^=]*?) in (?P<seconds>[\d.]+)s\b")
#: Что предшествует итогу набора: заголовок «== …» или команда pytest, которую печатает make.
LABEL = re.compile(r"^(== .+|.*python -m pytest .+)$")
#: Строки `time` из bash: «real	45m47.436s».
TIME_LINE = re.compile(r"^(real|user|sys)\s+(?:(\d+)m)?([\d.]+)s$")
#: Те же числа у `/usr/bin/time -v`: «Elapsed (wall clock) time (h:mm:ss or m:ss): 1:02:03».
GNU_TIME = {
    "Elapsed (wall clock) time (h:mm:ss or m:ss)": "real",
    "User time (seconds)": "user",
    "System time (seconds)": "sys",
    "Exit status": "exit",
}
#: Главная команда README, которая тестов не запускает.
RUN_COMMAND = "make run"


def suite_name(label: str) -> str:
    """Понятное имя набора по заголовку или команде pytest из вывода ``make test``."""
    rules = (
        ("KERAS_BACKEND=jax", "модульные тесты, JAX"),
        ("KERAS_BACKEND=torch", "модульные тесты, PyTorch"),
        ("--nbval", "ноутбуки (nbval)"),
        ("--ignore=tests/grading/test_grading_suite.py", "проверка заданий: семестр, оценки, LMS"),
        ("tests/grading/test_grading_suite.py", "проверка заданий: галерея работ и атаки"),
        ("--ignore=tests/grading", "модульные тесты, TensorFlow"),
        ("--ignore=tests/browser", "модульные тесты и проверка заданий, TensorFlow"),
        ("tests/browser", "браузер"),
        ("tests/grading", "проверка заданий (песочница, оценки, семестр)"),
    )
    return next((name for marker, name in rules if marker in label), label.strip("= "))


def parse_output(text: str) -> dict:
    """Наборы тестов (имя, итог, секунды) и, если есть, строки `time` из вывода."""
    suites, label, times = [], "", {}
    for line in text.splitlines():
        line = line.rstrip()
        if LABEL.match(line):
            label = line
        elif match := SUMMARY.match(line):
            counts = match["counts"].strip(" ,")
            suites.append(
                {"suite": suite_name(label), "result": counts, "seconds": float(match["seconds"])}
            )
        elif match := TIME_LINE.match(line):
            times[match[1]] = int(match[2] or 0) * 60 + float(match[3])
        elif (key := line.strip().rpartition(": ")[0]) in GNU_TIME:
            value = line.strip().rpartition(": ")[2]
            # «1:02:03» или «2:03.45»: часы, минуты, секунды — справа налево.
            parts = [float(part) for part in value.split(":")]
            times[GNU_TIME[key]] = sum(part * 60**i for i, part in enumerate(reversed(parts)))
    return {"suites": suites, "times": times}


def commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return result.stdout.strip() or "?"


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def make_record(command, parsed, seconds, cpu_seconds, load_before, load_after, **known) -> dict:
    return {
        "command": command,
        "commit": known.get("commit") or commit(),
        "date": known.get("date") or utc_stamp(),
        "seconds": round(seconds, 1),
        "cpu_seconds": _rounded(cpu_seconds),
        # Процессор всей машины за время команды (вместе с песочницами и ядрами Jupyter).
        "busy_seconds": _rounded(known.get("busy_seconds")),
        "load_before": load_before,
        "load_after": load_after,
        "cpus": cpus(),
        "processor": processor(),
        "suites": parsed["suites"],
    }


def run(command: list[str]) -> tuple[int, dict]:
    """Выполняет команду, повторяя её вывод на экран, и меряет её."""
    load_before = load_now()
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before = busy_seconds()
    start = time.monotonic()
    lines = []
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
    ) as proc:
        for line in proc.stdout:
            sys.stdout.write(line)
            lines.append(line)
    seconds = time.monotonic() - start
    busy_after = busy_seconds()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (usage.ru_utime - usage_before.ru_utime) + (usage.ru_stime - usage_before.ru_stime)
    parsed = parse_output("".join(lines))
    busy = None if busy_before is None or busy_after is None else busy_after - busy_before
    record = make_record(
        " ".join(command), parsed, seconds, cpu, load_before, load_now(), busy_seconds=busy
    )
    return proc.returncode, record


def from_log(
    path: Path, commit_id: str | None = None, command: str = "make test"
) -> tuple[int, dict]:
    """Запись по выводу ``time КОМАНДА`` (или ``/usr/bin/time -v``); дата — время изменения
    файла (конец прогона)."""
    parsed = parse_output(path.read_text(encoding="utf-8", errors="replace"))
    if "real" not in parsed["times"]:
        raise SystemExit(f"{path}: нет строки `real` — запускайте `time {command} > LOG 2>&1`.")
    if not parsed["suites"] and command != RUN_COMMAND:
        raise SystemExit(f"{path}: нет итогов pytest — это вывод make test?")
    times = parsed["times"]
    cpu = times["user"] + times["sys"] if {"user", "sys"} <= times.keys() else None
    failed = any("failed" in s["result"] or "error" in s["result"] for s in parsed["suites"])
    failed = failed or bool(times.get("exit"))
    end = datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.timezone.utc)
    record = make_record(
        command,
        parsed,
        times["real"],
        cpu,
        None,
        None,
        commit=commit_id,
        date=utc_stamp(end),
    )
    return int(failed), record


def save(record: dict, path: Path | None = None) -> None:
    path = path or RECORDS
    records = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    records.append(record)
    path.write_text(json.dumps(records, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from-log", type=Path, help="сохранённый вывод `time make test`")
    parser.add_argument("--commit", help="коммит, который проверялся (для --from-log)")
    parser.add_argument(
        "--command",
        dest="log_command",
        default="make test",
        help=f"чей вывод в --from-log (или {RUN_COMMAND!r})",
    )
    parser.add_argument("command", nargs="*", help="команда проверки (после --)")
    args = parser.parse_args(argv)
    if bool(args.from_log) == bool(args.command):
        parser.error("нужно одно из двух: --from-log LOG или -- КОМАНДА")
    if args.from_log:
        rc, record = from_log(args.from_log, args.commit, args.log_command)
    else:
        rc, record = run(args.command)
    if rc != 0:
        print(f"Команда не прошла (код {rc}): время не записано.", file=sys.stderr)
        return rc
    save(record)
    print(f"Записано в {RECORDS}: {record['seconds'] / 60:.1f} мин.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
