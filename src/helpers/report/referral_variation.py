"""The referral-variation report (notebook 01), section by section.

``analyse`` does all computation for one report (national parts from the cache). The other
functions turn it into what a reader sees: headline sentences, formatted tables and charts.
In publish mode every count shown is rounded or suppressed and every ratio, interval and £
beside it is recomputed from the published count (:func:`published_area`), so the figures
agree with each other and none can be worked back to a suppressed count. The ranked chart
and the funnel use the same (over-dispersed) limits, so they flag the same practices.
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
    practice_month_specialty,
    practice_table,
    specialty_table,
)
from helpers.cache import cached_json, cached_table
from helpers.report import Context, charts, text
from helpers.report.tables import Col, show
from helpers.run.params import ParameterError
from helpers.schema import financial_year
from helpers.stats import rates, sdc
from helpers.stats.funnels import funnel
from helpers.stats.spc import xmr
from helpers.stats.variation import moment_sd, percentile_ratio, variance_partition

COVARIATES = {"deprivation (IMD score)": "imd_score", "list size (log)": "log_list",
              "long-term-condition prevalence (%)": "ltc_prevalence"}
COMPARATORS = {"england": "England", "area": "the commissioner's own rates",
               "peer": "practices with similar deprivation"}
SPC_WORDS = {"common_cause": "only common-cause variation (no signal of change)",
             "special_cause_neutral_high": "a special-cause signal: referrals higher than "
                                           "usual",
             "special_cause_neutral_low": "a special-cause signal: referrals lower than usual"}


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

    @property
    def limit(self) -> str:
        return self.funnel_summary["limit"]


def _comm_month_specialty(ds) -> pd.DataFrame:
    def build():
        m = practice_month_specialty(ds)
        comm = ds.practices[["practice_code", "commissioner_code"]].astype(str)
        m = m.merge(comm, on="practice_code")
        return m.groupby(["commissioner_code", "month", "specialty_code"], as_index=False)[
            ["observed", "expected"]].sum()
    return cached_table(ds, "referrals_commissioner_month_specialty", build)


def _national(ds, p: dict, years: list[int], spec: str | None, key: str
              ) -> tuple[pd.DataFrame, dict]:
    """Every practice's observed, expected, ratio, funnel limits, flag and opportunity for
    one set of parameters, and the funnel's curve and summary: computed once per dataset
    and parameter set (cached), sliced by every report."""
    out: dict = {}

    def build() -> pd.DataFrame:
        prac = practice_frame(ds)
        nat = practice_table(ds, years, spec, p["standardise"],
                             pys=national_tables(ds)["pys"], practices=prac)
        if p["comparator"] in ("commissioner", "peer"):
            by = "commissioner_code" if p["comparator"] == "commissioner" else "imd_quintile"
            f = nat.groupby(by)["observed"].transform("sum") / \
                nat.groupby(by)["expected"].transform("sum")
            nat["expected"] = nat["expected"] * f
            r = rates.isr(nat["observed"], nat["expected"])
            for c in ("lower95", "upper95", "lower99_8", "upper99_8"):
                nat[f"ratio_{c}"] = r[c].to_numpy()
        nat["ratio"] = nat["observed"] / nat["expected"]
        fr = funnel(nat["observed"], nat["expected"], nat["practice_code"],
                    method=p["overdispersion"], limit=p["limit"])
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
        nat["log_list"] = np.log(nat["list_size"])
        nat = opportunity(nat.assign(od_ucl99=nat["limit_high"]), ds, specialty=spec)
        n_years = len(years)
        for c in ("excess_to_limit", "excess_to_median", "saving_to_limit_gbp",
                  "saving_to_median_gbp", "observed", "expected"):
            nat[f"{c}_per_year"] = nat[c] / n_years
        grid = np.geomspace(max(nat["expected"].min() * 0.8, 0.5),
                            nat["expected"].max() * 1.2, 300)
        out["fun"] = {"curve": fr.curve(grid).to_dict(orient="list"),
                      "summary": fr.summary(),
                      "cost_per_referral_gbp": nat.attrs.get("cost_per_referral_gbp",
                                                             np.nan)}
        nat.attrs = {}
        return nat

    nat = cached_table(ds, f"rv-national-{key}", build)
    fun = cached_json(ds, f"rv-funnel-{key}",
                      lambda: out["fun"] if "fun" in out else _rebuild(build, out))
    return nat, fun


def _rebuild(build, out: dict) -> dict:
    """The funnel summary when the table was cached but its JSON was not (or was damaged)."""
    build()
    return out["fun"]


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
    key = f"{'-'.join(map(str, years))}-{spec or 'ALL'}-{p['standardise']}-" \
          f"{p['comparator']}-{p['overdispersion']}-{p['limit']}"
    nat, fun = _national(ds, p, years, spec, key)
    curve = pd.DataFrame(fun["curve"])
    n_years = len(years)
    area = nat[nat["practice_code"].isin(ctx.practice_codes)].reset_index(drop=True)
    area["label"] = ctx.practice_labels(area["practice_code"])

    def build_partition():
        vp = variance_partition(nat[nat["outlier"] == 0], COVARIATES, min_observed=100
                                if spec is None else 20)
        vp["steps"] = vp["steps"].to_dict(orient="list")
        return vp
    part = cached_json(ds, f"partition-{key}", build_partition)
    part["steps"] = pd.DataFrame(part["steps"])
    spt = specialty_table(ds, years, codes=None if ctx.is_england else ctx.practice_codes,
                          pys=nt["pys"])
    if spec is None:
        series = monthly_series(ds, None if ctx.is_england else ctx.practice_codes, nt["pm"])
    elif ctx.level in ("network", "practice"):
        m = practice_month_specialty(ds)
        m = m[(m["specialty_code"] == spec) & m["practice_code"].isin(ctx.practice_codes)]
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
    series = series[financial_year(series["month"]).isin(years)]
    spc_pts, spc_sum = xmr(series["standardised_rate"].to_numpy(), series["month"],
                           improvement_direction="neutral")
    enough = len(area) >= 5
    extras = {"area_moment_sd": moment_sd(area["observed"], area["expected"])
              if enough else float("nan"),
              "area_p90_p10": percentile_ratio(area["ratio"]) if enough else np.nan,
              "area_crude_p90_p10": percentile_ratio(area["crude_rate"]) if enough else np.nan,
              "cost_per_referral_gbp": fun["cost_per_referral_gbp"],
              "specialty": spec, "series_is_ratio": spec is not None, "n_years": n_years,
              "national_rate": float(nat["observed"].sum() / nat["person_years"].sum() * 1000)}
    return Analysis(nat, area, fun["summary"], curve, part, spt, spc_pts, spc_sum, years,
                    extras)


def published_area(ctx: Context, an: Analysis) -> pd.DataFrame:
    """The area's practices as readers see them: in publish mode counts rounded or
    suppressed, ratios, intervals and £ recomputed from the published counts (worked out
    once per analysis; callers must not change it in place)."""
    if "published_area" not in an.extras:
        an.extras["published_area"] = _published(ctx, an, an.area)
    return an.extras["published_area"]


def _published(ctx: Context, an: Analysis, frame: pd.DataFrame) -> pd.DataFrame:
    """Any set of practices from the national table, published as :func:`published_area`."""
    unit = an.extras["cost_per_referral_gbp"]
    n_years = an.extras["n_years"]

    def per_year(values):
        return _per_year(ctx, values, n_years)

    def ratio_part(col):
        def f(d):
            r = rates.isr(d["observed"], d["expected"])
            return r["value"] if col == "ratio" else r[col]
        return f

    derived = {
        "ratio": (ratio_part("ratio"), ["observed"]),
        "ratio_lower95": (ratio_part("lower95"), ["observed"]),
        "ratio_upper95": (ratio_part("upper95"), ["observed"]),
        "observed_per_year": (lambda d: per_year(d["observed"]), ["observed"]),
        "expected_per_year": (lambda d: d["expected"] / n_years, []),
        "excess_to_limit_per_year": (lambda d: per_year(d["excess_to_limit"]),
                                     ["excess_to_limit", "observed"]),
        "saving_to_limit_gbp_per_year": (lambda d: d["excess_to_limit"] * unit / n_years,
                                         ["excess_to_limit", "observed"]),
        "saving_to_median_gbp_per_year": (lambda d: d["excess_to_median"] * unit / n_years,
                                          ["excess_to_median", "observed"]),
        "range_low": (lambda d: d["observed"] / d["expected"] / d["limit_high"],
                      ["observed"]),
        "range_high": (lambda d: d["observed"] / d["expected"] / d["limit_low"].where(
            d["limit_low"] > 0), ["observed"]),
    }
    return sdc.protect(frame, ["observed", "list_size", "excess_to_limit",
                               "excess_to_median"], derived, publish=ctx.publish)


def headline(ctx: Context, an: Analysis) -> dict:
    """The headline figures: the area's total published as one count, everything else from
    the published practice table (so the text, the tables and the results file agree)."""
    a = published_area(ctx, an)
    years = an.extras["n_years"]
    # the area's total is published as one figure (rounded like every count), so it is the
    # same total notebook 00 shows; the practice rows are published one by one
    observed = float(an.area["observed"].sum())
    if ctx.publish:
        shown = float(sdc.publish_counts([observed])[0][0])
        observed = shown if np.isfinite(shown) else float(a["observed"].sum())
    unit = an.extras["cost_per_referral_gbp"]
    to_limit = float(a["excess_to_limit"].fillna(0).sum()) / years
    to_median = float(a["excess_to_median"].fillna(0).sum()) / years
    return {
        "n_practices": int(len(a)),
        "observed": observed, "observed_per_year": observed / years,
        "expected": float(a["expected"].sum()),
        "area_ratio": observed / float(a["expected"].sum()),
        "crude_p90_p10": an.extras["area_crude_p90_p10"],
        "standardised_p90_p10": an.extras["area_p90_p10"],
        "n_high": int((a["flag"] == "High").sum()), "n_low": int((a["flag"] == "Low").sum()),
        "high_practices": sorted(a.loc[a["flag"] == "High", "label"].tolist()),
        "low_practices": sorted(a.loc[a["flag"] == "Low", "label"].tolist()),
        "excess_to_limit_per_year": to_limit, "excess_to_median_per_year": to_median,
        "saving_to_limit_gbp_per_year": to_limit * unit,
        "saving_to_median_gbp_per_year": to_median * unit,
        "practice_sd_national": an.partition["practice_sd"],
        "phi": an.funnel_summary["phi"], "tau2": an.funnel_summary["tau2"],
        "years": an.years,
    }


def _money(x: float) -> str:
    return "not available" if x is None or np.isnan(x) else text.gbp(x)


def headline_text(ctx: Context, an: Analysis, h: dict) -> str:
    """The headline as bullets a board can read in a minute."""
    period = text.period(an.years)
    what = "specialty " + text.md(an.extras["specialty"]) + " referrals" \
        if an.extras["specialty"] else "GP referrals for a first outpatient appointment"
    lines = []
    made = (f"made **{ctx.count(h['observed'])} {what}** in {period} "
            f"({ctx.count(h['observed_per_year'])} a year)")
    if ctx.is_england:
        lines.append(
            f"- **{text.plural(h['n_practices'], 'practice')}** in England {made}. England is "
            "the comparator, so its ratio is 1 by definition; the sections below compare "
            "practices with it.")
    elif ctx.level == "practice":
        diff = (h["area_ratio"] - 1) * 100
        lines.append(f"- **{ctx.area_md}** {made}: **{abs(diff):.1f}% "
                     f"{'more' if diff >= 0 else 'fewer'} than** England's rates by age and "
                     "sex would predict for its patients.")
    else:
        comp = {"england": "England's rates by age and sex would predict for their patients",
                "area": "the commissioner's own rates by age and sex would predict",
                "peer": "rates of practices with similar deprivation would predict"}[
            ctx.params["comparator"]]
        diff = (h["area_ratio"] - 1) * 100
        side = "more than" if diff >= 0 else "fewer than"
        lines.append(
            f"- **{text.plural(h['n_practices'], 'practice')}** in {ctx.area_md} {made}: "
            f"**{abs(diff):.1f}% {side}** {comp}.")
    if not np.isnan(h["crude_p90_p10"]):
        lines.append(
            f"- Crude rates differ **{h['crude_p90_p10']:.1f}-fold** between the practices at "
            f"the 10th and 90th percentiles; after allowing for age and sex the spread is "
            f"**{h['standardised_p90_p10']:.1f}-fold**. Little of what remains is chance: "
            f"across England practices differ by a standard deviation of "
            f"**{h['practice_sd_national'] * 100:.0f}%** beyond chance and case-mix.")
    n_high, n_low = h["n_high"], h["n_low"]
    verb_h = "refers" if n_high == 1 else "refer"
    if ctx.level == "practice":
        where = "above" if n_high else ("below" if n_low else "within")
        lines.append(f"- The practice is **{where} the {an.limit}% limits** for a practice "
                     "of its size, after allowing for the normal spread between practices.")
    else:
        lines.append(
            f"- **{text.plural(n_high, 'practice')} {verb_h} more than the {an.limit}% limits "
            f"allow** and **{text.plural(n_low, 'practice')} less**, after allowing for the "
            "normal spread between practices. These are where a conversation about referral "
            "patterns is most likely to find something specific.")
    if ctx.level in ("practice", "network"):
        c = comparisons(ctx, an).iloc[1:-1]
        parts = [f"{text.md(r.name)}: {(r.ratio - 1) * 100:+.1f}%" for r in c.itertuples()
                 if np.isfinite(r.ratio)]
        if parts:
            lines.append("- Against England's rates, for comparison: " + "; ".join(parts)
                         + ".")
    money = not np.isnan(an.extras["cost_per_referral_gbp"])
    to_limit = h["excess_to_limit_per_year"]
    if ctx.level == "practice":
        to_median = h["excess_to_median_per_year"]
        lines.append(
            f"- Bringing it down to the median practice's ratio would mean about "
            f"**{ctx.count(to_median)} fewer referrals a year**"
            + (f" (≈ {_money(h['saving_to_median_gbp_per_year'])} a year)" if money else "")
            + f", averaged over {period}." if to_median > 0 else
            "- It refers less than the median practice for its patients, so there is no "
            "opportunity of that kind.")
        return "\n".join(lines)
    first = (f"- If the practices above the limit came down to it, about "
             f"**{ctx.count(to_limit)} fewer referrals a year**"
             + (f" (≈ **{_money(h['saving_to_limit_gbp_per_year'])} a year** at tariff "
                "prices, first attendance plus follow-ups)" if money else "")
             + "; bringing every practice above the median down to it would mean ") \
        if n_high else "- No practice is above the upper limit. Bringing every practice " \
        "above the median down to it would mean "
    lines.append(
        first + f"**{ctx.count(h['excess_to_median_per_year'])} fewer referrals a year**"
        + (f" (≈ {_money(h['saving_to_median_gbp_per_year'])} a year)" if money else
           " (no prices in this data, so no £ figure)")
        + f". Averages over {period}. Whether any of this saves money depends on the "
        "hospital contract (notebook 03).")
    return "\n".join(lines)


def _source(ctx: Context) -> str:
    return ctx.source_line


MIN_PRACTICES_FOR_SPREAD = 5
"""Charts of the spread between practices are drawn for areas with at least this many."""


def crude_chart(ctx: Context, an: Analysis):
    """Crude against standardised rates, one point per practice, with the line y = x
    (None for areas with too few practices to show a spread)."""
    pub = published_area(ctx, an)
    keep = pub["ratio"].notna()
    if keep.sum() < MIN_PRACTICES_FOR_SPREAD:
        return None
    std = pub.loc[keep, "ratio"] * an.extras["national_rate"]
    crude = an.area.loc[keep, "crude_rate"]
    lo, hi = float(min(crude.min(), std.min())), float(max(crude.max(), std.max()))
    return charts.scatter_chart(
        crude, std, f"Crude and standardised referral rates, {ctx.area_name}",
        "Crude rate (referrals per 1,000 patients per year)",
        "Standardised rate (per 1,000 patients per year)", _source(ctx),
        alt=f"Scatter of {text.plural(int(keep.sum()), 'practice')}: crude referral rate "
            f"against the rate standardised for age and sex; points off the diagonal are "
            f"practices whose patients' age and sex explain part of their rate.",
        line=([lo, hi], [lo, hi], "Same rate (y = x)"), watermark=ctx.watermark)


def funnel_figure(ctx: Context, an: Analysis):
    """The funnel plot of the area's practices (suppressed practices left out); a single
    practice is shown among its peers (practices like it in size and deprivation)."""
    pub = published_area(ctx, an)
    title = f"Referral ratio by practice, {ctx.area_name}"
    who = f"{text.plural(int(pub['ratio'].notna().sum()), 'practice')}"
    if ctx.level == "practice":
        peer_rows = _published(ctx, an, an.national[an.national["practice_code"].isin(
            ctx.where.peers)].reset_index(drop=True))
        peer_rows["label"] = ""
        pub = pub.copy()
        peer_rows.attrs, pub.attrs = {}, {}          # suppression masks are not needed here
        pub = pd.concat([peer_rows, pub], ignore_index=True)
        title = f"Referral ratio of {ctx.area_name} among the practices most like it"
        who = f"{ctx.area_name} and {text.plural(len(peer_rows), 'practice')} like it in " \
              "size and deprivation"
    keep = pub["ratio"].notna()
    pts = pub[keep].rename(columns={"expected": "denominator", "ratio": "rr"})
    labels = pub.loc[keep, "label"]
    highlight = (labels != "") if ctx.level == "practice" else None
    n_h, n_l = int((pts["flag"] == "High").sum()), int((pts["flag"] == "Low").sum())
    return charts.funnel_chart(
        pts, an.curve, title, _source(ctx),
        alt=f"Funnel plot of {who}: referral ratio against expected referrals, with 95% "
            f"and 99.8% limits widened for the normal spread between practices; {n_h} above "
            f"and {n_l} below the {an.limit}% limits.",
        limit=an.limit, labels=labels, highlight=highlight, watermark=ctx.watermark)


def ranked_figure(ctx: Context, an: Analysis):
    """Practices ranked by ratio with the range their funnel limits allow (None for areas
    with too few practices)."""
    pub = published_area(ctx, an)
    keep = pub["ratio"].notna()
    if keep.sum() < MIN_PRACTICES_FOR_SPREAD:
        return None
    t = pub[keep]
    return charts.ranked_chart(
        t, f"Practices ranked by referral ratio, {ctx.area_name}", _source(ctx),
        alt=f"{text.plural(len(t), 'practice')} ranked by referral ratio, each with the range "
            f"the {an.limit}% funnel limits allow; {int((t['flag'] == 'High').sum())} ranges "
            f"lie above 1 and {int((t['flag'] == 'Low').sum())} below.",
        limit=an.limit, watermark=ctx.watermark)


def comparisons(ctx: Context, an: Analysis) -> pd.DataFrame:
    """The area against the areas it sits in: for a practice its network, commissioner,
    peers (practices like it in size and deprivation) and England; for a network its
    commissioner and England; for a commissioner England. Ratios and intervals from
    published counts (worked out once per analysis)."""
    if "comparisons" in an.extras:
        return an.extras["comparisons"]
    nat = an.national
    w = ctx.where
    groups = [(ctx.area_name, ctx.practice_codes)]
    if ctx.level == "practice":
        if w.network:
            members = ctx.ds.groups.loc[ctx.ds.groups["group_code"].astype(str) == w.network,
                                        "practice_code"].astype(str)
            groups.append((f"Its network ({w.network_name or w.network})", list(members)))
        groups.append((f"{text.plural(len(w.peers), 'practice')} most like it",
                       list(w.peers)))
    if ctx.level in ("practice", "network"):
        groups.append((f"Its commissioner ({w.commissioner_name})", nat.loc[
            nat["commissioner_code"] == w.commissioner, "practice_code"].tolist()))
    groups.append(("England", nat["practice_code"].tolist()))
    rows = []
    years = an.extras["n_years"]
    for i, (name, codes) in enumerate(groups):
        d = nat[nat["practice_code"].isin(codes)]
        obs = float(d["observed"].sum())
        shown = headline(ctx, an)["observed"] if i == 0 and ctx.publish else 0.0
        if shown > 0:  # the area itself: the headline's total (its published practices)
            obs = shown
        elif ctx.publish:
            obs = float(sdc.publish_counts([obs])[0][0])
        exp = float(d["expected"].sum())
        r = rates.isr([obs], [exp]) if not np.isnan(obs) else None
        rows.append({"name": name, "practices": len(d), "observed_per_year":
                     _per_year(ctx, [obs], years)[0],
                     "ratio": np.nan if r is None else float(r["value"][0]),
                     "lower": np.nan if r is None else float(r["lower95"][0]),
                     "upper": np.nan if r is None else float(r["upper95"][0])})
    an.extras["comparisons"] = pd.DataFrame(rows)
    return an.extras["comparisons"]


def comparison_table(ctx: Context, an: Analysis):
    if ctx.is_england:
        return None
    c = comparisons(ctx, an)
    # enough decimals (up to 3) that each area's interval shows its width; England, the
    # comparator, is 1 by construction and does not count
    d = max([text._decimals_to_separate(r.lower, r.upper, 2, most=3)
             for r in c.iloc[:-1].dropna(subset=["lower", "upper"]).itertuples()], default=2)
    return show(c, [Col("name", "Area"), Col("practices", "Practices", "orgs"),
                    Col("observed_per_year", "Referrals a year", "count"),
                    Col("ratio", "Ratio (observed / expected)", "ratio", d),
                    Col("lower", "95% CI low", "ratio", d),
                    Col("upper", "95% CI high", "ratio", d)],
                caption=f"{ctx.area_name} and the areas it sits in")


def comparison_figure(ctx: Context, an: Analysis):
    if ctx.is_england:
        return None
    c = comparisons(ctx, an).dropna(subset=["ratio"])
    if c.empty:
        return None
    return charts.interval_chart(
        c["name"], c["ratio"], c["lower"], c["upper"],
        f"Referral ratio of {ctx.area_name} and the areas it sits in", "Referral ratio, "
        "observed / expected (95% CI)", "Area", _source(ctx),
        alt=f"Referral ratios with 95% intervals of {ctx.area_name}"
            + ", its network" * (ctx.level == "practice" and bool(ctx.where.network))
            + ", practices like it" * (ctx.level == "practice")
            + ", its commissioner" * (ctx.level in ("practice", "network"))
            + " and England; 1 is England's rate.", reference=1.0, watermark=ctx.watermark)


FLAG_WORDS = {"High": "above", "Low": "below", "Within": "within"}


def _practice_cols(an: Analysis, pseudonymise: bool) -> list[Col]:
    name = [] if pseudonymise else [Col("practice_name", "Name")]
    return [Col("label", "Practice"), *name, Col("list_size", "List size (patients)", "count"),
            Col("observed_per_year", "Referrals a year", "count"),
            Col("expected_per_year", "Expected a year", "count"),
            Col("ratio", "Ratio (observed / expected)", "ratio"),
            Col("ratio_lower95", "95% CI low", "ratio"),
            Col("ratio_upper95", "95% CI high", "ratio"),
            Col("position", f"Against the {an.limit}% limits")]


def outlier_table(ctx: Context, an: Analysis):
    """The practices outside the limits, most extreme first."""
    pub = published_area(ctx, an)
    t = pub[pub["flag"] != "Within"].copy()
    if t.empty:
        return None
    t["position"] = t["flag"].map(FLAG_WORDS)
    t["_far"] = np.log(t["ratio"].fillna(1)).abs()
    t = t.sort_values("_far", ascending=False)
    t.attrs = {"suppressed": {k: np.asarray(v)[t.index] for k, v in pub.attrs.get(
        "suppressed", {}).items()}}
    return show(t.reset_index(drop=True), _practice_cols(an, ctx.pseudonymise),
                caption=f"Practices outside the {an.limit}% limits")


def practices_table(ctx: Context, an: Analysis):
    """Every practice in the area (sortable and searchable when long)."""
    pub = published_area(ctx, an)
    t = pub.assign(position=pub["flag"].map(FLAG_WORDS)).sort_values("ratio",
                                                                    ascending=False)
    idx = t.index
    t = t.reset_index(drop=True)
    t.attrs["suppressed"] = {k: np.asarray(v)[idx] for k, v in pub.attrs.get(
        "suppressed", {}).items()}
    return show(t, _practice_cols(an, ctx.pseudonymise),
                caption=f"All {text.plural(len(t), 'practice')}, highest ratio first")


def partition_table(an: Analysis):
    """The variance partition, one row per model step."""
    s = an.partition["steps"].copy()
    cols = [Col("model", "Model"), Col("practice_sd", "Practice SD (log scale)", "number", 3),
            Col("practice_var_explained_pct", "Practice variance explained", "pct"),
            Col("practice_share_pct", "Practice share of variance", "pct"),
            Col("chance_share_pct", "Chance share", "pct")]
    for lv, lab in (("network", "Network share"), ("commissioner_code", "Commissioner share")):
        if f"{lv}_share_pct" in s:
            cols.append(Col(f"{lv}_share_pct", lab, "pct"))
    return show(s, cols, caption="How the variation in referral ratios divides")


def partition_text(an: Analysis) -> str:
    s = an.partition["steps"]
    last = s.iloc[-1]
    parts = [f"Across {an.partition['n_practices']:,} practices in England (practices outside "
             "the limits set aside), after standardising for age and sex:"]
    parts.append(f"- **chance** (Poisson noise) accounts for **{last['chance_share_pct']:.1f}%"
                 "** of the variance in referral ratios: with a year or more of referrals, "
                 "very little of the variation is chance;")
    if "commissioner_code_share_pct" in s:
        parts.append(f"- the **commissioner** level for "
                     f"**{last['commissioner_code_share_pct']:.0f}%**, the **network** level "
                     f"for **{last.get('network_share_pct', 0):.0f}%**;")
    parts.append(f"- the **practice itself** for **{last['practice_share_pct']:.0f}%**: a "
                 f"standard deviation of {last['practice_sd']:.2f} on the log scale, so a "
                 f"typical pair of practices differs by **{(an.partition['mrr'] - 1) * 100:.0f}"
                 "%** (median rate ratio);")
    parts.append(f"- deprivation, list size and long-term-condition prevalence together "
                 f"explain **{last['practice_var_explained_pct']:.0f}%** of the practice-level "
                 "variance (published studies: practice characteristics under 10%, patient "
                 "characteristics under 40%).")
    if an.partition.get("n_missing_covariates"):
        parts.append(f"- {an.partition['n_missing_covariates']:,} practices without a value "
                     "for one of these characteristics (for example closed before the QOF "
                     "year used) are left out of this breakdown.")
    return "\n".join(parts)


def _per_year(ctx: Context, values, years: int) -> np.ndarray:
    """A yearly average of a published count, shown as a published count too."""
    v = np.asarray(values, float) / years
    return sdc.publish_counts(v)[0] if ctx.publish else v


def _published_specialties(ctx: Context, an: Analysis) -> pd.DataFrame:
    years = an.extras["n_years"]
    sp = an.specialties.assign(observed_per_year=an.specialties["observed"] / years,
                               excess_per_year=an.specialties["excess_above_limit"] / years)
    return sdc.protect(sp, ["observed", "excess_above_limit"], {
        "ratio": (lambda d: d["observed"] / d["expected"], ["observed"]),
        "observed_per_year": (lambda d: _per_year(ctx, d["observed"], years), ["observed"]),
        "excess_per_year": (lambda d: _per_year(ctx, d["excess_above_limit"], years),
                            ["excess_above_limit"])}, publish=ctx.publish)


def specialty_figure(ctx: Context, an: Analysis):
    """Referrals above the limit by specialty (top 12), or None when there are none."""
    sp = _published_specialties(ctx, an)
    sp = sp[sp["excess_per_year"].fillna(0) > 0].head(12)
    if sp.empty:
        return None
    return charts.bar_chart(
        sp["specialty_name"], sp["excess_per_year"],
        f"Referrals above the {an.limit}% limit by specialty, {ctx.area_name}",
        "Referrals above the upper limit (a year)", "Specialty", _source(ctx),
        alt=f"Bar chart of referrals a year above the upper funnel limit by specialty; "
            f"largest: {sp['specialty_name'].iloc[0]} "
            f"({text.count(sp['excess_per_year'].iloc[0])} a year).",
        watermark=ctx.watermark)


def specialty_table_html(ctx: Context, an: Analysis):
    sp = _published_specialties(ctx, an)
    return show(sp, [Col("specialty_name", "Specialty"),
                     Col("observed_per_year", "Referrals a year", "count"),
                     Col("ratio", "Ratio (observed / expected)", "ratio"),
                     Col("n_high", "Practices above the 99.8% limit", "orgs"),
                     Col("n_low", "Practices below", "orgs"),
                     Col("sd_beyond_chance", "England: SD beyond chance (log scale)",
                         "number", 3),
                     Col("excess_per_year", "Referrals above the limit a year", "count")],
                caption="Specialties, most referrals above the limit first")


def spc_figure(ctx: Context, an: Analysis):
    ratio = an.extras["series_is_ratio"]
    n_sc = int((an.spc_points["point_type"] != "common_cause").sum())
    return charts.spc_chart(
        an.spc_points, f"Monthly standardised referral rate, {ctx.area_name}", _source(ctx),
        alt=f"Statistical process control chart of {len(an.spc_points)} months with mean and "
            f"process limits; {n_sc} months flagged as special cause.",
        ylabel="Observed / expected" if ratio
        else "Standardised referrals per 1,000 patients per year", watermark=ctx.watermark)


def spc_text(an: Analysis) -> str:
    last = an.spc_summary["variation_type"].iloc[-1]
    return (f"In the latest month the series shows **{SPC_WORDS.get(last, last)}**. "
            "The NHS Making Data Count rules look for a point outside the limits, a run of "
            "seven rising or falling points, two of three near a limit, or seven on one side "
            "of the mean; seasonal dips in August and December are common cause.")


def opportunity_table(ctx: Context, an: Analysis):
    """The practices with most referrals above the limit, a year, with £ at tariff."""
    pub = published_area(ctx, an)
    t = pub[pub["excess_to_limit_per_year"].fillna(0) > 0].sort_values(
        "excess_to_limit_per_year", ascending=False).head(15)
    if t.empty:
        return None
    idx = t.index
    t = t.reset_index(drop=True)
    t.attrs["suppressed"] = {k: np.asarray(v)[idx] for k, v in pub.attrs.get(
        "suppressed", {}).items()}
    cols = [Col("label", "Practice"), Col("observed_per_year", "Referrals a year", "count"),
            Col("ratio", "Ratio (observed / expected)", "ratio"),
            Col("excess_to_limit_per_year", "Above the limit (a year)", "count")]
    if not np.isnan(an.extras["cost_per_referral_gbp"]):
        cols.append(Col("saving_to_limit_gbp_per_year", "Value at tariff (£k a year)",
                        "gbpk"))
    return show(t, cols, caption=f"Referrals above the {an.limit}% limit, averages over "
                                 f"{text.period(an.years)}")


def validation_table(ctx: Context, an: Analysis):
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
    return show(v, [Col("quantity", "Quantity"), Col("truth", "True value", "number", 4),
                    Col("estimate", "Estimate", "number", 4),
                    Col("target", "Recovery target")],
                caption="Estimates against the effects planted in the synthetic data")


def results(ctx: Context, an: Analysis, h: dict) -> dict:
    """The machine-readable results (counts published by ``report.write_results``)."""
    out = dict(h)
    ratio = "" if ctx.is_england and ctx.params["comparator"] == "england" else (
        f"; ratio {h['area_ratio']:.2f} against "
        f"{'England' if ctx.params['comparator'] == 'england' else 'comparator'}")
    out["summary"] = (f"{text.plural(h['n_practices'], 'practice')}{ratio}; "
                      f"{h['n_high']} above and {h['n_low']} below the {an.limit}% limits")
    out["funnel"] = an.funnel_summary
    out["variance_partition"] = {k: v for k, v in an.partition.items() if k != "steps"}
    out["spc_variation_type"] = an.spc_summary["variation_type"].iloc[-1]
    return out
