"""Выполняет ноутбуки курса без браузера и складывает результаты в ``build/``.

Запуск: ``python tools/run_notebooks.py [NOTEBOOK ...]`` (так делает ``make run``).
Без аргументов выполняются все ноутбуки курса из ``course.toml`` по порядку (вместо
нерешённой версии задания для студентов — эталон преподавателя). Для каждого ноутбука
в ``build/notebooks/`` появляется выполненная копия, а в ``build/figures/<имя>/`` —
все его рисунки в PNG. Исходные ноутбуки не меняются.
"""

from __future__ import annotations

import argparse
import base64
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from course_utils import manifest

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="ноутбуки (по умолчанию все)")
    parser.add_argument("--build-dir", type=Path, default=COURSE_ROOT / "build")
    parser.add_argument("--list", action="store_true", help="только напечатать, что выполнится")
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
        elapsed = run_notebook(path, args.build_dir)
        print(f"  готово за {elapsed:.0f} с", flush=True)
    print(f"Результаты: {args.build_dir}/notebooks, рисунки: {args.build_dir}/figures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
