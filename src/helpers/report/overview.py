"""Data overview (notebook 00): what is in the dataset for an area, at a glance."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from helpers.report import Context, charts
from helpers.schema import financial_year
from helpers.stats import sdc


def summary(ctx: Context) -> pd.DataFrame:
    """One row per table: rows for the area, and the period covered."""
    ds, codes = ctx.ds, set(ctx.practice_codes)
    rows = []
    for name, df in ds.tables.items():
        sub = df
        if "practice_code" in df.columns:
            sub = df[df["practice_code"].astype(str).isin(codes)]
        elif "commissioner_code" in df.columns and not ctx.is_england:
            sub = df[df["commissioner_code"].astype(str) == ctx.commissioner]
        date_col = next((c for c in ("month", "period", "start_month", "joined")
                         if c in df.columns), None)
        span = ""
        if date_col is not None and len(sub):
            span = f"{pd.Timestamp(sub[date_col].min()):%b %Y} – {pd.Timestamp(sub[date_col].max()):%b %Y}"
        rows.append({"Table": name, "Rows": len(sub), "Period": span})
    return pd.DataFrame(rows)


def analyse(ctx: Context) -> dict:
    """Notebook 00's analysis: the area's headline figures (nothing national to cache)."""
    return headline(ctx)


def headline(ctx: Context) -> dict:
    ds, codes = ctx.ds, set(ctx.practice_codes)
    pop = ds.population[ds.population["practice_code"].astype(str).isin(codes)]
    latest = pop[pop["period"] == pop["period"].max()]
    lists = latest.groupby("practice_code", observed=True)["patients"].sum()
    ref = ds.referrals[ds.referrals["practice_code"].astype(str).isin(codes)]
    return {"n_practices": len(codes), "patients": float(lists.sum()),
            "median_list": float(lists.median()), "referrals": float(ref["referrals"].sum()),
            "months": int(ref["month"].nunique())}


def headline_text(ctx: Context, h: dict) -> str:
    n = sdc.count_text
    return (f"- **{h['n_practices']} practices** with **{n(h['patients'], ctx.publish)} "
            f"registered patients** (median list size {n(h['median_list'], ctx.publish)}).\n"
            f"- **{n(h['referrals'], ctx.publish)} GP referrals** for first outpatient "
            f"appointments over {h['months']} months.")


def list_size_chart(ctx: Context) -> plt.Figure:
    ds, codes = ctx.ds, set(ctx.practice_codes)
    pop = ds.population[ds.population["practice_code"].astype(str).isin(codes)]
    latest = pop[pop["period"] == pop["period"].max()]
    lists = latest.groupby("practice_code", observed=True)["patients"].sum()
    fig, ax = plt.subplots()
    ax.hist(lists / 1000, bins=30, color=charts.NHS_BLUE)
    return charts.finish(fig, ax, f"Practice list sizes, {ctx.area_name}",
                         "Registered patients (thousands)", "Practices (count)",
                         ctx.source_line)


def monthly_chart(ctx: Context) -> plt.Figure:
    ds, codes = ctx.ds, set(ctx.practice_codes)
    ref = ds.referrals[ds.referrals["practice_code"].astype(str).isin(codes)]
    m = ref.groupby("month")["referrals"].sum()
    fig, ax = plt.subplots()
    ax.plot(m.index, m.to_numpy() / 1000, color=charts.NHS_BLUE, marker="o", ms=3)
    return charts.finish(fig, ax, f"GP referrals per month, {ctx.area_name}", "Month",
                         "Referrals (thousands per month)", ctx.source_line)


def years(ctx: Context) -> list[int]:
    return sorted(financial_year(ctx.ds.referrals["month"]).unique().tolist())
