"""Interrupted time series: segmented (quasi-)Poisson regression with an offset.

Lopez Bernal, Cummins & Gasparrini (IJE 2017): ``count ~ offset(log pop) + time + step
[+ (time − T0)·step] + Fourier harmonics of the month``. Quasi-Poisson scales the standard
errors by the Pearson χ²/(n − p) dispersion; ``hac_lags`` gives Newey–West
(autocorrelation-robust) standard errors instead. statsmodels does the fitting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm

from helpers.estimate import z_critical


@dataclass
class ITSResult:
    rate_ratio: float          # level change at the interruption (exp of the step)
    ci: tuple[float, float]    # 95% interval
    slope_ratio: float | None  # change in monthly trend (exp), if modelled
    slope_ci: tuple[float, float] | None
    trend_ratio: float         # underlying monthly trend (exp)
    dispersion: float
    p_value: float
    fitted: np.ndarray
    counterfactual: np.ndarray
    fit: object

    def summary(self) -> dict:
        return {"rate_ratio": self.rate_ratio, "ci_low": self.ci[0], "ci_high": self.ci[1],
                "slope_ratio": self.slope_ratio, "trend_ratio": self.trend_ratio,
                "dispersion": self.dispersion, "p_value": self.p_value}


def design(time: np.ndarray, step: np.ndarray, month: np.ndarray | None = None,
           harmonics: int = 0, slope_change: bool = False, period: int = 12) -> pd.DataFrame:
    """Design matrix of a segmented regression.

    Parameters
    ----------
    time : array_like
        Time index (e.g. 1..n months).
    step : array_like
        0 before the interruption, 1 from it.
    month : array_like, optional
        Calendar month 1–12, needed for harmonics.
    harmonics : int, default 0
        Number of sin/cos pairs of period ``period``.
    slope_change : bool, default False
        Add (time − T0)·step, the change in trend after the interruption.
    period : int, default 12
        Season length in time units.

    Returns
    -------
    pandas.DataFrame
        Columns ``const``, ``step``, ``time`` [, ``slope_change``] [, ``sin1``, ``cos1``, …].

    References
    ----------
    Lopez Bernal J, Cummins S, Gasparrini A. Interrupted time series regression for the evaluation of public health interventions: a tutorial. *Int J Epidemiol* 2017;46:348–55.
    """
    t = np.asarray(time, float)
    s = np.asarray(step, float)
    X = pd.DataFrame({"const": 1.0, "step": s, "time": t})
    if slope_change:
        t0 = t[s > 0].min() - 1
        X["slope_change"] = (t - t0) * s
    if harmonics:
        if month is None:
            raise ValueError("harmonics need the calendar month (1-12)")
        m = np.asarray(month, float)
        for k in range(1, harmonics + 1):
            X[f"sin{k}"] = np.sin(2 * np.pi * k * m / period)
            X[f"cos{k}"] = np.cos(2 * np.pi * k * m / period)
    return X


def fit_its(count, time, step, offset=None, month=None, harmonics: int = 0,
            slope_change: bool = False, quasi: bool = True, hac_lags: int | None = None
            ) -> ITSResult:
    """Fit a segmented Poisson (quasi-Poisson by default) interrupted time series.

    Parameters
    ----------
    count : array_like
        Event counts per period.
    time : array_like
        Time index.
    step : array_like
        0 before the interruption, 1 from it.
    offset : array_like, optional
        Population or expected count the counts are relative to; its log enters the model.
    month : array_like, optional
        Calendar month 1–12, for seasonal harmonics.
    harmonics : int, default 0
        Number of Fourier pairs (period 12).
    slope_change : bool, default False
        Also estimate a change in trend.
    quasi : bool, default True
        Scale standard errors by the Pearson χ²/(n − p) dispersion.
    hac_lags : int, optional
        Use Newey–West (HAC) standard errors with this many lags instead.

    Returns
    -------
    ITSResult
        Level change ``rate_ratio`` (exp of the step) with its 95% ``ci``, optional
        ``slope_ratio`` and interval, the underlying monthly ``trend_ratio``, ``dispersion``,
        ``p_value``, fitted values, the no-interruption counterfactual and the statsmodels fit.

    References
    ----------
    Lopez Bernal J, Cummins S, Gasparrini A. Interrupted time series regression for the evaluation of public health interventions: a tutorial. *Int J Epidemiol* 2017;46:348–55; statsmodels ``GLM`` (Poisson family, ``scale="X2"``, ``cov_type="HAC"``).
    """
    y = np.asarray(count, float)
    X = design(time, step, month, harmonics, slope_change)
    off = None if offset is None else np.log(np.asarray(offset, float))
    model = sm.GLM(y, X, family=sm.families.Poisson(), offset=off)
    if hac_lags is not None:
        res = model.fit(cov_type="HAC", cov_kwds={"maxlags": hac_lags})
        disp = float(res.pearson_chi2 / res.df_resid)
    elif quasi:
        res = model.fit(scale="X2")
        disp = float(res.scale)
    else:
        res = model.fit()
        disp = 1.0
    z = z_critical(0.95)
    b, se = res.params["step"], res.bse["step"]
    slope = slope_ci = None
    if slope_change:
        bs, ss = res.params["slope_change"], res.bse["slope_change"]
        slope, slope_ci = float(np.exp(bs)), (float(np.exp(bs - z * ss)),
                                              float(np.exp(bs + z * ss)))
    Xc = X.copy()
    Xc["step"] = 0.0
    if slope_change:
        Xc["slope_change"] = 0.0
    cf = np.exp(Xc.to_numpy() @ res.params.to_numpy() + (0 if off is None else off))
    return ITSResult(float(np.exp(b)), (float(np.exp(b - z * se)), float(np.exp(b + z * se))),
                     slope, slope_ci, float(np.exp(res.params["time"])), disp,
                     float(res.pvalues["step"]), np.asarray(res.fittedvalues), cf, res)
