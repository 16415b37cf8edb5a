"""The data overview (notebook 00): what the dataset holds for an area, at a glance.

Everything here slices tables cached once per dataset (rows and periods of every contract
table by commissioner, practice list sizes, monthly referrals by practice), so a report does
not scan the raw tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.analysis.referrals import national_tables
from helpers.cache import cached_table
from helpers.report import TABLE_WORDS, Context, charts, text
from helpers.report.tables import Col, show
from helpers.stats import sdc

DATE_COLUMNS = ("month", "period", "start_month", "joined")
def _table_rows(ds) -> pd.DataFrame:
    """Cached: rows, first and last date of every table, by commissioner (all-England
    tables under 'ENGLAND')."""
    def build():
        comm = ds.practices[["practice_code", "commissioner_code"]].astype(str)
        rows = []
        for name in ds.tables:
            df = ds.tables[name]
            date_col = next((c for c in DATE_COLUMNS if c in df.columns), None)
            if "practice_code" in df.columns:
                key = df["practice_code"].astype(str).map(
                    comm.set_index("practice_code")["commissioner_code"])
            elif "commissioner_code" in df.columns:
                key = df["commissioner_code"].astype(str)
            else:
                key = pd.Series("ENGLAND", index=df.index)
            g = pd.DataFrame({"area": key.to_numpy()})
            if date_col:
                g["date"] = pd.to_datetime(df[date_col]).to_numpy()
            agg = g.groupby("area", dropna=False).agg(
                rows=("area", "size"), first=("date", "min") if date_col else ("area", "size"),
                last=("date", "max") if date_col else ("area", "size")).reset_index()
            if not date_col:
                agg["first"] = agg["last"] = pd.NaT
            agg.insert(0, "table", name)
            rows.append(agg)
        return pd.concat(rows, ignore_index=True)
    return cached_table(ds, "overview_table_rows", build)


def _lists(ds) -> pd.DataFrame:
    """Cached: each practice's registered list at the latest snapshot it appears in."""
    def build():
        pop = ds.population.groupby(["practice_code", "period"], observed=True)[
            "patients"].sum().reset_index()
        last = pop.sort_values("period").groupby("practice_code", observed=True).tail(1)
        return last.assign(practice_code=last["practice_code"].astype(str))[
            ["practice_code", "period", "patients"]].reset_index(drop=True)
    return cached_table(ds, "overview_practice_lists", build)


@dataclass
class Overview:
    headline: dict
    tables: pd.DataFrame
    lists: pd.DataFrame
    monthly: pd.DataFrame


def analyse(ctx: Context) -> Overview:
    """Notebook 00's figures for one area, from cached national summaries."""
    ds, codes = ctx.ds, set(ctx.practice_codes)
    rows = _table_rows(ds)
    if ctx.is_england:
        t = rows.groupby("table", sort=False).agg(rows=("rows", "sum"), first=("first", "min"),
                                                  last=("last", "max")).reset_index()
    else:
        t = rows[rows["area"].isin([ctx.commissioner, "ENGLAND"])]
        t = t.groupby("table", sort=False).agg(rows=("rows", "sum"), first=("first", "min"),
                                               last=("last", "max")).reset_index()
    t["what"] = t["table"].map(TABLE_WORDS).fillna(t["table"])
    t["status"] = [("synthetic" if n in ctx.ds.provenance.get("synthetic_tables", [])
                    else "real") if ctx.data_kind == "mixed" else ctx.data_kind
                   for n in t["table"]]
    t["span"] = [f"{a:%b %Y} – {b:%b %Y}" if pd.notna(a) else "–"
                 for a, b in zip(t["first"], t["last"], strict=True)]
    lists = _lists(ds)
    lists = lists[lists["practice_code"].isin(codes)]
    # patients at the area's latest count, from the practices open then: a practice that
    # closed or merged earlier has its patients in its successor's list already
    latest = lists["period"].max()
    lists = lists[lists["period"] == latest]
    pm = national_tables(ds)["pm"]
    pm = pm[pm["practice_code"].isin(codes)] if not ctx.is_england else pm
    monthly = pm.groupby("month", as_index=False)["observed"].sum()
    h = {"n_practices": len(codes), "n_open_latest": int(len(lists)),
         "latest_count": str(pd.Timestamp(latest).date()) if pd.notna(latest) else "",
         "patients": float(lists["patients"].sum()),
         "median_list": float(lists["patients"].median()),
         "referrals": float(monthly["observed"].sum()), "months": int(len(monthly)),
         "first_month": str(monthly["month"].min().date()),
         "last_month": str(monthly["month"].max().date())}
    return Overview(h, t, lists, monthly)


def headline_text(ctx: Context, ov: Overview) -> str:
    h = ov.headline
    first = pd.Timestamp(h["first_month"])
    last = pd.Timestamp(h["last_month"])
    when = f"{pd.Timestamp(h['latest_count']):%B %Y}" if h["latest_count"] else "the latest count"
    closed = h["n_practices"] - h["n_open_latest"]
    first_line = (f"- **{text.plural(h['n_practices'], 'practice')}** with "
                  f"**{ctx.count(h['patients'])} registered patients** in {when} "
                  f"(median list size {ctx.count(h['median_list'])}).\n") if closed <= 0 else (
        f"- **{text.plural(h['n_practices'], 'practice')}** over the period; "
        f"**{h['n_open_latest']:,} open** in {when} with "
        f"**{ctx.count(h['patients'])} registered patients** (median list size "
        f"{ctx.count(h['median_list'])}); {closed:,} closed or merged before then.\n")
    return (first_line +
            f"- **{ctx.count(h['referrals'])} GP referrals** for first outpatient "
            f"appointments over {h['months']} months, {first:%B %Y} to {last:%B %Y}.")


def tables_table(ctx: Context, ov: Overview):
    cols = [Col("what", "What it holds"), Col("table", "Contract table"),
            Col("rows", "Rows for this area", "int"), Col("span", "Period")]
    if ctx.data_kind == "mixed":
        cols.append(Col("status", "Real or synthetic"))
    return show(ov.tables, cols, caption="The data behind this report")


def list_size_chart(ctx: Context, ov: Overview):
    v = ov.lists["patients"].to_numpy(float) / 1000
    return charts.histogram(
        v, f"Practice list sizes, {ctx.area_name}", "Registered patients (thousands)",
        "Practices (count)", ctx.source_line,
        alt=f"Histogram of the list sizes of {text.plural(len(v), 'practice')}; median "
            f"{np.median(v):.1f} thousand patients.")


def monthly_chart(ctx: Context, ov: Overview):
    m = ov.monthly
    counts = sdc.publish_counts(m["observed"])[0] if ctx.publish else m["observed"].to_numpy()
    fig = charts.lines_chart(
        m["month"], {"Referrals": counts / 1000},
        f"GP referrals per month, {ctx.area_name}", "Month",
        "Referrals (thousands per month)", ctx.source_line,
        alt=f"Line chart of monthly GP referrals over {len(m)} months; they dip every "
            "August and December.", watermark=ctx.watermark)
    return fig


def results(ctx: Context, ov: Overview) -> dict:
    h = ov.headline
    return {"headline": h,
            "summary": f"{text.plural(h['n_practices'], 'practice')}, "
                       f"{ctx.count(h['patients'])} patients at the latest count, "
                       f"{ctx.count(h['referrals'])} "
                       f"referrals over {h['months']} months"}
