"""The data overview (notebook 00): the figures of what the dataset holds for an area.

Everything here slices tables cached once per dataset (rows and periods of every contract
table by commissioner, practice list sizes, monthly referrals by practice), so a report does
not scan the raw tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers import levels
from helpers.analysis.context import Context, table_status
from helpers.analysis.referrals import area_months_open, national_tables
from helpers.cache import cached
from helpers.codes import among
from helpers.stats import sdc

DATE_COLUMNS = ("month", "period", "start_month", "joined")


@cached
def _table_rows(ds) -> pd.DataFrame:
    """Cached: rows, first and last date of every table, by commissioner (all-England
    tables under 'ENGLAND')."""
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


@cached
def _practice_rows(ds) -> pd.DataFrame:
    """Cached: rows, first and last date of every practice-keyed table, by practice."""
    parts = []
    for name, df in ds.tables.items():
        if "practice_code" not in df.columns:
            continue
        date_col = next((c for c in DATE_COLUMNS if c in df.columns), None)
        g = pd.DataFrame({"practice_code": df["practice_code"].astype(str).to_numpy(),
                          "date": pd.to_datetime(df[date_col]).to_numpy() if date_col
                          else pd.NaT})
        agg = g.groupby("practice_code").agg(rows=("practice_code", "size"),
                                             first=("date", "min"), last=("date", "max"))
        parts.append(agg.reset_index().assign(table=name))
    return pd.concat(parts, ignore_index=True)


@cached
def _lists(ds) -> pd.DataFrame:
    """Cached: each practice's registered list at the latest snapshot it appears in."""
    pop = ds.population.groupby(["practice_code", "period"], observed=True)[
        "patients"].sum().reset_index()
    last = pop.sort_values("period").groupby("practice_code", observed=True).tail(1)
    return last.assign(practice_code=last["practice_code"].astype(str))[
        ["practice_code", "period", "patients"]].reset_index(drop=True)


FALL_SHARE = 0.4
"""A month more than this share below the same month a year before is a fall the page names
(the seasonal dips of August and December are 10-20%)."""


def monthly_falls(monthly: pd.DataFrame, col: str = "shown",
                  share: float = FALL_SHARE) -> pd.DataFrame:
    """Months whose total (``col``, as published) is more than ``share`` below the same
    month a year earlier, deepest first: ``month``, ``total``, ``year_before`` and
    ``change`` (a fraction, negative). A month or its year-earlier month suppressed (NaN) or
    absent is not compared."""
    m = monthly[["month", col]].rename(columns={col: "total"})
    m = m.assign(month=pd.to_datetime(m["month"]))
    before = m.assign(month=m["month"] + pd.DateOffset(years=1)).rename(
        columns={"total": "year_before"})
    j = m.merge(before, on="month", how="inner")
    j = j[(j["year_before"] > 0) & j["total"].notna()]
    j = j.assign(change=j["total"] / j["year_before"] - 1)
    return j[j["change"] < -share].sort_values("change").reset_index(drop=True)


SEASONAL_MIN_MONTHS = 24
"""Fewer months with a published total than this (two years): too few to tell a seasonal
pattern from one year's ups and downs, so the page claims none."""

DIP_MONTHS = (8, 12)
"""The months whose dips the page names (August and December: holidays)."""


def seasonal_dips(monthly: pd.DataFrame, col: str = "shown",
                  months: tuple[int, ...] = DIP_MONTHS) -> str:
    """Whether the monthly totals (``col``, as published; NaN when suppressed) dip in
    ``months`` every year: 'too_few' (fewer than :data:`SEASONAL_MIN_MONTHS` published
    months, or no month named seen in two years with both neighbours), 'dips' (each named
    month below the mean of the months either side of it in every year where all three are
    published) or 'no_dips'; 'none' when no month has a total."""
    m = monthly[["month", col]].dropna()
    if not len(m):
        return "none"
    if len(m) < SEASONAL_MIN_MONTHS:
        return "too_few"
    v = pd.Series(m[col].to_numpy(float), index=pd.to_datetime(m["month"]).dt.to_period("M"))
    seen = {k: 0 for k in months}
    for p in v.index:
        if p.month not in months or (p - 1) not in v.index or (p + 1) not in v.index:
            continue
        seen[p.month] += 1
        if not v[p] < (v[p - 1] + v[p + 1]) / 2:
            return "no_dips"
    return "dips" if min(seen.values()) >= 2 else "too_few"


REFERRALS_PER_PATIENT_IMPLAUSIBLE = 2.0
"""More GP referrals a year than this per registered patient (England's practices make about
a quarter of one) is beyond any referral habit: the list or the referral coding is wrong."""


def referral_standing(referrals: float, months: int, patients: float) -> str:
    """Whether an area's referrals can be read against its list: 'ok'; 'no_referrals'
    (none recorded in months it was open, with registered patients: more likely missing
    from the referral data); or 'implausible' (more than
    :data:`REFERRALS_PER_PATIENT_IMPLAUSIBLE` a year per registered patient at its latest
    count). ``referrals`` is a count over ``months`` months."""
    if months <= 0 or not patients > 0:
        return "ok"
    if referrals == 0:
        return "no_referrals"
    a_year = referrals / months * 12
    return "implausible" if a_year / patients > REFERRALS_PER_PATIENT_IMPLAUSIBLE else "ok"


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
        t["scope"] = "England"
    else:
        t = rows[rows["area"].isin([ctx.commissioner, "ENGLAND"])]
        t = t.groupby("table", sort=False).agg(rows=("rows", "sum"), first=("first", "min"),
                                               last=("last", "max"),
                                               england=("area", lambda a: (a == "ENGLAND")
                                                        .all())).reset_index()
        # a table kept by commissioner: the level table says whose rows the page shows
        by_comm = ctx.rule("data_tables_by_commissioner")
        below = by_comm.kind == levels.PARENT          # the commissioner's, under its name
        t["scope"] = np.where(t.pop("england"), "England",
                              f"its {by_comm.owner} ({ctx.where.commissioner_name})"
                              if below else "this commissioner")
        if below:                     # its own rows where a table is kept by practice
            own = _practice_rows(ds)
            own = own[among(own["practice_code"], codes)].groupby("table").agg(
                rows=("rows", "sum"), first=("first", "min"), last=("last", "max"))
            mine = t["table"].isin(own.index)
            for c in ("rows", "first", "last"):
                t.loc[mine, c] = t.loc[mine, "table"].map(own[c]).to_numpy()
            t.loc[mine, "scope"] = "this practice" if ctx.level == "practice" \
                else "this network's practices"
    t["status"] = [table_status(ctx.ds, n) for n in t["table"]]   # with a real table's period
    lists = _lists(ds)
    lists = lists[among(lists["practice_code"], codes)]
    # patients at the area's latest count, from the practices open then: a practice that
    # closed or merged earlier has its patients in its successor's list already
    latest = lists["period"].max()
    lists = lists[lists["period"] == latest]
    pm = national_tables(ds)["pm"]
    pm = pm[among(pm["practice_code"], codes)] if not ctx.is_england else pm
    monthly = pm.groupby("month", as_index=False)["observed"].sum()
    # the exposure: months any of the area's practices was open (one definition with 01)
    months = len(monthly) if ctx.is_england else area_months_open(ds, sorted(codes))
    h = {"n_practices": len(codes), "n_open_latest": int(len(lists)),
         "data_months": int(national_tables(ds)["pm"]["month"].nunique()),
         "data_last_month": str(national_tables(ds)["pm"]["month"].max().date()),
         "latest_count": str(pd.Timestamp(latest).date()) if pd.notna(latest) else "",
         "patients": float(lists["patients"].sum()),
         "median_list": float(lists["patients"].median()),
         "referrals": float(monthly["observed"].sum()), "months": int(months),
         "first_month": str(monthly["month"].min().date()) if len(monthly) else "",
         "last_month": str(monthly["month"].max().date()) if len(monthly) else ""}
    h["standing"] = referral_standing(h["referrals"], h["months"], h["patients"])
    # the monthly chart is drawn from published counts (suppressed months are gaps)
    monthly["shown"] = sdc.publish_counts(monthly["observed"])[0] if ctx.publish else \
        monthly["observed"].to_numpy(float)
    return Overview(h, t, lists, monthly)


