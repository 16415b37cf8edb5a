"""The referral-variation analysis (notebook 01): every figure its report shows.

:func:`analyse` does all computation for one area: the national practice table with funnel
limits, flags and opportunity (cached once per dataset and parameter set), the variance
partition, the specialty table, the monthly SPC series, the comparison with the areas the
area sits in, the headline figures and the validation against the synthetic truth. In
publish mode every count is rounded or suppressed and every ratio, interval and £ beside it
is recomputed from the published count (:func:`published_frame`), so the figures agree with
each other and none can be worked back to a suppressed count. The ranked chart and the
funnel use the same (over-dispersed) limits, so they flag the same practices.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from helpers import levels
from helpers.analysis.context import Context
from helpers.analysis.referrals import (
    area_months_open,
    cost_per_referral,
    monthly_series,
    months_open,
    national_tables,
    opportunity,
    practice_frame,
    practice_month_specialty,
    practice_table,
    specialty_points,
    specialty_table,
)
from helpers.cache import cached
from helpers.codes import among, rows_of
from helpers.params import ParameterError
from helpers.schema import financial_year
from helpers.stats import rates, sdc
from helpers.stats.funnels import funnel
from helpers.stats.spc import xmr
from helpers.stats.variation import moment_sd, percentile_ratio, variance_partition

NOTEBOOK = "01_referral_variation"


def shows(ctx: Context, section: str) -> bool:
    """Whether the page has ``section`` (:meth:`Context.rule`: the level table's rule at
    its level, :data:`helpers.levels.TABLES`)."""
    return ctx.rule(section).kind != levels.OMITTED


COVARIATES = {"deprivation (IMD score)": "imd_score", "list size (log)": "log_list",
              "long-term-condition prevalence (%)": "ltc_prevalence"}

@dataclass
class Analysis:
    national: pd.DataFrame          # every practice, with funnel columns
    area: pd.DataFrame              # the report's practices
    funnel_summary: dict
    curve: pd.DataFrame
    partition: dict                 # {"unavailable": reason} when it cannot be fitted
    specialties: pd.DataFrame
    spc_points: pd.DataFrame
    spc_summary: pd.DataFrame
    years: list[int]
    extras: dict = field(default_factory=dict)
    # what readers see, published in publish mode (filled by ``analyse``)
    published: pd.DataFrame | None = None       # the area's practices
    peers_published: pd.DataFrame | None = None  # a practice's peers, for its funnel
    specialties_published: pd.DataFrame | None = None
    comparisons: pd.DataFrame | None = None
    headline: dict = field(default_factory=dict)
    validation: pd.DataFrame | None = None       # against the synthetic truth (None: real)
    profile: pd.DataFrame | None = None          # a practice's spine chart rows
    deciles: pd.DataFrame | None = None          # a practice's quarters against England's
    similar_opportunity: pd.DataFrame | None = None   # against the best of its similar 10
    similar_named: pd.DataFrame | None = None    # a practice's similar 10, named
    specialties_over_time: pd.DataFrame | None = None  # its main specialties, by year

    @property
    def limit(self) -> str:
        return self.funnel_summary["limit"]


@cached
def _comm_month_specialty(ds) -> pd.DataFrame:
    m = practice_month_specialty(ds)
    comm = ds.practices[["practice_code", "commissioner_code"]].astype(str)
    m = m.merge(comm, on="practice_code")
    return m.groupby(["commissioner_code", "month", "specialty_code"], as_index=False)[
        ["observed", "expected"]].sum()



def _fit_funnel(nat: pd.DataFrame, overdispersion: str, limit: float):
    return funnel(nat["observed"], nat["expected"], nat["practice_code"],
                  method=overdispersion, limit=limit)


@cached
def national_practices(ds, years: list[int], specialty: str | None, standardise: str,
                       comparator: str, overdispersion: str, limit: float) -> pd.DataFrame:
    """Every practice's observed, expected, ratio, funnel limits, flag and opportunity for
    one set of parameters: computed once per dataset and parameter set, sliced by every
    report. ``cost_per_referral_gbp`` is the referral-weighted £ per referral (one value)."""
    nat = practice_table(ds, years, specialty, standardise,
                         pys=national_tables(ds)["pys"], practices=practice_frame(ds))
    if comparator in ("commissioner", "peer"):
        by = "commissioner_code" if comparator == "commissioner" else "imd_quintile"
        f = nat.groupby(by)["observed"].transform("sum") / \
            nat.groupby(by)["expected"].transform("sum")
        nat["expected"] = nat["expected"] * f
        r = rates.isr(nat["observed"], nat["expected"])
        for c in ("lower95", "upper95", "lower99_8", "upper99_8"):
            nat[f"ratio_{c}"] = r[c].to_numpy()
    nat["ratio"] = nat["observed"] / nat["expected"]
    fr = _fit_funnel(nat, overdispersion, limit)
    pts = fr.points
    lev = "99" if fr.limit == "99.8" else "95"
    use = "od_" if fr.adjusted else ""
    nat["limit_low"] = pts[f"{use}lcl{lev}"].to_numpy()
    nat["limit_high"] = pts[f"{use}ucl{lev}"].to_numpy()
    nat["outlier"] = pts["outlier"].to_numpy()
    nat["flag"] = np.where(nat["outlier"] == 0, "Within",
                           np.where(nat["ratio"] > nat["limit_high"], "High", "Low"))
    # the range the funnel limits allow around each ratio: misses 1 exactly when flagged
    nat["range_low"] = nat["ratio"] / nat["limit_high"]
    nat["range_high"] = nat["ratio"] / nat["limit_low"].where(nat["limit_low"] > 0)
    # size as the covariate of the variance partition: the mean list over the months the
    # practice was open in the period (its referrals are counted over those months; the
    # latest list of a practice that grew, shrank or merged misstates it, and biased the
    # list-size elasticity towards zero on the real structure: 0.032 against 0.05 planted)
    nat["log_list"] = np.log(nat["person_years"] / nat["years_open"])
    nat = opportunity(nat.assign(od_ucl99=nat["limit_high"]), ds, specialty=specialty)
    # a yearly average over the years each practice was open in the period
    for c in ("excess_to_limit", "excess_to_median", "saving_to_limit_gbp",
              "saving_to_median_gbp", "observed", "expected"):
        nat[f"{c}_per_year"] = nat[c] / nat["years_open"]
    nat["cost_per_referral_gbp"] = float(nat.attrs.get("cost_per_referral_gbp", np.nan))
    nat.attrs = {}
    return nat


@cached(kind="json")
def national_funnel(ds, years: list[int], specialty: str | None, standardise: str,
                    comparator: str, overdispersion: str, limit: float) -> dict:
    """The funnel of :func:`national_practices`: its limit curves (300 points across the
    range of expected counts), summary (φ, τ², limits) and £ per referral."""
    nat = national_practices(ds, years, specialty, standardise, comparator, overdispersion,
                             limit)
    fr = _fit_funnel(nat, overdispersion, limit)
    grid = np.geomspace(max(nat["expected"].min() * 0.8, 0.5),
                        nat["expected"].max() * 1.2, 300)
    return {"curve": fr.curve(grid).to_dict(orient="list"), "summary": fr.summary(),
            "cost_per_referral_gbp": float(nat["cost_per_referral_gbp"].iloc[0])}


@cached(kind="json")
def national_partition(ds, years: list[int], specialty: str | None, standardise: str,
                       comparator: str, overdispersion: str, limit: float) -> dict:
    """The variance partition of England's practices within the limits (see
    :func:`helpers.stats.variation.variance_partition`); ``{"unavailable": reason}`` when
    there are too few practices to fit it (a dataset of a handful of practices)."""
    nat = national_practices(ds, years, specialty, standardise, comparator, overdispersion,
                             limit)
    try:
        vp = variance_partition(nat[nat["outlier"] == 0], COVARIATES, min_observed=100
                                if specialty is None else 20)
    except ValueError as e:
        return {"unavailable": str(e)}
    vp["steps"] = vp["steps"].to_dict(orient="list")
    return vp


def analyse(ctx: Context) -> Analysis:
    """All of notebook 01's computation for one area (national parts cached)."""
    p, ds = ctx.params, ctx.ds
    nt = national_tables(ds)
    all_years = sorted(nt["pys"]["year"].unique().tolist())
    years = list(p["years"] or all_years)
    missing = sorted(set(years) - set(all_years))
    if missing:
        raise ParameterError(f"years {missing} are not in the data (available: {all_years})")
    spec = None if p["specialty"] == "ALL" else p["specialty"]
    if spec is not None and spec not in set(ds.specialties.specialty_code.astype(str)):
        raise ParameterError(f"specialty '{spec}' is not in the data")
    args = (years, spec, p["standardise"], p["comparator"], p["overdispersion"], p["limit"])
    nat, fun = national_practices(ds, *args), national_funnel(ds, *args)
    curve = pd.DataFrame(fun["curve"])
    n_years = len(years)
    area = nat[among(nat["practice_code"], ctx.practice_codes)].reset_index(drop=True)
    area["label"] = ctx.practice_labels(area["practice_code"])
    # the exposure the area's figures a year average over: the months in the period in
    # which any of its practices was open (one practice: its own months), / 12
    area_months = area_months_open(ds, area["practice_code"].tolist(), years) \
        if len(area) else 12 * n_years
    area_years = max(area_months, 1) / 12.0

    part = national_partition(ds, *args)
    if "steps" in part:
        part["steps"] = pd.DataFrame(part["steps"])
    spt = specialty_table(ds, years, codes=None if ctx.is_england else ctx.practice_codes)
    if spec is None:
        series = monthly_series(ds, None if ctx.is_england else ctx.practice_codes)
    elif ctx.area != ctx.commissioner:     # smaller than its commissioner: its practices
        m = practice_month_specialty(ds)
        m = m[(m["specialty_code"] == spec) & among(m["practice_code"], ctx.practice_codes)]
        series = m.groupby("month", as_index=False)[["observed", "expected"]].sum()
        series["ratio"] = series["observed"] / series["expected"]
        series["standardised_rate"] = series["ratio"]
    else:
        cms = _comm_month_specialty(ds)
        cms = cms[cms["specialty_code"] == spec]
        if not ctx.is_england:
            cms = cms[cms["commissioner_code"] == ctx.commissioner]
        s = cms.groupby("month")[["observed", "expected"]].sum()
        series = s.reset_index()
        series["ratio"] = series["observed"] / series["expected"]
        series["standardised_rate"] = series["ratio"]
    series = series[financial_year(series["month"]).isin(years)].reset_index(drop=True)
    n_hidden = 0
    # referrals per unit of the charted rate each month (declared to the chart's disclosure
    # read-back: the rate drawn times this is the count a reader could work out)
    series["per_unit"] = np.where(series["observed"] > 0, series["observed"] / series[
        "standardised_rate"].where(series["standardised_rate"] > 0), 0.0)
    if ctx.publish and not series.empty:
        # the chart is drawn from published monthly counts: a rate is recomputed from the
        # rounded count and a month of 1-7 referrals is a gap, so no count can be read off
        # the chart that the tables would suppress or round
        pub = sdc.publish_counts(series["observed"])[0]
        per_referral = series["standardised_rate"] / series["observed"].where(
            series["observed"] > 0)
        series["standardised_rate"] = np.where(series["observed"] > 0, per_referral * pub,
                                               series["standardised_rate"])
        series.loc[np.isnan(pub), "standardised_rate"] = np.nan
        n_hidden = int(np.isnan(pub).sum())
    shown = series.dropna(subset=["standardised_rate"])
    if shown.empty:                  # no referral recorded (or none publishable) in the period
        spc_pts = pd.DataFrame(columns=["date", "y", "mean", "lpl", "upl", "point_type"])
        spc_sum = pd.DataFrame({"variation_type": ["no_data"]})
    else:
        spc_pts, spc_sum = xmr(shown["standardised_rate"].to_numpy(), shown["month"],
                               improvement_direction="neutral")
        if n_hidden:                 # suppressed months drawn as gaps
            spc_pts = spc_pts.set_index("date").reindex(pd.DatetimeIndex(
                series["month"], name="date")).reset_index()
        spc_pts["per_unit"] = spc_pts["date"].map(
            series.set_index("month")["per_unit"]).to_numpy(float)
    # a rate cannot fall below zero: the lower process limit is drawn at zero at most (as
    # NHSRplotthedots' truncate_cl does); the special-cause rules used the limits as computed
    spc_pts["lpl"] = spc_pts["lpl"].clip(lower=0)
    enough = len(area) >= 5
    extras = {"area_moment_sd": moment_sd(area["observed"], area["expected"])
              if enough else float("nan"),
              "area_p90_p10": percentile_ratio(area["ratio"]) if enough else np.nan,
              "area_crude_p90_p10": percentile_ratio(area["crude_rate"]) if enough else np.nan,
              "cost_per_referral_gbp": fun["cost_per_referral_gbp"],
              "specialty": spec, "series_is_ratio": spec is not None, "n_years": n_years,
              "area_years": area_years, "area_months": area_months,
              "period_months": 12 * n_years,
              "spc_months_suppressed": n_hidden,
              "series_months": [str(m.date()) for m in series["month"]],
              "national_rate": float(nat["observed"].sum() / nat["person_years"].sum() * 1000)}
    an = Analysis(nat, area, fun["summary"], curve, part, spt, spc_pts, spc_sum, years, extras)
    an.published = _published(ctx, an, an.area)
    an.published["standing"] = _standings(an.published)
    if shows(ctx, "peers"):
        an.peers_published = _published(ctx, an, nat[among(nat["practice_code"],
            ctx.where.peers)].reset_index(drop=True))
        an.peers_published["standing"] = _standings(an.peers_published)
    an.specialties_published = _published_specialties(ctx, an)
    an.headline = headline(ctx, an)
    an.comparisons = comparisons(ctx, an)
    if spec is None:                # one practice's sections, all referrals only
        an.profile = practice_profile(ctx, an) if shows(ctx, "profile") else None
        an.deciles = practice_deciles(ctx, an) if shows(ctx, "deciles") else None
        an.similar_opportunity = similar_opportunity(ctx, an) \
            if shows(ctx, "similar_10") else None
        an.similar_named = similar_named(ctx, an) if shows(ctx, "similar_10") else None
    if shows(ctx, "specialties_over_time"):
        an.specialties_over_time = specialties_over_time(ctx, an)
    an.validation = validation(ctx, an)
    return an


def _published(ctx: Context, an: Analysis, frame: pd.DataFrame) -> pd.DataFrame:
    """A set of practices from the national table as readers see them: in publish mode
    counts rounded or suppressed, ratios, intervals and £ recomputed from the published
    counts (``attrs['suppressed']`` marks the suppressed cells)."""
    unit = an.extras["cost_per_referral_gbp"]
    yrs = frame["years_open"].to_numpy(float)       # each practice's years in the period

    def per_year(values):
        return _per_year(ctx, values, yrs)

    def ratio_part(col):
        def f(d):
            r = rates.isr(d["observed"], d["expected"])
            return r["value"] if col == "ratio" else r[col]
        return f

    # referrals above a limit from the published count (the published referrals less the
    # limit as a count, then published): rounding the true excess on its own beside the
    # rounded count would pin the count closer than either, and the funnel and the ranked
    # chart give back exactly this difference
    median = float(np.median(an.national["ratio"]))     # England's median practice ratio

    def above(d, level):
        return sdc.publish_counts((d["observed"] - level * d["expected"]).clip(lower=0))[0]

    # the count a year first: a ratio is hidden with it, so no ratio × expected gives back
    # a yearly count the table shows as suppressed
    derived = {
        "excess_to_limit": (lambda d: above(d, d["limit_high"]), ["observed"]),
        "excess_to_median": (lambda d: above(d, median), ["observed"]),
        "observed_per_year": (lambda d: per_year(d["observed"]), ["observed"]),
        "ratio": (ratio_part("ratio"), ["observed", "observed_per_year"]),
        "ratio_lower95": (ratio_part("lower95"), ["observed", "observed_per_year"]),
        "ratio_upper95": (ratio_part("upper95"), ["observed", "observed_per_year"]),
        "expected_per_year": (lambda d: d["expected"] / yrs, []),
        "excess_to_limit_per_year": (lambda d: per_year(d["excess_to_limit"]),
                                     ["excess_to_limit", "observed"]),
        # £ from the published count a year, so it is hidden with it
        "saving_to_limit_gbp_per_year": (lambda d: per_year(d["excess_to_limit"]) * unit,
                                         ["excess_to_limit", "observed"]),
        "saving_to_median_gbp_per_year": (lambda d: per_year(d["excess_to_median"]) * unit,
                                          ["excess_to_median", "observed"]),
        # the ranked chart's bar ends, from published counts only (see the function)
        "range_low": (lambda d: published_ranges(d)[0], ["observed"]),
        "range_high": (lambda d: published_ranges(d)[1], ["observed"]),
        # per 1,000 patients a year, from the published count (the chart of crude rates
        # must not give back the unrounded count)
        "crude_rate": (lambda d: d["observed"] / d["person_years"] * 1000, ["observed"]),
    }
    return sdc.protect(frame, ["observed", "list_size"], derived, publish=ctx.publish)


def published_ranges(d: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The ranked chart's bar ends in publish mode (ratio divided by the upper and by the
    lower limit, unitless), drawn so that what a reader can work back from them is no more
    precise than the tables: a bar end divides the published referrals (``observed``, over
    the period) by a limit *as a count* (limit × ``expected``), and that count is one a
    reader may see. Above the upper limit (``flag`` 'High') it is the published referrals
    less the published referrals above the limit (``excess_to_limit``), so the bar gives
    back exactly the table's figure; where that figure is suppressed (1–7) the bar ends at
    1, as the page's totals count it (0). Every other limit count is published like a
    count (rounded to 5; one that rounds to 5, which a count may not show, to the nearer of
    0 and 10) and kept on its side of the published referrals, so a bar misses 1 only for
    a practice outside the limits. A lower limit of 0 gives no upper end (NaN)."""
    obs = d["observed"].to_numpy(float)
    exp = d["expected"].to_numpy(float)
    flag = d["flag"].astype(str).to_numpy()
    excess = d["excess_to_limit"].to_numpy(float)

    def as_count(x: np.ndarray) -> np.ndarray:
        r = sdc.ROUND_TO * np.floor(x / sdc.ROUND_TO + 0.5)
        small = (r > 0) & (r <= sdc.SUPPRESS_MAX)
        least = sdc.ROUND_TO * np.ceil((sdc.SUPPRESS_MAX + 1) / sdc.ROUND_TO)   # 10
        return np.where(small, np.where(x < least / 2, 0.0, least), r)

    hi = as_count(d["limit_high"].to_numpy(float) * exp)
    lo_raw = d["limit_low"].to_numpy(float)
    lo = as_count(lo_raw * exp)
    hi = np.where(flag == "High", obs - np.nan_to_num(excess, nan=0.0), np.maximum(hi, obs))
    lo = np.where(flag == "Low", np.maximum(lo, obs), np.minimum(lo, obs))
    with np.errstate(divide="ignore", invalid="ignore"):
        low_end = np.where(hi > 0, obs / hi, np.nan)
        high_end = np.where((lo_raw > 0) & (lo > 0), obs / lo, np.nan)
    return low_end, high_end


def headline(ctx: Context, an: Analysis) -> dict:
    """The headline figures: the area's total published as one count, everything else from
    the published practice table (so the text, the tables and the results file agree)."""
    a = an.published
    years = an.extras["area_years"]
    # the area's total is published as one figure (rounded like every count), so it is the
    # same total notebook 00 shows; the practice rows are published one by one
    # (NaN when suppressed: never the sum of suppressed rows, which would read as 0)
    observed = ctx.published(float(an.area["observed"].sum()))
    unit = an.extras["cost_per_referral_gbp"]
    expected = float(a["expected"].sum())
    # a practice closed before the period's last year has no future referrals to save:
    # its excess is history, not opportunity, so the totals leave it out
    gone = closed_before_last_year(ctx, a["practice_code"].astype(str).tolist(), an.years)
    now = ~a["practice_code"].astype(str).isin(gone).to_numpy()
    to_limit = float(a["excess_to_limit"].where(now).fillna(0).sum()) / years
    to_median = float(a["excess_to_median"].where(now).fillna(0).sum()) / years
    gone_excess = a.loc[~now, "excess_to_median"].fillna(0) > 0
    hidden = np.asarray(a.attrs.get("suppressed", {}).get("excess_to_median",
                                                          np.zeros(len(a), bool)), bool)
    return {
        "closed_before_last_year": gone,
        "n_closed_with_excess": int(gone_excess.sum()),
        "n_closed_above_limit": int((a.loc[~now, "flag"] == "High").sum()),
        "n_practices": int(len(a)),
        "observed": observed, "observed_per_year": observed / years,
        "expected": float(a["expected"].sum()),
        "area_ratio": observed / expected if expected > 0 else np.nan,
        "standing": ratio_standing(observed, expected),
        "crude_p90_p10": an.extras["area_crude_p90_p10"],
        "standardised_p90_p10": an.extras["area_p90_p10"],
        "n_high": int((a["flag"] == "High").sum()), "n_low": int((a["flag"] == "Low").sum()),
        "high_practices": sorted(a.loc[a["flag"] == "High", "label"].tolist()),
        "low_practices": sorted(a.loc[a["flag"] == "Low", "label"].tolist()),
        "excess_to_limit_per_year": to_limit, "excess_to_median_per_year": to_median,
        # a practice above the median by a suppressed count (its total reads 0 without it)
        "excess_to_median_suppressed": bool(hidden[now].any()),
        # £ from the count a year as it is published beside it (NaN with a suppressed one),
        # so no £ gives back a rounded or suppressed count
        "saving_to_limit_gbp_per_year": ctx.published(to_limit) * unit,
        "saving_to_median_gbp_per_year": ctx.published(to_median) * unit,
        "practice_sd_national": an.partition.get("practice_sd", np.nan),
        "phi": an.funnel_summary["phi"], "tau2": an.funnel_summary["tau2"],
        "years": an.years,
    }


def closed_before_last_year(ctx: Context, codes: list[str], years: list[int]) -> list[str]:
    """The practices of ``codes`` open in the period (financial ``years``) but not in its
    last year (0 months open in it, by :func:`months_open`): closed before it, so
    no future referral of theirs can be saved."""
    if not codes or not years:
        return []
    whole = months_open(ctx.ds, codes, years=list(years))
    last = months_open(ctx.ds, codes, years=[max(years)])
    return sorted(c for c in codes if whole.get(c, 0) > 0 and last.get(c, 0) == 0)


MIN_EXPECTED_FOR_RATIO = 10.0
"""Fewer referrals expected than this over the period (a few dozen patients, or a practice
open a month or two): a ratio says nothing about referral habits and is not quoted."""
IMPLAUSIBLE_RATIO = 10.0
"""A ratio above this (or below its reciprocal, with referrals recorded) is beyond anything
referral habits explain: the list size or the coding of referrals is more likely wrong."""


def ratio_standing(observed: float, expected: float) -> str:
    """Whether an area's ratio can be read as referral behaviour: 'ok'; 'no_referrals'
    (none recorded against referrals expected: more likely missing from the referral data
    than referring no one); 'too_few_expected' (fewer than
    :data:`MIN_EXPECTED_FOR_RATIO` expected over the period); or 'implausible' (the ratio
    beyond :data:`IMPLAUSIBLE_RATIO` either way). ``observed`` and ``expected`` are counts
    of referrals over the period; a suppressed (NaN) count is 'ok' (the page says it is
    suppressed)."""
    if not np.isfinite(expected) or expected <= 0:
        return "too_few_expected"
    if not np.isfinite(observed):
        return "ok"
    if observed == 0:
        return "no_referrals"
    if expected < MIN_EXPECTED_FOR_RATIO:
        return "too_few_expected"
    r = observed / expected
    return "implausible" if r > IMPLAUSIBLE_RATIO or r < 1 / IMPLAUSIBLE_RATIO else "ok"


def _standings(frame: pd.DataFrame) -> list[str]:
    """:func:`ratio_standing` of each practice of a published frame (its published count
    over the period and its expected count)."""
    return [ratio_standing(o, e) for o, e in
            zip(frame["observed"].to_numpy(float), frame["expected"].to_numpy(float),
                strict=True)]


def comparisons(ctx: Context, an: Analysis) -> pd.DataFrame:
    """The area against the areas it sits in: for a practice its network, commissioner,
    peers (practices like it in size and deprivation) and England; for a network its
    commissioner and England; for a commissioner England. One row each, ``role`` saying
    which ('area', 'network', 'peers', 'commissioner', 'england'); ratios and intervals
    from published counts."""
    nat = an.national
    w = ctx.where
    groups = [("area", ctx.area_name, ctx.practice_codes)]
    if shows(ctx, "comparison_network") and w.network:
        members = ctx.ds.groups.loc[ctx.ds.groups["group_code"].astype(str) == w.network,
                                    "practice_code"].astype(str)
        groups.append(("network", ctx.network_name, list(members)))
    if shows(ctx, "peers"):
        groups.append(("peers", "", list(w.peers)))
    if shows(ctx, "similar_10") and w.similar:
        groups.append(("similar", "", list(w.similar)))
    if shows(ctx, "comparison_commissioner"):
        groups.append(("commissioner", w.commissioner_name, nat.loc[
            nat["commissioner_code"] == w.commissioner, "practice_code"].tolist()))
    groups.append(("england", "England", nat["practice_code"].tolist()))
    rows = []
    for i, (role, name, codes) in enumerate(groups):
        # each group's figures a year over its own exposure (the months any member was open)
        years = an.extras["area_years"] if i == 0 else max(area_months_open(
            ctx.ds, list(codes), an.years), 1) / 12.0
        d = nat[among(nat["practice_code"], codes)]
        obs = float(d["observed"].sum())
        shown = an.headline["observed"] if i == 0 and ctx.publish else 0.0
        if shown > 0:  # the area itself: the headline's total (its published practices)
            obs = shown
        elif ctx.publish:
            obs = float(sdc.publish_counts([obs])[0][0])
        exp = float(d["expected"].sum())
        per = _per_year(ctx, [obs], years)[0]
        # a ratio is hidden with a yearly count the table shows as suppressed
        hidden = np.isnan(obs) or (np.isnan(per) and obs > 0)
        r = rates.isr([obs], [exp]) if not hidden and exp > 0 else None
        rows.append({"role": role, "name": name, "practices": len(d), "expected": exp,
                     "observed_per_year": per,
                     "ratio": np.nan if r is None else float(r["value"][0]),
                     "lower": np.nan if r is None else float(r["lower95"][0]),
                     "upper": np.nan if r is None else float(r["upper95"][0])})
    return pd.DataFrame(rows)


DECILE_MIN_EXPECTED = 20.0
"""England's deciles use practice-quarters expecting at least this many referrals (smaller
ones scatter by chance, not by practice)."""


def _quarters(pm: pd.DataFrame, ds) -> pd.DataFrame:
    """Practice-months with their financial quarter, expected counts scaled so England's
    ratio is 1 in each financial year (as every other ratio of the page: see
    :func:`helpers.analysis.referrals.practice_table`'s ``match_national``)."""
    q = pd.PeriodIndex(pd.to_datetime(pm["month"]), freq="Q-MAR")
    pys = national_tables(ds)["pys"]
    by_year = pys.groupby("year")[["observed", "expected"]].sum()
    factor = by_year["observed"] / by_year["expected"]
    fy = financial_year(pm["month"])
    return pm.assign(quarter=q.start_time,
                     expected=pm["expected"].to_numpy(float) * fy.map(factor).to_numpy(float))


@cached
def national_deciles(ds, years: list[int]) -> pd.DataFrame:
    """Cached: England's practices' referral ratio (observed / expected) by quarter: the
    10th to 90th percentiles over practices expecting at least
    :data:`DECILE_MIN_EXPECTED` referrals that quarter (as OpenPrescribing draws a
    practice against national deciles). Quarters are financial (April to June first)."""
    pm = national_tables(ds)["pm"]
    pm = pm[financial_year(pm["month"]).isin(years)]
    q = _quarters(pm, ds).groupby(["practice_code", "quarter"], as_index=False)[
        ["observed", "expected"]].sum()
    q = q[q["expected"] >= DECILE_MIN_EXPECTED]
    q["ratio"] = q["observed"] / q["expected"]
    out = q.groupby("quarter")["ratio"].quantile(np.arange(1, 10) / 10).unstack()
    out.columns = [f"p{int(round(c * 100))}" for c in out.columns]
    return out.reset_index()


def practice_deciles(ctx: Context, an: Analysis) -> pd.DataFrame:
    """The practice's referral ratio each quarter (from its published quarterly count; a
    quarter of 1 to 7 referrals a gap) beside England's deciles; ``open`` marks the quarters
    in which it was open (any month of it, :func:`helpers.analysis.referrals.months_open`): the others have no
    ratio because there were no referrals to count, not because one was suppressed."""
    pm = national_tables(ctx.ds)["pm"]
    pm = pm[pm["practice_code"] == ctx.area]
    pm = pm[financial_year(pm["month"]).isin(an.years)]
    mine = _quarters(pm, ctx.ds).groupby("quarter", as_index=False)[
        ["observed", "expected"]].sum()
    shown = sdc.publish_counts(mine["observed"])[0] if ctx.publish else \
        mine["observed"].to_numpy(float)
    mine["ratio"] = np.where(mine["expected"] > 0, shown / mine["expected"].where(
        mine["expected"] > 0), np.nan)
    mine["open"] = True         # a quarter in which it was open (the one exposure)
    d = national_deciles(ctx.ds, an.years).merge(
        mine[["quarter", "expected", "ratio", "open"]], on="quarter", how="left")
    d["open"] = d["open"].astype("boolean").fillna(False).astype(bool)
    return d


def latest_decile(d: pd.DataFrame) -> dict | None:
    """Where the practice's latest shown quarter sits among England's practices: the
    quarter, its ratio and the decile band ('below the 10th percentile', 'between the 40th
    and 50th percentiles', 'above the 90th percentile'); None when no quarter is shown."""
    shown = d.dropna(subset=["ratio"])
    if shown.empty:
        return None
    r = shown.iloc[-1]
    cuts = [float(r[f"p{k}"]) for k in range(10, 100, 10)]
    k = int(np.searchsorted(cuts, float(r["ratio"])))
    band = ("below the 10th percentile" if k == 0 else "above the 90th percentile"
            if k == 9 else f"between the {10 * k}th and {10 * (k + 1)}th percentiles")
    return {"quarter": str(pd.Timestamp(r["quarter"]).date()), "ratio": float(r["ratio"]),
            "band": band}


PROFILE_SPECIALTIES = 8
"""A practice profile shows all referrals and the specialties England refers to most."""
BEST_OF_SIMILAR = 5
"""Opportunity is measured against the mean ratio of the best 5 of the similar 10 (as NHS
RightCare's Commissioning for Value packs do)."""


def _group_ratio(ctx: Context, pts: pd.DataFrame, codes) -> float:
    """A set of practices' ratio (sum observed / sum expected), from the published total."""
    d = pts[among(pts["practice_code"], list(codes))]
    exp = float(d["expected"].sum())
    obs = ctx.published(float(d["observed"].sum()))
    return obs / exp if exp > 0 and np.isfinite(obs) else np.nan


def practice_profile(ctx: Context, an: Analysis) -> pd.DataFrame:
    """A practice's referral indicators against England's practices (a spine chart, as
    Fingertips' practice profiles): all referrals and England's most referred-to
    specialties, one row each. For each: England's practices' 5th, 25th, 75th and 95th
    percentile ratios (practices expecting at least one referral), the practice's ratio
    with its 95% interval (from its published count) and whether it is higher, similar or
    lower than England by the funnel's rule (outside its over-dispersed limits: all
    referrals at the page's limit, each specialty at 99.8%), and the ratios of its
    network, its similar 10 and its commissioner. Ratios are observed / expected (England
    = 1 for every indicator)."""
    w = ctx.where
    nat = an.national[["practice_code", "observed", "expected", "commissioner_code", "flag"]]
    sp = specialty_points(ctx.ds, an.years)
    top = sp.groupby("specialty_code")["observed"].sum().nlargest(PROFILE_SPECIALTIES).index
    names = ctx.ds.specialties.set_index(ctx.ds.specialties.specialty_code.astype(str))[
        "specialty_name"]
    members = []
    if w.network and ctx.ds.has("groups"):
        g = ctx.ds.groups
        members = g.loc[g["group_code"].astype(str) == w.network, "practice_code"].astype(
            str).tolist()
    comm = nat.loc[nat["commissioner_code"] == w.commissioner, "practice_code"].tolist()
    # a practice with no referral recorded is not judged anywhere (its headline quotes no
    # ratio): none of its indicators is higher or lower, each has no referrals
    pub = an.published
    none = bool(len(pub)) and "standing" in pub and \
        (pub.loc[pub["practice_code"].astype(str) == str(ctx.area), "standing"]
         == "no_referrals").any()
    rows = []
    for code, label in [(None, "All referrals"), *[(c, str(names.get(c, c))) for c in top]]:
        pts = nat if code is None else sp[sp["specialty_code"] == code]
        pts = pts[pts["expected"] >= 1]
        ratios = (pts["observed"] / pts["expected"]).to_numpy(float)
        if len(ratios) < 5:
            continue
        me = pts[pts["practice_code"] == ctx.area]
        exp = float(me["expected"].sum()) if len(me) else np.nan
        obs = ctx.published(float(me["observed"].sum())) if len(me) else np.nan
        ratio = lo = hi = np.nan
        if np.isfinite(obs) and exp > 0:
            r = rates.isr([obs], [exp])
            ratio, lo, hi = (float(r[c].iloc[0]) for c in ("value", "lower95", "upper95"))
        # one rule on the page: higher or lower only outside the funnel limits that allow
        # for the normal spread between practices (the funnel's own flag, all referrals at
        # the page's limit, each specialty at 99.8%), not where the 95% interval from
        # chance alone misses 1
        flag = str(me["flag"].iloc[0]) if len(me) and "flag" in me else "Within"
        verdict = "not shown" if none or not np.isfinite(ratio) else "higher" if \
            flag in ("High", "High (99.8%)") else "lower" if flag in ("Low", "Low (99.8%)") \
            else "similar"
        p5, p25, p75, p95 = np.percentile(ratios, [5, 25, 75, 95])
        rows.append({"indicator": label, "specialty_code": code or "ALL",
                     "p5": p5, "p25": p25, "p75": p75, "p95": p95,
                     "observed": obs, "expected": exp, "ratio": ratio, "lower": lo,
                     "upper": hi, "verdict": verdict,
                     # no referral recorded at all (not a count of 1-7 kept back)
                     "no_referrals": none or not len(me),
                     "network": _group_ratio(ctx, pts, members) if members else np.nan,
                     "similar": _group_ratio(ctx, pts, w.similar) if w.similar else np.nan,
                     "commissioner": _group_ratio(ctx, pts, comm)})
    return pd.DataFrame(rows)


def similar_opportunity(ctx: Context, an: Analysis) -> pd.DataFrame:
    """Referrals a year (and £) above the best of the practice's similar 10, by specialty:
    observed − (mean ratio of the best 5 of the 10) × expected, where positive, averaged
    over the years it was open; specialties where fewer than 5 of the 10 expect a referral
    are left out. Counts published in publish mode (the £ from the published count)."""
    sp = specialty_points(ctx.ds, an.years)
    sp = sp[sp["expected"] > 0].assign(ratio=lambda d: d["observed"] / d["expected"])
    peers = sp[among(sp["practice_code"], list(ctx.where.similar))]
    best = peers.groupby("specialty_code")["ratio"].agg(
        lambda r: r.nsmallest(BEST_OF_SIMILAR).mean() if len(r) >= BEST_OF_SIMILAR
        else np.nan).rename("best_ratio")
    mine = sp[sp["practice_code"] == ctx.area].set_index("specialty_code")[
        ["observed", "expected", "ratio"]].join(best, how="inner").dropna(
        subset=["best_ratio"])
    years = an.extras["area_years"]
    mine["above_best"] = (mine["observed"] - mine["best_ratio"] * mine["expected"]).clip(
        lower=0)
    unit = cost_per_referral(ctx.ds)
    mine["cost_per_referral"] = unit.reindex(mine.index).to_numpy(float) if len(unit) \
        else np.nan
    names = ctx.ds.specialties.set_index(ctx.ds.specialties.specialty_code.astype(str))[
        "specialty_name"]
    mine["specialty_name"] = [str(names.get(c, c)) for c in mine.index]
    # sorted before publishing: the suppression masks follow the rows' positions
    t = mine.reset_index().sort_values("above_best", ascending=False, ignore_index=True)
    out = sdc.protect(t, ["observed"], {
        # from the published count less the benchmark (its ratio is shown beside it), as
        # referrals above a limit are: never the true excess rounded on its own
        "above_best": (lambda d: sdc.publish_counts((d["observed"] - d["best_ratio"]
                                                     * d["expected"]).clip(lower=0))[0],
                       ["observed"]),
        "observed_per_year": (lambda d: _per_year(ctx, d["observed"], years), ["observed"]),
        "ratio": (lambda d: d["observed"] / d["expected"], ["observed", "observed_per_year"]),
        "above_best_per_year": (lambda d: _per_year(ctx, d["above_best"], years),
                                ["above_best", "observed"]),
        "saving_gbp_per_year": (lambda d: _per_year(ctx, d["above_best"], years)
                                * d["cost_per_referral"], ["above_best", "observed"])},
        publish=ctx.publish)
    if not ctx.publish:
        out["observed_per_year"] = out["observed"] / years
        out["above_best_per_year"] = out["above_best"] / years
        out["saving_gbp_per_year"] = out["above_best"] * out["cost_per_referral"] / years
        return out
    # a suppressed "above the best" is referrals a year × (1 − best ratio / ratio) of the
    # cells beside it: the benchmark is hidden with it, so it cannot be worked back
    masks = dict(out.attrs["suppressed"])
    hide = np.asarray(masks["above_best_per_year"], bool) & out["observed_per_year"].notna() \
        .to_numpy()
    out["best_ratio"] = out["best_ratio"].mask(hide)
    masks["best_ratio"] = hide
    out.attrs["suppressed"] = sdc.Marks(masks)
    return out


TOP_SPECIALTIES_OVER_TIME = 5
"""The area's specialties followed year by year: its most referred-to over the period."""


def specialties_over_time(ctx: Context, an: Analysis) -> pd.DataFrame:
    """The area's main specialties over time: its :data:`TOP_SPECIALTIES_OVER_TIME`
    specialties with most referrals over the period, one row each (most first), with
    ``specialty_name`` and one column of referrals per financial year (``fy<year>``,
    counts of referrals in that year, published in publish mode), plus ``months_<year>``
    in ``attrs['months']``: the months the area was open in each year (a year it was open
    only part of counts those months)."""
    pys = national_tables(ctx.ds)["pys"]
    if not ctx.is_england:           # the area's rows first, then its years
        pys = rows_of(pys, ctx.practice_codes)
    pys = pys[pys["year"].isin(an.years)]
    if pys.empty:
        return pd.DataFrame(columns=["specialty_code", "specialty_name"])
    top = pys.groupby("specialty_code")["observed"].sum().nlargest(
        TOP_SPECIALTIES_OVER_TIME)
    top = top[top > 0].index
    wide = pys[pys["specialty_code"].isin(top)].groupby(["specialty_code", "year"])[
        "observed"].sum().unstack("year", fill_value=0).reindex(top)
    years = [y for y in an.years if y in wide.columns]
    wide = wide[years]
    wide.columns = [f"fy{y}" for y in years]
    names = ctx.ds.specialties.set_index(ctx.ds.specialties.specialty_code.astype(str))[
        "specialty_name"]
    out = wide.reset_index()
    out.insert(1, "specialty_name", [str(names.get(c, c)) for c in out["specialty_code"]])
    out = sdc.protect(out, list(wide.columns), publish=ctx.publish)
    codes = None if ctx.is_england else ctx.practice_codes
    out.attrs["months"] = {f"fy{y}": (12 if ctx.is_england else
                                      area_months_open(ctx.ds, codes, [y])) for y in years}
    return out


def similar_named(ctx: Context, an: Analysis) -> pd.DataFrame:
    """A practice's similar 10, by code and name, nearest first, with their list size,
    referrals a year and ratio as the practices table publishes them."""
    nat = an.national
    codes = list(ctx.where.similar)
    rows = nat[among(nat["practice_code"], codes)].copy()
    rows["order"] = rows["practice_code"].map({c: i for i, c in enumerate(codes)})
    rows = rows.sort_values("order").reset_index(drop=True)
    rows["label"] = ctx.practice_labels(rows["practice_code"])
    return _published(ctx, an, rows)


def _per_year(ctx: Context, values, years: int) -> np.ndarray:
    """A yearly average of a published count, shown as a published count too."""
    v = np.asarray(values, float) / years
    return sdc.publish_counts(v)[0] if ctx.publish else v


def _published_specialties(ctx: Context, an: Analysis) -> pd.DataFrame:
    years = an.extras["area_years"]
    sp = an.specialties.assign(observed_per_year=an.specialties["observed"] / years,
                               excess_per_year=an.specialties["excess_above_limit"] / years)
    return sdc.protect(sp, ["observed", "excess_above_limit"], {
        "observed_per_year": (lambda d: _per_year(ctx, d["observed"], years), ["observed"]),
        "ratio": (lambda d: d["observed"] / d["expected"], ["observed", "observed_per_year"]),
        "excess_per_year": (lambda d: _per_year(ctx, d["excess_above_limit"], years),
                            ["excess_above_limit"])}, publish=ctx.publish)


def validation(ctx: Context, an: Analysis) -> pd.DataFrame | None:
    """Estimates against the truth recorded with the synthetic data (None for real data):
    one row per quantity with its true value, estimate and recovery target."""
    t = ctx.ds.truth
    if not t:
        return None
    rm = t["referral_model"]
    planted = set(t["outliers"]["practice_codes"])
    nat = an.national
    is_planted = among(nat["practice_code"], planted)
    coef = an.partition.get("coefficients", {})
    rows = [
        ("Between-practice SD (log scale)", rm["sd_practice"],
         an.partition.get("practice_sd", np.nan),
         "within 15%"),
        ("Deprivation effect per IMD point", rm["beta_imd_per_point"],
         coef.get("deprivation (IMD score)"), "within 25%"),
        ("List-size elasticity", rm["beta_log_list"], coef.get("list size (log)"),
         "within 30%"),
        ("Long-term-condition effect per % point", rm["beta_ltc_per_point"],
         coef.get("long-term-condition prevalence (%)"), "within 25%"),
        ("Planted outliers flagged (share)", 1.0, float(nat.loc[is_planted, "outlier"].mean()),
         "at least 0.80"),
        ("Other practices flagged (share)", 0.002,
         float(nat.loc[~is_planted, "outlier"].mean()), "at most 0.02"),
    ]
    v = pd.DataFrame(rows, columns=["quantity", "truth", "estimate", "target"])
    v["passed"] = [meets_target(t, e, g) for t, e, g in
                   zip(v["truth"], v["estimate"], v["target"], strict=True)]
    v["why"] = ""
    flagged = v["quantity"] == "Planted outliers flagged (share)"
    if not v.loc[flagged, "passed"].all():
        v.loc[flagged, "why"] = planted_flags_why(
            t, float(an.funnel_summary.get("tau2", np.nan)), int(is_planted.sum()),
            int(nat.loc[is_planted, "outlier"].sum()))
    return v


def planted_flag_share(truth: dict, tau2: float, level: float = 0.998
                       ) -> tuple[float, float]:
    """The share of the planted outliers a funnel is expected to flag, and its standard
    error: each planted practice's log ratio is its planted effect plus its own variation
    (practice, commissioner and network SDs of the truth), and it is flagged when that lies
    beyond the limits, ± z·√τ² on the log scale for a practice large enough that chance is
    small beside the spread between practices (the two-sided ``level`` limit)."""
    rm = truth["referral_model"]
    s = float(np.sqrt(rm["sd_practice"] ** 2 + rm.get("sd_commissioner", 0) ** 2
                      + rm.get("sd_network", 0) ** 2))
    c = float(stats.norm.ppf(0.5 + level / 2)) * float(np.sqrt(tau2))
    eff = np.array(list(truth["outliers"]["effects"].values()), float)
    p = stats.norm.sf((c - eff) / s) + stats.norm.cdf((-c - eff) / s)
    return float(p.mean()), float(np.sqrt((p * (1 - p)).sum()) / len(p))


def planted_flags_why(truth: dict, tau2: float, n_planted: int, n_flagged: int) -> str:
    """Why fewer planted outliers than the target were flagged, in words: what chance alone
    gives (:func:`planted_flag_share`) and whether the count is within it."""
    if not np.isfinite(tau2) or not n_planted:
        return ""
    share, se = planted_flag_share(truth, tau2)
    eff = np.abs(np.array(list(truth["outliers"]["effects"].values()), float))
    got = n_flagged / n_planted
    verdict = ("within two standard errors of what chance gives, so the miss says the "
               "0.80 target is tight for "
               f"{n_planted} practices, not that the funnel misses outliers"
               if got >= share - 2 * se else
               "below what chance gives: the funnel flags fewer outliers than it should on "
               "this data")
    return (f"{n_flagged} of the {n_planted} planted outliers were flagged ({got:.2f}). Each "
            f"planted effect ({eff.min():.1f} to {eff.max():.1f} on the log scale, either "
            "way) adds to the practice's own variation, so one whose own effect leans the "
            "other way can land inside the limits, which are widened for the spread between "
            f"practices: chance alone flags {share:.2f} of them on average, give or take "
            f"{se:.2f}. {n_flagged} of {n_planted} is {verdict}.")


def meets_target(truth: float, estimate: float | None, target: str) -> bool:
    """Whether an estimate meets its recovery target: 'within 15%' (relative to the truth),
    'at least 0.80' or 'at most 0.02'; a missing estimate never does."""
    if estimate is None or not np.isfinite(estimate):
        return False
    word, value = target.rsplit(" ", 1)
    if word == "within":
        return abs(estimate - truth) <= abs(truth) * float(value.rstrip("%")) / 100
    return estimate >= float(value) if word == "at least" else estimate <= float(value)
