"""One formatter per quantity: how every number the pack shows is written.

Tables, report text, chart labels, the results summaries and the run index all print through
these functions, so one number prints the same everywhere. Conventions:

* a minus sign is the typographic minus (U+2212), placed before any £, and shown only when
  the rounded value is not zero (never "-0", "−0.0%" or "£-0k");
* counts of people or events get thousands separators; a count that disclosure control has
  suppressed arrives here as NaN (or None) and reads "suppressed" (this module does no
  disclosure control: it prints values that are already published);
* money is in pounds with one unit per context (£, £k or £m), chosen by :func:`money_unit`;
* financial years are written 2019/20; a run of years "2014/15 to 2018/19".

Standard library only, so light processes (the batch runner and its workers) can use it.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable

MINUS = "\u2212"
SUPPRESSED = "suppressed"
MISSING = "–"
NOT_AVAILABLE = "not available"


def is_number(x: object) -> bool:
    """A finite int or float that is not a bool."""
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def number(value: float, decimals: int = 0, prefix: str = "", suffix: str = "",
           plus: bool = False) -> str:
    """A number with thousands separators and ``decimals`` places; the sign (a true minus,
    or '+' when ``plus``) only when the rounded value is not zero, placed before ``prefix``:
    ``number(-1234.5, 1, '£')`` → '−£1,234.5'."""
    text = f"{abs(value):,.{decimals}f}"
    nonzero = any(ch not in "0.," for ch in text)
    sign = MINUS if value < 0 and nonzero else ("+" if plus and value > 0 and nonzero else "")
    return f"{sign}{prefix}{text}{suffix}"


def count(n: float | None) -> str:
    """A published count of people or events: '191,785'; NaN or None (suppressed) →
    'suppressed'."""
    return SUPPRESSED if _missing(n) else number(float(n), 0)


def orgs(n: int) -> str:
    """A count of organisations (practices, networks, commissioners), shown exactly."""
    return number(int(n), 0)


def plural(n: int, one: str, many: str | None = None) -> str:
    """'1 practice', '3 practices', '0 practices' (``many`` defaults to ``one`` + 's'; the
    count with thousands separators)."""
    return f"{orgs(n)} {one if n == 1 else (many or one + 's')}"


def how_many(n: int, one: str, many: str | None = None) -> str:
    """:func:`plural`, but none is 'no': 'no practices', '1 practice', '3 practices'."""
    return f"no {many or one + 's'}" if n == 0 else plural(n, one, many)


def all_of(n: int, one: str, many: str | None = None) -> str:
    """Every one of ``n`` things, as a sentence says it: 'no practices', 'the only
    practice', 'both practices', 'all 3 practices' (start a sentence with
    :func:`capital`)."""
    many = many or one + "s"
    if n == 0:
        return f"no {many}"
    if n == 1:
        return f"the only {one}"
    return f"both {many}" if n == 2 else f"all {orgs(n)} {many}"


def and_list(items: Iterable[str]) -> str:
    """Items joined as prose: 'a', 'a and b', 'a, b and c' ('' for none)."""
    items = list(items)
    return " and ".join(filter(None, [", ".join(items[:-1]), *items[-1:]]))


def capital(text: str) -> str:
    """``text`` with its first letter a capital and the rest as it is ('all 3 ICBs' →
    'All 3 ICBs', where ``str.capitalize`` gives 'All 3 icbs')."""
    return text[:1].upper() + text[1:]


def money_unit(values: Iterable[float] | float) -> str:
    """The unit for money of this size: 'm' from £1m, 'k' from £10,000, else '' (pounds)."""
    vals = [abs(float(v)) for v in ([values] if is_number(values) else values)
            if is_number(v)]
    top = max(vals, default=0.0)
    return "m" if top >= 1e6 else ("k" if top >= 1e4 else "")


def money(x: float | None, unit: str = "auto", decimals: int | None = None) -> str:
    """Money in pounds: '£1.2m', '£480k', '£950' (``unit`` 'm', 'k', '' or 'auto'; £m to one
    decimal, £k and £ to none unless ``decimals``); missing → 'not available'."""
    if _missing(x):
        return NOT_AVAILABLE
    x = float(x)
    if unit == "auto":
        unit = money_unit(x)
    if unit == "m":
        return number(x / 1e6, 1 if decimals is None else decimals, "£", "m")
    if unit == "k":
        return number(x / 1e3, 0 if decimals is None else decimals, "£", "k")
    return number(x, 0 if decimals is None else decimals, "£")


def pct(x: float, decimals: int = 1) -> str:
    """A share on the 0–100 scale: '12.3%'."""
    return number(x, decimals, suffix="%")


def share(x: float, decimals: int = 1) -> str:
    """A small share on the 0–100 scale with enough decimals (up to 3) that it does not
    print as zero: '12.3%', '0.04%', '<0.001%'."""
    if x == 0:
        return pct(0, decimals)
    d = decimals
    while d < 3 and float(f"{abs(x):.{d}f}") == 0:
        d += 1
    return pct(x, d) if float(f"{abs(x):.{d}f}") != 0 else "<0.001%"


def pct_change(x: float, decimals: int = 1) -> str:
    """A change as a signed percentage: '+4.8%', '−3.1%'."""
    return number(x, decimals, suffix="%", plus=True)


def pct_change_as_given(x: float) -> str:
    """A parameter's signed percentage with the decimals it was given (up to 2), with a true
    minus: -10 → '−10%', 2.5 → '+2.5%'."""
    x = float(x)
    decimals = next((d for d in (0, 1) if round(x, d) == round(x, 2)), 2)
    return pct_change(x, decimals)


def ratio(x: float, decimals: int = 2) -> str:
    """A ratio such as observed / expected: '1.08'."""
    return number(x, decimals)


def decimals_to_separate(lo: float, hi: float, start: int, most: int = 4) -> int:
    """The fewest decimals (from ``start``, at most ``most``) at which two ends print apart."""
    d = start
    while d < most and f"{lo:.{d}f}" == f"{hi:.{d}f}":
        d += 1
    return d


def pct_interval(est: float, lo: float, hi: float, decimals: int = 1,
                 level: float = 95) -> str:
    """'+4.8% (95% CI +1.2% to +8.5%)' with enough decimals that the ends differ and that no
    value other than zero prints as zero."""
    d = decimals_to_separate(lo, hi, decimals)
    while d < 3 and any(v != 0 and float(f"{v:.{d}f}") == 0 for v in (lo, hi)):
        d += 1
    return (f"{pct_change(est, d)} ({level:g}% CI {pct_change(lo, d)} to "
            f"{pct_change(hi, d)})")


def num_range(lo: float, hi: float, decimals: int = 0, prefix: str = "",
              suffix: str = "") -> str:
    """A range of two numbers as the pack writes every range: an en dash between
    non-negative ends ('2–4', '£5k–£8k' with ``prefix`` '£' and ``suffix`` 'k'), 'to'
    where an end is negative ('−3 to −1', never the ambiguous '−3–−1'); one number when
    the ends print the same."""
    a, b = (number(v, decimals, prefix, suffix) for v in (lo, hi))
    if a == b:
        return a
    return f"{a} to {b}" if MINUS in a + b else f"{a}–{b}"


_HYPHEN_RANGE = re.compile(r"(?<![\w.\-–])(\d[\d,]*(?:\.\d+)?)-(?=\d[\d,]*(?:\.\d+)?(?![\w.\-]))")
_HYPHEN_MINUS = re.compile(r"(?<![\w.)\]%\-–])-(?=£?\d)")


def dashes(text: str) -> str:
    """A label as readers see it: a hyphen between two numbers is a range's en dash
    ('2-4' → '2–4', '10-20%' → '10–20%') and a hyphen before a number is a true minus
    ('-10%' → '−10%', '(-£5k)' → '(−£5k)'); dates ('2019-04-01'), codes ('E54000-1',
    'U-10') and words ('cap-and-collar') are left as they are."""
    return _HYPHEN_MINUS.sub(MINUS, _HYPHEN_RANGE.sub(r"\1–", text))


def log_to_pct(x: float) -> float:
    """A log-scale effect as a percentage change: (exp(x) − 1) × 100."""
    return (math.exp(x) - 1) * 100


def year(year: int) -> str:
    """A financial year by its starting year, as readers see it: 2019 → '2019/20' (the
    year of a date is :func:`helpers.schema.financial_year`)."""
    return f"{int(year)}/{str(int(year) + 1)[-2:]}"


def size_band(label: str) -> str:
    """A group-size band as readers see it: '5-8' → '5–8' (an en dash, as in every range
    the pack prints); '1' and '9+' unchanged."""
    return str(label).replace("-", "–")


def period(years: Iterable[int]) -> str:
    """'2019/20' or '2014/15 to 2018/19'."""
    years = sorted(years)
    return year(years[0]) if len(years) == 1 else f"{year(years[0])} to {year(years[-1])}"


BADGES = {"synthetic": "SYNTHETIC DATA", "real": "REAL DATA",
          "mixed": "REAL STRUCTURE, SYNTHETIC REFERRALS"}
"""The data badge of a report and of the run's index, by kind of data."""

PUBLISH_RULE = "counts of 1–7 suppressed, others rounded to 5"
"""Publish mode in words, as a report header and the run's index say it."""


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (OWASP, CSV injection)."""
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?%?")
"""A cell that is a number as the page writes it ('-5', '+4.8%', '1,234.5'): left a number."""


def csv_cell(value: object) -> str:
    """One CSV cell, safe to open in a spreadsheet: a text cell starting with '=', '+', '-',
    '@', a tab or a carriage return is prefixed with "'" so it is read as text, never run
    as a formula (OWASP's advice); a number ('-5', '+4.8%') stays a number. Every cell and
    header of every CSV the pack writes goes through here."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_row(cells: list) -> str:
    """One CSV line, each cell through :func:`csv_cell`: the pack's one CSV writer (every
    table download and any row added to one). Lines end CRLF (RFC 4180), so a cell holding
    a carriage return or line break is quoted."""
    return csv_rows([cells])


def csv_rows(rows) -> str:
    """Several CSV lines, each as :func:`csv_row` writes it, through one writer."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([csv_cell(c) for c in r] for r in rows)
    return out.getvalue()


TABLE_CSS = ("#{id}{{border-collapse:collapse;font-size:13px;margin:.4em 0}}"
             "#{id} th{{text-align:left;border-bottom:2px solid #425563;padding:4px 8px;"
             "vertical-align:bottom}}"
             "#{id} td{{padding:3px 8px;border-bottom:1px solid #d8dde0;text-align:left}}"
             "#{id} caption{{caption-side:top;text-align:left;font-weight:bold;"
             "padding-bottom:4px}}#{id} .r{{text-align:right}}")
"""A table's own style (scoped to its id, so it holds in JupyterLab as on a rendered page):
headers over a rule, cells over a light one, numbers right-aligned (class ``r``)."""


FORM_LABELS = {"block": "Block", "pbr": "Payment by results (tariff)",
               "cost_volume": "Cost and volume (capped)",
               "cap_collar": "Cap and collar (±5%)", "blended": "Blended (20% variable)",
               "api": "Aligned payment (75% above plan)", "outcome": "Outcome-based"}
"""Each contract form's name as pages, summaries and downloads print it, by its code in the
data (``helpers.schema.CONTRACT_FORMS``). Here, in a module without pandas, so the batch's
publishing processes name a form as the report does."""


def form_label(code: object) -> object:
    """A contract form's printed name (:data:`FORM_LABELS`); anything else as it is."""
    return FORM_LABELS.get(code, code) if isinstance(code, str) else code
