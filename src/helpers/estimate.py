"""One estimate type, returned by every estimator of the pack.

An :class:`Estimate` carries a point estimate, its standard error, its interval at a stated
level, the method that produced it and the number of units behind it, with anything
method-specific in ``extra``. ``tidy()`` gives the one-row table pyfixest and broom users
expect. Critical values come from scipy at the stated level (:func:`z_critical`,
:func:`t_critical`), never a typed-in 1.96.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import pandas as pd
from scipy import stats


def z_critical(level: float = 0.95) -> float:
    """Two-sided standard-normal critical value Φ⁻¹(1 − (1 − level)/2).

    Parameters
    ----------
    level : float, default 0.95
        Confidence level (0–1).

    Returns
    -------
    float
        1.959964 at 0.95, 3.090232 at 0.998.

    References
    ----------
    scipy.stats.norm.ppf.
    """
    return float(stats.norm.ppf(1 - (1 - level) / 2))


def t_critical(df: float, level: float = 0.95) -> float:
    """Two-sided Student-t critical value with ``df`` degrees of freedom.

    Parameters
    ----------
    df : float
        Degrees of freedom (n − 1 for a mean of n values).
    level : float, default 0.95
        Confidence level (0–1).

    Returns
    -------
    float
        t_{1 − (1 − level)/2, df}.

    References
    ----------
    scipy.stats.t.ppf.
    """
    return float(stats.t.ppf(1 - (1 - level) / 2, df))


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its standard error and interval.

    ``lower``/``upper`` are at ``level`` (0–1); ``method`` names the estimator (e.g.
    'callaway_santanna', 'twfe', 'ols elasticity', 't mean'); ``n`` is the number of units
    (practices, commissioners) behind it; ``extra`` holds what only that method has (an
    event study, pre-trend checks, notes).
    """

    estimate: float
    se: float
    lower: float
    upper: float
    level: float = 0.95
    method: str = ""
    n: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def normal(cls, estimate: float, se: float, level: float = 0.95, **kw) -> Estimate:
        """An estimate with a normal-theory interval estimate ± z·se."""
        z = z_critical(level)
        return cls(float(estimate), float(se), float(estimate - z * se),
                   float(estimate + z * se), level, **kw)

    @property
    def covers_zero(self) -> bool:
        """True when the interval includes zero (or is undefined)."""
        if math.isnan(self.lower) or math.isnan(self.upper):
            return True
        return self.lower <= 0 <= self.upper

    def covers(self, value: float) -> bool:
        """True when the interval includes ``value``."""
        return self.lower <= value <= self.upper

    def with_extra(self, **kw) -> Estimate:
        """A copy with more method-specific fields."""
        return replace(self, extra={**self.extra, **kw})

    def tidy(self) -> pd.DataFrame:
        """One row: estimate, std_error, conf_low, conf_high, level, method, n."""
        return pd.DataFrame([{"estimate": self.estimate, "std_error": self.se,
                              "conf_low": self.lower, "conf_high": self.upper,
                              "level": self.level, "method": self.method, "n": self.n}])

    def record(self, name: str = "estimate") -> dict[str, Any]:
        """One flat row: the estimate under ``name``, se, lower, upper, n and the scalar
        extras (tables and lists left out), for a results file or a table."""
        out = {name: self.estimate, "se": self.se, "lower": self.lower, "upper": self.upper,
               "n": self.n}
        out.update({k: v for k, v in self.extra.items()
                    if v is None or isinstance(v, str | int | float | bool)})
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (for a cache file); tables in ``extra`` become
        ``{"__frame__": {column: values}}`` so :meth:`from_dict` can restore them."""
        d = asdict(self)
        d["extra"] = {k: {"__frame__": v.to_dict(orient="list")}
                      if isinstance(v, pd.DataFrame) else v for k, v in self.extra.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Estimate:
        """The inverse of :meth:`to_dict`."""
        extra = {k: pd.DataFrame(v["__frame__"]) if isinstance(v, dict) and "__frame__" in v
                 else v for k, v in (d.get("extra") or {}).items()}
        return cls(**{**d, "extra": extra})
