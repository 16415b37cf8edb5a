"""Real findings (notebook 04): published practice-level indicators analysed with the pack's
own methods, for England, a commissioner, a network or a practice.

The ``indicators`` table holds real counts and denominators (Fingertips A&E attendances of
children aged 0-4, 2021/22; QOF 2020/21 disease registers). For each indicator this module
gives, from national tables computed once per dataset and publish setting:

- every practice's crude rate (:func:`helpers.stats.rates.crude_rate`: exact Poisson limits
  below 10 events, Byar's above, as Fingertips) or proportion (Wilson limits,
  :func:`helpers.stats.rates.proportion`), at 95% and 99.8%;
- England's rate and its practices' 5th–95th percentiles (the spine chart);
- a funnel with over-dispersion (:func:`helpers.stats.funnels.funnel`, the pack's robust
  additive τ² and 99.8% limits) and the practices beyond its limits;
- the rate by practice list-size fifth (the size curve of a real indicator).

In publish mode every count and denominator is rounded to 5 (1 to 7 suppressed) before any
rate is computed, so each figure shown is derived from published counts only. Nothing here
is synthetic: areas are named by their real names and codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers import formats
from helpers.analysis.areas import area_table
from helpers.analysis.context import Context
from helpers.cache import cached
from helpers.codes import among
from helpers.stats import rates, sdc
from helpers.stats.funnels import funnel

OVERDISPERSION = "robust"
"""The funnel's over-dispersion method (as notebook 01's default)."""
LIMIT = 99.8
"""The funnel limit beyond which a practice is an outlier."""
SIZE_BANDS = 5
"""List-size fifths for the size curve."""


def _published(values, publish: bool) -> np.ndarray:
    """Counts as they may be shown: exact, or rounded to 5 with 1-7 suppressed (NaN)."""
    v = np.asarray(values, float)
    return sdc.publish_counts(v)[0] if publish else v


def interval(count, denominator, measure: str, multiplier: float) -> pd.DataFrame:
    """Value and 95% / 99.8% limits of counts over denominators, in the indicator's unit:
    a crude rate with exact / Byar limits (``measure`` 'rate') or a proportion with Wilson
    limits ('proportion'). NaN where the count or denominator is missing or not positive."""
    x = np.asarray(count, float)
    n = np.asarray(denominator, float)
    ok = np.isfinite(x) & np.isfinite(n) & (n > 0)
    out = pd.DataFrame(np.nan, index=range(len(x)),
                       columns=["value", "lower95", "upper95", "lower99_8", "upper99_8"])
    if ok.any():
        f = rates.crude_rate if measure == "rate" else rates.proportion
        r = f(x[ok], n[ok], multiplier=multiplier, confidence=(0.95, 0.998))
        out.loc[ok, out.columns] = r[out.columns].to_numpy()
    return out


@cached
def indicator_catalogue(ds) -> pd.DataFrame:
    """Cached: one row per indicator in the data (its latest year): id, name, year and
    period ('2021/22'), unit, multiplier,
    measure, source, practices with a row and rows whose count the publisher suppressed."""
    t = ds.indicators
    g = t.groupby("indicator_id", sort=False)
    out = g.agg(indicator_name=("indicator_name", "first"), year=("year", "max"),
                unit=("unit", "first"), multiplier=("multiplier", "first"),
                measure=("measure", "first"), source=("source", "first"),
                n_rows=("practice_code", "size"),
                n_source_suppressed=("count", lambda c: int(c.isna().sum())))
    out["period"] = [formats.year(y) for y in out["year"]]    # 2021 → '2021/22'
    return out.reset_index()


@cached
def national_points(ds, publish: bool) -> pd.DataFrame:
    """Cached: every practice × indicator (latest period): published count and denominator,
    rate and 95% / 99.8% limits, the funnel's flag against England and its 99.8% limits at
    the practice's denominator, commissioner, network and list size."""
    t = ds.indicators
    latest = t.groupby("indicator_id")["year"].transform("max")
    t = t[t["year"] == latest]
    at = area_table(ds)
    pr = at[at["level"] == "practice"].set_index("code")
    frames = []
    for iid, d in t.groupby("indicator_id", sort=False):
        d = d.reset_index(drop=True)
        measure, mult = str(d["measure"].iloc[0]), float(d["multiplier"].iloc[0])
        code = d["practice_code"].astype(str)
        cnt = _published(d["count"].astype(float), publish)
        den = _published(d["denominator"].astype(float), publish)
        iv = interval(cnt, den, measure, mult)
        shown = np.isfinite(cnt) & np.isfinite(den) & (den > 0)
        out = pd.DataFrame({"indicator_id": str(iid), "practice_code": code,
                            "commissioner_code": code.map(pr["commissioner_code"]),
                            "network_code": code.map(pr["network_code"]),
                            "list_size": code.map(pr["list_size"]).astype(float),
                            "count": cnt, "denominator": den, "shown": shown,
                            "count_exact": d["count"].astype(float).to_numpy(),
                            "denominator_exact": d["denominator"].astype(float).to_numpy(),
                            "source_suppressed": d["count"].isna().to_numpy(), **iv})
        out["flag"], out["outlier"] = "Not shown", False
        for c in ("od_lcl95", "od_ucl95", "od_lcl99", "od_ucl99"):
            out[c] = np.nan
        fr = _funnel(cnt[shown], den[shown], measure, mult)
        if fr is not None:
            p = fr.points
            scale = _scale(fr, cnt[shown], den[shown], measure, mult)
            out.loc[shown, "flag"] = p["flag"].to_numpy()
            out.loc[shown, "outlier"] = p["outlier"].astype(bool).to_numpy()
            lim = "od_" if fr.adjusted else ""
            for lev in ("95", "99"):
                for side in ("lcl", "ucl"):
                    out.loc[shown, f"od_{side}{lev}"] = p[f"{lim}{side}{lev}"].to_numpy() \
                        * scale
        frames.append(out)
    return pd.concat(frames, ignore_index=True)


def _funnel(cnt, den, measure: str, mult: float):
    """The national funnel of one indicator: standardised ratios O / E (E at England's rate)
    for rates, proportions for registers; robust over-dispersion, 99.8% limits."""
    if len(cnt) < 2 or np.nansum(cnt) <= 0:
        return None
    if measure == "rate":
        e = den * cnt.sum() / den.sum()
        return funnel(cnt, e, kind="SR", method=OVERDISPERSION, limit=LIMIT)
    return funnel(cnt, den, kind="PR", method=OVERDISPERSION, limit=LIMIT, multiplier=mult)


def _scale(fr, cnt, den, measure: str, mult: float) -> float:
    """What turns the funnel's values into the indicator's unit: England's rate for a ratio
    (ratio 1 = England); 1 for a proportion (its funnel is already in the unit)."""
    return float(cnt.sum() / den.sum() * mult) if measure == "rate" else 1.0


@cached
def national_summary(ds, publish: bool) -> pd.DataFrame:
    """Cached: per indicator, England's count, denominator, rate and limits (exact sums over
    England's practices, published: :func:`aggregate`), the practices' percentiles (5th, 25th, median, 75th, 95th), the
    funnel's over-dispersion (φ, τ²) and how many practices lie above and below its
    limits, are suppressed at source or in publishing."""
    pts = national_points(ds, publish)
    cat = indicator_catalogue(ds).set_index("indicator_id")
    rows = []
    for iid, d in pts.groupby("indicator_id", sort=False):
        c = cat.loc[iid]
        s = d[d["shown"]]
        tot = aggregate(d, d["practice_code"], c["measure"], float(c["multiplier"]), publish)
        cnt, den = tot["count"], tot["denominator"]
        iv = pd.Series({k: tot[k] for k in ("value", "lower95", "upper95", "lower99_8",
                                             "upper99_8")})
        fr = _funnel(s["count"].to_numpy(float), s["denominator"].to_numpy(float),
                     c["measure"], float(c["multiplier"]))
        q = np.percentile(s["value"], [5, 25, 50, 75, 95]) if len(s) else [np.nan] * 5
        rows.append({"indicator_id": iid, "count": cnt, "denominator": den,
                     **{k: float(iv[k]) for k in iv.index},
                     "p5": q[0], "p25": q[1], "p50": q[2], "p75": q[3], "p95": q[4],
                     "phi": fr.phi if fr else np.nan, "tau2": fr.tau2 if fr else np.nan,
                     "n_practices": int(len(d)), "n_shown": int(len(s)),
                     "n_publish_suppressed": int((~d["shown"] & ~d["source_suppressed"])
                                                 .sum()),
                     "n_high": int((s["outlier"] & s["flag"].str.startswith("High")).sum()),
                     "n_low": int((s["outlier"] & s["flag"].str.startswith("Low")).sum())})
    return cat.reset_index().merge(pd.DataFrame(rows), on="indicator_id")


@cached
def national_curves(ds, publish: bool) -> pd.DataFrame:
    """Cached: each indicator's funnel limits (95%, 99.8%) over a grid of denominators, in
    the indicator's unit, for the chart."""
    pts = national_points(ds, publish)
    cat = indicator_catalogue(ds).set_index("indicator_id")
    frames = []
    for iid, d in pts.groupby("indicator_id", sort=False):
        s = d[d["shown"]]
        c = cat.loc[iid]
        cnt, den = s["count"].to_numpy(float), s["denominator"].to_numpy(float)
        fr = _funnel(cnt, den, c["measure"], float(c["multiplier"]))
        if fr is None:
            continue
        grid = np.geomspace(max(den.min(), 1.0) / 1.2, den.max() * 1.2, 160)
        if c["measure"] == "rate":
            cur = fr.curve(grid * cnt.sum() / den.sum())
        else:
            cur = fr.curve(grid)
        scale = _scale(fr, cnt, den, c["measure"], float(c["multiplier"]))
        cur = cur.assign(denominator=grid, **{k: cur[k] * scale for k in
                                              ("lcl95", "ucl95", "lcl99", "ucl99")})
        frames.append(cur.assign(indicator_id=iid))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["indicator_id", "denominator", "lcl95", "ucl95", "lcl99", "ucl99"])


def aggregate(points: pd.DataFrame, codes, measure: str, multiplier: float,
              publish: bool = False) -> dict:
    """The rate of a set of practices with its limits: the sum of their exact counts over
    the sum of their denominators (practices whose count the publisher suppressed left
    out), each total then published (rounded to 5, 1-7 suppressed) in publish mode and the
    rate computed from the published totals; ``n`` practices counted."""
    d = points[among(points["practice_code"], list(codes))]
    d = d[d["count_exact"].notna() & (d["denominator_exact"] > 0)]
    cnt = _published([d["count_exact"].sum()], publish)[0] if len(d) else np.nan
    den = _published([d["denominator_exact"].sum()], publish)[0] if len(d) else np.nan
    iv = interval([cnt], [den], measure, multiplier).iloc[0]
    return {"count": float(cnt), "denominator": float(den), "n": int(len(d)),
            **{k: float(v) for k, v in iv.items()}}


def verdict(lower: float, upper: float, england: float) -> str:
    """'higher', 'lower' or 'similar' to England: the 95% interval above, below or
    spanning England's value; 'not shown' where there is none."""
    if not (np.isfinite(lower) and np.isfinite(upper)):
        return "not shown"
    return "higher" if lower > england else "lower" if upper < england else "similar"


def rank_among(points: pd.DataFrame, by: str, code: str) -> tuple[int, int]:
    """(rank, of how many) of an area's rate among England's areas grouped by ``by``
    (``commissioner_code`` or ``network_code``), highest first."""
    d = points[points["count_exact"].notna()]
    s = d.groupby(by)[["count_exact", "denominator_exact"]].sum()
    s = s[s["denominator_exact"] > 0]
    r = (s["count_exact"] / s["denominator_exact"]).rank(ascending=False, method="min")
    return (int(r.get(code, 0)), int(len(r)))


@dataclass
class RealIndicators:
    """Notebook 04's figures for one area."""

    has_data: bool
    indicators: pd.DataFrame = field(default_factory=pd.DataFrame)   # one row each
    practices: pd.DataFrame = field(default_factory=pd.DataFrame)    # the area's practices
    curves: pd.DataFrame = field(default_factory=pd.DataFrame)
    england_points: pd.DataFrame = field(default_factory=pd.DataFrame)
    sizes: pd.DataFrame = field(default_factory=pd.DataFrame)        # rate by size fifth
    outliers: pd.DataFrame = field(default_factory=pd.DataFrame)
    ended: pd.Timestamp | None = None   # a network whose every membership had ended: when


def size_curve(points: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """Each indicator's England rate by practice list-size fifth (list at the latest count):
    band, list-size range, practices, and the band's rate with limits."""
    rows = []
    for iid, d in points[points["shown"] & points["list_size"].notna()].groupby(
            "indicator_id", sort=False):
        c = summary.set_index("indicator_id").loc[iid]
        # practices of one list size stay in one fifth (ranked 'first', a tie at a boundary
        # was split, and two fifths both claimed '4,886 patients')
        band = pd.qcut(d["list_size"].rank(method="min"), SIZE_BANDS, labels=False,
                       duplicates="drop")
        for b, g in d.groupby(band):
            iv = interval([g["count_exact"].sum()], [g["denominator_exact"].sum()],
                          c["measure"], float(c["multiplier"])).iloc[0]
            rows.append({"indicator_id": iid, "band": int(b) + 1,
                         "list_min": float(g["list_size"].min()),
                         "list_max": float(g["list_size"].max()), "n": int(len(g)),
                         "value": float(iv["value"]), "lower95": float(iv["lower95"]),
                         "upper95": float(iv["upper95"])})
    return pd.DataFrame(rows)


def analyse(ctx: Context) -> RealIndicators:
    """Notebook 04's figures: each real indicator for the area, where it stands among
    England's practices (and its commissioners or networks), and its outlying practices."""
    if not ctx.ds.has("indicators") or len(ctx.ds.indicators) == 0:
        return RealIndicators(False)
    ds, w = ctx.ds, ctx.where
    pts = national_points(ds, ctx.publish)
    summ = national_summary(ds, ctx.publish)
    mine = pts[among(pts["practice_code"], ctx.practice_codes)]
    rows = []
    for _, c in summ.iterrows():
        iid, measure, mult = c["indicator_id"], c["measure"], float(c["multiplier"])
        p = pts[pts["indicator_id"] == iid]
        me = aggregate(p, ctx.practice_codes, measure, mult, ctx.publish) \
            if not ctx.is_england else {
            "count": c["count"], "denominator": c["denominator"], "n": c["n_shown"],
            **{k: c[k] for k in ("value", "lower95", "upper95", "lower99_8", "upper99_8")}}
        row = {**{k: c[k] for k in ("indicator_id", "indicator_name", "period", "unit",
                                    "multiplier", "measure", "source", "p5", "p25", "p50",
                                    "p75", "p95", "phi", "tau2")},
               "england": c["value"], "england_lower95": c["lower95"],
               "england_upper95": c["upper95"], **me,
               "verdict": "England" if ctx.is_england else
               verdict(me["lower95"], me["upper95"], c["value"])}
        mp = p[among(p["practice_code"], ctx.practice_codes)]
        row["n_practices"] = int(len(mp))
        row["n_high"] = int((mp["outlier"] & mp["flag"].str.startswith("High")).sum())
        row["n_low"] = int((mp["outlier"] & mp["flag"].str.startswith("Low")).sum())
        row["n_source_suppressed"] = int(mp["source_suppressed"].sum())
        row["n_not_shown"] = int((~mp["shown"]).sum())
        if not ctx.is_england and mp.empty:      # not in the file (closed before, unlisted)
            row["verdict"] = "no row"
        shown = p.loc[p["shown"], "value"].to_numpy(float)
        row["percentile"] = float((shown < me["value"]).mean() * 100) \
            if np.isfinite(me["value"]) and len(shown) else np.nan
        row["rank"], row["of"] = (0, 0)
        if ctx.level == "commissioner":
            row["rank"], row["of"] = rank_among(p, "commissioner_code", w.code)
        elif ctx.level == "network":
            row["rank"], row["of"] = rank_among(p, "network_code", w.code)
        for key, codes in (("network", _network_members(ds, w) if ctx.level == "practice"
                            else []),
                           ("similar", list(w.similar) if ctx.level == "practice" else []),
                           ("commissioner", p.loc[p["commissioner_code"] == w.commissioner,
                                                  "practice_code"].tolist()
                            if ctx.level in ("practice", "network") else [])):
            row[key] = aggregate(p, codes, measure, mult, ctx.publish)["value"] \
                if codes else np.nan
        if ctx.level == "practice":     # a practice absent from one file: no funnel place
            row["flag"] = str(mp["flag"].iloc[0]) if len(mp) else "No row"
        rows.append(row)
    ind = pd.DataFrame(rows)
    # a publisher's '0-4' is a range: written with the pack's en dash wherever it is shown
    ind["indicator_name"] = ind["indicator_name"].astype(str).map(formats.dashes)
    ind["unit"] = ind["unit"].astype(str).map(formats.dashes)
    names = area_table(ds).set_index("code")["name"]
    mine = mine.assign(name=mine["practice_code"].map(names).fillna(mine["practice_code"]))
    outl = mine[mine["outlier"]].merge(ind[["indicator_id", "indicator_name", "england"]],
                                       on="indicator_id")
    return RealIndicators(True, ind, mine.reset_index(drop=True),
                          national_curves(ds, ctx.publish), pts, size_curve(pts, summ),
                          outl.reset_index(drop=True), network_ended(ds, ctx))


def network_ended(ds, ctx: Context) -> pd.Timestamp | None:
    """The day a network's last membership ended, for a network none of whose practices
    is still a member (a PCN dissolved or replaced); None for any other area. Its figures
    are then its former members', in periods after it ended."""
    if ctx.level != "network" or not ds.has("groups"):
        return None
    g = ds.groups[ds.groups["group_code"].astype(str) == str(ctx.where.code)]
    if g.empty or g["left"].isna().any():
        return None
    return pd.Timestamp(g["left"].max())


def _network_members(ds, w) -> list[str]:
    """The practices of a practice's (latest) network, itself included."""
    if not w.network or not ds.has("groups"):
        return []
    g = ds.groups
    return g.loc[g["group_code"].astype(str) == w.network, "practice_code"].astype(
        str).unique().tolist()


def headline(ctx: Context, ri: RealIndicators) -> dict:
    """The first indicator's (A&E 0-4's) key figures for the results and the index."""
    if not ri.has_data or ri.indicators.empty:
        return {"has_indicators": False}
    r = ri.indicators.iloc[0]
    return {"has_indicators": True, "indicator_id": r["indicator_id"],
            "indicator": r["indicator_name"], "period": r["period"], "unit": r["unit"],
            "count": r["count"], "denominator": r["denominator"], "rate": r["value"],
            "lower95": r["lower95"], "upper95": r["upper95"], "england": r["england"],
            "verdict": r["verdict"], "n_high": int(r["n_high"]), "n_low": int(r["n_low"])}


FILE_PRECISION = 5e-6
"""Fingertips writes rates and limits to 5 decimal places (some to more): two values agree
'to the file's precision' when they differ by at most half the last place."""

ROUNDING_RADIUS = 2
"""Fingertips rounds a HES/ECDS count to the nearest 5, so the count behind a published
interval is within 2 of the published count."""


def _limits_at(count: np.ndarray, den: np.ndarray, mult: float, conf: float
               ) -> tuple[np.ndarray, np.ndarray]:
    lo, hi, _ = rates.count_limits(count, conf)
    return lo / den * mult, hi / den * mult


def reproduce_fingertips(ft: pd.DataFrame, area_type: str = "GPs",
                         multiplier: float = 1000.0) -> tuple[pd.DataFrame, dict]:
    """Recompute a Fingertips rate export's values with the pack's methods, row by row.

    ``ft``: :func:`helpers.sources.nhs_files.read_fingertips_export` rows. For each row of
    ``area_type`` (persons, no breakdown): the rate count / denominator × ``multiplier``
    against ``value``; the 95% (and, where published, 99.8%) limits of
    :func:`helpers.stats.rates.crude_rate` from the published count, and from the count
    within :data:`ROUNDING_RADIUS` of it whose limits match best (Fingertips computes the
    interval from the count before rounding it to 5 for publication). Rows without a count
    are counted as suppressed with the publisher's note.

    Returns the rows (with ``recovered_count``, differences and agreement flags) and a
    summary: rows, suppressed, values and intervals agreeing to the file's precision, the
    largest absolute differences, and whether each recovered count was unique.
    """
    d = ft[(ft["area_type"] == area_type) & (ft["sex"].isin(["Persons", ""]))
           & (ft["category"] == "")].reset_index(drop=True)
    blank = d["count"].isna() | d["denominator"].isna() | ~(d["denominator"] > 0)
    ok = d[~blank].reset_index(drop=True)
    x, n = ok["count"].to_numpy(float), ok["denominator"].to_numpy(float)
    cr = rates.crude_rate(x, n, multiplier=multiplier, confidence=(0.95, 0.998))
    ok["value_diff"] = (cr["value"] - ok["value"]).abs()
    ok["ci95_diff_published_count"] = np.maximum((cr["lower95"] - ok["lower95"]).abs(),
                                                 (cr["upper95"] - ok["upper95"]).abs())
    diffs = []
    for k in range(-ROUNDING_RADIUS, ROUNDING_RADIUS + 1):
        lo, hi = _limits_at(x + k, n, multiplier, 0.95)
        diffs.append(np.maximum(np.abs(lo - ok["lower95"]), np.abs(hi - ok["upper95"])))
    diffs = np.vstack(diffs)
    best = diffs.argmin(axis=0)
    ok["recovered_count"] = x + best - ROUNDING_RADIUS
    ok["ci95_diff"] = diffs.min(axis=0)
    ok["recovery_unique"] = (diffs <= FILE_PRECISION).sum(axis=0) == 1
    lo998, hi998 = _limits_at(ok["recovered_count"].to_numpy(float), n, multiplier, 0.998)
    ok["ci998_diff"] = np.maximum(np.abs(lo998 - ok["lower99_8"]),
                                  np.abs(hi998 - ok["upper99_8"]))
    has998 = ok["lower99_8"].notna() & ok["upper99_8"].notna()
    within = FILE_PRECISION * (1 + 1e-6)
    summary = {
        "rows": int(len(d)), "with_count": int(len(ok)), "suppressed": int(blank.sum()),
        "suppressed_notes": sorted(set(d.loc[blank, "note"]) - {""}),
        "value_agree": int((ok["value_diff"] <= within).sum()),
        "value_max_abs_diff": float(ok["value_diff"].max()) if len(ok) else np.nan,
        "ci95_agree_published_count": int((ok["ci95_diff_published_count"] <= within).sum()),
        "ci95_agree": int((ok["ci95_diff"] <= within).sum()),
        "ci95_max_abs_diff": float(ok["ci95_diff"].max()) if len(ok) else np.nan,
        "recovered_unique": int(ok["recovery_unique"].sum()),
        "ci998_published": int(has998.sum()),
        "ci998_agree": int((has998 & (ok["ci998_diff"] <= within)).sum()),
    }
    return ok, summary


def fingertips_pcn_check(ft: pd.DataFrame, multiplier: float = 1000.0) -> dict:
    """Whether Fingertips' PCN rows are the sums of their member practices' rows (members
    by the file's ``Parent Code``): PCNs whose denominator equals the members' sum, and of
    those, whose count before rounding (recovered from the PCN's interval, as in
    :func:`reproduce_fingertips`) equals the sum of the members' recovered counts."""
    gp, _ = reproduce_fingertips(ft, "GPs", multiplier)
    pcn_types = sorted(t for t in ft["area_type"].unique() if t.startswith("PCN"))
    if not pcn_types:
        return {"pcns": 0}
    pcn, _ = reproduce_fingertips(ft, pcn_types[0], multiplier)
    members = gp.groupby("parent_code").agg(den=("denominator", "sum"),
                                            rec=("recovered_count", "sum"),
                                            n=("area_code", "size"))
    all_members = ft[ft["area_type"] == "GPs"].groupby("parent_code").size()
    m = pcn.set_index("area_code").join(members, how="left")
    m["complete"] = m.index.map(all_members).fillna(0).to_numpy() == m["n"].fillna(0)
    same_den = m["den"] == m["denominator"]
    same_count = same_den & (m["rec"] == m["recovered_count"])
    return {"pcns": int(len(m)), "with_member_rows": int(m["n"].notna().sum()),
            "denominator_equals_members": int(same_den.sum()),
            "count_equals_members": int(same_count.sum()),
            "value_from_members_agree": int((same_count & (
                (m["rec"] / m["den"] * multiplier - m["recovered_count"] / m["denominator"]
                 * multiplier).abs() <= FILE_PRECISION)).sum())}
