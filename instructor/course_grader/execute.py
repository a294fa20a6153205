"""Выполнение работы студента ВНУТРИ песочницы и вынос того, что нужно проверяющему.

Запускается как ``python -m course_grader.execute`` в песочнице
(:mod:`.sandbox`): ядро Jupyter стартует там же. Ноутбук выполняется до конца с пределом
на ячейку; затем в том же ядре выполняется код выноса (:data:`EXPORT_CODE`,
:func:`course_utils.checks.answers.collect`): он сохраняет массивы, историю обучения,
рисунок, кодировщик и декодер и ответы модели на запросы проверяющего в папку ``export/``.

Всё, что отсюда выходит, — заявления студента, а не оценки: их проверяет отдельный процесс
(:mod:`course_utils.checks.verify`) по настоящим данным. Поэтому здесь нет ни одного
решения о баллах.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync

#: Сколько ждать ответа ядра после прерывания зависшей ячейки, секунды.
PROBE_TIMEOUT = 30

# Код выноса. Выполняется в ядре студента: всё, что он пишет, проверяется снаружи как
# заявление (а за модель баллы ставит чистый процесс, course_utils.checks.evaluate).
EXPORT_CODE = """
from course_utils.checks.answers import collect as __grader_collect
__grader_collect(globals(), __OUT__, __QUERIES__)
del __grader_collect
"""


def _code_cells(nb):
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def run_notebook(
    notebook: Path, queries: Path, out: Path, kernel_name: str, cell_timeout: int
) -> dict:
    """Выполняет ноутбук и код выноса; возвращает отчёт о выполнении (тоже в ``out/run.json``)."""
    out.mkdir(parents=True, exist_ok=True)
    run_dir = out.parent / "run"
    run_dir.mkdir(exist_ok=True)
    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(
        nb,
        timeout=cell_timeout,
        kernel_name=kernel_name,
        allow_errors=True,
        interrupt_on_timeout=False,
        resources={"metadata": {"path": str(run_dir)}},
    )
    report = {"status": "completed", "cells": [], "message": ""}

    def log():
        (out / "run.json").write_text(json.dumps(report, ensure_ascii=False))

    def run_extra(source: str, timeout: int) -> nbformat.NotebookNode:
        """Выполняет служебную ячейку (nbclient кладёт её в ноутбук; потом она убирается)."""
        cell = nbformat.v4.new_code_cell(source)
        nb.cells.append(cell)
        client.timeout = timeout
        try:
            client.execute_cell(cell, len(nb.cells) - 1)
        finally:
            nb.cells.pop()
            client.timeout = cell_timeout
        return cell

    def stuck_after_interrupt() -> bool:
        run_sync(client.km.interrupt_kernel)()
        try:
            run_extra("pass", PROBE_TIMEOUT)
            return False
        except (CellTimeoutError, DeadKernelError):
            return True

    with client.setup_kernel():
        # keras.datasets.*.load_data() без сети отдаёт наборы курса (как load_cifar10()).
        run_extra("import course_grader.offline_data as _d\n_d.install()\ndel _d", cell_timeout)
        for index, cell in _code_cells(nb):
            start = time.monotonic()
            entry = {"index": index, "id": cell.get("id"), "status": "ok"}
            report["cells"].append(entry)
            try:
                client.execute_cell(cell, index)
                if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
                    entry["status"] = "error"
            except CellTimeoutError:
                entry["status"] = "timeout"
                cell.outputs.append(
                    nbformat.v4.new_output(
                        "error",
                        ename="CellTimeoutError",
                        evalue=f"ячейка не уложилась в {cell_timeout} с",
                        traceback=[f"Ячейка прервана: не уложилась в предел {cell_timeout} с."],
                    )
                )
                if stuck_after_interrupt():
                    report["status"] = "timed_out"
                    report["message"] = (
                        f"ячейка {index} не уложилась в {cell_timeout} с и не прервалась"
                    )
            except DeadKernelError as exc:
                entry["status"] = "kernel_died"
                report["status"] = "kernel_died"
                report["message"] = f"ядро завершилось в ячейке {index}: {exc}"[:500]
            except Exception as exc:  # noqa: BLE001 — любой сбой выполнения — статус, не падение
                entry["status"] = "failed"
                report["status"] = "error"
                report["message"] = f"ячейка {index}: {type(exc).__name__}: {exc}"[:500]
            entry["seconds"] = round(time.monotonic() - start, 2)
            log()
            if report["status"] != "completed":
                break
        nbformat.write(nb, out / "executed.ipynb")
        if report["status"] == "completed":
            code = EXPORT_CODE.replace("__OUT__", repr(str(out))).replace(
                "__QUERIES__", repr(str(queries))
            )
            try:
                export = run_extra(code, max(cell_timeout, 120))
                errors = [o for o in export.outputs if o.get("output_type") == "error"]
                if errors:
                    report["message"] = (
                        f"вынос результатов: {errors[0].get('ename')}: {errors[0].get('evalue')}"[
                            :500
                        ]
                    )
            except CellTimeoutError:
                report["status"] = "timed_out"
                report["message"] = "вынос результатов не уложился в предел времени"
            except DeadKernelError:
                report["status"] = "kernel_died"
                report["message"] = "ядро завершилось при выносе результатов"
    report["finished"] = True  # без этой отметки выполнение считается оборванным
    log()
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("queries", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--cell-timeout", type=int, default=1200)
    args = parser.parse_args(argv)
    run_notebook(args.notebook, args.queries, args.out, args.kernel, args.cell_timeout)


if __name__ == "__main__":
    main()
