"""Funnel plots with over-dispersion handled as in Spiegelhalter (2005).

Follows FunnelPlotR 0.6.0 exactly (tested against its outputs), including where it departs
from the paper (CQC limits not squared back, RC limits with s = 1/(2√n), SHMI truncation).

Data types (``kind``):
* ``"SR"`` standardised ratio O/E against expected count E (target 1);
  ``sr_method="SHMI"`` (log scale, truncation of the extreme 10%) or ``"CQC"`` (square root
  scale, winsorisation);
* ``"PR"`` proportion x/n against n (target Σx/Σn, arcsine scale);
* ``"RC"`` ratio of counts O/E (log scale, target ΣO/ΣE).

Over-dispersion ``method``:
* ``"additive"`` random-effects τ² (DerSimonian–Laird style) — the FunnelPlotR/SHMI default;
* ``"multiplicative"`` φ scaling of the transformed-scale SE (Spiegelhalter 2005, eq. 3);
  not in FunnelPlotR, so checked by its defining properties only;
* ``"robust"`` additive τ² with the trimming bias removed: the mean squared z-score of the
  truncated (or winsorised) middle is divided by its expectation under a normal distribution
  (e.g. 0.438 for 10% truncation in each tail), so φ and τ² estimate the full spread. Not in
  FunnelPlotR; when the true spread is wide its plain additive τ² is biased low and flags
  too many ordinary units (on synthetic England 4.2% instead of ≈ 0.2%, see the tests);
* ``"none"`` unadjusted limits (exact Poisson for SR);
* ``"phe"`` the Fingertips (PHEindicatormethods 2.1.0) funnel: exact-Poisson limits for
  ratios and Wilson-score limits for proportions, no over-dispersion, units judged by PHE's
  significance rules (:func:`phe_ratio_limits`, :func:`phe_proportion_limits`).
When φ ≤ 1 there is no over-dispersion and the adjusted limits fall back to unadjusted ones.

Hand-written because no maintained Python package implements these conventions (PyPI
``funnelplot`` is minimal and dormant).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

# FunnelPlotR uses these rounded constants for transformed-scale limits (exact Poisson limits
# use the tail probabilities directly); matching them reproduces its tables to 1e-12.
Z95 = 1.959964
Z998 = 3.090232
LEVELS = {"95": (Z95, 0.025), "99": (Z998, 0.001)}


@dataclass
class FunnelResult:
    """Per-unit results (``points``) and the fitted over-dispersion (``phi``, ``tau2``)."""

    points: pd.DataFrame
    kind: str
    sr_method: str
    method: str
    target: float
    phi: float
    tau2: float
    n_used: int
    adjusted: bool
    limit: str
    multiplier: float

    def curve(self, denominators: np.ndarray) -> pd.DataFrame:
        """Control limits on a grid of denominators (expected counts for SR/RC), for plotting."""
        x = np.asarray(denominators, float)
        out = {"denominator": x}
        if self.method == "phe":
            for lev, conf in (("95", 0.95), ("99", 0.998)):
                lo, hi = (phe_ratio_limits(x, conf) if self.kind == "SR" else
                          phe_proportion_limits(x, self.target, conf))
                out[f"lcl{lev}"], out[f"ucl{lev}"] = lo * self.multiplier, hi * self.multiplier
            return pd.DataFrame(out)
        for lev in LEVELS:
            m = "additive" if self.method == "robust" else self.method
            lo, hi = _limits(self.kind, self.sr_method, m if self.adjusted else "none",
                             x, self.target, self.tau2, self.phi, lev)
            out[f"lcl{lev}"] = lo * self.multiplier
            out[f"ucl{lev}"] = hi * self.multiplier
        return pd.DataFrame(out)

    def summary(self) -> dict:
        p = self.points
        return {
            "kind": self.kind, "sr_method": self.sr_method, "method": self.method,
            "target": self.target, "phi": self.phi, "tau2": self.tau2,
            "n_units": len(p), "n_used_for_phi": self.n_used,
            "adjusted_limits_used": self.adjusted, "limit": self.limit,
            "n_outliers": int(p["outlier"].sum()),
            "n_high_998": int((p["flag"] == "High (99.8%)").sum()),
            "n_low_998": int((p["flag"] == "Low (99.8%)").sum()),
            "n_high_95": int(p["flag"].isin(["High (95%)", "High (99.8%)"]).sum()),
            "n_low_95": int(p["flag"].isin(["Low (95%)", "Low (99.8%)"]).sum()),
        }


def _transform(kind: str, sr_method: str, num: np.ndarray, den: np.ndarray, target: float):
    """(Y, s, transformed target) on the scale where the z-scores are formed."""
    if kind == "SR" and sr_method == "SHMI":
        with np.errstate(divide="ignore"):
            return np.log(num / den), 1 / np.sqrt(den), 0.0
    if kind == "SR":
        return np.sqrt(num / den), 1 / (2 * np.sqrt(den)), 1.0
    if kind == "PR":
        return np.arcsin(np.sqrt(num / den)), 1 / (2 * np.sqrt(den)), \
            float(np.arcsin(np.sqrt(target)))
    if kind == "RC":
        y = np.log((num + 0.5) / (den + 0.5))
        s = np.sqrt(num / (num + 0.5) ** 2 + den / (den + 0.5) ** 2)
        return y, s, float(np.log(target))
    raise ValueError(f"unknown funnel kind {kind!r}; use 'SR', 'PR' or 'RC'")


def _limit_s(kind: str, sr_method: str, den: np.ndarray) -> np.ndarray:
    """The SE used for the limits (FunnelPlotR: RC uses 1/(2√n), not the z-score's SE)."""
    if kind == "SR" and sr_method == "SHMI":
        return 1 / np.sqrt(den)
    return 1 / (2 * np.sqrt(den))


def _limits(kind, sr_method, method, den, target, tau2, phi, lev):
    z, a = LEVELS[lev]
    den = np.asarray(den, float)
    if method == "none":
        if kind == "SR":
            lo = target * stats.chi2.ppf(a, 2 * den) / 2 / den
            hi = target * stats.chi2.ppf(1 - a, 2 * (den + 1)) / 2 / den
            return lo, hi
        tau2, phi = 0.0, 1.0
    s = _limit_s(kind, sr_method, den)
    S = s * np.sqrt(phi) if method == "multiplicative" else np.sqrt(s**2 + tau2)
    if kind == "SR" and sr_method == "SHMI":
        return target * np.exp(-z * S), target * np.exp(z * S)
    if kind == "SR":
        return target * (1 - z * S), target * (1 + z * S)
    if kind == "PR":
        t = np.arcsin(np.sqrt(target))
        lo = np.sin(np.clip(t - z * S, 0, np.pi / 2)) ** 2
        hi = np.sin(np.clip(t + z * S, 0, np.pi / 2)) ** 2
        return lo, hi
    return target * np.exp(-z * S), target * np.exp(z * S)


def _trim_factor(trim_by: float, truncate: bool) -> float:
    """E[Z²] of a standard normal after truncating (or winsorising) ``trim_by`` in each tail."""
    q = float(stats.norm.ppf(1 - trim_by))
    dens = float(stats.norm.pdf(q))
    if truncate:
        return 1 - 2 * q * dens / (1 - 2 * trim_by)
    return 1 - 2 * trim_by - 2 * q * dens + 2 * trim_by * q**2


def funnel(numerator, denominator, groups=None, kind: str = "SR", sr_method: str = "SHMI",
           method: str = "additive", trim_by: float = 0.1, limit: float | str = 99.8,
           multiplier: float = 1.0, shmi_rounding: bool = True) -> FunnelResult:
    """Funnel-plot statistics for each unit: ratio, z-scores, control limits and outlier flags.

    Parameters
    ----------
    numerator : array_like
        Observed counts (SR, RC) or numerators (PR); non-negative.
    denominator : array_like
        Expected counts (SR, RC) or denominators (PR); positive and finite.
    groups : array_like, optional
        Unit labels (default 0..n−1).
    kind : {"SR", "PR", "RC"}, default "SR"
        Standardised ratio, proportion or ratio of counts.
    sr_method : {"SHMI", "CQC"}, default "SHMI"
        For SR: log scale with truncation of the extreme ``trim_by`` (SHMI) or square-root scale
        with winsorisation (CQC).
    method : {"additive", "robust", "multiplicative", "none"}, default "additive"
        Over-dispersion: additive τ² (FunnelPlotR), τ² corrected for the trimming bias, φ
        scaling of the standard error, or unadjusted limits (exact Poisson for SR).
    trim_by : float, default 0.1
        Share trimmed (or winsorised) at each tail when estimating φ.
    limit : {95, 99.8}, default 99.8
        The limits that set the ``outlier`` flag (also 0.95/0.998, "99").
    multiplier : float, default 1
        Scale of ratios and limits (100 for percentages).
    shmi_rounding : bool, default True
        Round expected counts to 2 dp first, as FunnelPlotR's ``SHMI_rounding``.

    Returns
    -------
    FunnelResult
        ``points`` (per unit: ``rr``, z-scores, adjusted ``od_lcl95``… and unadjusted ``lcl95``…
        limits, ``flag`` = the most extreme level crossed, ``outlier``), the fitted ``phi`` and
        ``tau2``, the target and a ``curve(denominators)`` method for plotting limits.

    References
    ----------
    Spiegelhalter DJ. Funnel plots for comparing institutional performance. *Stat Med* 2005;24:1185–202; Spiegelhalter DJ. Handling over-dispersion of performance indicators. *Qual Saf Health Care* 2005;14:347–51; nhs-r-community/FunnelPlotR 0.6.0 ``funnel_plot``.
    """
    if kind not in ("SR", "PR", "RC"):
        raise ValueError(f"unknown funnel kind {kind!r}; use 'SR', 'PR' or 'RC'")
    if sr_method not in ("SHMI", "CQC"):
        raise ValueError(f"unknown sr_method {sr_method!r}; use 'SHMI' or 'CQC'")
    if method not in ("additive", "multiplicative", "robust", "none", "phe"):
        raise ValueError(f"unknown over-dispersion method {method!r}; "
                         "use 'additive', 'robust', 'multiplicative', 'none' or 'phe'")
    lim = {"95": "95", "95.0": "95", "99": "99", "99.8": "99", "0.95": "95", "0.998": "99"}.get(
        str(limit))
    if lim is None:
        raise ValueError(f"limit must be 95 or 99.8; got {limit!r}")
    num = np.asarray(numerator, float)
    den = np.asarray(denominator, float)
    if np.any(den <= 0) or np.any(~np.isfinite(den)):
        raise ValueError("denominators (expected counts or populations) must be positive")
    if np.any(num < 0):
        raise ValueError("numerators must be non-negative")
    if method == "phe":
        return _phe_funnel(num, den, groups, kind, lim, multiplier)
    if kind == "SR" and sr_method == "SHMI" and shmi_rounding:
        den = np.round(den, 2)
    groups = np.arange(len(num)) if groups is None else np.asarray(groups)
    target = 1.0 if kind == "SR" else float(num.sum() / den.sum())
    y, s, t0 = _transform(kind, sr_method, num, den, target)
    z = (y - t0) / s
    n_all = len(z)
    truncated = np.full(n_all, np.nan)
    winsorised = np.full(n_all, np.nan)
    if kind == "SR" and sr_method == "SHMI":
        k = 1 / trim_by
        g = np.floor(stats.rankdata(z, method="average") * k / (n_all + 1))
        drop = (g == 0) | (g == k - 1)
        truncated = drop.astype(float)
        wz = np.where(drop, np.nan, z)
    else:
        lo_q, hi_q = np.quantile(z, [trim_by, 1 - trim_by])
        wz = np.clip(z, lo_q, hi_q)
        winsorised = (~((z > lo_q) & (z < hi_q))).astype(float)
    used = ~np.isnan(wz)
    n = int(used.sum())
    # no usable unit (every z undefined): no spread between units to estimate
    phi = float(np.sum(wz[used] ** 2) / n) if n else 1.0
    if method == "robust" and n:
        phi /= _trim_factor(trim_by, truncate=kind == "SR" and sr_method == "SHMI")
    w = 1 / s[used] ** 2
    if n * phi < n - 1 or n < 2:             # one unit: no spread between units to estimate
        tau2 = 0.0
    else:
        tau2 = max(0.0, (n * phi - (n - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    adjusted = method != "none" and phi > 1
    method_limits = "additive" if method == "robust" else method
    if method == "none":
        phi_r, tau2_r = 0.0, 0.0
    else:
        phi_r, tau2_r = phi, tau2
    pts = pd.DataFrame({"group": groups, "numerator": num, "denominator": den,
                        "rr": num / den * multiplier, "Y": y, "z": z,
                        "winsorised": winsorised, "truncated": truncated, "wz": wz})
    for lev in LEVELS:
        od_method = method_limits if method != "none" else "additive"
        lo, hi = _limits(kind, sr_method, od_method, den, target,
                         tau2 if method != "none" else 0.0, max(phi, 1.0) if method !=
                         "none" else 1.0, lev)
        pts[f"od_lcl{lev}"], pts[f"od_ucl{lev}"] = lo * multiplier, hi * multiplier
        ulo, uhi = _limits(kind, sr_method, "none", den, target, 0.0, 1.0, lev)
        pts[f"lcl{lev}"], pts[f"ucl{lev}"] = ulo * multiplier, uhi * multiplier
    use = "od_" if adjusted else ""
    rr = pts["rr"]
    flag = np.full(n_all, "Within limits", dtype=object)
    for lev, label in (("95", "95%"), ("99", "99.8%")):
        flag = np.where(rr > pts[f"{use}ucl{lev}"], f"High ({label})", flag)
        flag = np.where(rr < pts[f"{use}lcl{lev}"], f"Low ({label})", flag)
    pts["flag"] = flag
    pts["outlier"] = ((rr < pts[f"{use}lcl{lim}"]) | (rr > pts[f"{use}ucl{lim}"])).astype(int)
    return FunnelResult(pts, kind, sr_method, method, target * 1.0, phi_r, tau2_r, n,
                        adjusted, "99.8" if lim == "99" else "95", multiplier)


def _phe_ratio_limit(expected: float, tail: float, upper: bool) -> float:
    if expected <= 0:
        return np.nan
    if upper:       # the O with P(X ≥ O | E) = tail: χ²_tail(2O)/2 = E
        f = lambda o: special.gammaincinv(o, tail) - expected  # noqa: E731
        lo, hi = 1e-9, expected + 50 + 20 * np.sqrt(expected)
    else:           # the O with P(X ≤ O | E) = tail: χ²_{1−tail}(2(O+1))/2 = E
        if special.gammaincinv(1.0, 1 - tail) >= expected:
            return 0.0
        f = lambda o: special.gammaincinv(o + 1, 1 - tail) - expected  # noqa: E731
        lo, hi = 0.0, expected + 10
    return optimize.brentq(f, lo, hi, xtol=1e-12) / expected


def phe_ratio_limits(expected, confidence: float = 0.998) -> tuple[np.ndarray, np.ndarray]:
    """Funnel limits for an indirectly standardised ratio O/E, as Fingertips draws them.

    Parameters
    ----------
    expected : array_like
        Expected counts E at which to draw the limits.
    confidence : float, default 0.998
        0.95 (two-sided, 0.025 in each tail) or 0.998 (0.001 in each tail).

    Returns
    -------
    lower, upper : numpy.ndarray
        Ratio limits O/E, where O solves P(X ≤ O | E) = p (lower) and P(X ≥ O | E) = p
        (upper) for X ~ Poisson(E), with O continuous (χ² form): E = χ²_{1−p}(2(O+1))/2 and
        E = χ²_p(2O)/2.

    References
    ----------
    ukhsa-collaboration/PHEindicatormethods 2.1.0, ``calculate_funnel_limits``
    (``ratio_type = "count"``, R/Funnels.R); Spiegelhalter DJ, *Stat Med* 2005;24:1185–202.
    """
    tail = (1 - (confidence / 100 if confidence > 1 else confidence)) / 2
    e = np.atleast_1d(np.asarray(expected, float))
    lo = np.array([_phe_ratio_limit(x, tail, False) for x in e])
    hi = np.array([_phe_ratio_limit(x, tail, True) for x in e])
    return lo, hi


def phe_proportion_limits(n, average: float, confidence: float = 0.998
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Funnel limits for a proportion, as Fingertips draws them.

    Parameters
    ----------
    n : array_like
        Denominators at which to draw the limits.
    average : float
        The baseline proportion p̄ = Σx/Σn (0–1).
    confidence : float, default 0.998
        0.95 or 0.998.

    Returns
    -------
    lower, upper : numpy.ndarray
        The lower limit is the proportion whose Wilson upper bound at n equals p̄; the upper
        limit the proportion whose Wilson lower bound equals p̄ (floored at 0, capped at 1).

    References
    ----------
    ukhsa-collaboration/PHEindicatormethods 2.1.0, ``calculate_funnel_limits``
    (proportions, R/Funnels.R); Wilson EB, *JASA* 1927;22:209–12.
    """
    conf = confidence / 100 if confidence > 1 else confidence
    z = float(stats.norm.ppf(1 - (1 - conf) / 2))
    n = np.atleast_1d(np.asarray(n, float))

    def wilson(p, m, sign):
        x = p * m
        return (2 * x + z**2 + sign * z * np.sqrt(z**2 + 4 * x * (1 - p))) / (2 * (m + z**2))

    lo = np.array([0.0 if wilson(0.0, m, 1) >= average else optimize.brentq(
        lambda p, m=m: wilson(p, m, 1) - average, 0.0, average, xtol=1e-14) for m in n])
    hi = np.array([1.0 if wilson(1.0, m, -1) <= average else optimize.brentq(
        lambda p, m=m: wilson(p, m, -1) - average, average, 1.0, xtol=1e-14) for m in n])
    return lo, hi


def _phe_funnel(num, den, groups, kind: str, lim: str, multiplier: float) -> FunnelResult:
    """FunnelResult with PHE limits and PHE's significance rules (ratios: the unit's exact
    or Byar interval for O/E against 1; proportions: the unit's value against the limits at
    its own denominator)."""
    from helpers.stats.rates import count_limits

    if kind not in ("SR", "PR"):
        raise ValueError("the PHE funnel is defined for ratios (SR) and proportions (PR)")
    target = 1.0 if kind == "SR" else float(num.sum() / den.sum())
    groups = np.arange(len(num)) if groups is None else np.asarray(groups)
    rr = num / den
    pts = pd.DataFrame({"group": groups, "numerator": num, "denominator": den,
                        "rr": rr * multiplier})
    flag = np.full(len(num), "Within limits", dtype=object)
    for lev, conf, label in (("95", 0.95, "95%"), ("99", 0.998, "99.8%")):
        lo, hi = phe_ratio_limits(den, conf) if kind == "SR" else \
            phe_proportion_limits(den, target, conf)
        pts[f"od_lcl{lev}"], pts[f"od_ucl{lev}"] = lo * multiplier, hi * multiplier
        pts[f"lcl{lev}"], pts[f"ucl{lev}"] = lo * multiplier, hi * multiplier
        if kind == "SR":
            c_lo, c_hi, _ = count_limits(num, conf)
            c_lo = np.where(num == 0, 0.0, c_lo)
            high, low = c_lo / den > 1, c_hi / den < 1
        else:
            high, low = rr > hi, rr < lo
        flag = np.where(high, f"High ({label})", np.where(low, f"Low ({label})", flag))
    pts["flag"] = flag
    pts["z"] = np.nan
    pts["outlier"] = (pts["flag"].isin(["High (99.8%)", "Low (99.8%)"]) if lim == "99" else
                      pts["flag"] != "Within limits").astype(int)
    return FunnelResult(pts, kind, "PHE", "phe", target, 0.0, 0.0, len(pts), True,
                        "99.8" if lim == "99" else "95", multiplier)
