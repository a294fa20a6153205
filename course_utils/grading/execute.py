"""Выполнение работы студента ВНУТРИ песочницы и вынос того, что нужно проверяющему.

Запускается как ``python -m course_utils.grading.execute`` в песочнице
(:mod:`.sandbox`): ядро Jupyter стартует там же. Ноутбук выполняется до конца с пределом
на ячейку; затем в том же ядре выполняется код выноса (:data:`EXPORT_CODE`): он сохраняет
массивы, историю обучения, рисунок и ответы модели на запросы проверяющего (закодировать
эти изображения, декодировать эти точки) в папку ``export/``.

Всё, что отсюда выходит, — заявления студента, а не оценки: их проверяет отдельный процесс
(:mod:`.verify`) по настоящим данным. Поэтому здесь нет ни одного решения о баллах.
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
# заявление. Каждый пункт — отдельно: ошибка в одном не мешает остальным.
EXPORT_CODE = r"""
def __grader_export(out, queries):
    import builtins as _b
    import json as _json
    import pathlib as _pathlib
    import sys as _sys

    import numpy as _np

    # Свои встроенные имена: студент мог переопределить len, dict, ... в своём пространстве.
    BaseException, Exception, NameError = _b.BaseException, _b.Exception, _b.NameError
    dict, float, hasattr, int, len, list, str, sum, type = (
        _b.dict, _b.float, _b.hasattr, _b.int, _b.len, _b.list, _b.str, _b.sum, _b.type
    )

    out = _pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report = {"errors": {}}
    ns = globals()

    def attempt(key, fn):
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 — любая ошибка студента — это сообщение
            report["errors"][key] = f"{type(exc).__name__}: {exc}"[:500]

    def to_np(value, dtype="float32"):
        keras = _sys.modules.get("keras")  # без Keras в работе не импортируем его (секунды)
        if keras is not None:
            try:
                value = keras.ops.convert_to_numpy(value)
            except Exception:
                pass
        return _np.asarray(value, dtype=dtype)

    def need(name):
        if name not in ns:
            raise NameError(f"переменная {name} не определена")
        return ns[name]

    def scalar(name, kind):
        def run():
            value = need(name)
            if kind == "str":
                report[name] = str(value)[:200]
            elif kind == "int":
                report[name] = int(value)
                report[name + "_type"] = type(value).__name__
            elif kind == "ints":
                report[name] = [int(v) for v in list(value)[:20]]
        attempt(name, run)

    scalar("STUDENT_ID", "str")
    report["STUDENT_ID_type"] = type(ns.get("STUDENT_ID")).__name__
    scalar("classes", "ints")
    scalar("LATENT_DIM", "int")
    scalar("label_a", "int")
    scalar("label_b", "int")

    def array(name, dtype="float32"):
        attempt(name, lambda: _np.save(out / f"{name}.npy", to_np(need(name), dtype)))

    for name in ("x_train", "x_test", "image_a", "image_b", "morph_frames"):
        array(name)
    for name in ("y_train", "y_test"):
        array(name, "int64")

    def history():
        value = need("history")
        data = value.history if hasattr(value, "history") else value
        report["history"] = {
            str(k): [float(v) for v in list(vals)[:10000]] for k, vals in dict(data).items()
        }
    attempt("history", history)

    def figure():
        fig = need("morph_figure")
        report["figure_class"] = f"{type(fig).__module__}.{type(fig).__name__}"
        report["figure_images"] = int(sum(len(ax.images) for ax in fig.axes))
        fig.savefig(out / "figure.png", format="png", dpi=60)
    attempt("morph_figure", figure)

    # Ответы модели на запросы проверяющего.
    heldout = _np.load(queries)["heldout"]

    def model():
        vae = need("vae")
        encoder, decoder = vae.encoder, vae.decoder
        parts = encoder(heldout, training=False)
        z_mean, z_log_var, z = (to_np(p) for p in parts)
        _np.save(out / "z_mean.npy", z_mean)
        _np.save(out / "z_log_var.npy", z_log_var)
        _np.save(out / "z.npy", z)
        _np.save(out / "reconstructions.npy", to_np(decoder(z_mean, training=False)))
    attempt("vae", model)

    def line():
        vae = need("vae")
        frames = _np.asarray(need("morph_frames"))
        pair = _np.stack([to_np(need("image_a")), to_np(need("image_b"))])
        z_ab = to_np(vae.encoder(pair, training=False)[0])
        alphas = _np.linspace(0.0, 1.0, len(frames), dtype="float32")[:, None]
        points = z_ab[0][None] * (1 - alphas) + z_ab[1][None] * alphas
        _np.save(out / "z_ab.npy", z_ab)
        _np.save(out / "line_frames.npy", to_np(vae.decoder(points, training=False)))
    attempt("line", line)

    def sampling_in_training_mode():
        # Последним: слой выборки может шуметь только при training=True (а пакетная
        # нормализация при этом меняет свои средние, поэтому после всех запросов).
        parts = need("vae").encoder(heldout, training=True)
        z_mean, z_log_var, z = (to_np(p) for p in parts)
        _np.save(out / "z_mean_training.npy", z_mean)
        _np.save(out / "z_log_var_training.npy", z_log_var)
        _np.save(out / "z_training.npy", z)
    attempt("sampling", sampling_in_training_mode)

    (out / "report.json").write_text(_json.dumps(report))


__grader_export(__OUT__, __QUERIES__)
del __grader_export
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
