"""Выполняет ноутбуки курса без браузера и складывает результаты в ``build/``.

Запуск: ``python tools/run_notebooks.py [NOTEBOOK ...]`` (так делает ``make run``).
Без аргументов выполняются все ноутбуки курса из ``course.toml`` по порядку (вместо
нерешённой версии задания для студентов — эталон преподавателя). Для каждого ноутбука
в ``build/notebooks/`` появляется выполненная копия, а в ``build/figures/<имя>/`` —
все его рисунки в PNG. Исходные ноутбуки не меняются.

``--record docs/run_times.json`` дописывает в этот файл время каждого ноутбука, профиль,
данные и загрузку машины до и после: из него ``tools/readme_times.py`` строит таблицу
времени в README.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from pathlib import Path

import nbformat
from machine_facts import cpus, load_now, utc_stamp
from nbclient import NotebookClient

from course_utils import manifest
from course_utils.config import data_source, fast_mode

#: Корень курса: папка над tools/ (в ней course.toml).
COURSE_ROOT = Path(__file__).resolve().parent.parent


def save_figures(notebook: nbformat.NotebookNode, folder: Path) -> int:
    """Сохраняет все PNG-выходы ноутбука в ``folder``; возвращает их число."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png:
                count += 1
                (folder / f"cell{index:03d}_{count:02d}.png").write_bytes(base64.b64decode(png))
    return count


def run_notebook(path: Path, build_dir: Path, timeout: int | None = None) -> float:
    """Выполняет один ноутбук в его папке; возвращает время в секундах."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    out_dir = build_dir / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, out_dir / path.name)
    save_figures(notebook, build_dir / "figures" / path.stem)
    return elapsed


def run_record(path: Path, seconds: float, load_before: list[float]) -> dict:
    """Запись об одном выполнении: что, в каком профиле, на каких данных, сколько и при какой загрузке."""
    source = data_source()
    return {
        "notebook": path.stem,
        "profile": "fast" if fast_mode() else "full",
        "data": source if source in ("sample", "download") else "local",
        "seconds": round(seconds, 1),
        "load_before": load_before,
        "load_after": load_now(),
        "cpus": cpus(),
        "date": utc_stamp(),
    }


def save_record(path: Path, record: dict) -> None:
    """Заменяет в ``path`` запись того же ноутбука, профиля и данных (или добавляет новую)."""
    records = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    key = ("notebook", "profile", "data")
    records = [r for r in records if [r[k] for k in key] != [record[k] for k in key]]
    records.append(record)
    records.sort(key=lambda r: [r[k] for k in key])
    path.write_text(json.dumps(records, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="ноутбуки (по умолчанию все)")
    parser.add_argument("--build-dir", type=Path, default=COURSE_ROOT / "build")
    parser.add_argument("--list", action="store_true", help="только напечатать, что выполнится")
    parser.add_argument("--record", type=Path, help="JSON, куда дописать время каждого ноутбука")
    args = parser.parse_args(argv)

    notebooks = [path.resolve() for path in args.notebooks] or [
        COURSE_ROOT / path for path in manifest.load(COURSE_ROOT).run_list()
    ]
    if not notebooks:
        print(f"Ноутбуков не найдено: в {manifest.MANIFEST_NAME} нет ни одного.")
        return 0
    if args.list:
        print("\n".join(path.relative_to(COURSE_ROOT).as_posix() for path in notebooks))
        return 0
    for path in notebooks:
        print(f"▶ {path.name}", flush=True)
        load_before = load_now()
        elapsed = run_notebook(path, args.build_dir)
        print(f"  готово за {elapsed:.0f} с", flush=True)
        if args.record:
            save_record(args.record, run_record(path, elapsed, load_before))
    print(f"Результаты: {args.build_dir}/notebooks, рисунки: {args.build_dir}/figures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
