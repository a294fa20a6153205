"""`make run`: executed copies and figures land in build/, sources stay untouched."""

import nbformat

from course_utils.run_notebooks import course_notebooks, run_notebook


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

    run_notebook(source, tmp_path / "build")

    executed = nbformat.read(tmp_path / "build" / "notebooks" / "demo.ipynb", as_version=4)
    assert executed.cells[1].execution_count == 1
    figures = list((tmp_path / "build" / "figures" / "demo").glob("*.png"))
    assert len(figures) == 1
    assert figures[0].read_bytes().startswith(b"\x89PNG")
    assert source.read_bytes() == before


def test_course_notebooks_skip_the_unsolved_student_version():
    names = [path.name for path in course_notebooks()]
    assert not any("assignment" in name for name in names)
