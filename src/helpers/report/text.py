"""Report wording: safe data strings, plurals, and numbers written for readers.

Every string that comes from data (area, practice, network and provider names and codes)
passes through :func:`md` before it reaches report prose, so a name such as
``<script>alert(1)</script>ICB`` is shown as text and cannot inject HTML or Markdown.
Numbers are written with thousands separators, one unit per quantity, signs where a change is
meant, and as many decimals as it takes to tell an interval's ends apart.
"""

from __future__ import annotations

import html
import math
import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~-])")


def md(value: object) -> str:
    """A data string made safe for Markdown prose: Markdown-escaped, then HTML-escaped."""
    text = _MD_SPECIAL.sub(r"\\\1", str(value).replace("\n", " "))
    return html.escape(text, quote=False).replace("$", "&#36;")


def plural(n: int, one: str, many: str | None = None) -> str:
    """'1 practice', '3 practices' (``many`` defaults to ``one`` + 's')."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def count(n: float) -> str:
    """A count with thousands separators: 191,785."""
    return f"{n:,.0f}"


def gbp(x: float, unit: str = "auto") -> str:
    """Money for prose: £1.2m, £480k, £950 (``unit`` 'm', 'k', '' or 'auto')."""
    if unit == "auto":
        unit = "m" if abs(x) >= 1e6 else ("k" if abs(x) >= 1e4 else "")
    if unit == "m":
        return f"£{x / 1e6:,.1f}m"
    if unit == "k":
        return f"£{x / 1e3:,.0f}k"
    return f"£{x:,.0f}"


def _decimals_to_separate(lo: float, hi: float, start: int, most: int = 4) -> int:
    d = start
    while d < most and f"{lo:.{d}f}" == f"{hi:.{d}f}":
        d += 1
    return d


def pct_change(x: float, decimals: int = 1) -> str:
    """A change written as a signed percentage: +4.8%."""
    return f"{x:+.{decimals}f}%"


def pct_interval(est: float, lo: float, hi: float, decimals: int = 1) -> str:
    """'+4.8% (95% CI +1.2% to +8.5%)' with enough decimals that the ends differ and that
    no value other than zero prints as zero (never '-0.0%')."""
    d = _decimals_to_separate(lo, hi, decimals)
    while d < 3 and any(v != 0 and float(f"{v:.{d}f}") == 0 for v in (lo, hi)):
        d += 1

    def signed(v: float) -> str:
        out = f"{v:+.{d}f}"
        return f"{0:+.{d}f}" if float(out) == 0 else out
    return f"{signed(est)}% (95% CI {signed(lo)}% to {signed(hi)}%)"


def ratio_interval(est: float, lo: float, hi: float, decimals: int = 2) -> str:
    """'1.08 (95% CI 1.02 to 1.15)' with enough decimals that the ends differ."""
    d = _decimals_to_separate(lo, hi, decimals)
    return f"{est:.{d}f} (95% CI {lo:.{d}f} to {hi:.{d}f})"


def log_to_pct(x: float) -> float:
    """A log-scale effect as a percentage change: (exp(x) − 1) × 100."""
    return (math.exp(x) - 1) * 100


def financial_year(year: int) -> str:
    """2019 → '2019/20'."""
    return f"{year}/{str(year + 1)[-2:]}"


def period(years: list[int]) -> str:
    """'2019/20' or '2014/15 to 2018/19'."""
    years = sorted(years)
    return financial_year(years[0]) if len(years) == 1 else \
        f"{financial_year(years[0])} to {financial_year(years[-1])}"
