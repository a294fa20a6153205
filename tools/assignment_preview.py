"""Обновляет раздел «Что должно получиться» задания по выполненному эталону.

Раздел (markdown-ячейка с вложениями в начале эталона) показывает студенту рисунок и
анимацию морфинга из эталонного прогона; nbgrader переносит его в версию для
студентов. После нового прогона эталона (``make quality`` или Run All) вложения
устаревают: эта программа заменяет каждое вложение выходом того же типа (``image/png``,
``image/gif``) из ячейки рисунка (``grade_id`` ``figure_solution``) выполненного ноутбука.

Запуск: ``python tools/assignment_preview.py ВЫПОЛНЕННЫЙ.ipynb [ЭТАЛОН.ipynb]`` — по
умолчанию эталон — задание из course.toml с тем же именем файла; затем ``make release``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from course_utils import manifest

ROOT = Path(__file__).resolve().parent.parent
FIGURE_CELL = "figure_solution"


def refresh(executed: nbformat.NotebookNode, source: nbformat.NotebookNode) -> list[str]:
    """Заменяет вложения ``source`` выходами ячейки рисунка ``executed``; имена заменённых."""
    figure = next(
        (
            cell
            for cell in executed.cells
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == FIGURE_CELL
        ),
        None,
    )
    if figure is None:
        raise SystemExit(f"В выполненном ноутбуке нет ячейки {FIGURE_CELL!r}.")
    outputs = {}
    for output in figure.get("outputs", []):
        for mime, data in output.get("data", {}).items():
            outputs.setdefault(mime, data)
    preview = next((cell for cell in source.cells if cell.get("attachments")), None)
    if preview is None:
        raise SystemExit("В эталоне нет ячейки с вложениями («Что должно получиться»).")
    # Сначала проверяем все вложения: при ошибке эталон не меняется даже в памяти.
    for name, bundle in preview.attachments.items():
        for mime in bundle:
            if mime not in outputs:
                raise SystemExit(f"Ячейка {FIGURE_CELL!r} не выдала {mime} для вложения {name}.")
    for bundle in preview.attachments.values():
        for mime in bundle:
            bundle[mime] = outputs[mime]
    return list(preview.attachments)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("executed", type=Path, help="выполненный эталон")
    parser.add_argument("source", type=Path, nargs="?", help="эталон, который обновить")
    args = parser.parse_args(argv)
    # По умолчанию — эталон задания из course.toml с тем же именем файла, что у выполненного.
    source_path = args.source or next(
        (
            ROOT / a.source
            for a in manifest.load(ROOT).assignments
            if Path(a.source).name == args.executed.name
        ),
        None,
    )
    if source_path is None:
        raise SystemExit(f"В course.toml нет задания с ноутбуком {args.executed.name}.")
    executed = nbformat.read(args.executed, as_version=4)
    source = nbformat.read(source_path, as_version=4)
    replaced = refresh(executed, source)
    nbformat.write(source, source_path)
    print(f"{source_path.name}: обновлены вложения {', '.join(replaced)}")


if __name__ == "__main__":
    sys.exit(main())
