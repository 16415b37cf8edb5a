"""What every report notebook does first and last: open the data, describe it, write results.

``start(name, globals())`` takes the notebook's parameters from its namespace (the names in
its catalogue spec; any other name set by a parameter cell is an error), validates them, opens
the data source, selects the commissioner's practices and sets the chart style.
``write_results`` writes the machine-readable results file (sorted keys, rounded numbers, so
identical runs give identical files). The report modules of this package (one per notebook)
build on the :class:`Context` that ``start`` returns.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers import catalogue
from helpers.analysis import areas
from helpers.atomic import write_text_atomic
from helpers.datasets import Dataset, load_dataset
from helpers.paths import project_root
from helpers.report import charts, text
from helpers.run import params
from helpers.sources import synthetic
from helpers.stats import sdc

TABLE_WORDS = {
    "commissioners": "Commissioners", "sub_areas": "Sub-areas (former CCGs)",
    "practices": "GP practices", "population": "Registered patients by age and sex",
    "groups": "Federation and network membership", "specialties": "Specialties",
    "referrals": "GP referrals by month and specialty",
    "reference_rates": "Reference referral rates", "providers": "Hospital providers",
    "contracts": "Hospital contracts", "prices": "Outpatient prices",
    "activity": "Outpatient activity and payments",
    "practice_outcomes": "Practice panel (list, workforce, payments)"}
"""Plain names of the contract tables, for readers."""


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
    """Everything a report needs after set-up: parameters, data, and the area (level,
    code, name, member practices, the commissioner and network it sits in, peers)."""

    notebook: str
    params: dict[str, Any]
    ds: Dataset
    where: areas.Area
    publish: bool

    @property
    def level(self) -> str:
        """'england', 'commissioner', 'network' or 'practice'."""
        return self.where.level

    @property
    def area(self) -> str:
        return self.where.code

    @property
    def area_name(self) -> str:
        """The area's name; a real practice carrying synthetic referrals by pseudonym."""
        if self.level == "practice" and self.pseudonymise:
            return self.practice_labels([self.where.code])[0]
        return self.where.name

    @property
    def practice_codes(self) -> list[str]:
        return list(self.where.practices)

    @property
    def commissioner(self) -> str:
        """The commissioner the area is in (ENGLAND for England)."""
        return self.where.commissioner

    @property
    def is_england(self) -> bool:
        return self.level == "england"

    @property
    def level_words(self) -> str:
        """How the report refers to its area: 'England', 'this commissioner', …"""
        return {"england": "England", "commissioner": "this commissioner",
                "network": "this network", "practice": "this practice"}[self.level]

    @property
    def area_md(self) -> str:
        """The area's name made safe for report prose."""
        return text.md(self.area_name)

    @property
    def data_kind(self) -> str:
        """'synthetic', 'real' or 'mixed' (real structure with synthetic tables)."""
        prov = self.ds.provenance
        if prov.get("source") == "synthetic" or not prov.get("real_tables"):
            return "synthetic" if prov.get("source") == "synthetic" else "real"
        return "mixed" if prov.get("synthetic_tables") else "real"

    @property
    def pseudonymise(self) -> bool:
        """True when real practices carry synthetic referrals: then practice names and codes
        must not appear beside referral findings (flags, £), which are not facts about them."""
        prov = self.ds.provenance
        return "practices" in prov.get("real_tables", []) and \
            "referrals" in prov.get("synthetic_tables", [])

    @property
    def watermark(self) -> str:
        """Text stamped across charts of synthetic referrals on real practices."""
        return "SYNTHETIC REFERRALS · ILLUSTRATION" if self.pseudonymise else ""

    def practice_labels(self, codes) -> list[str]:
        """How practices are named in tables and charts: their code, or on real practices
        with synthetic referrals a stable pseudonym (P-xxxxxx, keyed to this dataset)."""
        codes = [str(c) for c in codes]
        if not self.pseudonymise:
            return codes
        salt = self.ds.content_hash
        return ["P-" + hashlib.sha256(f"{salt}:{c}".encode()).hexdigest()[:6].upper()
                for c in codes]

    def count(self, n: float) -> str:
        """A count of people or events for report text: exact, or in publish mode rounded
        to 5 (or 'suppressed'), as in the tables and the results file."""
        return sdc.count_text(n, self.publish)

    def header_md(self, details: dict[str, str] | None = None) -> str:
        """The line under a report's title: area, key parameters and what kind of data."""
        badge = {"synthetic": "SYNTHETIC DATA", "real": "REAL DATA",
                 "mixed": "REAL STRUCTURE, SYNTHETIC REFERRALS"}[self.data_kind]
        w = self.where
        code = self.practice_labels([w.code])[0] if self.level == "practice" else w.code
        area = self.area_md if self.is_england or code == self.area_name else \
            f"{self.area_md} ({text.md(code)})"
        if self.level in ("network", "practice"):
            area += f", {text.md(self.level)} in {text.md(w.commissioner_name)}"
        if self.level == "practice" and w.network_name:
            area += f", network {text.md(w.network_name)}"
        parts = [f"**Area:** {area}"]
        parts += [f"**{k}:** {text.md(v)}" for k, v in (details or {}).items()]
        parts.append(f"**Data:** `{badge}`")
        if self.publish:
            parts.append("**Publish mode:** counts of 1–7 suppressed, others rounded to 5")
        return " · ".join(parts)

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
        real = "; ".join(TABLE_WORDS.get(x, x) for x in prov.get("real_tables", []))
        synth = "; ".join(TABLE_WORDS.get(x, x) for x in prov.get("synthetic_tables", []))
        real, synth = real or "none", synth or "none"
        text = f"**Real data:** {real}. **Synthetic (simulated) parts:** {synth}."
        if prov.get("statement"):
            text += f"\n\n{prov['statement']}"
        return text


def start(notebook: str, namespace: Mapping[str, Any]) -> Context:
    """Validate parameters, open data, choose the area's practices, set chart style.

    ``namespace`` is the notebook's ``globals()`` (the parameters are the names of the
    notebook's catalogue spec found there) or a plain dict of parameter values. The area is
    ENGLAND or any commissioner, network or practice code, matched without regard to case.
    """
    nb = catalogue.get(notebook)
    p = nb.validate(params.from_namespace(nb.params, namespace, nb.name))
    ds = open_source(p["data_source"])
    try:
        where = areas.resolve(ds, p["area"])
    except areas.AreaError as e:
        raise params.ParameterError(str(e)) from e
    if not where.practices:
        raise params.ParameterError(f"area '{where.code}' has no practices in the data")
    p["area"] = where.code
    charts.setup()
    return Context(notebook, p, ds, where, bool(p["publish"]))


def show(obj: Any, otherwise: str = "") -> None:
    """Display a chart, table or text in a notebook, in the order called, or ``otherwise``
    (Markdown) when there is nothing to show."""
    import matplotlib.pyplot as plt
    from IPython.display import Markdown, display
    from matplotlib.figure import Figure

    if obj is None:
        if otherwise:
            display(Markdown(otherwise))
    elif isinstance(obj, Figure):
        display(obj)                 # now, with its alt text; closed so it is not shown twice
        plt.close(obj)
    elif isinstance(obj, str):
        display(Markdown(obj))
    else:
        display(obj)


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
        if math.isnan(f) or math.isinf(f):
            return None
        # whole numbers exactly (published counts stay as shown); others to 10 significant
        # figures, so tiny floating-point noise cannot make two identical runs differ
        return int(f) if f.is_integer() and abs(f) < 2**53 else float(f"{f:.10g}")
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, pd.Timestamp):
        return str(obj.date())
    return obj


def _publish_paths(obj: Any, path: list[str]) -> None:
    """Round or suppress, in place, the counts at a dotted path ('*' = every list item)."""
    head, rest = path[0], path[1:]
    if head == "*":
        items = obj if isinstance(obj, list) else []
        for i, item in enumerate(items):
            if rest:
                _publish_paths(item, rest)
            else:
                items[i] = _published(item)
        return
    if not isinstance(obj, dict) or head not in obj:
        return
    if rest:
        _publish_paths(obj[head], rest)
    else:
        obj[head] = _published(obj[head])


def _published(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _published(v) for k, v in value.items()}
    if text.is_number(value) or isinstance(value, np.integer | np.floating):
        v = sdc.round_count(float(value))
        return None if math.isnan(v) else v
    return value


def write_results(ctx: Context, results: dict[str, Any]) -> dict[str, Any]:
    """Write the results JSON (to ``results_path`` if set) and return what was written.

    In publish mode the counts the catalogue lists for the notebook (``count_keys``) are
    rounded or suppressed here, so the results file carries only published values."""
    shown = {k: v for k, v in ctx.params.items() if k != "results_path"}  # output location
    results = copy.deepcopy(results)
    if ctx.publish:
        for key in catalogue.get(ctx.notebook).count_keys:
            _publish_paths(results, key.split("."))
    payload = _clean({"notebook": Path(ctx.notebook).stem, "parameters": shown,
                      "area": ctx.area_name, "dataset_hash": ctx.ds.content_hash,
                      "publish": ctx.publish, "data_kind": ctx.data_kind, **results})
    if ctx.params.get("results_path"):
        write_text_atomic(Path(ctx.params["results_path"]),
                          json.dumps(payload, indent=2, sort_keys=True) + "\n")
    return payload
