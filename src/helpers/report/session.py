"""What a report notebook does first and last: start, analyse, show, write the results.

``start(name, globals())`` takes the notebook's parameters from its namespace (the names in
its catalogue spec; any other name set by a parameter cell is an error), opens the data and
resolves the area once (:func:`helpers.analysis.context.open_context`), and sets the chart
style. ``analyse(ctx)`` runs the notebook's analysis entry point from the catalogue.
``show`` displays a chart, table or Markdown text; ``write_results`` writes the
machine-readable results file.
"""

from __future__ import annotations

import base64
import csv
import importlib
import io
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from helpers import catalogue, params
from helpers.analysis.areas import public_code
from helpers.analysis.context import SYNTHETIC_FINDINGS, Context, open_context
from helpers.analysis.results import payload
from helpers.atomic import write_text_atomic
from helpers.report import charts
from helpers.report.tables import csv_row

_SHOWN: dict[str, Any] = {"charts": 0, "csv_note": ""}
"""Charts shown since the last :func:`start` (the results file records it, and the post-run
check finds every one on the page), and the note every CSV download of the page ends with."""

CSV_NOTE = ("Note: GP referrals and hospital activity in this dataset are synthetic, "
            "simulated on real practices; every referral, activity and £ figure in this "
            "table is an illustration of the method, not a fact about the areas it names.")
"""The last row of every CSV download of a report with synthetic findings on real practices
(:data:`helpers.analysis.context.SYNTHETIC_FINDINGS`), so the mark travels with the file."""

_CSV_HREF = re.compile(r'(href="data:text/csv;charset=utf-8;base64,)([A-Za-z0-9+/=]+)(")')


def with_csv_note(html: str, note: str) -> str:
    """``html`` with ``note`` added as the last row of each CSV download it holds (its first
    cell; the row as wide as the header)."""
    def add(m: re.Match) -> str:
        text = base64.b64decode(m.group(2)).decode("utf-8")
        header = next(csv.reader(io.StringIO(text.lstrip("\ufeff"))), [""])
        row = csv_row([note] + [""] * (len(header) - 1))    # the pack's one CSV writer
        text = text + ("" if text.endswith("\n") else "\r\n") + row
        return m.group(1) + base64.b64encode(text.encode("utf-8")).decode("ascii") + m.group(3)
    return _CSV_HREF.sub(add, html)


def start(notebook: str, namespace: Mapping[str, Any]) -> Context:
    """Validate parameters, open the data, resolve the area, set the chart style.

    ``namespace`` is the notebook's ``globals()`` (the parameters are the names of the
    notebook's catalogue spec found there) or a plain dict of parameter values.
    """
    nb = catalogue.get(notebook)
    ctx = open_context(nb.name, params.from_namespace(nb.params, namespace, nb.name))
    charts.setup()
    _SHOWN["charts"] = 0
    _SHOWN["csv_note"] = CSV_NOTE if ctx.synthetic_on_real and \
        ctx.notebook in SYNTHETIC_FINDINGS else ""
    return ctx


def analyse(ctx: Context) -> Any:
    """The notebook's analysis for this context (its catalogue entry point, a function of
    ``helpers.analysis``)."""
    module, func = catalogue.get(ctx.notebook).analysis.split(":")
    return getattr(importlib.import_module(module), func)(ctx)


def show(obj: Any, otherwise: str = "") -> None:
    """Display a chart, table or Markdown text in a notebook, in the order called, or
    ``otherwise`` (Markdown) when there is nothing to show."""
    import matplotlib.pyplot as plt
    from IPython.display import Markdown, display
    from matplotlib.figure import Figure

    if obj is None:
        if otherwise:
            display(Markdown(otherwise))
    elif isinstance(obj, Figure):
        display(obj)                 # now, with its alt text; closed so it is not shown twice
        plt.close(obj)
        _SHOWN["charts"] += 1
    elif isinstance(obj, str):
        display(Markdown(obj))
    elif _SHOWN["csv_note"] and isinstance(getattr(obj, "data", None), str) and \
            "data:text/csv" in obj.data:      # a table: its download carries the note
        from IPython.display import HTML
        display(HTML(with_csv_note(obj.data, _SHOWN["csv_note"])))
    else:
        display(obj)


def write_results(ctx: Context, results: dict[str, Any]) -> dict[str, Any]:
    """Write the results JSON (to ``results_path`` if set) and return what was written:
    published values only in publish mode (:func:`helpers.analysis.results.payload`)."""
    net = ctx.where.network if ctx.level == "practice" else None
    where = {"code": ctx.public_code, "level": ctx.level,
             "network": public_code(ctx.ds, net, "network") if net else ""}
    out = payload(ctx, {**results, "charts_shown": _SHOWN["charts"], "where": where})
    if ctx.params.get("results_path"):
        write_text_atomic(Path(ctx.params["results_path"]),
                          json.dumps(out, indent=2, sort_keys=True) + "\n")
    return out
