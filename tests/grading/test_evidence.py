"""Чтение выноса из песочницы и отзыв: подменённые файлы и чужие ячейки не проходят (быстро)."""

from __future__ import annotations

import json
import os
import subprocess
import threading

import nbformat
import numpy as np
import pytest

from course_grader import pipeline, records
from course_utils.checks import evidence
from course_utils.config import REPO_ROOT

SOURCE = REPO_ROOT / "grading" / "source" / "cifar10_vae" / "cifar10_vae.ipynb"


@pytest.fixture
def export(tmp_path):
    folder = tmp_path / "work" / "export"
    folder.mkdir(parents=True)
    np.save(folder / "z.npy", np.ones(3, "float32"))
    (folder / "report.json").write_text(json.dumps({"STUDENT_ID": "1"}))
    return folder


def test_regular_files_are_read(export):
    ex = evidence.Export(export)
    assert ex.report == {"STUDENT_ID": "1"}
    assert ex.array("z").tolist() == [1.0, 1.0, 1.0]
    assert ex.tampered == []


def test_symlinked_file_is_tampered_not_followed(export):
    (export / "report.json").unlink()
    (export / "report.json").symlink_to(SOURCE)
    (export / "executed.ipynb").symlink_to(SOURCE)
    ex = evidence.Export(export)
    assert ex.report == {}
    assert ex.read("executed.ipynb") is None
    assert len(ex.tampered) == 2 and all("не обычный файл" in t for t in ex.tampered)


def test_symlinked_export_folder_is_tampered(tmp_path, export):
    elsewhere = tmp_path / "elsewhere"
    export.rename(elsewhere)
    export.symlink_to(elsewhere)
    ex = evidence.Export(export)
    with pytest.raises(evidence.NoExport, match="подменён"):
        ex.array("z")
    assert any("папка выноса" in t for t in ex.tampered)


def test_fifo_does_not_block_the_reader(export):
    os.mkfifo(export / "executed.ipynb")
    (export / "z.npy").unlink()
    os.mkfifo(export / "z.npy")
    done = []
    # Без O_NONBLOCK открытие канала ждёт писателя вечно: читаем в потоке с пределом.
    reader = threading.Thread(
        target=lambda: done.append(evidence.Export(export).read("executed.ipynb")), daemon=True
    )
    reader.start()
    reader.join(10)
    assert done == [None]
    ex = evidence.Export(export)
    with pytest.raises(evidence.NoExport, match="подменён"):
        ex.array("z")
    assert ex.tampered == ["z.npy: не обычный файл"]


def test_directory_and_oversized_files_are_tampered(export):
    (export / "figure.png").mkdir()
    (export / "big.npy").write_bytes(b"\0" * 2048)
    ex = evidence.Export(export)
    assert ex.read("figure.png") is None
    assert ex.read("big.npy", max_bytes=1024) is None
    assert len(ex.tampered) == 2 and "больше предела" in ex.tampered[1]


def test_missing_file_is_not_tampering(export):
    ex = evidence.Export(export)
    assert ex.read("nothing.npy") is None
    assert ex.tampered == []


def _notebook(*sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def test_feedback_cells_come_from_the_submitted_notebook():
    submitted = _notebook("print(1)", "x = 2")
    forged = nbformat.read(SOURCE, as_version=4)  # «выполненный» ноутбук — чужой
    merged = pipeline._with_outputs(submitted, nbformat.writes(forged).encode())
    assert [c.source for c in merged.cells] == ["print(1)", "x = 2"]
    assert all(c.outputs == [] for c in merged.cells)

    executed = _notebook("print(1)", "x = 2")
    executed.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    executed.cells[1].source = "SOLUTION = 'чужой код'"
    merged = pipeline._with_outputs(submitted, nbformat.writes(executed).encode())
    assert merged.cells[0].outputs[0].text == "1\n"
    assert "SOLUTION" not in nbformat.writes(merged)


def test_huge_outputs_are_cut():
    submitted = _notebook("print('x' * 10**7)")
    executed = _notebook("")
    executed.cells[0].outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="x" * 10**7),
        nbformat.v4.new_output("display_data", data={"application/javascript": "alert(1)"}),
    ]
    merged = pipeline._with_outputs(submitted, nbformat.writes(executed).encode())
    (output,) = merged.cells[0].outputs
    assert len(output.text) == pipeline.MAX_OUTPUT_CHARS


def _chromium_title(page) -> str:
    """Заголовок страницы после загрузки в Chromium (скрипты страницы могли его изменить)."""
    result = subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=3000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


#: Скрипты студента: каждый, если выполнится, дописывает в заголовок слово PWNED.
HOSTILE = [
    "<script>document.title += 'PW' + 'NED'</script>",
    "<img src=x onerror=\"document.title += 'PW' + 'NED'\">",
    "<svg onload=\"document.title += 'PW' + 'NED'\"></svg>",
    "<a href=\"javascript:document.title += 'PW' + 'NED'\">x</a>",
]


def test_no_student_script_runs_in_the_feedback_page(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("\n".join(HOSTILE)), nbformat.v4.new_code_cell("")]
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    nb.cells[1].outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": "".join(HOSTILE)}),
        nbformat.v4.new_output("display_data", data={"image/png": png}),
    ]
    result = records.SubmissionResult(
        student="<script>document.title += 'PW' + 'NED'</script>",
        status="graded",
        student_id_typed="<img src=x onerror=\"document.title += 'PW' + 'NED'\">",
    )
    page = tmp_path / "feedback.html"
    records.write_feedback(result, nb, page)
    dom = _chromium_title(page)
    assert "PWNED" not in dom
    assert 'src="data:image/png;base64,' in dom  # картинки ноутбука видны

    # Контроль: та же страница без санитайзера и CSP выполняет скрипт, то есть тест его видит.
    raw = tmp_path / "raw.html"
    raw.write_text(f"<html><head><title>t</title></head><body>{HOSTILE[0]}</body></html>")
    assert "PWNED" in _chromium_title(raw)
