"""tools/assignment_preview.py: «Что должно получиться» берёт рисунки из выполненного эталона."""

import copy
import sys

import nbformat
import pytest

from course_utils.config import REPO_ROOT

pytestmark = pytest.mark.backend_free  # не зависит от KERAS_BACKEND: только под TensorFlow

sys.path.insert(0, str(REPO_ROOT / "tools"))
import assignment_preview  # noqa: E402


def _figure_cell(outputs):
    cell = nbformat.v4.new_code_cell("morph_figure = ...")
    cell.metadata["nbgrader"] = {"grade_id": "figure_solution", "solution": True}
    cell.outputs = [nbformat.v4.new_output("display_data", data=data) for data in outputs]
    return cell


def _source():
    preview = nbformat.v4.new_markdown_cell("![](attachment:strip.png) ![](attachment:m.gif)")
    preview.attachments = {"strip.png": {"image/png": "OLD-PNG"}, "m.gif": {"image/gif": "OLD-GIF"}}
    return nbformat.v4.new_notebook(cells=[preview, nbformat.v4.new_code_cell("x = 1")])


def test_attachments_are_replaced_by_the_figure_outputs_of_the_same_type():
    executed = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("print(1)"),
            _figure_cell(
                [{"image/png": "NEW-PNG", "text/plain": "<Figure>"}, {"image/gif": "NEW-GIF"}]
            ),
        ]
    )
    source = _source()
    assert sorted(assignment_preview.refresh(executed, source)) == ["m.gif", "strip.png"]
    assert source.cells[0].attachments == {
        "strip.png": {"image/png": "NEW-PNG"},
        "m.gif": {"image/gif": "NEW-GIF"},
    }


def test_a_missing_output_type_stops_without_touching_the_source():
    executed = nbformat.v4.new_notebook(cells=[_figure_cell([{"image/png": "NEW-PNG"}])])
    source = _source()
    with pytest.raises(SystemExit, match="image/gif"):
        assignment_preview.refresh(executed, source)
    assert source.cells[0].attachments == _source().cells[0].attachments


def test_the_committed_preview_matches_the_committed_reference_run():
    """Картинки раздела «Что должно получиться» — из того же прогона, что выходы эталона."""
    from course_utils import manifest

    for assignment in manifest.load(REPO_ROOT).assignments:
        nb = nbformat.read(REPO_ROOT / assignment.source, as_version=4)
        expected = copy.deepcopy(nb)
        assignment_preview.refresh(nb, expected)
        preview = next(cell for cell in nb.cells if cell.get("attachments"))
        fresh = next(cell for cell in expected.cells if cell.get("attachments"))
        assert preview.attachments == fresh.attachments, assignment.name


def test_an_executed_notebook_of_no_assignment_is_refused(tmp_path):
    executed = tmp_path / "not_an_assignment.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[_figure_cell([])]), executed)
    with pytest.raises(SystemExit, match="нет задания с ноутбуком not_an_assignment.ipynb"):
        assignment_preview.main([str(executed)])
