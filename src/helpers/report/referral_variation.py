"""The referral-variation analysis behind notebook 01, section by section.

``analyse`` does all computation for one report (national parts from the cache), returning
tables the notebook shows; the ``*_text`` functions turn them into plain English, applying
disclosure control in publish mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.analysis.referrals import (
    monthly_series,
    national_tables,
    opportunity,
    practice_frame,
    practice_table,
    specialty_table,
)
from helpers.cache import cached_json, cached_table
from helpers.report import Context
from helpers.schema import financial_year
from helpers.stats import sdc
from helpers.stats.funnels import funnel
from helpers.stats.spc import xmr
from helpers.stats.variation import moment_sd, percentile_ratio, variance_partition

COVARIATES = {"deprivation (IMD score)": "imd_score", "list size (log)": "log_list",
              "long-term-condition prevalence (%)": "ltc_prevalence"}


@dataclass
class Analysis:
    national: pd.DataFrame          # every practice, with funnel columns
    area: pd.DataFrame              # the report's practices
    funnel_summary: dict
    curve: pd.DataFrame
    partition: dict
    specialties: pd.DataFrame
    spc_points: pd.DataFrame
    spc_summary: pd.DataFrame
    years: list[int]
    extras: dict = field(default_factory=dict)


def _comm_month_specialty(ds) -> pd.DataFrame:
    def build():
        from helpers.analysis.referrals import practice_month_specialty
        m = practice_month_specialty(ds)
        comm = ds.practices[["practice_code", "commissioner_code"]].astype(str)
        m = m.merge(comm, on="practice_code")
        return m.groupby(["commissioner_code", "month", "specialty_code"], as_index=False)[
            ["observed", "expected"]].sum()
    return cached_table(ds, "referrals_commissioner_month_specialty", build)


def analyse(ctx: Context) -> Analysis:
    p, ds = ctx.params, ctx.ds
    nt = national_tables(ds)
    all_years = sorted(nt["pys"]["year"].unique().tolist())
    years = [y for y in (p["years"] or all_years)]
    missing = sorted(set(years) - set(all_years))
    if missing:
        from helpers.run.params import ParameterError
        raise ParameterError(f"years {missing} are not in the data (available: {all_years})")
    spec = None if p["specialty"] == "ALL" else p["specialty"]
    if spec is not None and spec not in set(ds.specialties.specialty_code.astype(str)):
        from helpers.run.params import ParameterError
        raise ParameterError(f"specialty '{spec}' is not in the data")
    prac = practice_frame(ds)
    nat = practice_table(ds, years, spec, p["standardise"], pys=nt["pys"], practices=prac)
    nat["expected_age_sex"] = nat["expected"]
    if p["comparator"] == "commissioner":
        f = nat.groupby("commissioner_code")["observed"].transform("sum") / \
            nat.groupby("commissioner_code")["expected"].transform("sum")
        nat["expected"] = nat["expected"] * f
    elif p["comparator"] == "peer":
        f = nat.groupby("imd_quintile")["observed"].transform("sum") / \
            nat.groupby("imd_quintile")["expected"].transform("sum")
        nat["expected"] = nat["expected"] * f
    nat["ratio"] = nat["observed"] / nat["expected"]
    fr = funnel(nat["observed"], nat["expected"], nat["practice_code"],
                method=p["overdispersion"], limit=p["limit"])
    pts = fr.points
    for c in ("od_lcl95", "od_ucl95", "od_lcl99", "od_ucl99", "flag", "outlier", "z"):
        nat[c] = pts[c].to_numpy()
    # limits on the ratio scale at each practice's expected (adjusted when over-dispersed)
    use = "od_" if fr.adjusted else ""
    nat["limit_low"] = pts[f"{use}lcl{'99' if fr.limit == '99.8' else '95'}"].to_numpy()
    nat["limit_high"] = pts[f"{use}ucl{'99' if fr.limit == '99.8' else '95'}"].to_numpy()
    nat["log_list"] = np.log(nat["list_size"])
    nat = opportunity(nat.assign(od_ucl99=nat["limit_high"]), ds, specialty=spec)
    area = nat[nat["practice_code"].isin(ctx.practice_codes)].reset_index(drop=True)
    grid = np.geomspace(max(nat["expected"].min() * 0.8, 0.5), nat["expected"].max() * 1.2, 200)
    curve = fr.curve(grid)

    key = f"partition-{'-'.join(map(str, years))}-{spec or 'ALL'}-{p['standardise']}-" \
          f"{p['comparator']}-{p['overdispersion']}-{p['limit']}"

    def build_partition():
        vp = variance_partition(nat[nat["outlier"] == 0], COVARIATES, min_observed=100
                                if spec is None else 20)
        vp["steps"] = vp["steps"].to_dict(orient="list")
        return vp
    part = cached_json(ds, key, build_partition)
    part["steps"] = pd.DataFrame(part["steps"])
    spt = specialty_table(ds, years, codes=None if ctx.is_england else ctx.practice_codes,
                          pys=nt["pys"])
    if spec is None:
        series = monthly_series(ds, None if ctx.is_england else ctx.practice_codes, nt["pm"])
    else:
        cms = _comm_month_specialty(ds)
        cms = cms[cms["specialty_code"] == spec]
        if not ctx.is_england:
            cms = cms[cms["commissioner_code"] == ctx.commissioner]
        s = cms.groupby("month")[["observed", "expected"]].sum()
        series = s.reset_index()
        series["ratio"] = series["observed"] / series["expected"]
        series["standardised_rate"] = series["ratio"]
    series = series[financial_year(series["month"]).isin(years)]
    spc_pts, spc_sum = xmr(series["standardised_rate"].to_numpy(), series["month"],
                           improvement_direction="neutral")
    extras = {"area_moment_sd": moment_sd(area["observed"], area["expected"])
              if len(area) >= 5 else float("nan"),
              "area_p90_p10": percentile_ratio(area["ratio"]) if len(area) >= 5 else np.nan,
              "area_crude_p90_p10": percentile_ratio(area["crude_rate"])
              if len(area) >= 5 else np.nan,
              "cost_per_referral_gbp": nat.attrs.get("cost_per_referral_gbp", np.nan),
              "specialty": spec, "series_is_ratio": spec is not None}
    return Analysis(nat, area, fr.summary(), curve, part, spt, spc_pts, spc_sum, years, extras)


def headline(ctx: Context, an: Analysis) -> dict:
    a = an.area
    high = a[a["flag"] == "High (99.8%)"] if an.funnel_summary["limit"] == "99.8" else \
        a[a["flag"].isin(["High (95%)", "High (99.8%)"])]
    low = a[a["flag"] == "Low (99.8%)"] if an.funnel_summary["limit"] == "99.8" else \
        a[a["flag"].isin(["Low (95%)", "Low (99.8%)"])]
    return {
        "n_practices": int(len(a)),
        "observed": float(a["observed"].sum()),
        "expected": float(a["expected"].sum()),
        "area_ratio": float(a["observed"].sum() / a["expected"].sum()),
        "crude_p90_p10": an.extras["area_crude_p90_p10"],
        "standardised_p90_p10": an.extras["area_p90_p10"],
        "n_high": int(len(high)), "n_low": int(len(low)),
        "high_practices": sorted(high["practice_code"].tolist()),
        "low_practices": sorted(low["practice_code"].tolist()),
        "excess_to_limit": float(a["excess_to_limit"].sum()),
        "excess_to_median": float(a["excess_to_median"].sum()),
        "saving_to_limit_gbp": float(a["saving_to_limit_gbp"].sum()),
        "saving_to_median_gbp": float(a["saving_to_median_gbp"].sum()),
        "practice_sd_national": an.partition["practice_sd"],
        "phi": an.funnel_summary["phi"], "tau2": an.funnel_summary["tau2"],
    }


def headline_text(ctx: Context, an: Analysis, h: dict) -> str:
    pub = ctx.publish
    n = sdc.count_text
    years = f"{an.years[0]}/{str(an.years[0] + 1)[-2:]}" + (
        f" to {an.years[-1]}/{str(an.years[-1] + 1)[-2:]}" if len(an.years) > 1 else "")
    lines = [
        f"- **{h['n_practices']} practices** in {ctx.area_name} made "
        f"**{n(h['observed'], pub)} GP referrals** for a first outpatient appointment in "
        f"{years}, **{(h['area_ratio'] - 1) * 100:+.1f}%** against what England's rates by age "
        "and sex would predict for their patients"
        + (" (compared within the commissioner)" if ctx.params["comparator"] == "commissioner"
           else "") + ".",
    ]
    if not np.isnan(h["crude_p90_p10"]):
        lines.append(
            f"- Crude rates differ **{h['crude_p90_p10']:.1f}-fold** between the 10th and 90th "
            f"percentile practice; after standardising for age and sex the spread is "
            f"**{h['standardised_p90_p10']:.1f}-fold**. Most of what remains is not chance: "
            f"nationally, practices differ by a standard deviation of "
            f"**{h['practice_sd_national'] * 100:.0f}%** beyond chance and case-mix.")
    lines.append(
        f"- **{h['n_high']} practices refer more than the {an.funnel_summary['limit']}% "
        f"control limits allow** (after allowing for the normal spread between practices) and "
        f"**{h['n_low']} refer less**. These are the practices where a conversation about "
        "referral patterns is most likely to find something specific.")
    money = not np.isnan(h["saving_to_limit_gbp"])
    lines.append(
        f"- If the high practices came down to the limit, about "
        f"**{n(h['excess_to_limit'], pub)} referrals**"
        + (f" (≈ £{h['saving_to_limit_gbp'] / 1e3:,.0f}k at tariff prices, first attendance "
           "plus follow-ups)" if money else "") + " would not be made; bringing every "
        f"practice above the median down to it would mean **{n(h['excess_to_median'], pub)}**"
        + (f" (≈ £{h['saving_to_median_gbp'] / 1e6:,.1f}m)" if money else
           " (no prices in this data, so no £ figure)")
        + ". Whether this saves money depends on the hospital contract (notebook 03).")
    return "\n".join(lines)


def outlier_table(ctx: Context, an: Analysis) -> pd.DataFrame:
    a = an.area[an.area["flag"] != "Within limits"].sort_values("ratio", ascending=False)
    t = a[["practice_code", "practice_name", "network", "list_size", "observed", "expected",
           "ratio", "ratio_lower95", "ratio_upper95", "flag", "excess_to_limit"]].copy()
    t = sdc.protect(t, ["observed", "list_size", "excess_to_limit"],
                    {"observed": ["ratio", "ratio_lower95", "ratio_upper95"]}, ctx.publish)
    t["expected"] = t["expected"].round(0)
    return t.rename(columns={
        "practice_code": "Practice", "practice_name": "Name", "network": "Network",
        "list_size": "List size", "observed": "Referrals", "expected": "Expected",
        "ratio": "Ratio O/E", "ratio_lower95": "95% CI low", "ratio_upper95": "95% CI high",
        "flag": "Funnel", "excess_to_limit": "Referrals above limit"}).round(3)


def partition_table(an: Analysis) -> pd.DataFrame:
    s = an.partition["steps"]
    cols = {"model": "Model", "practice_sd": "Practice SD (log scale)",
            "practice_var_explained_pct": "Practice variance explained (%)",
            "practice_share_pct": "Practice share (%)", "chance_share_pct": "Chance share (%)",
            "network_share_pct": "Network share (%)",
            "commissioner_code_share_pct": "Commissioner share (%)"}
    return s[[c for c in cols if c in s]].rename(columns=cols).round(3)


def partition_text(an: Analysis) -> str:
    s = an.partition["steps"]
    last = s.iloc[-1]
    parts = [f"Across {an.partition['n_practices']:,} practices in England (special-cause "
             "outliers set aside), after standardising for age and sex:"]
    parts.append(f"- **chance** (Poisson noise) accounts for **{last['chance_share_pct']:.1f}%** "
                 "of the variance in referral ratios — with a year or more of referrals, very "
                 "little of the variation is chance;")
    if "commissioner_code_share_pct" in s:
        parts.append(f"- the **commissioner** level for **{last['commissioner_code_share_pct']:.0f}%"
                     "**, the **network** level for "
                     f"**{last.get('network_share_pct', 0):.0f}%**;")
    parts.append(f"- the **practice itself** for **{last['practice_share_pct']:.0f}%**: a "
                 f"standard deviation of {last['practice_sd']:.2f} on the log scale, so a typical "
                 f"pair of practices differs by **{(an.partition['mrr'] - 1) * 100:.0f}%** "
                 "(median rate ratio);")
    parts.append(f"- deprivation, list size and long-term-condition prevalence together explain "
                 f"**{last['practice_var_explained_pct']:.0f}%** of the practice-level variance "
                 "(published studies: practice characteristics < 10%, patient characteristics "
                 "< 40%).")
    if an.partition.get("n_missing_covariates"):
        parts.append(f"- {an.partition['n_missing_covariates']:,} practices without a value "
                     "for one of these characteristics (for example closed before the QOF "
                     "year used) are left out of this breakdown.")
    return "\n".join(parts)


def validation_table(ctx: Context, an: Analysis) -> pd.DataFrame | None:
    """Estimates against the truth recorded with the synthetic data (None for real data)."""
    t = ctx.ds.truth
    if not t:
        return None
    rm = t["referral_model"]
    planted = set(t["outliers"]["practice_codes"])
    nat = an.national
    is_planted = nat["practice_code"].isin(planted)
    coef = an.partition["coefficients"]
    rows = [
        ("Between-practice SD (log scale)", rm["sd_practice"], an.partition["practice_sd"],
         "±15%"),
        ("Deprivation effect per IMD point", rm["beta_imd_per_point"],
         coef.get("deprivation (IMD score)"), "±25%"),
        ("List-size elasticity", rm["beta_log_list"], coef.get("list size (log)"), "±30%"),
        ("LTC effect per % point", rm["beta_ltc_per_point"],
         coef.get("long-term-condition prevalence (%)"), "±25%"),
        ("Planted outliers flagged (share)", 1.0, float(nat.loc[is_planted, "outlier"].mean()),
         "≥ 0.80"),
        ("Other practices flagged (share)", 0.002, float(nat.loc[~is_planted, "outlier"].mean()),
         "≤ 0.02"),
    ]
    return pd.DataFrame(rows, columns=["Quantity", "Truth", "Estimate", "Target"]).round(4)


def results(ctx: Context, an: Analysis, h: dict) -> dict:
    out = dict(h)
    if ctx.publish:
        for k in ("observed", "excess_to_limit", "excess_to_median"):
            out[k] = sdc.round_count(out[k])
    out["funnel"] = an.funnel_summary
    out["variance_partition"] = {k: v for k, v in an.partition.items() if k != "steps"}
    out["spc_variation_type"] = an.spc_summary["variation_type"].iloc[-1]
    out["years"] = an.years
    return out
