"""Referral analysis tables: observed and expected referrals by practice, period and specialty.

Expected counts come from indirect standardisation: each practice's registered population by
sex × 5-year age band (the April snapshot of the financial year) times the reference rates
(referrals per person-year) for each specialty, pro rata for the months the practice was open.
Optionally the expected counts are further adjusted for deprivation (IMD quintile) with a
national Poisson model, so ratios then compare like with like on age, sex and deprivation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.cache import cached
from helpers.codes import rows_of
from helpers.datasets import Dataset
from helpers.schema import AGE_BANDS, financial_year


def _expected_practice_year_specialty(ds: Dataset) -> pd.DataFrame:
    pop = ds.population.copy()
    pop["year"] = financial_year(pop["period"])
    pop["stratum"] = pop["sex"].astype(str) + "|" + pop["age_band"].astype(str)
    strata = [f"{s}|{a}" for s in ("F", "M") for a in AGE_BANDS]
    wide = pop.pivot_table(index=["practice_code", "year"], columns="stratum",
                           values="patients", aggfunc="sum", observed=True, fill_value=0)
    wide = wide.reindex(columns=strata, fill_value=0)
    rr = ds.reference_rates.copy()
    rr["stratum"] = rr["sex"].astype(str) + "|" + rr["age_band"].astype(str)
    rate = rr.pivot_table(index="stratum", columns="specialty_code", values="rate",
                          aggfunc="sum", observed=True).reindex(strata).fillna(0.0)
    e = wide.to_numpy(float) @ rate.to_numpy(float)            # per year
    out = pd.DataFrame(e, index=wide.index, columns=rate.columns.astype(str))
    out = out.stack().rename("expected_full_year").reset_index()
    out.columns = ["practice_code", "year", "specialty_code", "expected_full_year"]
    return out


def practice_month_specialty(ds: Dataset) -> pd.DataFrame:
    """Observed and expected referrals per practice × month × specialty (expected = yearly/12).

    A practice counts as open in a month when it has any referral row that month; its
    specialties without a row that month are zero referrals (record-level extracts have no
    zero rows), so expected counts are never left out for them.
    """
    ref = ds.referrals[["practice_code", "month", "specialty_code", "referrals"]].copy()
    keys = ref[["practice_code", "month"]].drop_duplicates()
    specs = ds.specialties["specialty_code"].astype(str).tolist()
    if len(ref) < len(keys) * len(specs):      # complete the practice-month × specialty grid
        for c in ("practice_code", "specialty_code"):
            ref[c] = ref[c].astype(str)
        keys = keys.assign(practice_code=keys["practice_code"].astype(str))
        grid = keys.merge(pd.DataFrame({"specialty_code": specs}), how="cross")
        ref = grid.merge(ref, on=["practice_code", "month", "specialty_code"], how="left")
        ref["referrals"] = ref["referrals"].fillna(0).astype("int64")
    ref["year"] = financial_year(ref["month"])
    exp = _expected_practice_year_specialty(ds)
    for c in ("practice_code", "specialty_code"):
        ref[c] = ref[c].astype(str)
        exp[c] = exp[c].astype(str)
    m = ref.merge(exp, on=["practice_code", "year", "specialty_code"], how="left")
    m["expected"] = m["expected_full_year"].fillna(0.0) / 12.0
    m = m.rename(columns={"referrals": "observed"})
    return m[["practice_code", "month", "year", "specialty_code", "observed", "expected"]]


def national_tables(ds: Dataset) -> dict[str, pd.DataFrame]:
    """The cached national tables every referral report slices.

    * ``pys``: practice × financial year × specialty (observed, expected);
    * ``pm``: practice × month, all specialties (observed, expected).
    """
    return {"pys": practice_year_specialty(ds), "pm": practice_month(ds)}


@cached
def practice_year_specialty(ds: Dataset) -> pd.DataFrame:
    """Cached: observed and expected referrals by practice × financial year × specialty."""
    m = practice_month_specialty(ds)
    return m.groupby(["practice_code", "year", "specialty_code"], as_index=False)[
        ["observed", "expected"]].sum()


@cached
def practice_month(ds: Dataset) -> pd.DataFrame:
    """Cached: observed and expected referrals by practice × month, all specialties."""
    m = practice_month_specialty(ds)
    return m.groupby(["practice_code", "month"], as_index=False)[
        ["observed", "expected"]].sum()


def months_open(ds: Dataset, codes: list[str] | None = None,
                years: list[int] | None = None) -> pd.Series:
    """The exposure of each practice: the months it was open in the period (financial
    ``years``; all when None), by practice code, for the practices ``codes`` (all when
    None; a practice never open in the period is 0).

    The one definition every per-year figure, funnel point, peer, chart and sentence of the
    referral reports uses: a practice is open in a month when the data holds its referral
    row for that month (an extract records a practice's months, zero referrals included,
    while it is open; its expected counts are built for exactly these months, see
    :func:`practice_month_specialty`). Years open are these months / 12.
    """
    pym = practice_year_months(ds)
    if codes is not None:            # the practices' rows first: a report asks for a few
        codes = [str(c) for c in codes]
        pym = rows_of(pym, codes)
    if years:
        pym = pym[pym["year"].isin(years)]
    # a month lies in one financial year, so the months of the years add up
    n = pym.groupby("practice_code")["months"].sum()
    n.index = n.index.astype(str)
    if codes is not None:
        n = n.reindex(codes, fill_value=0)
    return n.astype(int).rename("months_open")


@cached
def practice_year_months(ds: Dataset) -> pd.DataFrame:
    """Cached: the months each practice was open in each financial year (its months with a
    referral row, :func:`months_open`), as columns practice_code, year and months; worked
    out once for the practice-month table rather than at each report's every question."""
    pm = national_tables(ds)["pm"]
    pm = pm.assign(year=financial_year(pm["month"]))
    out = pm.groupby(["practice_code", "year"], observed=True)["month"].nunique() \
        .rename("months").reset_index()
    out["practice_code"] = out["practice_code"].astype(str)
    return out


def person_years(ds: Dataset, years: list[int] | None = None) -> pd.Series:
    """Each practice's registered patients over its exposure, in person-years: every
    financial year's list (its April count) × the months it was open that year
    (:func:`months_open`) / 12, summed over the period's ``years`` (all when None). A
    practice that closed in June counts a quarter of its last year's list, as its referrals
    and expected counts cover a quarter of that year."""
    pop = ds.population.assign(year=financial_year(ds.population["period"]))
    if years:
        pop = pop[pop["year"].isin(years)]
    lists = pop.groupby(["practice_code", "year"], observed=True)["patients"].sum() \
        .reset_index()
    months = practice_year_months(ds)
    lists["practice_code"] = lists["practice_code"].astype(str)
    j = lists.merge(months, on=["practice_code", "year"], how="left")
    j["py"] = j["patients"] * j["months"].fillna(0) / 12.0
    return j.groupby("practice_code")["py"].sum().rename("person_years")


def area_months_open(ds: Dataset, codes: list[str], years: list[int] | None = None) -> int:
    """An area's exposure: the months in the period in which any of its practices ``codes``
    was open (the union of their months, :func:`months_open`): a network whose practice
    closed and whose other practice opened later is open for the months either was."""
    months = _area_months(ds, tuple(str(c) for c in codes))
    if years:       # the financial year of each distinct month, not of each row
        months = months[np.isin(financial_year(months), list(years))]
    return len(months)


_AREA_MONTHS: dict[tuple, np.ndarray] = {}
"""Each set of practices' distinct months, by dataset and codes, kept in the process (a
report asks for its area's in each year, and for its comparators', as the next report
does for England's): at most :data:`AREA_MONTHS_KEPT`."""
AREA_MONTHS_KEPT = 64


def _area_months(ds: Dataset, codes: tuple[str, ...]) -> np.ndarray:
    """The distinct months in which any of the practices ``codes`` has a referral row."""
    key = (ds.content_hash, str(ds.path), codes)
    if ds.content_hash and key in _AREA_MONTHS:
        return _AREA_MONTHS[key]
    pm = national_tables(ds)["pm"]
    months = np.asarray(rows_of(pm, codes)["month"].dropna().unique())
    if ds.content_hash:
        if len(_AREA_MONTHS) >= AREA_MONTHS_KEPT:
            _AREA_MONTHS.clear()
        _AREA_MONTHS[key] = months
    return months


@cached
def practice_frame(ds: Dataset) -> pd.DataFrame:
    """Practice attributes for analysis: commissioner, network, IMD quintile, list size
    (cached per dataset)."""
    p = ds.practices.copy()
    for c in ("practice_code", "commissioner_code", "sub_area_code"):
        p[c] = p[c].astype(str)
    pop = ds.population.groupby(["practice_code", "period"], observed=True)["patients"].sum()
    last = pop.reset_index().sort_values("period").groupby("practice_code").tail(1)
    last["practice_code"] = last["practice_code"].astype(str)
    p = p.merge(last[["practice_code", "patients"]].rename(columns={"patients": "list_size"}),
                on="practice_code", how="left")
    p["imd_quintile"] = imd_quintiles(p["imd_score"])
    if ds.has("groups") and len(ds.groups):
        g = ds.groups.sort_values("joined").groupby("practice_code").tail(1)
        g = g.assign(practice_code=g.practice_code.astype(str))
        p = p.merge(g[["practice_code", "group_code", "joined"]], on="practice_code",
                    how="left")
    else:
        p["group_code"], p["joined"] = pd.NA, pd.NaT
    p["network"] = p["group_code"].fillna("none-" + p["practice_code"]).astype(str)
    return p


def imd_quintiles(scores: pd.Series) -> pd.Series:
    """England's IMD quintile (1 least deprived … 5 most) of each practice's score: quantile
    cut points; with fewer than five distinct scores (a dataset of a few practices), by
    rank, so every practice still has a quintile."""
    try:
        return pd.qcut(scores, 5, labels=[1, 2, 3, 4, 5]).astype(int)
    except ValueError:                       # repeated cut points
        return np.ceil(scores.rank(pct=True, method="average") * 5).clip(1, 5).astype(int)


def deprivation_factors(obs_exp: pd.DataFrame, practices: pd.DataFrame) -> pd.Series:
    """Multiplicative deprivation adjustment by IMD quintile (indirect standardisation).

    f_q = (O_q / E_q) / (O / E): the national age/sex-standardised ratio of quintile q relative
    to England. This is the maximum-likelihood fit of a Poisson model observed ~ C(quintile)
    with offset log(expected), normalised so the national expected total is unchanged.
    """
    d = obs_exp.merge(practices[["practice_code", "imd_quintile"]], on="practice_code")
    agg = d.groupby("imd_quintile")[["observed", "expected"]].sum()
    overall = agg["observed"].sum() / agg["expected"].sum()
    return (agg["observed"] / agg["expected"]) / overall


def practice_table(ds: Dataset, years: list[int] | None = None, specialty: str | None = None,
                   standardise: str = "age_sex", pys: pd.DataFrame | None = None,
                   practices: pd.DataFrame | None = None, match_national: bool = True
                   ) -> pd.DataFrame:
    """One row per practice: observed, expected, ratio O/E and its 95%/99.8% intervals,
    crude rate per 1,000 patients per year with intervals, and practice attributes.

    ``standardise``: "age_sex" (expected from national rates by sex × age band) or
    "age_sex_imd" (further adjusted by IMD quintile, see :func:`deprivation_factors`).
    ``match_national`` scales each year's expected counts so that England's ratio is exactly
    1 in every year of the specialty chosen: the reference rates give the age-sex shape,
    England's own referrals in the same year the level (otherwise a trend since the reference
    year, or a national shock such as the 2020 COVID-19 fall, would make practices look high
    or low according to the years they were open). Units: rates are referrals per 1,000 registered patients
    per year.
    """
    from helpers.stats.rates import crude_rate, isr

    if standardise not in ("age_sex", "age_sex_imd"):
        raise ValueError(f"standardise must be 'age_sex' or 'age_sex_imd'; got {standardise!r}")
    pys = national_tables(ds)["pys"] if pys is None else pys
    practices = practice_frame(ds) if practices is None else practices
    d = pys
    if years:
        d = d[d["year"].isin(years)]
    if specialty:
        d = d[d["specialty_code"] == str(specialty)]
    if match_national:        # each year against England's rate in that year
        d = d.assign(expected=d["expected"] * d.groupby("year")["observed"].transform("sum")
                     / d.groupby("year")["expected"].transform("sum"))
    agg = d.groupby("practice_code", as_index=False)[["observed", "expected"]].sum()
    if standardise == "age_sex_imd":
        f = deprivation_factors(agg, practices)
        q = practices.set_index("practice_code")["imd_quintile"]
        agg["expected"] = agg["expected"] * agg["practice_code"].map(q).map(f).to_numpy()
    agg = agg[agg["expected"] > 0]
    # person-years over the months open, so crude rates a year use the one exposure too
    agg["person_years"] = agg["practice_code"].map(person_years(ds, years)).to_numpy()
    # the exposure: months open in the period (:func:`months_open`); every figure a year
    # is a total over the period / (these months / 12)
    agg["months_open"] = months_open(ds, agg["practice_code"].tolist(), years).to_numpy()
    agg["years_open"] = agg["months_open"].clip(lower=1) / 12.0
    r = isr(agg["observed"], agg["expected"])
    for c in ("value", "lower95", "upper95", "lower99_8", "upper99_8"):
        agg[f"ratio_{c}" if c != "value" else "ratio"] = r[c].to_numpy()
    cr = crude_rate(agg["observed"], agg["person_years"], multiplier=1000, confidence=0.95)
    agg["crude_rate"] = cr["value"].to_numpy()
    agg["crude_lower95"] = cr["lower95"].to_numpy()
    agg["crude_upper95"] = cr["upper95"].to_numpy()
    total_py = float(agg["person_years"].sum())
    nat = agg["observed"].sum() / total_py * 1000 if total_py > 0 else np.nan
    agg["standardised_rate"] = agg["ratio"] * nat
    keep = ["practice_code", "practice_name", "commissioner_code", "sub_area_code", "network",
            "imd_score", "imd_quintile", "list_size", "ltc_prevalence", "rurality"]
    return agg.merge(practices[keep], on="practice_code", how="left")


@cached
def specialty_points(ds: Dataset, years: list[int] | None = None) -> pd.DataFrame:
    """National funnel results per practice × specialty (99.8%, robust over-dispersion;
    expected counts scaled so each specialty's national ratio is 1 in every year), cached per
    dataset and period: practice_code, specialty_code, observed, expected, flag,
    upper limit, and the specialty's SD beyond chance."""
    from helpers.stats.funnels import funnel

    d = practice_year_specialty(ds)
    d = d if not years else d[d["year"].isin(years)]
    parts = []
    for code, g in d.groupby("specialty_code"):
        g = g.assign(expected=g["expected"] * g.groupby("year")["observed"].transform(
            "sum") / g.groupby("year")["expected"].transform("sum"))
        agg = g.groupby("practice_code", as_index=False)[["observed", "expected"]].sum()
        agg = agg[agg["expected"] > 0.5]
        if agg.empty:                        # no practice expects a referral here
            continue
        fr = funnel(agg["observed"], agg["expected"], agg["practice_code"],
                    method="robust")
        judged = np.isfinite(fr.tau2)       # too sparse to estimate the spread: no flags
        parts.append(pd.DataFrame({
            "practice_code": agg["practice_code"].to_numpy(), "specialty_code": code,
            "observed": agg["observed"].to_numpy(), "expected": agg["expected"].to_numpy(),
            "flag": fr.points["flag"].to_numpy() if judged else "Within",
            "ucl99": fr.points["od_ucl99"].to_numpy() if judged else np.nan,
            "sd_beyond_chance": float(np.sqrt(fr.tau2)) if judged else np.nan}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["practice_code", "specialty_code", "observed", "expected", "flag", "ucl99",
                 "sd_beyond_chance"])


@cached
def specialty_observed_expected(ds: Dataset, years: list[int] | None = None) -> pd.DataFrame:
    """Cached: referrals and expected referrals per practice × specialty over the period
    (``years``; all when None), expected counts scaled so each specialty's national ratio is
    1 in every year (as :func:`specialty_points`), for every practice: practice_code,
    specialty_code, observed, expected."""
    d = practice_year_specialty(ds)
    d = d if not years else d[d["year"].isin(years)]
    d = d.assign(specialty_code=d["specialty_code"].astype(str))
    by = d.groupby(["specialty_code", "year"])
    d = d.assign(expected=d["expected"] * by["observed"].transform("sum")
                 / by["expected"].transform("sum"))
    return d.groupby(["practice_code", "specialty_code"], as_index=False)[
        ["observed", "expected"]].sum()


def specialty_table(ds: Dataset, years: list[int] | None = None,
                    codes: list[str] | None = None) -> pd.DataFrame:
    """Per specialty: observed and expected (every practice's, ``codes`` restricting the
    practices counted), practices above/below the 99.8% limits (robust over-dispersion,
    national comparison), the national between-practice SD beyond chance, and the
    referrals above the upper limit. A practice expecting half a referral or less of a
    specialty is judged by no funnel, yet its referrals count in the area's."""
    pts = specialty_points(ds, years)
    counts = specialty_observed_expected(ds, years)
    if codes is not None:
        pts = rows_of(pts, codes)
        counts = rows_of(counts, codes)
    pts = pts.assign(excess=(pts["observed"] - pts["ucl99"] * pts["expected"]).clip(lower=0),
                     high=pts["flag"] == "High (99.8%)", low=pts["flag"] == "Low (99.8%)",
                     specialty_code=pts["specialty_code"].astype(str))
    by = pts.groupby("specialty_code")     # one pass for the sums (a named aggregation of
    sums = by[["high", "low", "excess"]].sum()       # each took several times as long)
    judged = pd.DataFrame({"n_practices": by.size(), "n_high": sums["high"],
                           "n_low": sums["low"],
                           "sd_beyond_chance": by["sd_beyond_chance"].first(),
                           "excess_above_limit": sums["excess"]})
    t = counts.groupby("specialty_code")[["observed", "expected"]].sum()
    t = t[(t["observed"] > 0) | (t["expected"] > 0)].join(judged, how="left").reset_index()
    for c in ("n_practices", "n_high", "n_low"):
        t[c] = t[c].fillna(0).astype(int)
    t["excess_above_limit"] = t["excess_above_limit"].fillna(0.0)
    t["ratio"] = t["observed"] / t["expected"]
    names = ds.specialties.set_index(ds.specialties.specialty_code.astype(str))["specialty_name"]
    t["specialty_name"] = t["specialty_code"].map(names).fillna(t["specialty_code"])
    cols = ["specialty_code", "specialty_name", "observed", "expected", "ratio", "n_practices",
            "n_high", "n_low", "sd_beyond_chance", "excess_above_limit"]
    return t[cols].sort_values("excess_above_limit", ascending=False, ignore_index=True)


@cached
def national_month(ds: Dataset) -> pd.DataFrame:
    """Cached: observed and expected referrals in England by month (every practice's)."""
    return practice_month(ds).groupby("month", as_index=False)[["observed", "expected"]].sum()


def monthly_series(ds: Dataset, codes: list[str] | None = None) -> pd.DataFrame:
    """Monthly standardised referral rate (per 1,000 patients per year) for a set of practices
    (all practices when ``codes`` is None): O/E × the national crude rate."""
    nat = national_month(ds).set_index("month")
    if codes is None:
        s = nat.copy()
    else:
        pm = national_tables(ds)["pm"]
        s = rows_of(pm, codes).groupby("month")[
            ["observed", "expected"]].sum()
    pop = population_by_period(ds).set_index("period")["patients"]
    pop.index = financial_year(pd.Series(pop.index)).to_numpy()
    nat_rate = (nat["observed"].sum() * 12) / (pop.mean() * len(nat)) * 1000
    s["ratio"] = s["observed"] / s["expected"]
    s["standardised_rate"] = s["ratio"] * nat_rate * (nat["expected"].sum() / nat[
        "observed"].sum())
    return s.reset_index()


@cached
def population_by_period(ds: Dataset) -> pd.DataFrame:
    """Cached: registered patients in England at each population snapshot."""
    return ds.population.groupby("period", observed=True)["patients"].sum().reset_index()


def cost_per_referral(ds: Dataset, year: int | None = None) -> pd.Series:
    """£ a referral saves, by specialty code, at the prices of ``year`` (default latest): a
    first attendance and its follow-ups, price_first + follow_up_ratio × price_followup
    (empty without a ``prices`` table)."""
    if not ds.has("prices"):
        return pd.Series(dtype=float, name="cost_per_referral")
    pr = ds.prices.assign(specialty_code=ds.prices["specialty_code"].astype(str))
    year = int(pr["year"].max()) if year is None else year
    pr = pr[pr["year"] == year].merge(
        ds.specialties.assign(specialty_code=ds.specialties.specialty_code.astype(str)),
        on="specialty_code")
    cost = pr["price_first"] + pr["follow_up_ratio"] * pr["price_followup"]
    return pd.Series(cost.to_numpy(float), index=pr["specialty_code"].to_numpy(),
                     name="cost_per_referral").rename_axis("specialty_code")


def opportunity(table: pd.DataFrame, ds: Dataset, year: int | None = None,
                specialty: str | None = None) -> pd.DataFrame:
    """Referrals (and £) if practices above their upper 99.8% limit came down to it, or to
    the peer median ratio. ``table`` is a practice table with funnel columns ``od_ucl99``.

    Money: each avoided referral saves a first attendance and its follow-ups at the prices of
    ``year`` (default latest): price_first + follow_up_ratio × price_followup, £, for the
    given specialty or, for all specialties, averaged with weights equal to each specialty's
    share of national referrals. Without a ``prices`` table the £ columns are blank.
    """
    t = table.copy()
    to_limit = (t["observed"] - t["od_ucl99"] * t["expected"]).clip(lower=0)
    med = float(np.median(t["ratio"]))
    to_median = (t["observed"] - med * t["expected"]).clip(lower=0)
    t["excess_to_limit"] = to_limit
    t["excess_to_median"] = to_median
    if not ds.has("prices"):       # referrals still counted; money left blank
        t["saving_to_limit_gbp"] = t["saving_to_median_gbp"] = np.nan
        t.attrs["cost_per_referral_gbp"] = np.nan
        return t
    pr = cost_per_referral(ds, year).rename("cost_per_referral").reset_index()
    if specialty:
        sel = pr[pr["specialty_code"] == str(specialty)]
        unit = float(sel["cost_per_referral"].iloc[0]) if len(sel) else np.nan
    else:   # weighted by each specialty's share of national referrals
        w = national_tables(ds)["pys"].groupby("specialty_code")["observed"].sum()
        w = pr["specialty_code"].map(w).fillna(0.0)
        unit = float(np.average(pr["cost_per_referral"], weights=w)) if w.sum() else np.nan
    t["saving_to_limit_gbp"] = to_limit * unit
    t["saving_to_median_gbp"] = to_median * unit
    t.attrs["cost_per_referral_gbp"] = unit
    return t
