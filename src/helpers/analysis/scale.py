"""Federation and practice scale effects: size curves, staggered joining, group size, mergers.

* Size curves: binned means with 95% intervals, a case-mix-adjusted natural-spline curve
  (statsmodels OLS, commissioner-clustered errors) and a log–log elasticity.
* Joining effects: Callaway & Sant'Anna group-time ATTs on practice × quarter log
  standardised referral ratios (csdid, doubly robust, analytic errors), aggregated to an
  overall ATT and an event study, against the static two-way fixed-effects estimate.
* Heterogeneity by group-size band; mergers against matched non-merging practices.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from helpers.analysis.referrals import national_tables, practice_frame
from helpers.cache import cached
from helpers.codes import among
from helpers.datasets import Dataset
from helpers.estimate import Estimate
from helpers.schema import financial_year
from helpers.stats.did import staggered_did

OUTCOMES = {
    "srr": ("Standardised referral ratio", "ratio, observed / expected"),
    "payments_per_weighted": ("Payments per weighted patient", "£ per weighted patient"),
    "gp_fte_per_1000": ("GP FTE per 1,000 patients", "FTE per 1,000 registered patients"),
    "satisfaction_pct": ("Patient satisfaction", "% rating their experience good"),
}
SIZE_BANDS = ((2, 4, "2-4"), (5, 8, "5-8"), (9, 99, "9+"))
PLAUSIBLE = {"srr": (0.2, 5.0), "payments_per_weighted": (20.0, 1000.0),
             "gp_fte_per_1000": (0.05, 3.0), "satisfaction_pct": (0.0, 100.0)}
"""Ranges outside which a practice-year's outcome is a data problem rather than a finding
(tiny or closing lists give £ per patient in the thousands and workforce ratios of zero)."""
MIN_LIST = 1000
"""Practice-years with fewer registered patients are left out of the size analyses."""
MIN_EXPECTED = 20
"""Practices expecting fewer referrals a quarter are left out of the joining panel."""


def size_band(n: float) -> str:
    for lo, hi, label in SIZE_BANDS:
        if lo <= n <= hi:
            return label
    return "1" if n == 1 else "9+"


@cached
def group_sizes(ds: Dataset) -> pd.DataFrame:
    """Per practice: its (first) group, the group's number of practices and combined list
    (cached per dataset)."""
    g = ds.groups.copy()
    g["practice_code"] = g["practice_code"].astype(str)
    first = g.sort_values("joined").groupby("practice_code").head(1)
    n = g.groupby("group_code")["practice_code"].nunique().rename("group_practices")
    pf = practice_frame(ds)[["practice_code", "list_size"]]
    comb = g.drop_duplicates(["group_code", "practice_code"]).merge(pf, on="practice_code")
    comb = comb.groupby("group_code")["list_size"].sum().rename("group_list")
    out = first[["practice_code", "group_code", "group_type", "joined"]].merge(
        n, on="group_code").merge(comb, on="group_code")
    out["size_band"] = out["group_practices"].map(size_band)
    return out


@cached
def practice_year_panel(ds: Dataset) -> pd.DataFrame:
    """Practice × financial year: list size, SRR, payments per weighted patient, GP FTE per
    1,000, satisfaction, deprivation, rurality, group size."""
    pys = national_tables(ds)["pys"]
    srr = pys.groupby(["practice_code", "year"], as_index=False)[
        ["observed", "expected"]].sum()
    # each year's expected scaled so England's ratio is 1 that year, as notebook 01's
    # ratios are (referrals.practice_table's match_national): one practice's ratio reads
    # the same on both pages (unscaled, England's ratio was about 1.15 on synthetic data)
    srr["expected"] = srr["expected"] * srr.groupby("year")["observed"].transform("sum") \
        / srr.groupby("year")["expected"].transform("sum")
    srr["srr"] = srr["observed"] / srr["expected"]
    po = ds.practice_outcomes.assign(practice_code=ds.practice_outcomes.practice_code
                                     .astype(str))
    p = po.merge(srr, on=["practice_code", "year"], how="left")
    p["payments_per_weighted"] = p["payments_gbp"] / p["weighted_patients"]
    p["gp_fte_per_1000"] = p["gp_fte"] / p["registered_patients"] * 1000
    p = clean_outcomes(p)
    pf = practice_frame(ds)[["practice_code", "commissioner_code", "imd_score",
                             "rurality", "ltc_prevalence"]]
    p = p.merge(pf, on="practice_code", how="left")
    if ds.has("groups") and len(ds.groups):
        p = p.merge(group_sizes(ds)[["practice_code", "group_code", "group_practices",
                                     "group_list", "size_band", "joined"]],
                    on="practice_code", how="left")
    return p


def clean_outcomes(p: pd.DataFrame) -> pd.DataFrame:
    """Outcomes of practice-years with fewer than ``MIN_LIST`` patients, or outside the
    ``PLAUSIBLE`` range, set to missing; ``<outcome>_excluded`` says which were."""
    p = p.copy()
    small = p["registered_patients"] < MIN_LIST
    for y, (lo, hi) in PLAUSIBLE.items():
        if y not in p:
            continue
        bad = p[y].notna() & (small | (p[y] < lo) | (p[y] > hi))
        p[f"{y}_excluded"] = bad
        p.loc[bad, y] = np.nan
    return p


def exclusions(p: pd.DataFrame) -> dict[str, int]:
    """How many practice-years each outcome lost to :func:`clean_outcomes`."""
    return {y: int(p[f"{y}_excluded"].sum()) for y in PLAUSIBLE if f"{y}_excluded" in p}


def binned_means(df: pd.DataFrame, x: str, y: str, bins: list[float] | int = 8
                 ) -> pd.DataFrame:
    """Mean of ``y`` with a 95% t-interval in bins of ``x`` (quantile bins if an int)."""
    d = df[[x, y]].dropna()
    cut = pd.qcut(d[x], bins, duplicates="drop") if isinstance(bins, int) else \
        pd.cut(d[x], bins, include_lowest=True)
    g = d.groupby(cut, observed=True)[y]
    out = pd.DataFrame({"x_mid": d.groupby(cut, observed=True)[x].median(), "mean": g.mean(),
                        "sd": g.std(), "n": g.size()})
    half = stats.t.ppf(0.975, np.maximum(out["n"] - 1, 1)) * out["sd"] / np.sqrt(out["n"])
    out["lower"], out["upper"] = out["mean"] - half, out["mean"] + half
    out.index = out.index.astype(str)
    return out.reset_index(names="bin")


def elasticity(df: pd.DataFrame, y: str, x: str = "registered_patients",
               controls: tuple[str, ...] = ("imd_score", "C(rurality)", "C(year)"),
               cluster: str = "commissioner_code") -> Estimate:
    """Elasticity of ``y`` with respect to ``x``: the slope of log y on log x with case-mix
    controls (OLS, errors clustered by commissioner), with its 95% interval; ``extra`` holds
    the outcome and the p-value, ``n`` the practice-years."""
    import statsmodels.formula.api as smf

    d = df[(df[y] > 0) & (df[x] > 0)].dropna(subset=[y, x]).copy()
    d["_ly"], d["_lx"] = np.log(d[y]), np.log(d[x])
    ctrl = [c for c in controls if c.replace("C(", "").rstrip(")") in d.columns
            and d[c.replace("C(", "").rstrip(")")].nunique() > 1]
    f = "_ly ~ _lx" + "".join(f" + {c}" for c in ctrl)
    fit = smf.ols(f, d).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(d[cluster])[0]})
    b, se = float(fit.params["_lx"]), float(fit.bse["_lx"])
    return Estimate.normal(b, se, method="ols elasticity, clustered", n=int(fit.nobs)
                           ).with_extra(outcome=y, p_value=float(fit.pvalues["_lx"]))


def size_model(df: pd.DataFrame, y: str, x: str = "registered_patients",
               controls: tuple[str, ...] = ("imd_score", "C(rurality)", "C(year)"),
               knots: int = 4, cluster: str = "commissioner_code"
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """England's case-mix-adjusted size curve for ``y`` and every practice-year's distance
    from it.

    A natural cubic spline in log ``x`` plus deprivation, rurality and year, fitted by OLS
    to log ``y`` (so the curve and its band stay positive and a few extreme practices do not
    pull it), with commissioner-clustered standard errors.

    Returns
    -------
    curve : DataFrame
        ``x``, ``fit``, ``lower``, ``upper`` on the ``y`` scale (a geometric mean, 95%
        interval) over the 2nd–98th percentile of ``x``, at average deprivation, the most
        common rurality and the **latest year** (the year whose practices are drawn on it).
    residuals : DataFrame
        ``practice_code``, ``year``, ``resid``: log ``y`` minus the model's prediction at the
        practice's own size, deprivation, rurality and year, so an area's mean residual is
        its distance from England's practices of the same size and case-mix (zero on average
        over England by construction).
    """
    import statsmodels.formula.api as smf

    d = df.dropna(subset=[y, x]).copy()
    d = d[(d[x] > 0) & (d[y] > 0)]
    d["_lx"] = np.log(d[x])
    d["_ly"] = np.log(d[y])
    ctrl = [c for c in controls if c.replace("C(", "").rstrip(")") in d.columns
            and d[c.replace("C(", "").rstrip(")")].nunique() > 1]
    f = f"_ly ~ cr(_lx, df={knots}, constraints='center')" + "".join(f" + {c}" for c in ctrl)
    fit = smf.ols(f, d).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(d[cluster])[0]})
    grid = np.linspace(np.quantile(d["_lx"], 0.02), np.quantile(d["_lx"], 0.98), 40)
    base = {}
    for c in ctrl:
        name = c.replace("C(", "").rstrip(")")
        base[name] = d[name].max() if name == "year" else (
            d[name].mode()[0] if c.startswith("C(") else d[name].mean())
    pr = fit.get_prediction(pd.DataFrame({"_lx": grid, **base})).summary_frame(alpha=0.05)
    curve = pd.DataFrame({"x": np.exp(grid), "fit": np.exp(pr["mean"].to_numpy()),
                          "lower": np.exp(pr["mean_ci_lower"].to_numpy()),
                          "upper": np.exp(pr["mean_ci_upper"].to_numpy())})
    keep = [c for c in ("practice_code", "year") if c in d.columns]
    resid = d[keep].assign(resid=fit.resid.to_numpy()).reset_index(drop=True)
    return curve, resid


def spline_curve(df: pd.DataFrame, y: str, **kw) -> pd.DataFrame:
    """England's case-mix-adjusted size curve for ``y`` (the curve of :func:`size_model`)."""
    return size_model(df, y, **kw)[0]


@cached
def joining_panel(ds: Dataset, group_type: str | None = None) -> pd.DataFrame:
    """Practice × financial quarter: log standardised referral ratio ``y``, the quarter of
    joining (``g``, 0 = never joined), group-size band; balanced practices expecting at
    least ``MIN_EXPECTED`` referrals a quarter only."""
    pm = national_tables(ds)["pm"]
    q = pm.assign(q=pm["month"].dt.to_period("Q-MAR"))
    q = q.groupby(["practice_code", "q"], as_index=False)[["observed", "expected"]].sum()
    quarters = sorted(q["q"].unique())
    q["t"] = q["q"].map({p: i + 1 for i, p in enumerate(quarters)})
    q["quarter_start"] = q["q"].dt.start_time
    q = q.drop(columns="q")
    gs = group_sizes(ds)
    if group_type:
        gs = gs[gs["group_type"] == group_type]
    gs["g"] = gs["joined"].dt.to_period("Q-MAR").map(
        {p: i + 1 for i, p in enumerate(quarters)})
    q = q.merge(gs[["practice_code", "g", "size_band", "group_practices"]],
                on="practice_code", how="left")
    q["g"] = q["g"].fillna(0).astype(int)
    q = q[q["expected"] > 0]
    q["y"] = np.log(np.maximum(q["observed"], 0.5) / q["expected"])
    full = q.groupby("practice_code")["t"].transform("size") == len(quarters)
    # the log of a small count is biased (and floored at 0.5 for zero): practices
    # expecting fewer than MIN_EXPECTED referrals a quarter are left out
    enough = q.groupby("practice_code")["expected"].transform("median") >= MIN_EXPECTED
    q = q[full & enough].copy()
    q["unit"] = pd.factorize(q["practice_code"])[0] + 1
    return q


def callaway_santanna(panel: pd.DataFrame, control: str = "never_treated",
                      min_e: int = -8, max_e: int = 12, min_cohort: int = 5) -> Estimate:
    """The joining effect: group-time ATTs aggregated to an overall (simple) ATT and an event
    study with pointwise and simultaneous 95% bands and a pre-trend check (see
    :func:`helpers.stats.did.staggered_did`; event times are quarters, or years on an
    annual panel).

    Joining cohorts with fewer than ``min_cohort`` practices are set aside (csdid's
    group-time estimates are undefined for one or two units), and said so in the notes.
    """
    sizes = panel.groupby("g")["unit"].nunique()
    tiny = sizes[(sizes.index > 0) & (sizes < min_cohort)]
    set_aside = []
    if len(tiny):
        panel = panel[~panel["g"].isin(tiny.index)]
        set_aside = [f"{int(tiny.sum())} practices in {len(tiny)} joining quarters with fewer "
                     f"than {min_cohort} practices each were set aside"]
    n_never = int(panel.loc[panel["g"] == 0, "unit"].nunique())
    if control == "never_treated" and n_never < 2:
        raise ValueError(f"only {n_never} never-joining practices: no comparison group; "
                         "use control_group = not_yet_treated")
    est = staggered_did(panel, control, min_e, max_e, band=True)
    es = est.extra["event_study"].rename(columns={"event_time": "event_quarter"})
    return est.with_extra(event_study=es, notes=set_aside + est.extra["notes"])


def twfe(panel: pd.DataFrame, iterations: int = 50) -> Estimate:
    """Static two-way fixed-effects estimate: y on a post-joining dummy with practice and
    quarter effects, errors clustered by practice.

    The two-way within transformation is done by alternating demeaning (exact for balanced
    panels, which :func:`joining_panel` returns); a dedicated HDFE package (pyfixest) would
    add a heavy dependency for this one regression.
    """
    import statsmodels.api as sm

    d = panel[["unit", "t", "y", "g"]].copy()
    d["D"] = ((d["g"] > 0) & (d["t"] >= d["g"])).astype(float)
    for col in ("y", "D"):
        v = d[col].to_numpy(float).copy()
        for _ in range(iterations):
            v = v - pd.Series(v).groupby(d["unit"].to_numpy()).transform("mean").to_numpy()
            v = v - pd.Series(v).groupby(d["t"].to_numpy()).transform("mean").to_numpy()
        d[f"{col}_w"] = v
    fit = sm.OLS(d["y_w"], d[["D_w"]]).fit(cov_type="cluster",
                                           cov_kwds={"groups": d["unit"].to_numpy()})
    return Estimate.normal(float(fit.params["D_w"]), float(fit.bse["D_w"]),
                           method="twfe", n=int(d["unit"].nunique()))


def by_size_band(panel: pd.DataFrame, control: str = "never_treated") -> pd.DataFrame:
    """The overall ATT separately for each group-size band (treated practices of that band
    against the same comparison group)."""
    rows = []
    for _, _, band in SIZE_BANDS:
        sub = panel[(panel["g"] == 0) | (panel["size_band"] == band)]
        if sub.loc[sub["g"] > 0, "unit"].nunique() < 20:
            continue
        r = callaway_santanna(sub, control)
        rows.append({"size_band": band, "att": r.estimate, "lower": r.lower,
                     "upper": r.upper, "n_treated": r.extra["n_treated"]})
    return pd.DataFrame(rows)


def mergers(ds: Dataset, outcome: str = "srr", seed: int = 1) -> Estimate:
    """Practices that absorbed a merging practice against up to three matched non-merging
    practices (same commissioner, nearest list size): the change in mean log ``outcome``
    from the financial year before the merger to the year after, merging minus matched,
    with a bootstrap 95% interval (``n`` mergers; NaN and ``n`` = 0 when there are none).
    A simple matched before-after comparison, not a causal design. Cached per dataset."""
    return Estimate.from_dict(_mergers(ds, outcome, seed))


@cached(kind="json")
def _mergers(ds: Dataset, outcome: str, seed: int) -> dict:
    none = Estimate(np.nan, np.nan, np.nan, np.nan, method="matched before-after", n=0,
                    extra={"outcome": outcome}).to_dict()
    p = ds.practices
    merged = p[p["successor_code"].notna() & p["close_date"].notna()]
    if merged.empty:
        return none
    panel = practice_year_panel(ds)
    panel = panel[panel[outcome] > 0]
    logy = panel.assign(ly=np.log(panel[outcome])).set_index(["practice_code", "year"])["ly"]
    succ = merged.assign(practice_code=merged["successor_code"].astype(str),
                         year=financial_year(merged["close_date"]))
    succ = succ.sort_values("year").drop_duplicates("practice_code")[["practice_code", "year"]]
    pf = practice_frame(ds)
    involved = set(succ["practice_code"]) | set(merged["practice_code"].astype(str))
    pool = pf[~among(pf["practice_code"], involved)]
    rows = []
    for s in succ.itertuples():
        me = pf[pf.practice_code == s.practice_code]
        if me.empty:
            continue
        cands = pool[pool.commissioner_code == me.commissioner_code.iloc[0]]
        if cands.empty:
            continue
        match = cands.iloc[(np.log(cands.list_size) - np.log(me.list_size.iloc[0])).abs()
                           .argsort()[:3]]
        for code, role in [(s.practice_code, "merging")] + [(c, "matched")
                                                            for c in match.practice_code]:
            pre, post = logy.get((code, s.year - 1)), logy.get((code, s.year + 1))
            if pre is not None and post is not None:
                rows.append({"merger": s.practice_code, "role": role, "change": post - pre})
    r = pd.DataFrame(rows)
    if r.empty:
        return none
    per = r.groupby(["merger", "role"])["change"].mean().unstack()
    if "matched" not in per or "merging" not in per:
        return none
    diff = (per["merging"] - per["matched"]).dropna()
    if diff.empty:
        return none
    rng = np.random.default_rng(seed)
    boots = [rng.choice(diff.to_numpy(), len(diff)).mean() for _ in range(2000)]
    return Estimate(float(diff.mean()), float(np.std(boots, ddof=1)),
                    float(np.quantile(boots, 0.025)), float(np.quantile(boots, 0.975)),
                    method="matched before-after, bootstrap percentile interval",
                    n=int(len(diff)), extra={"outcome": outcome}).to_dict()


def true_joining_att(panel: pd.DataFrame, truth: dict) -> dict:
    """The estimand the synthetic truth implies on this panel: the planted joining effect
    (by group-size band, ramping in over ``ramp_quarters``) averaged over every treated
    practice-quarter (the simple ATT), and by event quarter (the event study)."""
    j = truth["joining"]
    d = panel[(panel["g"] > 0) & (panel["t"] >= panel["g"])].copy()
    e = d["t"] - d["g"]
    full = d["size_band"].map(j["effect_by_size_band"]).fillna(0.0)
    d["effect"] = full * np.minimum(1.0, (e + 1) / j["ramp_quarters"])
    d["e"] = e
    return {"att": float(d["effect"].mean()),
            "by_event": d.groupby("e")["effect"].mean(),
            "by_band": d.groupby("size_band")["effect"].mean()}


def annual_joining_panel(ds: Dataset, outcome: str) -> pd.DataFrame:
    """Practice × financial year panel of log ``outcome`` with the financial year of joining
    (``g``, 0 = never), for outcomes only measured yearly (payments, workforce, experience);
    balanced practices only."""
    p = practice_year_panel(ds)
    p = p[p[outcome] > 0].copy()
    years = sorted(p["year"].unique())
    p["t"] = p["year"].map({y: i + 1 for i, y in enumerate(years)})
    fy = financial_year(p["joined"])
    p["g"] = fy.map({y: i + 1 for i, y in enumerate(years)}).fillna(0).astype(int)
    p["y"] = np.log(p[outcome])
    p = p[p.groupby("practice_code")["t"].transform("size") == len(years)].copy()
    p["unit"] = pd.factorize(p["practice_code"])[0] + 1
    return p


def by_practice_size(panel: pd.DataFrame, list_sizes: pd.Series,
                     control: str = "never_treated") -> pd.DataFrame:
    """The overall ATT separately for joining practices in list-size thirds (small, medium,
    large; cut points from the joining practices), against the same comparison group."""
    sizes = panel["practice_code"].map(list_sizes)
    treated = panel["g"] > 0
    cuts = np.quantile(sizes[treated].dropna().unique(), [1 / 3, 2 / 3])
    label = pd.cut(sizes, [-np.inf, *cuts, np.inf], labels=["small", "medium", "large"])
    rows = []
    for lab in ["small", "medium", "large"]:
        sub = panel[(~treated) | (label == lab)]
        if sub.loc[sub["g"] > 0, "unit"].nunique() < 20:
            continue
        r = callaway_santanna(sub, control)
        rows.append({"practice_size": lab, "list_size_from": float(
            sizes[treated & (label == lab)].min()), "list_size_to": float(
            sizes[treated & (label == lab)].max()), "att": r.estimate, "lower": r.lower,
            "upper": r.upper, "n_treated": r.extra["n_treated"]})
    return pd.DataFrame(rows)
