"""Rates, proportions and standardised ratios with confidence intervals.

Conventions follow PHEindicatormethods 2.1.0 exactly (tested against its fixtures):

* confidence ``c`` may be 0.95/0.998 or 95/99.8 (values ≥ 90 are divided by 100);
  z = Φ⁻¹(1 − (1 − c)/2);
* counts: exact Poisson (chi-square) limits when O < 10, Byar's approximation otherwise;
  Byar's lower limit is set to NaN when negative;
* proportions: Wilson score interval;
* directly standardised rates: Dobson method with Byar limits on the total count, NaN when the
  total count is below 10;
* indirectly standardised ratios/rates: O/E with the count limits divided by E.

Hand-written because no maintained Python package implements these public-health conventions
(PHE's is R only); the formulas are a few lines of scipy each.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

ArrayLike = float | np.ndarray | pd.Series

ESP2013: dict[str, int] = dict(zip(
    [f"{a}-{a + 4}" for a in range(0, 90, 5)] + ["90+"],
    [5000, 5500, 5500, 5500, 6000, 6000, 6500, 7000, 7000, 7000, 7000, 6500, 6000, 5500,
     5000, 4000, 2500, 1500, 1000], strict=True))
"""European Standard Population 2013 by 5-year band (0-4 … 85-89, 90+; total 100,000):
Eurostat, *Revision of the European Standard Population*, 2013 edition, KS-RA-13-028-EN."""


def _conf(confidence: float) -> float:
    c = float(confidence)
    if c >= 90:
        c /= 100
    if not 0 < c <= 1:
        raise ValueError(f"confidence must be in (0, 1] or (0, 100]; got {confidence}")
    return c


def z_value(confidence: float) -> float:
    """Two-sided normal quantile for a confidence level.

    Parameters
    ----------
    confidence : float
        Confidence level, 0.95/0.998 or 95/99.8 (values of 90 and over are divided by 100).

    Returns
    -------
    float
        z = Φ⁻¹(1 − (1 − c)/2): 1.959964 at 95%, 3.090232 at 99.8%; infinity at 100%.

    References
    ----------
    ukhsa-collaboration/PHEindicatormethods 2.1.0, internal z convention.
    """
    c = _conf(confidence)
    return float(stats.norm.ppf(1 - (1 - c) / 2)) if c < 1 else np.inf


def byars_lower(o: ArrayLike, confidence: float = 0.95) -> np.ndarray:
    """Byar's approximate lower confidence limit for a Poisson count.

    Parameters
    ----------
    o : array_like
        Observed counts (events).
    confidence : float, default 0.95
        Confidence level (0.95 or 95 style).

    Returns
    -------
    numpy.ndarray
        O·(1 − 1/(9O) − z/(3√O))³ in events; NaN where negative (e.g. O = 1 at 99.8%).

    References
    ----------
    Breslow NE, Day NE. *Statistical Methods in Cancer Research* vol II (1987);
    ukhsa-collaboration/PHEindicatormethods 2.1.0 ``byars_lower``.
    """
    o = np.asarray(o, dtype=float)
    z = z_value(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = o * (1 - 1 / (9 * o) - z / (3 * np.sqrt(o))) ** 3
    return np.where(lo < 0, np.nan, lo)


def byars_upper(o: ArrayLike, confidence: float = 0.95) -> np.ndarray:
    """Byar's approximate upper confidence limit for a Poisson count.

    Parameters
    ----------
    o : array_like
        Number of events observed.
    confidence : float, default 0.95
        Two-sided level of the interval the limit belongs to.

    Returns
    -------
    numpy.ndarray
        (O+1)·(1 − 1/(9(O+1)) + z/(3√(O+1)))³, in events.

    References
    ----------
    Breslow & Day (1987); ukhsa-collaboration/PHEindicatormethods 2.1.0 ``byars_upper``.
    """
    o1 = np.asarray(o, dtype=float) + 1
    z = z_value(confidence)
    return o1 * (1 - 1 / (9 * o1) + z / (3 * np.sqrt(o1))) ** 3


def exact_lower(o: ArrayLike, confidence: float = 0.95) -> np.ndarray:
    """Exact (chi-square) lower confidence limit for a Poisson count.

    Parameters
    ----------
    o : array_like
        Events observed (whole numbers; 0 gives a limit of 0).
    confidence : float, default 0.95
        Level of the two-sided interval, as 0.95 or 95.

    Returns
    -------
    numpy.ndarray
        χ²_{(1−c)/2}(2O)/2 in events; 0 when O = 0.

    References
    ----------
    Garwood F. Fiducial limits for the Poisson distribution. *Biometrika* 1936;28:437–42;
    ukhsa-collaboration/PHEindicatormethods 2.1.0 exact branch (used below 10 events).
    """
    o = np.asarray(o, dtype=float)
    a = (1 - _conf(confidence)) / 2
    with np.errstate(invalid="ignore"):
        return np.where(o == 0, 0.0, stats.chi2.ppf(a, 2 * o) / 2)


def exact_upper(o: ArrayLike, confidence: float = 0.95) -> np.ndarray:
    """Exact (chi-square) upper confidence limit for a Poisson count.

    Parameters
    ----------
    o : array_like
        Count of events.
    confidence : float, default 0.95
        Interval level (0.998 for 99.8% limits).

    Returns
    -------
    numpy.ndarray
        χ²_{1−(1−c)/2}(2O+2)/2, in events.

    References
    ----------
    Garwood (1936); ukhsa-collaboration/PHEindicatormethods 2.1.0 exact branch.
    """
    o = np.asarray(o, dtype=float)
    a = (1 - _conf(confidence)) / 2
    return stats.chi2.ppf(1 - a, 2 * o + 2) / 2


def count_limits(o: ArrayLike, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray,
                                                                   np.ndarray]:
    """Confidence limits for counts with PHE's switching rule.

    Parameters
    ----------
    o : array_like
        Observed counts (events); NaN gives NaN limits and no method.
    confidence : float, default 0.95
        Confidence level.

    Returns
    -------
    lower, upper : numpy.ndarray
        Limits in events: exact Poisson below 10 events, Byar's from 10.
    method : numpy.ndarray
        "Exact" or "Byars" per count (None where the count is missing).

    References
    ----------
    ukhsa-collaboration/PHEindicatormethods 2.1.0 ``phe_rate`` / ``calculate_ISRatio`` switching rule.
    """
    o = np.asarray(o, dtype=float)
    small = o < 10
    lo = np.where(small, exact_lower(o, confidence), byars_lower(o, confidence))
    hi = np.where(small, exact_upper(o, confidence), byars_upper(o, confidence))
    method = np.where(np.isnan(o), None, np.where(small, "Exact", "Byars"))
    return lo, hi, method


def wilson_lower(x: ArrayLike, n: ArrayLike, confidence: float = 0.95) -> np.ndarray:
    """Wilson score lower limit for a proportion.

    Parameters
    ----------
    x : array_like
        Numerators (non-integer values accepted).
    n : array_like
        Denominators.
    confidence : float, default 0.95
        Confidence level; at 100% the limit is 0.

    Returns
    -------
    numpy.ndarray
        (2x + z² − z·√(z² + 4x(1 − x/n))) / (2(n + z²)), as a proportion (0–1).

    References
    ----------
    Wilson EB. Probable inference. *JASA* 1927;22:209–12; ukhsa-collaboration/PHEindicatormethods 2.1.0 ``wilson_lower``.
    """
    x, n = np.asarray(x, float), np.asarray(n, float)
    if _conf(confidence) == 1:
        return np.zeros_like(x / n)
    z = z_value(confidence)
    return (2 * x + z**2 - z * np.sqrt(z**2 + 4 * x * (1 - x / n))) / (2 * (n + z**2))


def wilson_upper(x: ArrayLike, n: ArrayLike, confidence: float = 0.95) -> np.ndarray:
    """Wilson score upper limit for a proportion.

    Parameters
    ----------
    x : array_like
        Successes (the count with the property).
    n : array_like
        Trials (everyone counted).
    confidence : float, default 0.95
        Interval level; 1 (100%) gives an upper limit of 1.

    Returns
    -------
    numpy.ndarray
        (2x + z² + z·√(z² + 4x(1 − x/n))) / (2(n + z²)), as a proportion (0–1).

    References
    ----------
    Wilson (1927); ukhsa-collaboration/PHEindicatormethods 2.1.0 ``wilson_upper``.
    """
    x, n = np.asarray(x, float), np.asarray(n, float)
    if _conf(confidence) == 1:
        return np.ones_like(x / n)
    z = z_value(confidence)
    return (2 * x + z**2 + z * np.sqrt(z**2 + 4 * x * (1 - x / n))) / (2 * (n + z**2))


def _levels(confidence: float | Sequence[float]) -> list[float]:
    return [confidence] if np.isscalar(confidence) else list(confidence)


def _suffix(c: float) -> str:
    return f"{_conf(c) * 100:g}".replace(".", "_")


def crude_rate(x: ArrayLike, n: ArrayLike, multiplier: float = 100_000,
               confidence: float | Sequence[float] = (0.95, 0.998)) -> pd.DataFrame:
    """Crude rate with exact (below 10 events) or Byar's confidence limits.

    Parameters
    ----------
    x : array_like
        Event counts.
    n : array_like
        Denominators (population or person-time).
    multiplier : float, default 100000
        Rate per this many of the denominator's unit (1000 gives per 1,000 patients).
    confidence : float or sequence of float, default (0.95, 0.998)
        One or more confidence levels; each adds a lower/upper column pair.

    Returns
    -------
    pandas.DataFrame
        ``value`` (x/n × multiplier), ``lower95``, ``upper95`` [, ``lower99_8``, ``upper99_8``]
        and ``method`` ("Exact" or "Byars"). A rate is still produced when x > n.

    References
    ----------
    ukhsa-collaboration/PHEindicatormethods 2.1.0 ``phe_rate``.
    """
    x, n = np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(n, float))
    out = {"value": x / n * multiplier}
    for c in _levels(confidence):
        lo, hi, method = count_limits(x, c)
        out[f"lower{_suffix(c)}"] = lo / n * multiplier
        out[f"upper{_suffix(c)}"] = hi / n * multiplier
    out["method"] = method
    return pd.DataFrame(out)


def proportion(x: ArrayLike, n: ArrayLike, multiplier: float = 1.0,
               confidence: float | Sequence[float] = (0.95, 0.998)) -> pd.DataFrame:
    """Proportion with Wilson score confidence limits.

    Parameters
    ----------
    x : array_like
        Numerator of each proportion.
    n : array_like
        Its denominator.
    multiplier : float, default 1
        1 for a proportion, 100 for a percentage.
    confidence : float or sequence of float, default (0.95, 0.998)
        Confidence levels.

    Returns
    -------
    pandas.DataFrame
        ``value``, lower/upper columns per level (× multiplier) and ``method`` ("Wilson").

    References
    ----------
    Wilson (1927); ukhsa-collaboration/PHEindicatormethods 2.1.0 ``phe_proportion``.
    """
    x, n = np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(n, float))
    out = {"value": x / n * multiplier}
    for c in _levels(confidence):
        out[f"lower{_suffix(c)}"] = wilson_lower(x, n, c) * multiplier
        out[f"upper{_suffix(c)}"] = wilson_upper(x, n, c) * multiplier
    out["method"] = "Wilson"
    return pd.DataFrame(out)


def dsr(data: pd.DataFrame, count: str, pop: str, stdpop: str, by: str | list[str] | None = None,
        multiplier: float = 100_000, confidence: float | Sequence[float] = (0.95, 0.998),
        eventfreq: str | None = None) -> pd.DataFrame:
    """Directly standardised rate per group (Dobson method, Byar limits on the total count).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per stratum (age band, sex, …) and group; with ``eventfreq``, one row per
        stratum × event frequency.
    count : str
        Column of event counts (missing counts are 0); with ``eventfreq``, the number of
        persons with that many events.
    pop : str
        Column of the stratum population.
    stdpop : str
        Column of the standard population weight (e.g. ESP 2013, :data:`ESP2013`).
    by : str or list of str, optional
        Grouping columns; None for one overall rate.
    multiplier : float, default 100000
        Rate per this many persons.
    confidence : float or sequence of float, default (0.95, 0.998)
        Confidence levels.
    eventfreq : str, optional
        Column of event frequencies for non-independent events (variance Σ f²·Var_f).

    Returns
    -------
    pandas.DataFrame
        Per group: ``total_count``, ``value``, lower/upper per level and ``method``. Value and
        limits are NaN when the group's total count is below 10.

    References
    ----------
    Dobson AJ, Kuulasmaa K, Eberle E, Scherer J. Confidence intervals for weighted sums of
    Poisson parameters. *Stat Med* 1991;10:457–62; ukhsa-collaboration/PHEindicatormethods 2.1.0 ``calculate_dsr``.
    """
    by = [by] if isinstance(by, str) else list(by or [])
    d = data.copy()
    d[count] = d[count].fillna(0).astype(float)
    if eventfreq is None:
        d["_x"] = d[count]
        d["_w2"] = d[stdpop] ** 2 / d[pop] ** 2 * d["_x"]
        strata = d
    else:
        f = d[eventfreq].astype(float)
        d["_x"] = d[count] * f
        d["_w2"] = d[stdpop] ** 2 / d[pop] ** 2 * d[count] * f**2
        strata = d
    keys = by or (lambda _: 0)
    g = strata.groupby(keys, observed=True, sort=True)
    # weights and rates per stratum must count each stratum once, even with event frequencies
    if eventfreq is None:
        num = g.apply(lambda s: (s[stdpop] * s["_x"] / s[pop]).sum(), include_groups=False)
        wsum = g[stdpop].sum()
    else:
        strat_cols = [c for c in d.columns if c not in (count, eventfreq, "_x", "_w2")]
        per = d.groupby(strat_cols, observed=True, dropna=False).agg(
            _x=("_x", "sum")).reset_index()
        gp = per.groupby(keys, observed=True, sort=True)
        num = gp.apply(lambda s: (s[stdpop] * s["_x"] / s[pop]).sum(), include_groups=False)
        wsum = gp[stdpop].sum()
    total = g["_x"].sum()
    var = g["_w2"].sum() / wsum**2
    value = num / wsum
    res = pd.DataFrame({"total_count": total, "value": value * multiplier})
    small = total < 10
    for c in _levels(confidence):
        o_l, o_u = byars_lower(total, c), byars_upper(total, c)
        se = np.sqrt(var / total)
        res[f"lower{_suffix(c)}"] = (value + se * (o_l - total)) * multiplier
        res[f"upper{_suffix(c)}"] = (value + se * (o_u - total)) * multiplier
    cols = [c for c in res.columns if c != "total_count"]
    res.loc[small, cols] = np.nan
    res["method"] = np.where(small, "dsr NA for total count < 10", "Dobson")
    res = res.reset_index()
    if not by:
        res = res.drop(columns=[res.columns[0]])
    return res


def expected_counts(pop: pd.DataFrame, ref_rates: pd.DataFrame, by: list[str],
                    strata: Sequence[str] = ("sex", "age_band"), rate: str = "rate",
                    n: str = "patients") -> pd.DataFrame:
    """Expected counts for indirect standardisation, E = Σ_strata n × r.

    Parameters
    ----------
    pop : pandas.DataFrame
        Populations by stratum and the ``by`` columns.
    ref_rates : pandas.DataFrame
        One reference rate per stratum (and per any extra key it shares with ``pop``, such as
        specialty); rates are per unit of ``n`` per period.
    by : list of str
        Grouping columns of the result.
    strata : sequence of str, default ("sex", "age_band")
        Columns that define a stratum.
    rate : str, default "rate"
        Column of reference rates.
    n : str, default "patients"
        Column of stratum populations.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns and ``expected`` (events per period).

    References
    ----------
    ukhsa-collaboration/PHEindicatormethods 2.1.0 ``calculate_ISRatio`` (expected counts).
    """
    strata = list(strata)
    m = pop.merge(ref_rates, on=strata, how="left", validate="many_to_many")
    m["_e"] = m[n].astype(float) * m[rate].fillna(0.0)
    return m.groupby(by, observed=True)["_e"].sum().rename("expected").reset_index()


def isr(observed: ArrayLike, expected: ArrayLike, refvalue: float = 1.0,
        confidence: float | Sequence[float] = (0.95, 0.998)) -> pd.DataFrame:
    """Indirectly standardised ratio O/E with exact (below 10 events) or Byar limits.

    Parameters
    ----------
    observed : array_like
        Observed events.
    expected : array_like
        Expected events from reference rates.
    refvalue : float, default 1
        Scale of the ratio (1, or 100 for an SMR-style index).
    confidence : float or sequence of float, default (0.95, 0.998)
        Confidence levels.

    Returns
    -------
    pandas.DataFrame
        ``observed``, ``expected``, ``value`` (O/E × refvalue), lower/upper per level
        (count limits / E × refvalue) and ``method``.

    References
    ----------
    ukhsa-collaboration/PHEindicatormethods 2.1.0 ``calculate_ISRatio``.
    """
    o, e = np.atleast_1d(np.asarray(observed, float)), np.atleast_1d(np.asarray(expected, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {"observed": o, "expected": e, "value": o / e * refvalue}
        for c in _levels(confidence):
            lo, hi, method = count_limits(o, c)
            out[f"lower{_suffix(c)}"] = lo / e * refvalue
            out[f"upper{_suffix(c)}"] = hi / e * refvalue
    out["method"] = method
    return pd.DataFrame(out)


def israte(observed: ArrayLike, expected: ArrayLike, ref_rate: float,
           confidence: float | Sequence[float] = (0.95, 0.998)) -> pd.DataFrame:
    """Indirectly standardised rate: the ratio O/E scaled by the crude reference rate.

    Parameters
    ----------
    observed : array_like
        Events counted in each area.
    expected : array_like
        Events the reference rates predict for it.
    ref_rate : float
        Crude reference rate Σx_ref/Σn_ref × multiplier.
    confidence : float or sequence of float, default (0.95, 0.998)
        Confidence levels.

    Returns
    -------
    pandas.DataFrame
        As :func:`isr`, with value and limits × ``ref_rate`` and a ``ref_rate`` column.

    References
    ----------
    ukhsa-collaboration/PHEindicatormethods 2.1.0 ``calculate_ISRate``.
    """
    r = isr(observed, expected, 1.0, confidence)
    for col in r.columns:
        if col.startswith(("value", "lower", "upper")):
            r[col] = r[col] * ref_rate
    r["ref_rate"] = ref_rate
    return r
