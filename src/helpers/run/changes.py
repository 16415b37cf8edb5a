"""What changed since the last run: each area page's "Since <run>" section and a run page.

``python -m helpers.run.batch --compare-to RUN_ID`` (by default the previous run in the same
output folder, ``latest.txt``) compares this run with that one, from the two runs' results
files and manifests only (nothing recomputed):

- **limits crossed**: a practice whose place against the funnel's limits changed (within →
  above, above → within, ...), as each run's 01 results say;
- **ratios that moved beyond chance**: a practice's standardised referral ratio whose change
  a two-sided z-test at 5% finds larger than chance explains. Each ratio's standard error on
  the log scale comes from its 95% interval, ``(log upper − log lower) / (2 × 1.96)``, and
  ``z = (log r₁ − log r₀) / √(se₀² + se₁²)``. The two runs' periods may overlap (a year
  added): the test treats them as independent, which understates z, so it errs towards
  saying nothing changed;
- practices **opened** (in this run's site, not the last's), **closed** (closed now, open
  then) and **merged** (closed with a successor), and practices **no longer in the run**;
- **network membership**: a practice whose network changed;
- **validation**: a report whose failed checks against the synthetic truth changed.

Identical data and code give "nothing changed". The manifest records both runs
(``compared_to``: the earlier run's id, data hash and commit).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from helpers.atomic import write_text_atomic
from helpers.run import downloads
from helpers.run.jobs import Job
from helpers.run.site import AreaNode

PAGE = "changes.html"
Z_95 = 1.959963984540054
"""The two-sided 5% critical value of the normal distribution."""


@dataclass
class Change:
    """One change of one area: its kind, the area (public code and name) and what changed."""

    kind: str                 # limits, ratio, opened, closed, merged, gone, network, validation
    code: str
    name: str
    text: str


@dataclass
class Changes:
    """Every change between two runs."""

    previous: str                                   # the earlier run's id
    items: list[Change] = field(default_factory=list)

    def of(self, codes: set[str]) -> list[Change]:
        """The changes of the given areas."""
        return [c for c in self.items if c.code in codes]


def log_se(lower: float | None, upper: float | None) -> float | None:
    """A ratio's standard error on the log scale from its 95% interval (None when the
    interval is missing or not positive)."""
    if not lower or not upper or lower <= 0 or upper <= lower:
        return None
    return (math.log(upper) - math.log(lower)) / (2 * Z_95)


def ratio_z(r0: float, lo0: float, hi0: float, r1: float, lo1: float, hi1: float
            ) -> float | None:
    """The z statistic of the change of a ratio between two runs, on the log scale with
    each run's standard error from its 95% interval (None when either cannot be read)."""
    se0, se1 = log_se(lo0, hi0), log_se(lo1, hi1)
    if se0 is None or se1 is None or not r0 or not r1 or r0 <= 0 or r1 <= 0:
        return None
    return (math.log(r1) - math.log(r0)) / math.sqrt(se0 ** 2 + se1 ** 2)


def _ratio(res: dict[str, dict]) -> tuple[float | None, float | None, float | None]:
    r01 = res.get("01_referral_variation") or {}
    row = downloads._ratio_row(res)
    return r01.get("area_ratio"), row.get("lower"), row.get("upper")


def _network(res: dict[str, dict]) -> str | None:
    for r in res.values():
        if isinstance(r.get("where"), dict):
            return r["where"].get("network") or ""
    return None


def practice_changes(code: str, name: str, before: dict[str, dict], now: dict[str, dict]
                     ) -> list[Change]:
    """The changes of one practice between its results files then and now."""
    out = []
    lim0 = downloads.against_limits(before.get("01_referral_variation"))
    lim1 = downloads.against_limits(now.get("01_referral_variation"))
    if lim0 and lim1 and lim0 != lim1:
        out.append(Change("limits", code, name, f"was {lim0}, now {lim1}"))
    r0, lo0, hi0 = _ratio(before)
    r1, lo1, hi1 = _ratio(now)
    z = ratio_z(r0, lo0, hi0, r1, lo1, hi1) if None not in (r0, lo0, hi0, r1, lo1, hi1) \
        else None
    if z is not None and abs(z) > Z_95:
        out.append(Change("ratio", code, name, f"standardised referral ratio {r0:.2f} → "
                          f"{r1:.2f}, beyond chance (z = {z:.1f})".replace("-", "−")))
    n0, n1 = _network(before), _network(now)
    if n0 is not None and n1 is not None and n0 != n1:
        out.append(Change("network", code, name, f"network {n0 or 'none'} → {n1 or 'none'}"))
    return out


def compare(prev_dir: Path, build: Path, nodes: dict[str, AreaNode], jobs: list[Job]
            ) -> Changes:
    """Every change between the run in ``prev_dir`` and this one (in ``build``)."""
    prev = json.loads((prev_dir / "manifest.json").read_text())
    prev_jobs = [Job(**{k: v for k, v in r.items() if k in Job.__dataclass_fields__})
                 for r in prev["reports"]]
    before = downloads.read_results(prev_dir, prev_jobs)
    now = downloads.read_results(build, jobs)
    found = Changes(prev["run_id"])
    names = {c: n.name for c, n in nodes.items()}
    prev_names = {j.area: j.area_name or j.area for j in prev_jobs}
    prev_levels = {j.area: j.level for j in prev_jobs}
    pracs = [c for c, n in nodes.items() if n.level == "practice"]
    for code in pracs:
        node = nodes[code]
        if code in now and code not in before and prev_levels:
            found.items.append(Change("opened", code, node.name, "new in this run"))
        if code in now and code in before:
            found.items.extend(practice_changes(code, node.name, before[code], now[code]))
            was = (before[code].get("00_data_overview", {}).get("headline") or {})
            if node.closed and was.get("months") == was.get("data_months") and \
                    was.get("months") is not None:
                kind = "merged" if node.successor else "closed"
                found.items.append(Change(kind, code, node.name, f"closed {node.closed}" + (
                    f"; its patients moved to {node.successor_name}" if node.successor
                    else "")))
    for code in sorted(set(before) - set(now)):
        if prev_levels.get(code) == "practice":
            found.items.append(Change("gone", code, prev_names.get(code, code),
                                      "in the last run, not in this one"))
    was_failed = {r["report_id"]: r.get("validation_failed") or [] for r in prev["reports"]}
    for j in jobs:
        if j.report_id in was_failed and sorted(was_failed[j.report_id]) != sorted(
                j.validation_failed or []):
            gone = sorted(set(was_failed[j.report_id]) - set(j.validation_failed or []))
            new = sorted(set(j.validation_failed or []) - set(was_failed[j.report_id]))
            text = "; ".join(([f"now fails: {', '.join(new)}"] if new else [])
                             + ([f"now passes: {', '.join(gone)}"] if gone else []))
            found.items.append(Change("validation", j.area, names.get(j.area, j.area),
                                      f"{j.title or j.notebook}: {text}"))
    return found


KIND_WORDS = {"limits": "Crossed a limit", "ratio": "Ratio moved beyond chance",
              "opened": "Opened", "closed": "Closed", "merged": "Merged",
              "gone": "No longer in the run", "network": "Network changed",
              "validation": "Validation changed"}


def section_html(changes: Changes, items: list[Change], base: str | None = "../") -> str:
    """An area's "Since <run>" section: its own and its practices' changes, or "nothing
    changed" (``base``: the way to the run's folder for the link to the changes page;
    None: no link, for paper)."""
    head = f'<h2 id="since">Since {escape(changes.previous)}</h2>'
    if not items:
        return head + "<p>Nothing changed.</p>"
    rows = "".join(f"<tr><td>{escape(KIND_WORDS[c.kind])}</td><td>{escape(c.name)} "
                   f"<span class=\"code\">{escape(c.code)}</span></td><td>{escape(c.text)}"
                   "</td></tr>" for c in items)
    link = "" if base is None else f' (<a href="{base}{PAGE}">every change of the run</a>)'
    return (head + f"<p>Compared with run {escape(changes.previous)}{link}.</p>"
            "<table><thead><tr><th>Change</th><th>Area</th><th>What</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def area_items(changes: Changes, code: str, nodes: dict[str, AreaNode]) -> list[Change]:
    """The changes an area's page shows: its own, and those of the areas below it."""
    if nodes[code].level == "england":
        return changes.items
    below = {c for c, n in nodes.items() if code in n.parents}
    return changes.of({code} | below)


def page_html(changes: Changes, run_id: str) -> str:
    """The run-level page of every change."""
    body = section_html(changes, changes.items, None)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Since {escape(changes.previous)} — commissioning analysis pack</title></head>
<body><main><h1>Run {escape(run_id)}: what changed since {escape(changes.previous)}</h1>
<p>Practices that crossed a funnel limit, ratios whose change a z-test at 5% on the two log
ratios (standard errors from their 95% intervals) finds beyond chance, practices opened,
closed, merged or no longer in the run, network changes and validation results that
changed.</p>
<p><a href="index.html">All reports</a></p>
{body}
</main></body></html>
"""


def previous_run(out_root: Path, compare_to: str | None, run_id: str) -> Path | None:
    """The run to compare with: ``compare_to`` (refused when the output folder has no such
    run), or else the latest run of the output folder (None when there is none); when the
    latest is this run (its failed reports run again), the run it was compared with."""
    from helpers.run.grid import GridError

    if compare_to is not None:
        folder = out_root / compare_to
        if not (folder / "manifest.json").is_file():
            raise GridError(f"--compare-to {compare_to}: {out_root} holds no such run (no "
                            f"{folder / 'manifest.json'}); give the id of a finished run")
        return folder
    last = out_root / "latest.txt"
    if not last.exists():
        return None
    folder = out_root / last.read_text().strip()
    if folder.name == run_id:       # its failed reports run again: the run it was compared with
        m = folder / "manifest.json"
        prior = ((json.loads(m.read_text()) if m.is_file() else {}).get("compared_to")
                 or {}).get("run_id")
        if not prior or prior == run_id:
            return None
        folder = out_root / prior
    return folder if (folder / "manifest.json").is_file() else None


def write_changes(out_root: Path, compare_to: str | None, build: Path,
                  nodes: dict[str, AreaNode], jobs: list[Job], run_id: str,
                  links: dict[str, str]) -> tuple[dict | None, Changes | None]:
    """Compare with the earlier run (if any): add each area's "Since" section to
    ``links`` (area code → HTML for its page) and write the run's changes page; returns
    what the manifest records of the earlier run and the changes (None, None when there is
    no earlier run)."""
    prev = previous_run(out_root, compare_to, run_id)
    if prev is None:
        return None, None
    found = compare(prev, build, nodes, jobs)
    for code in nodes:
        links[code] = links.get(code, "") + section_html(found, area_items(found, code,
                                                                           nodes))
    write_text_atomic(build / PAGE, page_html(found, run_id))
    m = json.loads((prev / "manifest.json").read_text())
    return {"run_id": m.get("run_id"), "data_hash": m.get("data_hash"),
            "commit": (m.get("git") or {}).get("commit"), "changes": len(found.items)}, found
