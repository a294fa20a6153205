"""The benchmark builds notebook 02's own model from its cells tagged ``vae-model``."""

import nbformat
import pytest

from course_utils.config import REPO_ROOT

pytestmark = pytest.mark.backend_free  # не зависит от KERAS_BACKEND: только под TensorFlow


def test_notebook_02_tags_the_cells_that_define_the_model():
    notebook = nbformat.read(REPO_ROOT / "notebooks" / "02_vae_fashion_mnist.ipynb", as_version=4)
    tagged = "\n".join(
        cell.source
        for cell in notebook.cells
        if cell.cell_type == "code" and "vae-model" in cell.metadata.get("tags", [])
    )
    for definition in ("BETA", "class Sampling(", "encoder = ", "decoder = ", "class VAE("):
        assert definition in tagged, f"no cell tagged vae-model defines {definition!r}"
