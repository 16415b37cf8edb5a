"""Notebook parameters: one spec per notebook, validated with clear errors.

Each notebook's ``parameters`` cell holds plain literals; :func:`validate` checks the values a
user or the batch runner supplies against the notebook's spec (unknown names and wrong types
are errors, with a "did you mean" hint), and :func:`notebook_parameters` reads the names and
defaults back from the notebook so the batch grid can be checked against both.
"""

from __future__ import annotations

import ast
import difflib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ParameterError(ValueError):
    """A notebook parameter is unknown, mistyped or out of range."""


@dataclass(frozen=True)
class Param:
    type: type | tuple[type, ...]
    default: Any
    help: str
    choices: tuple | None = None


COMMON = {
    "data_source": Param(str, "synthetic:england",
                         "synthetic:<preset> or a dataset folder (absolute or project-relative)"),
    "commissioner": Param(str, "ENGLAND", "commissioner code, or ENGLAND for all"),
    "publish": Param(bool, False, "apply disclosure control (suppress 1-7, round to 5)"),
    "results_path": Param(str, "", "where to write the machine-readable results (JSON)"),
}

SPECS: dict[str, dict[str, Param]] = {
    "00_data_overview": dict(COMMON),
    "01_referral_variation": {
        **COMMON,
        "years": Param(list, [], "financial years to include (start year), empty for all"),
        "specialty": Param(str, "ALL", "treatment function code, or ALL"),
        "comparator": Param(str, "england", "what 'expected' means",
                            ("england", "commissioner", "peer")),
        "standardise": Param(str, "age_sex", "standardisation variables",
                             ("age_sex", "age_sex_imd")),
        "limit": Param((int, float), 99.8, "control limit that defines an outlier", (95, 99.8)),
        "overdispersion": Param(str, "robust", "funnel over-dispersion method",
                                ("robust", "additive", "multiplicative", "none")),
    },
    "02_federation_scale": {
        **COMMON,
        "outcome": Param(str, "srr", "outcome for the joining analysis",
                         ("srr", "payments_per_weighted", "gp_fte_per_1000",
                          "satisfaction_pct")),
        "group_type": Param(str, "all", "which groups count as joining",
                            ("all", "federation", "network")),
        "estimator": Param(str, "callaway_santanna", "joining-effect estimator",
                           ("callaway_santanna", "twfe")),
        "control_group": Param(str, "never_treated", "comparison practices",
                               ("never_treated", "not_yet_treated")),
    },
    "03_contract_forms": {
        **COMMON,
        "provider": Param(str, "ALL", "provider code, or ALL"),
        "forms": Param(list, ["pbr", "block", "blended", "cap_collar", "api", "cost_volume"],
                       "contract forms to compare"),
        "change_pct": Param((int, float), -10.0, "referral change scenario, % (negative = "
                            "fewer referrals)"),
        "start_month": Param(int, 10, "calendar month (1-12) the change starts"),
        "specialties": Param(list, [], "treatment function codes affected, empty for all"),
        "outliers_only": Param(bool, False, "apply the change only to referrals from practices "
                               "above the 99.8% funnel limit"),
        "year": Param(int, 0, "financial year (start year) for the what-if; 0 = latest"),
        "window_months": Param(int, 24, "months either side of a switch to show"),
    },
}


def spec_for(notebook: str) -> dict[str, Param]:
    name = Path(notebook).stem
    if name not in SPECS:
        raise ParameterError(f"no parameter spec for notebook '{name}'; known: {sorted(SPECS)}")
    return SPECS[name]


def validate(notebook: str, params: dict[str, Any], *, fill_defaults: bool = True
             ) -> dict[str, Any]:
    """Check names, types and allowed values; return the full, typed parameter dict."""
    spec = spec_for(notebook)
    for name in params:
        if name not in spec:
            close = difflib.get_close_matches(name, list(spec), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ParameterError(f"{Path(notebook).stem}: unknown parameter '{name}'{hint} "
                                 f"(known: {sorted(spec)})")
    out = {k: p.default for k, p in spec.items()} if fill_defaults else {}
    for name, value in params.items():
        p = spec[name]
        ok_types = p.type if isinstance(p.type, tuple) else (p.type,)
        if isinstance(value, bool) and bool not in ok_types:
            ok = False
        else:
            ok = isinstance(value, ok_types)
        if not ok:
            names = "/".join(t.__name__ for t in ok_types)
            raise ParameterError(f"{Path(notebook).stem}: parameter '{name}' must be {names}, "
                                 f"got {type(value).__name__} {value!r}")
        if p.choices is not None and value not in p.choices:
            raise ParameterError(f"{Path(notebook).stem}: parameter '{name}' = {value!r} is "
                                 f"not one of {list(p.choices)}")
        out[name] = value
    if "forms" in out:
        from .payments import FORMS
        bad = [f for f in out["forms"] if f not in FORMS]
        if bad or not out["forms"]:
            raise ParameterError(f"forms must be a non-empty list from {list(FORMS)}; "
                                 f"unknown: {bad}")
    if "start_month" in out and not 1 <= out["start_month"] <= 12:
        raise ParameterError(f"start_month must be 1-12; got {out['start_month']}")
    if "change_pct" in out and not -100 <= out["change_pct"] <= 100:
        raise ParameterError(f"change_pct must be between -100 and 100; got {out['change_pct']}")
    if "years" in out and not all(isinstance(y, int) and 1990 <= y <= 2040
                                  for y in out["years"]):
        raise ParameterError(f"years must be whole financial years (e.g. 2016); got "
                             f"{out['years']!r}")
    return out


def notebook_parameters(path: Path) -> dict[str, Any]:
    """Names and literal defaults of the cell tagged ``parameters`` in a notebook."""
    nb = json.loads(Path(path).read_text())
    for cell in nb["cells"]:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            out = {}
            for node in ast.parse(src).body:
                if isinstance(node, ast.Assign | ast.AnnAssign):
                    target = node.targets[0] if isinstance(node, ast.Assign) else node.target
                    out[target.id] = ast.literal_eval(node.value)
            return out
    raise ParameterError(f"{path}: no cell tagged 'parameters'")
