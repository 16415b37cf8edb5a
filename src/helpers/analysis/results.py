"""The machine-readable results of one report, as they may be published.

:func:`payload` turns a report's results into plain JSON data: the notebook, its parameters
(less the output location), the area, the dataset hash and data kind, and the results, with
numbers cleaned (whole numbers exact, others to 10 significant figures, NaN and infinity as
null) so identical runs give identical files. In publish mode the counts the catalogue lists
for the notebook (``count_keys``) are rounded or suppressed here, so a results file carries
only published values; on real-structure data it carries no key that lists practices or
networks one by one beside synthetic findings (:data:`AREA_KEYS`), as the page shows none.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers import catalogue, formats
from helpers.analysis.context import Context
from helpers.stats import sdc


def _order(value: Any) -> tuple[bool, Any]:
    """A sort key for a set's cleaned members: numbers by value, first; anything else by
    its JSON text."""
    if formats.is_number(value):
        return (False, value)
    return (True, json.dumps(value, sort_keys=True))


def clean(obj: Any) -> Any:
    """Plain JSON data: numpy scalars and arrays unwrapped, whole numbers exact, other
    floats to 10 significant figures, NaN, infinity and missing values as None, timestamps
    as ISO dates, and a set as a sorted list (a set's order changes from one process to the
    next with Python's string hashing, so a list in its order would make two runs
    differ)."""
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [clean(v) for v in obj.tolist()]
    if isinstance(obj, set | frozenset):
        items = [clean(v) for v in obj]
        return sorted(items, key=_order)
    if obj is pd.NA or obj is pd.NaT:
        return None
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
    if formats.is_number(value) or isinstance(value, np.integer | np.floating):
        v = sdc.round_count(float(value))
        return None if math.isnan(v) else v
    return value


AREA_KEYS = {"01_referral_variation": ("high_practices", "low_practices", "similar_10",
                                        "similar_opportunity", "profile",
                                        "closed_before_last_year")}
"""Results keys that list practices one by one (codes of flagged practices, a practice's
similar 10) beside synthetic findings: left out of a published results file of
real-structure data (:attr:`helpers.analysis.context.Context.withholds_area_rows`), as the
sections that show them are (:data:`helpers.analysis.context.AREA_ROWS`)."""


def payload(ctx: Context, results: dict[str, Any]) -> dict[str, Any]:
    """The results file's content for a report (published in publish mode)."""
    shown = {k: v for k, v in ctx.params.items() if k != "results_path"}  # output location
    results = copy.deepcopy(results)
    if ctx.withholds_area_rows:
        for key in AREA_KEYS.get(ctx.notebook, ()):
            *outer, last = key.split(".")       # "a.b" reaches into a dict
            inner = results
            for part in outer:
                inner = inner.get(part) if isinstance(inner, dict) else None
            if isinstance(inner, dict):
                inner.pop(last, None)
    if ctx.publish:
        for key in catalogue.get(ctx.notebook).count_keys:
            _publish_paths(results, key.split("."))
    return clean({"notebook": Path(ctx.notebook).stem, "parameters": shown,
                  "area": ctx.area_name, "dataset_hash": ctx.ds.content_hash,
                  "publish": ctx.publish, "data_kind": ctx.data_kind, **results})
