"""`make run` (tools/run_notebooks.py): executed copies and figures land in build/, sources stay untouched."""

import subprocess
import sys

import nbformat
import pytest

from course_utils import manifest
from course_utils.config import REPO_ROOT

pytestmark = pytest.mark.backend_free  # не зависит от KERAS_BACKEND: только под TensorFlow

RUNNER = REPO_ROOT / "tools" / "run_notebooks.py"


def test_run_notebook_writes_executed_copy_and_figures(tmp_path):
    source = tmp_path / "demo.ipynb"
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Пример"),
        nbformat.v4.new_code_cell(
            "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()"
        ),
    ]
    nbformat.write(notebook, source)
    before = source.read_bytes()

    result = subprocess.run(
        [sys.executable, str(RUNNER), str(source), "--build-dir", str(tmp_path / "build")],
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    executed = nbformat.read(tmp_path / "build" / "notebooks" / "demo.ipynb", as_version=4)
    assert executed.cells[1].execution_count == 1
    figures = list((tmp_path / "build" / "figures" / "demo").glob("*.png"))
    assert len(figures) == 1
    assert figures[0].read_bytes().startswith(b"\x89PNG")
    assert source.read_bytes() == before


def test_without_arguments_runs_the_manifest_list():
    """Без аргументов — ноутбуки из course.toml (эталоны вместо версий для студентов)."""
    result = subprocess.run(
        [sys.executable, str(RUNNER), "--list"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    listed = result.stdout.split()
    assert listed == manifest.load().run_list()
    assert not set(listed) & {a.student_version for a in manifest.load().assignments}
