"""Statistical disclosure control for published reports.

Rules (NHS/OpenSAFELY practice): counts from 1 to 7 are suppressed; all other counts are
rounded to the nearest 5; rates, ratios and shares built on a suppressed count are hidden too.
Zero is shown as 0. Applied only in publish mode, to what readers see (tables and text), never
to the numbers the analysis runs on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SUPPRESS_MAX = 7
ROUND_TO = 5
MARK = "*"


def round_count(n: float) -> float:
    """A publishable count: NaN for 1–7, otherwise rounded to the nearest 5 (0 stays 0)."""
    if n is None or (isinstance(n, float) and np.isnan(n)):
        return np.nan
    if 0 < n <= SUPPRESS_MAX:
        return np.nan
    return float(ROUND_TO * np.floor(n / ROUND_TO + 0.5))


def count_text(n: float, publish: bool) -> str:
    """A count for report text: thousands separators; '*' (suppressed) in publish mode."""
    if publish:
        v = round_count(n)
        return MARK if np.isnan(v) else f"{v:,.0f}"
    return f"{n:,.0f}"


def protect(df: pd.DataFrame, counts: list[str], dependents: dict[str, list[str]] | None = None,
            publish: bool = True) -> pd.DataFrame:
    """Return a copy for display: counts suppressed/rounded, dependent columns hidden.

    ``dependents`` maps a count column to the columns computed from it (rates, ratios,
    limits), which are blanked where that count is suppressed.
    """
    if not publish:
        return df.copy()
    out = df.copy()
    for c in counts:
        raw = out[c].astype(float)
        hidden = (raw > 0) & (raw <= SUPPRESS_MAX)
        out[c] = [round_count(v) for v in raw]
        for dep in (dependents or {}).get(c, []):
            out[dep] = out[dep].astype(float).mask(hidden)
    return out
