"""The worked notebooks in notebooks/ run from top to bottom, and are stored without outputs.

Execution needs nbclient, nbformat and ipykernel (``pip install -e ".[notebooks]"``, part of
``[all]``); without them the execution tests skip, unless the environment variable CI is set,
where they fail. Each notebook runs in a fresh kernel with a temporary working folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
EXPECTED = {
    "01_quick_start.ipynb",
    "02_temperature_series_arrhenius.ipynb",
    "03_full_cell_and_interfaces.ipynb",
    "04_writing_your_own_circuit.ipynb",
    "05_own_elements_constraints_shared.ipynb",
    "06_solid_electrolyte_analyses.ipynb",
}


def _need(module: str):
    try:
        return __import__(module)
    except ImportError:
        reason = (f"{module} is not installed: the notebooks cannot be executed "
                  "(pip install -e '.[notebooks]')")
        if os.environ.get("CI"):
            pytest.fail(reason + " and CI is set")
        pytest.skip(reason)


def test_the_worked_notebooks_are_there():
    assert {p.name for p in NOTEBOOKS} >= EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["nbformat"] == 4
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, "a notebook without code"
    for c in code:
        assert c.get("outputs") == [], f"{path.name}: a cell has outputs; strip them"
        assert c.get("execution_count") is None, f"{path.name}: execution counts left in"
    text = json.dumps(nb)
    assert "/work/" not in text and "/tmp/" not in text, "a local path is stored in the notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path, tmp_path):
    _need("ipykernel")
    nbformat = _need("nbformat")
    nbclient = _need("nbclient")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    # the figures were displayed, not just returned as text
    assert any("image/png" in o.get("data", {}) for o in outputs), "no figure was shown"
