"""The federation-scale analysis (notebook 02): the area's own practices and networks against
England, with England-wide estimates as context.

Local findings come first: how the area's practices and networks are sized, and where its
practices sit against England's case-mix-adjusted size curve for each outcome (the gap is
the area's, with its own 95% interval). The joining effect and the group-size comparison
need every joining practice in England to be estimated at all, so they are national,
cached once per dataset, and labelled as context. On synthetic data they recover effects
planted in the data, which shows the method works; they are not evidence about real groups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers import formats, levels
from helpers.analysis import areas, scale
from helpers.analysis.context import Context
from helpers.analysis.referrals import practice_frame
from helpers.cache import cached
from helpers.codes import among
from helpers.estimate import Estimate, t_critical
from helpers.stats import rates, sdc

BAND_ORDER = ["1", "2-4", "5-8", "9+"]
NOTEBOOK = "02_federation_scale"


@dataclass
class Analysis:
    panel: pd.DataFrame            # practice-year, area only
    latest: pd.DataFrame           # the area's practices in the latest year of each outcome
    national_panel: pd.DataFrame
    elasticities: pd.DataFrame
    curves: dict
    gaps: pd.DataFrame             # area against England's curve, per outcome
    networks: pd.DataFrame         # the area's networks
    band_shares: pd.DataFrame      # share of practices by group-size band, area and England
    joining: Estimate | None        # staggered DiD, England
    twfe: Estimate | None
    bands: pd.DataFrame
    mergers: Estimate | None        # None when the outcome is not measured
    truth_att: dict | None
    practice_sizes: pd.DataFrame
    estimator: str
    excluded: dict
    joining_note: str = ""                           # why there is no joining estimate
    networks_published: pd.DataFrame | None = None   # combined lists published
    validation: pd.DataFrame | None = None           # against the synthetic truth
    members: pd.DataFrame | None = None              # a network's practices side by side
    profile: pd.DataFrame | None = None              # a practice's outcomes (spine chart)
    out_of_range: pd.DataFrame | None = None         # practices outside the curves' sizes
    n_ungrouped: int = 0                             # the area's practices in no group

    @property
    def primary(self) -> Estimate | None:
        """The joining estimate the parameters chose for the headline."""
        if not self.joining:
            return None
        return self.twfe if self.estimator == "twfe" else self.joining


def _rule(ctx: Context, section: str) -> levels.Rule:
    """The section's declared rule at the area's level (:mod:`helpers.levels`;
    :meth:`Context.rule`)."""
    return ctx.rule(section)


def _published_srr(ctx: Context, frame: pd.DataFrame) -> pd.DataFrame:
    """Practice-years as readers see them: in publish mode the standardised referral ratio
    is recomputed from the published referral count (NaN where that count is suppressed),
    so no ratio gives back a count the tables would round or suppress (the analysis itself
    runs on the counts as recorded)."""
    if not ctx.publish or "observed" not in frame or frame.empty:
        return frame
    shown = sdc.publish_counts(frame["observed"])[0]
    srr = np.where(frame["expected"] > 0, shown / frame["expected"].where(
        frame["expected"] > 0), np.nan)
    return frame.assign(srr=frame["srr"].where(frame["srr"].isna(), srr))


def _latest(nat: pd.DataFrame, y: str) -> pd.DataFrame:
    """The rows of the latest year in which ``y`` is measured (an area's current practices;
    for a practice that has closed, its last year)."""
    d = nat.dropna(subset=[y])
    if d.empty:
        return d
    return d[d["year"] == d["year"].max()]


def curve_gap(resid: pd.DataFrame, y: str) -> Estimate | None:
    """Where the area's practices sit against England's practices of the same size and
    case-mix for ``y``: the mean of their residuals from England's size model (log scale,
    latest year; see :func:`helpers.analysis.scale.size_model`), with a t-interval over
    practices (``extra``: outcome, year). One or two practices get their (mean) distance
    without an interval: too few practices for a spread."""
    r = resid["resid"].dropna().to_numpy(float)
    if not len(r):
        return None
    extra = {"outcome": y, "year": int(resid["year"].max())}
    if len(r) < 3:                   # one or two practices: the distance, no interval
        return Estimate(float(r.mean()), np.nan, np.nan, np.nan, method="residual",
                        n=int(len(r)), extra=extra)
    m, se = float(r.mean()), float(r.std(ddof=1) / np.sqrt(len(r)))
    half = t_critical(len(r) - 1) * se
    return Estimate(m, se, m - half, m + half, method="mean residual, t interval",
                    n=int(len(r)), extra=extra)


def in_curve_range(latest: pd.DataFrame, nat: pd.DataFrame, curve: pd.DataFrame
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split an area's latest-year residuals into practices whose list (patients, that
    year) lies within the list sizes England's curve covers (its 2nd to 98th percentile)
    and those outside it: a practice outside is not "a practice of its size" on that curve,
    so it is left out of the area's gap and named instead. The second frame has
    ``practice_code``, ``year``, ``registered_patients``, ``curve_low``, ``curve_high``."""
    lists = nat[["practice_code", "year", "registered_patients"]]
    d = latest.merge(lists, on=["practice_code", "year"], how="left")
    lo, hi = float(curve["x"].min()), float(curve["x"].max())
    inside = d["registered_patients"].between(lo, hi) | d["registered_patients"].isna()
    out = d.loc[~inside, ["practice_code", "year", "registered_patients"]].assign(
        curve_low=lo, curve_high=hi)
    return d.loc[inside, latest.columns], out.reset_index(drop=True)


def _present(nat: pd.DataFrame) -> list[str]:
    """The outcomes measured for at least 50 practice-years."""
    return [y for y in scale.OUTCOMES if nat[y].notna().sum() >= 50]


@cached(kind="json")
def national_size_curves(ds) -> dict:
    """England's size elasticities and case-mix-adjusted size curves, per outcome."""
    nat = scale.practice_year_panel(ds)
    present = _present(nat)
    return {"elasticities": [scale.elasticity(nat, y).record("elasticity")
                             | {"label": scale.OUTCOMES[y][0]} for y in present],
            "curves": {y: scale.size_model(nat, y)[0].to_dict(orient="list")
                       for y in present}}


@cached
def national_size_residuals(ds) -> pd.DataFrame:
    """Every practice-year's residual from England's size model, per outcome (log scale)."""
    nat = scale.practice_year_panel(ds)
    out = [scale.size_model(nat, y)[1].assign(outcome=y) for y in _present(nat)]
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(
        columns=["practice_code", "year", "resid", "outcome"])


@cached(kind="json")
def national_joining(ds, outcome: str, group_type: str | None, control_group: str) -> dict:
    """England's joining effect: staggered DiD (Callaway & Sant'Anna) with its event study,
    the TWFE estimate, the effect by group-size band and (for referrals) by practice size."""
    jp = scale.joining_panel(ds, group_type) if outcome == "srr" else \
        scale.annual_joining_panel(ds, outcome)
    try:
        r = {"cs": scale.callaway_santanna(jp, control_group).to_dict(),
             "twfe": scale.twfe(jp).to_dict()}
    except ValueError as e:          # too few practices to compare with (a small dataset)
        return {"unavailable": str(e)}
    r["bands"] = scale.by_size_band(jp, control_group).to_dict(orient="list")
    if outcome == "srr":
        lists = practice_frame(ds).set_index("practice_code")["list_size"]
        r["practice_sizes"] = scale.by_practice_size(jp, lists, control_group).to_dict(
            orient="list")
    return r


def analyse(ctx: Context) -> Analysis:
    """All of notebook 02's computation for one area (national parts cached)."""
    p, ds = ctx.params, ctx.ds
    ctx.require_tables(["practice_outcomes"], "The scale analysis")
    nat = scale.practice_year_panel(ds)
    area = nat[among(nat["practice_code"], ctx.practice_codes)]
    present = _present(nat)
    national, resid = national_size_curves(ds), national_size_residuals(ds)
    el = pd.DataFrame(national["elasticities"])
    curves = {y: pd.DataFrame(c) for y, c in national["curves"].items()}
    mine = resid[among(resid["practice_code"], ctx.practice_codes)]
    gap_rows, outside = [], []
    for y in curves:
        inside, out = in_curve_range(_latest(mine[mine["outcome"] == y], "resid"), nat,
                                     curves[y])
        outside.append(out.assign(outcome=y))
        if (g := curve_gap(inside, y)):
            gap_rows.append(g.record("gap") | {"n_outside": len(out)})
    gaps = pd.DataFrame(gap_rows)
    out_of_range = pd.concat(outside, ignore_index=True) if outside else pd.DataFrame()
    shown = _published_srr(ctx, area)
    latest = pd.concat([_latest(shown, y).assign(outcome=y) for y in curves],
                       ignore_index=True) if curves else pd.DataFrame()
    if ctx.publish and "registered_patients" in latest:
        # the size curves place each practice at its list as published (a list is a count
        # of people), so no point's position gives back the list the page rounds
        latest["registered_patients"] = sdc.publish_counts(latest["registered_patients"])[0]
    joining = tw = truth_att = None
    bands = psizes = pd.DataFrame()
    joining_note = "No practices joined a group in this data, so there is no joining effect " \
                   "to estimate."
    mergers = None
    networks = band_shares = pd.DataFrame()
    has_groups = ds.has("groups") and len(ds.groups) > 0
    if has_groups:
        gs = scale.group_sizes(ds)
        networks, band_shares = _networks(ctx, _published_srr(ctx, nat))
        gt = None if p["group_type"] == "all" else p["group_type"]
        jp = scale.joining_panel(ds, gt) if p["outcome"] == "srr" else \
            scale.annual_joining_panel(ds, p["outcome"])
        if jp["g"].gt(0).sum() and jp["g"].eq(0).sum():
            r = national_joining(ds, p["outcome"], gt, p["control_group"])
        else:
            r = {"unavailable": "no practice joined a group, or none stayed out of one"}
        if "unavailable" in r:
            joining_note = f"The joining effect cannot be estimated here: {r['unavailable']}."
        else:
            joining, tw = Estimate.from_dict(r["cs"]), Estimate.from_dict(r["twfe"])
            bands = pd.DataFrame(r["bands"])
            psizes = pd.DataFrame(r.get("practice_sizes", {}))
            if ds.truth and p["outcome"] == "srr":
                t = scale.true_joining_att(jp, ds.truth)
                truth_att = {"att": t["att"], "by_event": t["by_event"],
                             "by_band": t["by_band"]}
    if p["outcome"] in present:
        mergers = scale.mergers(ds, p["outcome"])
    an = Analysis(area, latest, nat, el, curves, gaps, networks, band_shares, joining, tw,
                  bands, mergers, truth_att, psizes, p["estimator"], scale.exclusions(nat),
                  joining_note=joining_note)
    if len(networks):
        an.networks_published = sdc.protect(networks, ["combined_list"], publish=ctx.publish)
    an.out_of_range = out_of_range
    if has_groups:
        grouped = set(ds.groups["practice_code"].astype(str))
        an.n_ungrouped = sum(str(c) not in grouped for c in ctx.practice_codes)
    if _rule(ctx, "members").kind == levels.SHOWN:
        an.members = members(ctx, shown, gs if has_groups else None)
    if _rule(ctx, "profile").kind == levels.SHOWN:
        an.profile = outcome_profile(ctx, _published_srr(ctx, nat))
    an.validation = validation(ctx, an)
    return an


def _mean_of(d: pd.DataFrame, y: str, codes) -> float:
    v = d.loc[among(d["practice_code"], list(codes)), y].to_numpy(float)
    v = v[np.isfinite(v)]
    return float(v.mean()) if len(v) else np.nan


def outcome_profile(ctx: Context, nat: pd.DataFrame) -> pd.DataFrame:
    """A practice's outcomes against England's practices in the same year (a spine chart,
    as Fingertips' practice profiles): the referral ratio, payments per weighted patient,
    GP FTE per 1,000 patients and patient satisfaction, each at the practice's latest year
    (a closed practice's last) and divided by England's median practice that year, so
    every row reads on one scale (England's median practice = 1). For each: England's
    practices' 5th/25th/75th/95th percentiles, the practice, and the means of its network,
    its 10 most similar practices and its commissioner on the same scale. Only the referral
    ratio has a sampling interval (exact Poisson, from the published count): its verdict is
    higher, similar or lower than England's median practice; the others are 'no test'
    (payments, staffing and the survey share are not samples of a rate here). Values left
    out as implausible (``<outcome>_excluded``) are left out here too."""
    w = ctx.where
    members = []
    if w.network and ctx.ds.has("groups"):
        g = ctx.ds.groups
        members = g.loc[g["group_code"].astype(str) == w.network, "practice_code"].astype(
            str).tolist()
    t = areas.area_table(ctx.ds)
    comm = t.loc[(t["level"] == "practice") & (t["commissioner_code"] == w.commissioner),
                 "code"].tolist()
    rows = []
    for y in MEMBER_OUTCOMES:
        if y not in nat:
            continue
        mine = nat[(nat["practice_code"] == ctx.area) & nat[y].notna()]
        if mine.empty:
            continue
        year = int(mine["year"].max())
        d = nat[(nat["year"] == year) & nat[y].notna() & (nat[y] > 0)]
        if f"{y}_excluded" in d:
            d = d[~d[f"{y}_excluded"].astype(bool)]
        if len(d) < 5:
            continue
        med = float(d[y].median())
        me = mine[mine["year"] == year].iloc[0]
        value = float(me[y]) / med
        lo = hi = np.nan
        verdict, expected = "no test", np.nan
        if y == "srr":
            expected = float(me["expected"])
            observed = value * med * expected
            if np.isfinite(observed) and expected > 0:
                r = rates.isr([observed], [expected])
                lo, hi = (float(r[c].iloc[0]) / med for c in ("lower95", "upper95"))
                verdict = "higher" if lo > 1 else "lower" if hi < 1 else "similar"
            else:
                verdict = "not shown"
        p5, p25, p75, p95 = np.percentile(d[y].to_numpy(float) / med, [5, 25, 75, 95])
        rows.append({"indicator": scale.OUTCOMES[y][0], "outcome": y, "year": year,
                     "median": med, "value": float(me[y]),
                     "p5": p5, "p25": p25, "p75": p75, "p95": p95, "ratio": value,
                     "lower": lo, "upper": hi, "verdict": verdict,
                     # the ratio drawn × this is the published referral count
                     "expected": expected * med if y == "srr" else np.nan,
                     "network": _mean_of(d, y, members) / med if members else np.nan,
                     "similar": _mean_of(d, y, w.similar) / med if w.similar else np.nan,
                     "commissioner": _mean_of(d, y, comm) / med})
    return pd.DataFrame(rows)


MEMBER_OUTCOMES = ("srr", "payments_per_weighted", "gp_fte_per_1000", "satisfaction_pct")


def members(ctx: Context, shown: pd.DataFrame, gs: pd.DataFrame | None) -> pd.DataFrame:
    """A network's practices side by side: each at its latest year (a practice that closed,
    its last), with its list at the latest count (the list every page gives it; a closed
    practice's last), when it joined, and its outcomes (the referral ratio from published
    counts in publish mode), largest list first."""
    last = shown.sort_values("year").groupby("practice_code").tail(1)
    cols = ["practice_code", "year", *[c for c in MEMBER_OUTCOMES if c in last]]
    out = last[cols].copy()
    lists = practice_frame(ctx.ds).set_index("practice_code")["list_size"]
    out["registered_patients"] = out["practice_code"].astype(str).map(lists)
    if gs is not None:                 # when each joined this network
        g = ctx.ds.groups
        mine = g[g["group_code"].astype(str) == ctx.area]
        joined = mine.groupby(mine["practice_code"].astype(str))["joined"].min()
        out["joined"] = out["practice_code"].map(joined)
    out["label"] = ctx.practice_labels(out["practice_code"])
    out = out.sort_values("registered_patients", ascending=False, ignore_index=True)
    return sdc.protect(out, ["registered_patients"], publish=ctx.publish)


def closed_before(ds, year: int) -> set[str]:
    """The practices closed on or before the start of financial ``year`` (1 April)."""
    p = ds.practices
    close = pd.to_datetime(p["close_date"])
    return set(p.loc[close.notna() & (close <= pd.Timestamp(year=year, month=4, day=1)),
                     "practice_code"].astype(str))


def _networks(ctx: Context, nat: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The area's networks (its practices in each, the group's whole size and band, combined
    list, latest outcomes) and the share of practices by group-size band in the area and in
    England."""
    pf = practice_frame(ctx.ds)[["practice_code", "commissioner_code", "list_size"]]
    # each practice in its latest group (the network a practice's page names), and a
    # network page its own members; sizes are each group's own (every practice it had)
    g = ctx.ds.groups.assign(practice_code=ctx.ds.groups["practice_code"].astype(str),
                             group_code=ctx.ds.groups["group_code"].astype(str))
    size = g.groupby("group_code")["practice_code"].nunique()
    latest = g.sort_values("joined").groupby("practice_code").tail(1)
    if ctx.level == "network":      # its members, every one it had
        mine = g[g["group_code"] == ctx.area].drop_duplicates("practice_code")
    elif _rule(ctx, "groups_table").kind == levels.PARENT:
        # a practice's page shows its network's figures: the group as a whole
        own = latest.loc[among(latest["practice_code"], ctx.practice_codes), "group_code"]
        mine = g[among(g["group_code"], own)].drop_duplicates("practice_code")
    else:
        mine = latest[among(latest["practice_code"], ctx.practice_codes)]
    mine = mine[["practice_code", "group_code"]].assign(
        group_practices=lambda d: d["group_code"].map(size).to_numpy())
    last = nat[nat["year"] == nat["year"].max()]
    per = mine.merge(pf, on="practice_code", how="left").merge(
        last[["practice_code", "srr", "payments_per_weighted", "gp_fte_per_1000"]],
        on="practice_code", how="left")
    # the combined list is the latest year's: a member closed before it adds no patients
    # (they moved, often to another member, and would be counted twice)
    gone = per["practice_code"].isin(closed_before(ctx.ds, int(nat["year"].max())))
    per["list_size"] = per["list_size"].where(~gone, 0.0)
    per["closed"] = gone.astype(int)
    names = ctx.ds.groups.drop_duplicates("group_code").set_index("group_code")["group_name"]
    net = per.groupby("group_code").agg(
        practices=("practice_code", "nunique"), combined_list=("list_size", "sum"),
        closed=("closed", "sum"), group_practices=("group_practices", "first"),
        srr=("srr", "mean"), payments_per_weighted=("payments_per_weighted", "median"),
        gp_fte_per_1000=("gp_fte_per_1000", "median")).reset_index()
    # the size band is the whole group's (a practice's page holds one of its members)
    net["band"] = net["group_practices"].map(scale.size_band)
    net["name"] = net["group_code"].map(names).fillna(net["group_code"])
    net = net.sort_values(["practices", "combined_list"], ascending=False,
                          ignore_index=True)
    band_of = latest.set_index("practice_code")["group_code"].map(size).map(scale.size_band)
    all_p = pf.assign(band=pf["practice_code"].map(band_of).fillna("1"))
    area_p = all_p[among(all_p["practice_code"], ctx.practice_codes)]
    shares = pd.DataFrame({
        "band": BAND_ORDER,
        "area": [float((area_p["band"] == b).mean() * 100) for b in BAND_ORDER],
        "england": [float((all_p["band"] == b).mean() * 100) for b in BAND_ORDER]})
    return net, shares


JOINING_CHECK = "Joining effect"
"""How the staggered joining estimate's validation rows begin (overall and by group size)."""
TWFE_DEMO = "Two-way fixed effects (log referral ratio)"
"""The validation row that demonstrates two-way fixed effects' bias (not a check)."""


def validation(ctx: Context, an: Analysis) -> pd.DataFrame | None:
    """Estimates against the truth recorded with the synthetic data (None for real data):
    quantity, truth, estimate, 95% interval, whether it covers the truth, and its ``role``:
    ``"check"`` (an estimator expected to recover the planted effect, so a miss is a
    failed check) or ``"bias"`` (two-way fixed effects, known to be biased under staggered
    joining with effects that build up: shown to demonstrate that bias, expected to miss,
    never counted as a failed check)."""
    t = ctx.ds.truth
    if not t:
        return None
    rows = []
    truths = {"srr": t["referral_model"]["beta_log_list"]}
    if "practice_panel" in t:           # synthetic panel; a real panel has no truth
        truths["payments_per_weighted"] = t["practice_panel"][
            "payments_per_weighted_size_elasticity"]
        truths["gp_fte_per_1000"] = t["practice_panel"]["fte_size_elasticity"]
    for r in an.elasticities.itertuples():
        if r.outcome in truths:
            rows.append((f"Elasticity: {r.label}", truths[r.outcome], r.elasticity, r.lower,
                         r.upper))
    if an.joining and an.truth_att:
        rows.append((f"{JOINING_CHECK} (log referral ratio)", an.truth_att["att"],
                     an.joining.estimate, an.joining.lower, an.joining.upper))
        rows.append((TWFE_DEMO, an.truth_att["att"],
                     an.twfe.estimate, an.twfe.lower, an.twfe.upper))
        for r in an.bands.itertuples():
            rows.append((f"{JOINING_CHECK}, groups of {formats.size_band(r.size_band)}",
                         an.truth_att["by_band"].get(r.size_band, np.nan), r.att, r.lower,
                         r.upper))
    if not rows:
        return None
    v = pd.DataFrame(rows, columns=["quantity", "truth", "estimate", "lower", "upper"])
    v["covered"] = (v["lower"] <= v["truth"]) & (v["truth"] <= v["upper"])
    v["role"] = np.where(v["quantity"] == TWFE_DEMO, "bias", "check")
    return v


def failed_checks(v: pd.DataFrame | None) -> list[str]:
    """The validation checks whose interval misses the planted effect (the bias
    demonstration's miss is expected, so it is not one of them)."""
    if v is None:
        return []
    check = v["role"] == "check" if "role" in v else True
    return v.loc[check & ~v["covered"].astype(bool), "quantity"].tolist()
