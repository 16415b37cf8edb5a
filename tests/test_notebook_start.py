"""The first thing an analyst sees in JupyterLab: a notebook's first code cell prints no
warning (issue 34, class 17: gpboost imports optuna, which imports tqdm.auto, and without
ipywidgets tqdm printed a red "TqdmWarning: IProgress not found" there)."""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest
from jupyter_client.manager import start_new_kernel

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _stderr_of(cells: list[str]) -> str:
    km, kc = start_new_kernel(kernel_name="python3")
    err = []
    try:
        for code in cells:
            msg_id = kc.execute(code)
            while True:
                m = kc.get_iopub_msg(timeout=300)
                if m["parent_header"].get("msg_id") != msg_id:
                    continue
                if m["msg_type"] == "stream" and m["content"]["name"] == "stderr":
                    err.append(m["content"]["text"])
                if m["msg_type"] == "error":
                    err.append(f"{m['content']['ename']}: {m['content']['evalue']}")
                if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                    break
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return "".join(err)


@pytest.mark.parametrize("name", ["00_data_overview", "01_referral_variation"])
def test_the_first_code_cell_prints_no_warning(name, small):
    nb = jupytext.read(NOTEBOOKS / f"{name}.py")
    code = [c for c in nb.cells if c.cell_type == "code"]
    params = next(c.source for c in code if "parameters" in c.metadata.get("tags", []))
    first = next(c.source for c in code if "report.start" in c.source)
    params = params.replace('"synthetic:england"', '"synthetic:small"')
    assert _stderr_of([params, first]) == ""
