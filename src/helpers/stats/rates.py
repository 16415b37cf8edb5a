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


def _conf(confidence: float) -> float:
    c = float(confidence)
    if c >= 90:
        c /= 100
    if not 0 < c <= 1:
        raise ValueError(f"confidence must be in (0, 1] or (0, 100]; got {confidence}")
    return c


def z_value(confidence: float) -> float:
    """Two-sided normal quantile, e.g. 1.959964 at 95% and 3.090232 at 99.8%."""
    c = _conf(confidence)
    return float(stats.norm.ppf(1 - (1 - c) / 2)) if c < 1 else np.inf


def byars_lower(o: ArrayLike, confidence: float = 0.95) -> np.ndarray:
    """Byar's lower limit for a Poisson count (NaN where negative)."""
    o = np.asarray(o, dtype=float)
    z = z_value(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = o * (1 - 1 / (9 * o) - z / (3 * np.sqrt(o))) ** 3
    return np.where(lo < 0, np.nan, lo)


def byars_upper(o: ArrayLike, confidence: float = 0.95) -> np.ndarray:
    """Byar's upper limit for a Poisson count."""
    o1 = np.asarray(o, dtype=float) + 1
    z = z_value(confidence)
    return o1 * (1 - 1 / (9 * o1) + z / (3 * np.sqrt(o1))) ** 3


def exact_lower(o: ArrayLike, confidence: float = 0.95) -> np.ndarray:
    """Exact (chi-square) lower limit for a Poisson count; 0 when O = 0."""
    o = np.asarray(o, dtype=float)
    a = (1 - _conf(confidence)) / 2
    with np.errstate(invalid="ignore"):
        return np.where(o == 0, 0.0, stats.chi2.ppf(a, 2 * o) / 2)


def exact_upper(o: ArrayLike, confidence: float = 0.95) -> np.ndarray:
    """Exact (chi-square) upper limit for a Poisson count."""
    o = np.asarray(o, dtype=float)
    a = (1 - _conf(confidence)) / 2
    return stats.chi2.ppf(1 - a, 2 * o + 2) / 2


def count_limits(o: ArrayLike, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray,
                                                                   np.ndarray]:
    """(lower, upper, method) for counts: exact below 10 events, Byar's from 10."""
    o = np.asarray(o, dtype=float)
    small = o < 10
    lo = np.where(small, exact_lower(o, confidence), byars_lower(o, confidence))
    hi = np.where(small, exact_upper(o, confidence), byars_upper(o, confidence))
    method = np.where(np.isnan(o), None, np.where(small, "Exact", "Byars"))
    return lo, hi, method


def wilson_lower(x: ArrayLike, n: ArrayLike, confidence: float = 0.95) -> np.ndarray:
    x, n = np.asarray(x, float), np.asarray(n, float)
    if _conf(confidence) == 1:
        return np.zeros_like(x / n)
    z = z_value(confidence)
    return (2 * x + z**2 - z * np.sqrt(z**2 + 4 * x * (1 - x / n))) / (2 * (n + z**2))


def wilson_upper(x: ArrayLike, n: ArrayLike, confidence: float = 0.95) -> np.ndarray:
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
    """Crude rate x/n × multiplier with exact (<10) or Byar limits, one column pair per level.

    Columns: value, lower95, upper95[, lower99_8, upper99_8], method.
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
    """Proportion x/n × multiplier with Wilson score limits."""
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
    """Directly standardised rate (Dobson method) per group.

    ``data`` has one row per stratum (age band, sex, …) and group. Missing counts are 0.
    With ``eventfreq`` (non-independent events), ``count`` holds the number of persons with
    that many events and rows are per stratum × frequency; the variance is Σ f²·Var_f.
    Value and limits are NaN when the group's total count is below 10.
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
    """Expected counts E = Σ_strata n × r for each ``by`` group (indirect standardisation).

    ``ref_rates`` holds one reference rate per stratum (and per any extra key it shares with
    ``pop``, such as specialty). Rates are per unit of ``n`` per period.
    """
    strata = list(strata)
    m = pop.merge(ref_rates, on=strata, how="left", validate="many_to_many")
    m["_e"] = m[n].astype(float) * m[rate].fillna(0.0)
    return m.groupby(by, observed=True)["_e"].sum().rename("expected").reset_index()


def isr(observed: ArrayLike, expected: ArrayLike, refvalue: float = 1.0,
        confidence: float | Sequence[float] = (0.95, 0.998)) -> pd.DataFrame:
    """Indirectly standardised ratio O/E × refvalue with exact (<10) or Byar limits."""
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
    """Indirectly standardised rate: the ratio scaled by the crude reference rate
    (``ref_rate`` = Σx_ref/Σn_ref × multiplier)."""
    r = isr(observed, expected, 1.0, confidence)
    for col in r.columns:
        if col.startswith(("value", "lower", "upper")):
            r[col] = r[col] * ref_rate
    r["ref_rate"] = ref_rate
    return r
