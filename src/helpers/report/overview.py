"""The data overview (notebook 00): what the dataset holds for an area, at a glance.

Wording, tables and charts of :mod:`helpers.analysis.overview`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.analysis.context import Context
from helpers.analysis.overview import Overview
from helpers.report import charts, text
from helpers.report.page import TABLE_WORDS, source_line, watermark
from helpers.report.tables import Col, table


def headline_text(ctx: Context, ov: Overview) -> str:
    h = ov.headline
    first, last = pd.Timestamp(h["first_month"] or None), pd.Timestamp(h["last_month"] or None)
    # a count at a date, or (real structure) a financial year's average list, said so
    when = ctx.list_when(h["latest_count"]) if h["latest_count"] else "the latest count"
    closed = h["n_practices"] - h["n_open_latest"]
    if ctx.level == "practice":
        first_line = (f"- {text.md(ctx.area_name)} had **{ctx.count(h['patients'])} "
                      f"registered patients** at its latest count, {when}.\n")
    elif closed <= 0:
        first_line = (f"- **{text.plural(h['n_practices'], 'practice')}** with "
                      f"**{ctx.count(h['patients'])} registered patients** in {when} "
                      f"(median list size {ctx.count(h['median_list'])}).\n")
    else:
        first_line = (
            f"- **{text.plural(h['n_practices'], 'practice')}** over the period; "
            f"**{h['n_open_latest']:,} open** in {when} with "
            f"**{ctx.count(h['patients'])} registered patients** (median list size "
            f"{ctx.count(h['median_list'])}); {closed:,} closed or merged before then.\n")
    if not h["months"]:
        return first_line + "- **No GP referrals** are recorded for this area in the data."
    return (first_line +
            f"- **{ctx.count(h['referrals'])} GP referrals** for first outpatient "
            f"appointments over {h['months']} months, {first:%B %Y} to {last:%B %Y}.")


def tables_table(ctx: Context, ov: Overview):
    cols = [Col("what", "What it holds"), Col("table", "Contract table"),
            Col("rows", "Rows", "int"), Col("scope", "Rows cover"), Col("span", "Period")]
    if ctx.data_kind == "mixed":
        cols.append(Col("status", "Real or synthetic"))
    t = ov.tables.assign(
        what=ov.tables["table"].map(TABLE_WORDS).fillna(ov.tables["table"]),
        span=[f"{a:%b %Y} – {b:%b %Y}" if pd.notna(a) else "–"
              for a, b in zip(ov.tables["first"], ov.tables["last"], strict=True)])
    return table(t, cols, caption="The data behind this report")


MIN_PRACTICES_FOR_HISTOGRAM = 5
"""Fewer practices than this: their lists are stated, not drawn as a histogram."""


def list_size_text(ctx: Context, ov: Overview) -> str:
    """The area's list sizes in words when there are too few practices for a chart."""
    n = len(ov.lists)
    if n >= MIN_PRACTICES_FOR_HISTOGRAM:
        return ""
    if n == 0:
        return "No registered patients are recorded for this area."
    sizes = ", ".join(ctx.count(v) for v in sorted(ov.lists["patients"], reverse=True))
    return (f"{text.plural(n, 'practice')}, too few to chart a spread: "
            f"{'its list is' if n == 1 else 'their lists are'} {sizes} patients at "
            "the latest count.")


def list_size_chart(ctx: Context, ov: Overview):
    if len(ov.lists) < MIN_PRACTICES_FOR_HISTOGRAM:
        return None
    v = ov.lists["patients"].to_numpy(float) / 1000
    return charts.histogram(
        v, f"Practice list sizes, {ctx.area_name}", "Registered patients (thousands)",
        "Practices (count)", source_line(ctx),
        alt=f"Histogram of the list sizes of {text.plural(len(v), 'practice')}; median "
            f"{np.median(v):.1f} thousand patients.")


def monthly_chart(ctx: Context, ov: Overview):
    m = ov.monthly
    shown = m["shown"].to_numpy(float) if len(m) else np.array([])
    if not np.isfinite(shown).any():       # none recorded, or every month suppressed
        return None
    hidden = int((~np.isfinite(shown)).sum())
    gaps = (f" {text.plural(hidden, 'month')} with 1 to 7 referrals "
            f"{'is a gap' if hidden == 1 else 'are gaps'} (suppressed in publish mode).") \
        if hidden else ""
    return charts.lines_chart(
        m["month"], {"Referrals": shown / 1000},
        f"GP referrals per month, {ctx.area_name}", "Month",
        "Referrals (thousands per month)", source_line(ctx),
        alt=f"Line chart of monthly GP referrals over {len(m)} months.{gaps}",
        watermark=watermark(ctx), per_unit={"Referrals": 1000})


def results(ctx: Context, ov: Overview) -> dict:
    h = ov.headline
    span = f"{h['first_month'][:7]}..{h['last_month'][:7]}"
    facts = {"n_practices": {"count": h["n_practices"], "span": span},
             "referrals": {"count": ctx.published(h["referrals"]), "span": span}}
    made = (f"{ctx.count(h['referrals'])} referrals over {h['months']} months"
            if h["months"] and h["referrals"] else "no referrals recorded")
    return {"headline": h, "facts": facts,
            "summary": ("" if ctx.level == "practice" else
                        f"{text.plural(h['n_practices'], 'practice')}, ")
                       + f"{ctx.count(h['patients'])} patients at the latest count, {made}"}
