"""The data overview (notebook 00): what the dataset holds for an area, at a glance.

Wording, tables and charts of :mod:`helpers.analysis.overview`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers import levels
from helpers.analysis.context import Context
from helpers.analysis.overview import (
    FALL_SHARE,
    REFERRALS_PER_PATIENT_IMPLAUSIBLE,
    SEASONAL_MIN_MONTHS,
    Overview,
    monthly_falls,
    seasonal_dips,
)
from helpers.disclosure import ROUND_TO
from helpers.report import charts, text
from helpers.report.page import TABLE_WORDS, source_line, watermark
from helpers.report.tables import Col, table


def headline_text(ctx: Context, ov: Overview) -> str:
    h = ov.headline
    first, last = pd.Timestamp(h["first_month"] or None), pd.Timestamp(h["last_month"] or None)
    # a count at a date, or (real structure) a financial year's average list, said so
    when = ctx.list_when(h["latest_count"]) if h["latest_count"] else "the latest count"
    closed = h["n_practices"] - h["n_open_latest"]
    part = 0 < h["months"] < h["data_months"]        # open for part of the data's months
    closed_early = part and _closed_early(h)
    median = (f" (median list size {ctx.count(h['median_list'])})"
              if h["n_open_latest"] > 1 else "")
    if ctx.level == "practice":
        first_line = (f"- {text.md(ctx.area_name)} had **{ctx.count(h['patients'])} "
                      f"registered patients** at its "
                      f"{'last count before it closed' if closed_early else 'latest count'}"
                      f", {when}.\n")
    elif closed <= 0:
        first_line = (f"- **{text.plural(h['n_practices'], 'practice')}** with "
                      f"**{ctx.count(h['patients'])} registered patients** in {when}"
                      f"{median}.\n")
    else:
        first_line = (
            f"- **{text.plural(h['n_practices'], 'practice')}** over the period; "
            f"**{h['n_open_latest']:,} open** in {when} with "
            f"**{ctx.count(h['patients'])} registered patients**{median}; "
            f"{closed:,} closed or merged before then.\n")
    if not h["months"]:
        return first_line + "- **No GP referrals** are recorded for this area in the data."
    caveat = {
        "no_referrals": " None is recorded although it had registered patients: more likely "
                        "missing from the referral data than referring no one.",
        "implausible": f" That is more than {REFERRALS_PER_PATIENT_IMPLAUSIBLE:.0f} a year "
                       "per registered patient, beyond any referral habit: its list or the "
                       "coding of its referrals is more likely wrong."}.get(
        h.get("standing", "ok"), "")
    return (first_line +
            f"- **{ctx.count(h['referrals'])} GP referrals** for first outpatient "
            f"appointments {_over(ctx, h)}, {_months(first, last)}.{caveat}")


def _over(ctx: Context, h: dict) -> str:
    """'over 60 months', or for an area open part of the data's months 'over the 39 months
    it was open (of the data's 60)': the one exposure, as notebook 01 states it."""
    if not 0 < h["months"] < h["data_months"]:
        return f"over {text.plural(h['months'], 'month')}"
    who = "it was" if ctx.level == "practice" else "its practices were"
    return (f"over the {text.plural(h['months'], 'month')} {who} open (of the data's "
            f"{h['data_months']:,})")


def tables_table(ctx: Context, ov: Overview):
    cols = [Col("what", "What it holds"), Col("table", "Contract table"),
            Col("rows", "Rows", "int"), Col("scope", "Rows cover"), Col("span", "Period")]
    if ctx.data_kind == "mixed":
        cols.append(Col("status", "Real or synthetic"))
    t = ov.tables.assign(
        what=ov.tables["table"].map(TABLE_WORDS).fillna(ov.tables["table"]),
        span=[ctx.table_span(n, a, b) for n, a, b in      # a yearly list as its year
              zip(ov.tables["table"], ov.tables["first"], ov.tables["last"], strict=True)])
    return table(t, cols, caption="The data behind this report")


MIN_PRACTICES_FOR_HISTOGRAM = 5
"""Fewer practices than this: their lists are stated, not drawn as a histogram."""


def list_size_text(ctx: Context, ov: Overview) -> str:
    """The area's list sizes in words when there are too few practices for a chart (the
    level table's sentence where it leaves the section out)."""
    rule = ctx.rule("list_sizes")
    if rule.kind == levels.OMITTED:
        return rule.why
    n = len(ov.lists)
    if n >= MIN_PRACTICES_FOR_HISTOGRAM:
        return ""
    if n == 0:
        return "No registered patients are recorded for this area."
    sizes = ", ".join(ctx.count(v) for v in sorted(ov.lists["patients"], reverse=True))
    if n == 1:
        return f"Its one practice open at the latest count has {sizes} patients: one list, no " \
               "spread to chart."
    return (f"{text.plural(n, 'practice')}, too few to chart a spread: "
            f"{'its list is' if n == 1 else 'their lists are'} {sizes} patients at "
            "the latest count.")


def list_size_chart(ctx: Context, ov: Overview):
    if ctx.rule("list_sizes").kind == levels.OMITTED or \
            len(ov.lists) < MIN_PRACTICES_FOR_HISTOGRAM:
        return None
    per, unit = count_scale(ov.lists["patients"])
    v = ov.lists["patients"].to_numpy(float) / per
    med = (f"{np.median(v):.1f} thousand patients" if unit else
           f"{ctx.count(float(np.median(v)))} patients")
    return charts.histogram(
        v, f"Practice list sizes, {ctx.area_name}",
        "Registered patients (thousands)" if unit else "Registered patients",
        "Practices (count)", source_line(ctx),
        alt=f"Histogram of the list sizes of {text.plural(len(v), 'practice')}; median "
            f"{med}.")


THOUSANDS_FROM = 10_000
"""A chart's counts are drawn in thousands when the largest reaches this; below it, as
counts (a practice's 10 to 30 referrals a month read as 10 to 30, not 0.010 to 0.030)."""


def count_scale(values) -> tuple[float, str]:
    """The unit a chart draws counts in, chosen from their magnitude: ``(1000,
    "thousands")`` when the largest finite value is at least :data:`THOUSANDS_FROM`, else
    ``(1, "")`` (the counts as they are)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    return (1000.0, "thousands") if len(v) and np.abs(v).max() >= THOUSANDS_FROM \
        else (1.0, "")


def monthly_chart(ctx: Context, ov: Overview):
    m = ov.monthly
    shown = m["shown"].to_numpy(float) if len(m) else np.array([])
    if not np.isfinite(shown).any():       # none recorded, or every month suppressed
        return None
    hidden = int((~np.isfinite(shown)).sum())
    gaps = (f" {text.plural(hidden, 'month')} with 1 to 7 referrals "
            f"{'is a gap' if hidden == 1 else 'are gaps'} (suppressed in publish mode).") \
        if hidden else ""
    per, unit = count_scale(shown)
    return charts.lines_chart(
        m["month"], {"Referrals": shown / per},
        f"GP referrals per month, {ctx.area_name}", "Month",
        f"Referrals ({unit} per month)" if unit else "Referrals per month", source_line(ctx),
        alt=f"Line chart of monthly GP referrals over {text.plural(len(m), 'month')}.{gaps}",
        watermark=watermark(ctx), per_unit={"Referrals": per})


def seasonal_text(ov: Overview) -> str:
    """The seasonal pattern of the monthly totals, claimed only where two years of months
    show it: 'Monthly totals dip in August and December every year.'; with fewer months,
    that there are too few to tell; '' when the dips are not there or nothing is recorded."""
    kind = seasonal_dips(ov.monthly) if len(ov.monthly) else "none"
    if kind == "dips":
        return "Monthly totals dip in August and December every year."
    if kind == "too_few":
        n = int(ov.monthly["shown"].notna().sum())
        return (f"{text.plural(n, 'month')} of published referrals: too few months to tell "
                f"a seasonal pattern (that needs at least {SEASONAL_MIN_MONTHS}, two years).")
    return ""


def _months(first: pd.Timestamp, last: pd.Timestamp) -> str:
    """'April 2014 to March 2015', or 'in April 2014' for one month (not a range with equal
    ends)."""
    if (first.year, first.month) == (last.year, last.month):
        return f"in {first:%B %Y}"
    return f"{first:%B %Y} to {last:%B %Y}"


def monthly_text(ctx: Context, ov: Overview) -> str:
    """The sharpest falls in the monthly series, in words ('' when no month is more than
    40% below the same month a year before): the deepest named with its count and change,
    and how many months fell that far."""
    falls = monthly_falls(ov.monthly) if len(ov.monthly) else ov.monthly
    if not len(falls):
        return ""
    d = falls.iloc[0]
    out = (f"Referrals fell sharply in **{d['month']:%B %Y}**: {ctx.count(d['total'])}, "
           f"{abs(d['change']) * 100:.0f}% below {d['month'] - pd.DateOffset(years=1):%B %Y} "
           f"({ctx.count(d['year_before'])}).")
    if ctx.publish:       # the change is the published counts', which a reader can check
        out += (f" Both months' counts are as published (rounded to {ROUND_TO}), and the "
                "change is worked out from them.")
    if len(falls) > 1:
        first, last = falls["month"].min(), falls["month"].max()
        out += (f" {text.plural(len(falls), 'month')} from {first:%B %Y} to {last:%B %Y} "
                f"were more than {FALL_SHARE * 100:.0f}% below the same month a year "
                "before.")
    if ctx.synthetic_on_real:
        out += (" The synthetic referrals follow the shape of the fall in NHS England's "
                "Monthly Referral Return in the COVID-19 pandemic.")
    return out


def results(ctx: Context, ov: Overview) -> dict:
    h = ov.headline
    span = f"{h['first_month'][:7]}..{h['last_month'][:7]}"
    facts = {"n_practices": {"count": h["n_practices"], "span": span},
             "referrals": {"count": ctx.published(h["referrals"]), "span": span}}
    made = (f"{ctx.count(h['referrals'])} referrals {_over(ctx, h)}"
            if h["months"] and h["referrals"] else "no referrals recorded")
    return {"headline": h, "facts": facts,
            "summary": ("" if ctx.level == "practice" else
                        f"{text.plural(h['n_practices'], 'practice')}, ")
                       + f"{ctx.count(h['patients'])} patients at "
                         f"{'its last count before it closed' if _closed_early(h) else 'the latest count'}"
                         f", {made}"}


def _closed_early(h: dict) -> bool:
    """Whether the area's referrals stop before the data's last month (it closed)."""
    return bool(h["last_month"]) and h["last_month"] < h["data_last_month"]
