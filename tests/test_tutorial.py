"""docs/tutorial.ipynb runs from top to bottom (nbclient) and shows what it says it shows."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import implicit_bias as ib

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "tutorial.ipynb"


def outputs(cell):
    texts = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "execute_result":
            texts.append(out["data"].get("text/plain", ""))
        elif out["output_type"] == "error":
            texts.append(f"{out['ename']}: {out['evalue']}")
    return "\n".join(texts)


def test_the_tutorial_notebook_runs(tmp_path):
    for module in ("nbclient", "nbformat", "ipykernel"):
        pytest.importorskip(module, reason=f"{module} not installed (pip install 'implicit-bias[test]')")
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    # the kernel's own (inline) matplotlib backend draws the figure into the notebook
    env = {**os.environ, "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(out["output_type"] != "error" for c in code for out in c.get("outputs", []))
    text = [outputs(c) for c in code]
    # independent of the notebook: the references of the same data, solved here
    X, y = ib.datasets.gaussian(n=20, d=5, seed=0)
    assert f"gamma={float(ib.max_margin(X, y).gamma):.6g}" in text[1]
    assert f"gamma={float(ib.max_margin(X, y, norm='linf').gamma):.6g}" in text[2]
    assert "Trajectory(GD, " in text[3] and "t = 20000" in text[3]
    assert "kind='linf'" in text[5]
    assert float(text[6]) > 0.99  # Signum ends near its predicted (l-inf) direction
    assert any(out["output_type"] == "display_data" and "image/png" in out["data"] for out in code[7]["outputs"])
    assert "SweepResult(2 cells" in text[8] and "ran 2" in text[8]
    table = text[9].splitlines()
    assert len(table) == 3 and "0.90" in table[1] and "0.99" in table[2]
