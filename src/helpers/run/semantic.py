"""The semantic check: beside the lint (which checks form), what a report states must be
true of the area and agree with the area's other pages.

On one report (:func:`page_findings`):

- no library text reaches the reader (estimator warnings, tracebacks, reprs);
- a validation check that failed is said to have failed on the page;
- every point a chart draws lies inside its axes (an area's own unit is never cut off);
- every figure of the report's one-line finding (what the index and its parent's page say
  of it) is printed on the page as it is there: "£877 a year" on the index beside "£1k" on
  the page is a finding.

Across the reports of one run (:func:`cross_page_findings`), from the ``facts`` each
results file records (what its page states about the area):

- each fact is identical on every page of the area that states it (the number of
  practices, the referral total: each over the same months, the only way they compare);
- a practice's page and its network's page give the network the same size.

Findings fail the report in the batch (kept aside with the other failures, the run exits
non-zero), as the lint's do.
"""

from __future__ import annotations

import re
from collections import defaultdict

LIBRARY_TEXT = re.compile(
    r"Traceback \(most recent call last\)|\bWarning:|\[Warning\]|GPModel|"
    r"Not returning pre-test|Be aware that there are some small groups|"
    r"ConvergenceWarning|RuntimeWarning|FutureWarning|DeprecationWarning|"
    r"<(?:matplotlib|pandas|statsmodels|IPython)[\w.]* object at 0x|dtype: (?:float|int)64")
"""Text from a library (a warning, a traceback, an object repr), never the pack's own."""

VALIDATION_WORDS = re.compile(r"\bfail|\bmiss(?:es)?\b", re.IGNORECASE)
"""Words a page uses to say a validation check failed."""

FIGURE = re.compile(r"[−-]?£?\d(?:[\d,]*\d)?(?:\.\d+)?(?:%|[km]\b)?")
"""A figure as the pack prints it: a count, ratio, percentage or money (−2.3%, £45.5m,
6,500, 0.43)."""


def unmatched_figures(summary: str, page_text: str) -> list[str]:
    """Figures of a one-line finding not printed, to the digit, on the page: each must stand
    on the page as a whole figure (not inside a longer one: '32' does not match '1,320')."""
    out = []
    for fig in dict.fromkeys(FIGURE.findall(summary)):
        # a negative figure keeps its minus on the page; an unsigned one ("0.2% below")
        # may stand there signed ("−0.2%" in a table)
        lead = r"(?<![\d.,])[−-]" if fig[0] in "−-" else r"(?<![\d.,£])[−+-]?"
        whole = re.compile(lead + re.escape(fig.lstrip("−-")) + r"(?![\d%]|[.,]\d)")
        if not whole.search(page_text):
            out.append(fig)
    return out


def page_findings(page_text: str, results: dict, charts: list[dict]) -> list[str]:
    """What one report states that is untrue or unreadable: library text in its visible
    text, a failed validation check the page does not call failed, chart points outside
    the axes. ``page_text`` is the page's visible text; ``charts`` the charts' metadata."""
    out = []
    for m in LIBRARY_TEXT.finditer(page_text):
        out.append("library text on the page: …"
                   f"{page_text[max(0, m.start() - 40):m.end() + 40]}…")
    failed = results.get("validation_failed") or []
    if failed and not VALIDATION_WORDS.search(page_text):
        out.append(f"validation checks failed ({failed[:3]}) but the page does not say so")
    missing = unmatched_figures(results.get("summary") or "", page_text)
    if missing:
        out.append(f"the index's line \"{results['summary']}\" gives {', '.join(missing)}, "
                   "which the page does not print")
    for md in charts:
        if md.get("points_outside"):
            out.append(f"{md['points_outside']} chart point(s) outside the axes: "
                       f"{str(md.get('alt', ''))[:80]}")
    return out


def _value(v):
    return tuple(sorted(v.items())) if isinstance(v, dict) else v


def cross_page_findings(facts: dict[str, dict], areas: dict[str, tuple[str, str, str]]
                        ) -> dict[str, list[str]]:
    """Facts that disagree between pages, by report id.

    Parameters
    ----------
    facts : dict
        Report id → the ``facts`` of its results file.
    areas : dict
        Report id → (area code, level, the area's network code or '').

    Returns
    -------
    dict
        Report id → findings (only reports with findings).
    """
    out: dict[str, list[str]] = defaultdict(list)
    by_area: dict[str, dict[str, list[tuple[str, object]]]] = defaultdict(
        lambda: defaultdict(list))
    for rid, f in facts.items():
        area = areas[rid][0]
        for key, value in (f or {}).items():
            if isinstance(value, dict) and "span" in value:   # comparable only over
                key = f"{key} over {value['span']}"              # the same months
                value = value.get("count")
            by_area[area][key].append((rid, _value(value)))
    for area, keys in by_area.items():
        for key, said in keys.items():
            if len({v for _, v in said}) > 1:
                text = ", ".join(f"{rid.split('/')[0][:2]} says {v}" for rid, v in said)
                for rid, _ in said:
                    out[rid].append(f"'{key}' differs across {area}'s pages: {text}")
    # a practice's page and its network's page: the network's size
    size_of = {areas[rid][0]: v for rid, f in facts.items() if areas[rid][1] == "network"
               for k, v in (f or {}).items() if k == "network_practices"}
    for rid, f in facts.items():
        area, level, network = areas[rid]
        said = (f or {}).get("network_practices")
        if level == "practice" and network in size_of and said is not None \
                and said != size_of[network]:
            out[rid].append(f"{area}'s page gives its network {network} {said} practices; "
                            f"the network's page says {size_of[network]}")
    return dict(out)
