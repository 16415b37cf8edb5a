"""What every report notebook does first and last: open the data, describe it, write results.

``start(name, globals())`` takes the notebook's parameters from its namespace (the names in
its catalogue spec; any other name set by a parameter cell is an error), validates them, opens
the data source, selects the commissioner's practices and sets the chart style.
``write_results`` writes the machine-readable results file (sorted keys, rounded numbers, so
identical runs give identical files). The report modules of this package (one per notebook)
build on the :class:`Context` that ``start`` returns.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers import catalogue
from helpers.catalogue import ENGLAND
from helpers.datasets import Dataset, load_dataset, write_text_atomic
from helpers.paths import project_root
from helpers.report import charts
from helpers.run import params
from helpers.sources import synthetic


class DataSourceError(ValueError):
    """The data_source parameter names nothing usable."""


def open_source(data_source: str) -> Dataset:
    """``synthetic:<preset>`` (built on first use) or a dataset folder path."""
    if data_source.startswith("synthetic:"):
        preset = data_source.split(":", 1)[1]
        if preset not in synthetic.PRESETS:
            raise DataSourceError(f"unknown synthetic preset '{preset}'; "
                                  f"known: {sorted(synthetic.PRESETS)}")
        return synthetic.load(preset)
    path = Path(data_source)
    if not path.is_absolute():
        path = project_root() / path
    if not path.is_dir():
        raise DataSourceError(f"data_source folder not found: {path}")
    return load_dataset(path)


@dataclass
class Context:
    """Everything a report needs after set-up."""

    notebook: str
    params: dict[str, Any]
    ds: Dataset
    commissioner: str
    area_name: str
    practice_codes: list[str]
    publish: bool

    @property
    def is_england(self) -> bool:
        return self.commissioner == ENGLAND

    @property
    def source_line(self) -> str:
        kind = self.ds.provenance.get("source", "dataset")
        real = self.ds.provenance.get("real_tables", [])
        synth = self.ds.provenance.get("synthetic_tables", [])
        if kind == "synthetic":
            what = "synthetic England (simulated data)"
        elif "referrals" in synth and real:
            what = "real NHS open data; referrals and hospital activity synthetic"
        elif synth:
            what = f"{'real referrals; ' if 'referrals' in real else ''}{len(synth)} of " \
                   f"{len(real) + len(synth)} tables synthetic (see the report header)"
        else:
            what = f"{kind} data"
        return f"{what}, dataset {self.ds.content_hash}"

    def data_statement(self) -> str:
        """Plain-English statement of which parts of the data are real."""
        prov = self.ds.provenance
        if prov.get("source") == "synthetic":
            return ("**These figures come from a synthetic England**: simulated practices, "
                    "populations and referrals built to resemble published national figures, "
                    "with known true effects. They illustrate the method and must not be read "
                    "as facts about any real practice or commissioner.")
        real = ", ".join(prov.get("real_tables", [])) or "none"
        synth = ", ".join(prov.get("synthetic_tables", [])) or "none"
        text = f"**Real data:** {real}. **Synthetic (simulated) parts:** {synth}."
        if prov.get("statement"):
            text += f"\n\n{prov['statement']}"
        return text


def start(notebook: str, namespace: Mapping[str, Any]) -> Context:
    """Validate parameters, open data, choose the area's practices, set chart style.

    ``namespace`` is the notebook's ``globals()`` (the parameters are the names of the
    notebook's catalogue spec found there) or a plain dict of parameter values.
    """
    nb = catalogue.get(notebook)
    p = nb.validate(params.from_namespace(nb.params, namespace, nb.name))
    ds = open_source(p["data_source"])
    codes = ds.commissioners["commissioner_code"].astype(str).tolist()
    # codes are matched without regard to case and used as the data spells them
    comm = {c.upper(): c for c in [ENGLAND, *codes]}.get(p["commissioner"].strip().upper(),
                                                         p["commissioner"])
    p["commissioner"] = comm
    prac = ds.practices
    if comm == ENGLAND:
        name = "England"
        sel = prac["practice_code"].astype(str).tolist()
    elif comm in codes:
        name = str(ds.commissioners.set_index(
            ds.commissioners.commissioner_code.astype(str)).loc[comm, "commissioner_name"])
        sel = prac.loc[prac["commissioner_code"].astype(str) == comm,
                       "practice_code"].astype(str).tolist()
    else:
        raise params.ParameterError(f"commissioner '{comm}' is not in the data "
                                    f"({len(codes)} commissioners, e.g. {codes[:3]}) "
                                    f"and is not {ENGLAND}")
    if not sel:
        raise params.ParameterError(f"commissioner '{comm}' has no practices in the data")
    charts.setup()
    return Context(notebook, p, ds, comm, name, sel, bool(p["publish"]))


def require_tables(ctx: Context, tables: list[str], what: str) -> None:
    """Stop with a clear message when the data lacks tables an analysis needs."""
    missing = [t for t in tables if not ctx.ds.has(t)]
    if missing:
        where = ctx.ds.path or ctx.params.get("data_source")
        raise params.ParameterError(
            f"{what} needs the contract table(s) {missing}, which {where} does not have; "
            "see docs/data-contract.md")


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.integer | int) and not isinstance(obj, bool):
        return int(obj)
    if isinstance(obj, np.floating | float):
        f = float(obj)
        return None if math.isnan(f) or math.isinf(f) else float(f"{f:.6g}")
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, pd.Timestamp):
        return str(obj.date())
    return obj


def write_results(ctx: Context, results: dict[str, Any]) -> dict[str, Any]:
    """Write the results JSON (to ``results_path`` if set) and return what was written."""
    shown = {k: v for k, v in ctx.params.items() if k != "results_path"}  # output location
    payload = _clean({"notebook": Path(ctx.notebook).stem, "parameters": shown,
                      "area": ctx.area_name, "dataset_hash": ctx.ds.content_hash,
                      "publish": ctx.publish, **results})
    if ctx.params.get("results_path"):
        write_text_atomic(Path(ctx.params["results_path"]),
                          json.dumps(payload, indent=2, sort_keys=True) + "\n")
    return payload
