"""Таблица «Сколько времени занимает» в README — из записей о запусках, а не руками.

Записи пишет ``tools/run_notebooks.py --record docs/run_times.json`` (так делает
``make times``): для каждого ноутбука из ``course.toml`` — профиль (быстрый, как в CI, или
полный, как в ``make run``), данные, время и средняя загрузка машины до и после. Этот
скрипт переписывает таблицу между метками ``<!-- run-times:start -->`` и
``<!-- run-times:end -->`` в README; ``--check`` только сверяет (так делает тест) и
возвращает 1, если таблица устарела.

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

from run_notebooks import save_record  # noqa: E402

from course_utils import manifest  # noqa: E402

RECORDS = ROOT / "docs" / "run_times.json"
README = ROOT / "README.md"
START, END = "<!-- run-times:start -->", "<!-- run-times:end -->"
#: Значения поля ``data`` в записях (их пишет ``run_notebooks.run_record``).
DATA_KINDS = ("sample", "local", "download")


def duration(seconds: float) -> str:
    """``48 с``, ``2 мин 15 с``, ``57 мин``."""
    seconds = round(seconds)
    if seconds < 100:
        return f"{seconds} с"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} мин" if minutes >= 20 or rest == 0 else f"{minutes} мин {rest} с"


def load_text(record: dict) -> str:
    """Средняя загрузка за минуту до и после: «загрузка 1,2 → 2,0 при 2 ядрах»."""
    if not record.get("load_before"):
        return "загрузка не записана"
    before, after = record["load_before"][0], record["load_after"][0]
    return f"загрузка {before:.1f} → {after:.1f} при {record['cpus']} ядрах".replace(".", ",")


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


def section(records: list[dict], notebooks: list[str]) -> str:
    return (
        f"{START}\n<!-- Таблицу пишет tools/readme_times.py из docs/run_times.json; "
        f"не правьте её руками. -->\n{table(records, notebooks)}\n{END}"
    )


def render(readme: str, records: list[dict], notebooks: list[str]) -> str:
    """README с таблицей на месте меток."""
    if START not in readme or END not in readme:
        raise SystemExit(f"В README нет меток {START} … {END}: некуда писать таблицу.")
    head, rest = readme.split(START, 1)
    return head + section(records, notebooks) + rest.split(END, 1)[1]


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
        "date": start.strftime("%Y-%m-%d %H:%M UTC"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="только сверить README")
    parser.add_argument("--add-executed", type=Path, help="выполненный ноутбук для записи")
    parser.add_argument("--profile", choices=("fast", "full"), default="full")
    parser.add_argument("--data", choices=DATA_KINDS, default="sample")
    args = parser.parse_args(argv)
    if args.add_executed:
        save_record(RECORDS, executed_record(args.add_executed, args.profile, args.data))
    records = json.loads(RECORDS.read_text(encoding="utf-8")) if RECORDS.exists() else []
    readme = README.read_text(encoding="utf-8")
    updated = render(readme, records, course_notebooks())
    if args.check:
        if updated != readme:
            print("Таблица времени в README устарела: python tools/readme_times.py")
            return 1
        return 0
    README.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
