"""Post-run checks on an executed report notebook, and the values its index row shows.

Every report must have run without an exception or error output, drawn at least the number of
charts its catalogue entry promises, and written its results file.
"""

from __future__ import annotations

from pathlib import Path

from helpers import catalogue


def check_output(nb: dict, notebook: str, results_file: Path) -> list[str]:
    """Problems with an executed notebook (empty when it passed)."""
    problems = []
    if nb.get("metadata", {}).get("papermill", {}).get("exception"):
        problems.append("papermill recorded an exception")
    n_png = 0
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                problems.append(f"error output: {o.get('ename')}: {o.get('evalue')}")
            if "image/png" in o.get("data", {}):
                n_png += 1
    want = catalogue.get(notebook).min_figures
    if n_png < want:
        problems.append(f"expected at least {want} charts, found {n_png}")
    if not Path(results_file).exists():
        problems.append("results file not written")
    return problems


def headline_values(results: dict, keys: tuple[str, ...]) -> dict:
    """The results values named by ``keys`` ("a.b" reaches into a nested dict), keyed by
    their last part; absent keys are left out."""
    out = {}
    for key in keys:
        value: object = results
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            out[key.rsplit(".", 1)[-1]] = value
    return out
