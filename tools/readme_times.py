"""Таблица «Сколько времени занимает» в README и docs/benchmarks.md — из записей, а не руками.

Записи пишет ``tools/run_notebooks.py --record docs/run_times.json`` (так делает
``make times``): для каждого ноутбука из ``course.toml`` — профиль (быстрый, как в CI, или
полный, как в ``make run``), данные, время и средняя загрузка машины до и после. Этот
скрипт переписывает таблицу между метками ``<!-- run-times:start -->`` и
``<!-- run-times:end -->``, а абзац о ``make test`` (его время пишет
``tools/time_make_test.py`` в ``docs/test_times.json``) — между ``<!-- test-time:start -->`` и
``<!-- test-time:end -->``; в README и в docs/benchmarks.md одно и то же. ``--check`` только
сверяет (так делает тест) и возвращает 1, если что-то устарело.

``--add-executed ПУТЬ`` добавляет запись по уже выполненному ноутбуку (например, из
``build/notebooks/``): время — от начала первой ячейки до конца последней по отметкам
Jupyter в самом ноутбуке; загрузка машины тогда неизвестна.

Запуск: ``python tools/readme_times.py [--check] [--add-executed ПУТЬ --profile full --data sample]``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from machine_facts import utc_stamp  # noqa: E402
from run_notebooks import save_record  # noqa: E402
from time_make_test import RUN_COMMAND  # noqa: E402  (записи make run среди записей make test)

from course_utils import manifest  # noqa: E402

RECORDS = ROOT / "docs" / "run_times.json"
TEST_RECORDS = ROOT / "docs" / "test_times.json"
#: Файлы, где стоят обе таблицы (одни и те же).
DOCUMENTS = (ROOT / "README.md", ROOT / "docs" / "benchmarks.md")
START, END = "<!-- run-times:start -->", "<!-- run-times:end -->"
TEST_START, TEST_END = "<!-- test-time:start -->", "<!-- test-time:end -->"
#: Значения поля ``data`` в записях (их пишет ``run_notebooks.run_record``).
DATA_KINDS = ("sample", "local", "download")


def duration(seconds: float) -> str:
    """``48 с``, ``2 мин 15 с``, ``57 мин``."""
    seconds = round(seconds)
    if seconds < 100:
        return f"{seconds} с"
    if seconds >= 20 * 60:
        return f"{round(seconds / 60)} мин"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} мин" if rest == 0 else f"{minutes} мин {rest} с"


def load_text(record: dict) -> str:
    """Средняя загрузка за минуту до и после: «загрузка 1,2 → 2,0 при 2 ядрах»."""
    if not record.get("load_before"):
        return "загрузка не записана"
    before, after = record["load_before"][0], record["load_after"][0]
    return f"загрузка {before:.1f} → {after:.1f} при {record['cpus']} ядрах".replace(".", ",")


def machine_text(record: dict) -> str:
    """Загрузка и, если записан, процессор (от него время обучения зависит вдвое)."""
    processor = record.get("processor")
    return load_text(record) + (f"; процессор {processor}" if processor else "")


def cell(record: dict | None) -> str:
    if record is None:
        return "не замерено"
    return f"{duration(record['seconds'])} ({record['date'][:10]}, {load_text(record)})"


def table(records: list[dict], notebooks: list[str]) -> str:
    """Таблица markdown: строка на ноутбук, столбцы — быстрый и полный профили.

    Только встроенные данные: на них идут и CI, и ``make run`` на новой машине.
    """
    by_key = {(r["notebook"], r["profile"]): r for r in records if r["data"] == "sample"}
    lines = [
        "| Ноутбук | Быстрый профиль (как в CI: `COURSE_FAST=1`) | Полный профиль (как `make run`) |",
        "|---|---|---|",
    ]
    for name in notebooks:
        fast, full = by_key.get((name, "fast")), by_key.get((name, "full"))
        lines.append(f"| `{name}` | {cell(fast)} | {cell(full)} |")
    totals = []
    for profile in ("fast", "full"):
        found = [by_key.get((name, profile)) for name in notebooks]
        total = sum(r["seconds"] for r in found if r)
        totals.append(duration(total) if all(found) else "не все замерены")
    lines.append(f"| всего | {totals[0]} | {totals[1]} |")
    return "\n".join(lines)


def run_paragraph(records: list[dict]) -> str:
    """Абзац о последнем прошедшем ``make run`` из свежего клона."""
    runs = [r for r in records if r.get("command") == RUN_COMMAND]
    if not runs:
        return (
            "`make run` из свежего клона ещё не замерен: "
            "`python tools/time_make_test.py -- make run`."
        )
    r = runs[-1]
    return (
        f"`make run` из свежего клона (с установкой `.venv`, полный профиль на встроенных "
        f"данных) в последний раз прошёл за **{duration(r['seconds'])}** ({r['date'][:10]}, "
        f"коммит `{r['commit']}`, {machine_text(r)})."
    )


def test_paragraph(records: list[dict]) -> str:
    """Абзац о последнем прошедшем ``make test``: время, процессор, каждый набор тестов."""
    records = [r for r in records if r.get("command") != RUN_COMMAND]
    if not records:
        return "`make test` ещё не замерен: `python tools/time_make_test.py -- make test`."
    r = records[-1]
    cpu = ""
    if r.get("busy_seconds"):
        cores = f"{r['busy_seconds'] / r['seconds']:.1f}".replace(".", ",")
        cpu = (
            f"; процессор машины был занят {duration(r['busy_seconds'])}, то есть в среднем "
            f"{cores} ядра из {r['cpus']} (вместе с песочницами и ядрами Jupyter)"
        )
    elif r.get("cpu_seconds"):  # записи до busy_seconds: только дочерние процессы
        cores = f"{r['cpu_seconds'] / r['seconds']:.1f}".replace(".", ",")
        cpu = (
            f"; процессы тестов заняли процессор на {duration(r['cpu_seconds'])}, "
            f"то есть в среднем {cores} ядра из {r['cpus']}"
        )
    suites = "; ".join(f"{s['suite']} — {duration(s['seconds'])}" for s in r["suites"])
    return (
        f"`make test` из свежего клона (`{r['command']}`, с установкой `.venv`) в последний раз "
        f"занял **{duration(r['seconds'])}** ({r['date'][:10]}, коммит `{r['commit']}`, "
        f"{machine_text(r)}){cpu}. Наборы тестов (их время по отчёту pytest): {suites}."
    )


def replace_marked(text: str, start: str, end: str, body: str) -> str:
    if start not in text or end not in text:
        raise SystemExit(f"Нет меток {start} … {end}: некуда писать.")
    head, rest = text.split(start, 1)
    return f"{head}{start}\n{body}\n{end}{rest.split(end, 1)[1]}"


def render(text: str, records: list[dict], notebooks: list[str], tests: list[dict]) -> str:
    """Текст с таблицей ноутбуков и абзацем о ``make test`` на местах меток."""
    note = "<!-- Пишет tools/readme_times.py из docs/{}; не правьте руками. -->\n"
    text = replace_marked(
        text, START, END, note.format("run_times.json") + table(records, notebooks)
    )
    return replace_marked(
        text,
        TEST_START,
        TEST_END,
        note.format("test_times.json") + test_paragraph(tests) + "\n\n" + run_paragraph(tests),
    )


def course_notebooks() -> list[str]:
    return [Path(path).stem for path in manifest.load(ROOT).run_list()]


def executed_record(path: Path, profile: str, data: str) -> dict:
    """Запись по выполненному ноутбуку: время по отметкам Jupyter первой и последней ячеек."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    times = [
        cell["metadata"]["execution"]
        for cell in notebook["cells"]
        if cell["cell_type"] == "code" and "execution" in cell.get("metadata", {})
    ]
    if not times:
        raise SystemExit(f"{path}: в ноутбуке нет отметок времени выполнения (он не выполнен?).")

    def parse(stamp: str) -> datetime.datetime:
        return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))

    start = parse(times[0]["iopub.execute_input"])
    end = parse(times[-1]["shell.execute_reply"])
    return {
        "notebook": path.stem,
        "profile": profile,
        "data": data,
        "seconds": round((end - start).total_seconds(), 1),
        "load_before": None,
        "load_after": None,
        "cpus": None,
        "date": utc_stamp(start),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="только сверить README и docs/benchmarks.md"
    )
    parser.add_argument("--add-executed", type=Path, help="выполненный ноутбук для записи")
    parser.add_argument("--profile", choices=("fast", "full"), default="full")
    parser.add_argument("--data", choices=DATA_KINDS, default="sample")
    args = parser.parse_args(argv)
    if args.add_executed:
        save_record(RECORDS, executed_record(args.add_executed, args.profile, args.data))
    records, tests = (
        json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
        for path in (RECORDS, TEST_RECORDS)
    )
    stale = []
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        updated = render(text, records, course_notebooks(), tests)
        if updated != text:
            stale.append(document.relative_to(ROOT).as_posix())
            if not args.check:
                document.write_text(updated, encoding="utf-8")
    if args.check and stale:
        print(f"Время в {', '.join(stale)} устарело: python tools/readme_times.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
