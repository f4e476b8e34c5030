"""The scenario notebook runs top to bottom (so it never rots)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "compare_scenarios.ipynb"


@pytest.mark.slow
def test_compare_scenarios_notebook_executes():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert errors == []
    table = next(c for c in nb.cells if "comparison_table(summary)" in c.source)
    shown = table.outputs[0]["data"]["text/plain"]
    for name in ("baseline", "sixth expert", "online push"):
        assert name in shown
    # every figure cell shows a picture, not "<Figure size …>" text, and only once
    figures = [c for c in nb.cells if c.cell_type == "code" and c.source.rstrip().endswith("fig")]
    assert len(figures) >= 4
    for cell in figures:
        images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        assert len(images) == 1, cell.source
        assert all("<Figure size" not in o.get("data", {}).get("text/plain", "")
                   or "image/png" in o.get("data", {}) for o in cell.outputs)
