"""The data contract: one validated shape for synthetic, real-NHS and user-supplied tables.

Every loader returns tables that passed :func:`validate_table` (column names, types, ranges,
allowed codes, unique keys) and :func:`validate_dataset` (codes resolve across tables, group
memberships do not overlap, every practice-period has a population). Failures raise
:class:`ContractError`, whose message names the file, the table, the column and example rows.

Why hand-written rather than pandera: the contract needs cross-table checks (foreign keys,
overlapping date intervals, zero practice totals) and error messages aimed at analysts
("file X, column Y, rows 3, 17: ...") with "did you mean" hints for misnamed columns; pandera
covers only the single-table part and its failure reports are built for developers. The specs
below are plain data, so ``docs/data-contract.md`` is checked against them by a test.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

AGE_BANDS: tuple[str, ...] = tuple(f"{a}-{a + 4}" for a in range(0, 90, 5)) + ("90+",)
"""The 19 five-year age bands (0-4 … 85-89, 90+), matching ESP 2013."""

NHSBSA_BANDS: dict[str, tuple[str, ...]] = {
    "0-4": ("0-4",),
    "5-14": ("5-9", "10-14"),
    "15-24": ("15-19", "20-24"),
    "25-34": ("25-29", "30-34"),
    "35-44": ("35-39", "40-44"),
    "45-54": ("45-49", "50-54"),
    "55-64": ("55-59", "60-64"),
    "65-74": ("65-69", "70-74"),
    "75+": ("75-79", "80-84", "85-89", "90+"),
}
"""How the 5-year bands map onto the 9 bands of NHSBSA's published list-size files."""

SEXES = ("F", "M")
CONTRACT_TYPES = ("GMS", "PMS", "APMS")
RURALITY = ("urban", "rural")
GROUP_TYPES = ("federation", "network")
ENGLAND = "ENGLAND"
"""The code of the whole-country area (reports for England as a whole)."""

CONTRACT_FORMS = ("block", "pbr", "cost_volume", "cap_collar", "blended", "api", "outcome")
PROVIDER_TYPES = ("acute", "independent", "community")
MEASURES = ("rate", "proportion")
"""Kinds of indicator in the ``indicators`` table: a rate of events per population (exact
Poisson / Byar intervals) or a proportion of people (Wilson intervals)."""

def financial_year(dates) -> pd.Series | np.ndarray:
    """Financial year of each date, named by its starting calendar year (April 2019 – March
    2020 → 2019), the convention of every ``year`` column in the contract.

    A Series gives an int64 Series; anything else date-like (DatetimeIndex, array, list) gives
    an int64 numpy array.
    """
    if isinstance(dates, pd.Series):
        d = pd.to_datetime(dates)
        fast = _financial_year_of_months(d.to_numpy())
        if fast is not None:
            return pd.Series(fast, index=d.index, name=d.name)
        return (d.dt.year - (d.dt.month < 4)).astype("int64")
    d = pd.DatetimeIndex(pd.to_datetime(dates))
    fast = _financial_year_of_months(d.to_numpy())
    if fast is not None:
        return fast
    return np.asarray(d.year - (d.month < 4), dtype="int64")


def _financial_year_of_months(values: np.ndarray) -> np.ndarray | None:
    """:func:`financial_year` by a binary search of each date among the 1 Aprils of the
    years the dates span (a date on or after 1 April of year y and before the next is in
    financial year y): 1.6 ms for England's 382,000 practice-months against 5 ms through
    pandas' date fields, on every report. None for what it does not handle (no NumPy dates,
    or NaT), which takes the pandas path and its errors."""
    if values.dtype.kind != "M" or not len(values) or np.isnat(values).any():
        return None
    first, last = (int(x.astype("datetime64[Y]").astype("int64")) + 1970
                   for x in (values.min(), values.max()))
    aprils = np.array([f"{y:04d}-04-01" for y in range(first - 1, last + 2)],
                      dtype="datetime64[D]").astype(values.dtype)
    return (first - 1) + np.searchsorted(aprils, values, side="right") - 1


CODE_MAX_LENGTH = 32
"""The longest code the contract takes (ODS codes are 3 to 6 characters): a code names report
files, so a longer one would be cut or refused by the file system."""
CODE_CHARACTERS = re.compile(r"[A-Za-z0-9 ._/-]+")
"""What a code is written with: ASCII letters and digits, spaces, '.', '_', '-' and '/'."""
_HAS_ALNUM = re.compile(r"[A-Za-z0-9]")

MIN_DATE = pd.Timestamp("1948-07-01")  # the NHS did not exist before this
MAX_DATE = pd.Timestamp("2040-12-31")


class ContractError(ValueError):
    """Input breaks the data contract. The message names the file, table, column and data
    rows (1-based, not counting the header), says what is wrong and, where it can, the fix."""

    def __init__(self, source: str, table: str, column: str | None, problem: str,
                 rows: list | None = None, fix: str = ""):
        self.source, self.table, self.column, self.problem = source, table, column, problem
        self.rows, self.fix = list(rows or []), fix
        where = f"{source}: table '{table}'"
        if column:
            where += f", column '{column}'"
        msg = f"{where}: {problem}"
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:5])
            more = f" (and {len(self.rows) - 5} more)" if len(self.rows) > 5 else ""
            msg += f"; data rows {shown}{more}"
        if fix:
            msg += f". Fix: {fix}"
        super().__init__(msg)


@dataclass(frozen=True)
class Column:
    """One column: its kind, whether it may be missing, its range and allowed values.

    Kinds: ``code`` (identifier string, stripped), ``str``, ``int`` (whole numbers),
    ``float``, ``date`` (any day) and ``month`` (first day of a month).
    """

    name: str
    kind: str
    description: str
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None
    unit: str = ""
    plausible_max: float | None = None   # larger values are data errors (units, stray digits)


@dataclass(frozen=True)
class ForeignKey:
    column: str
    table: str
    ref_column: str


@dataclass(frozen=True)
class TableSpec:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    foreign: tuple[ForeignKey, ...] = field(default_factory=tuple)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        """The column called ``name``."""
        return next(c for c in self.columns if c.name == name)


def _c(name, kind, description, **kw) -> Column:
    return Column(name, kind, description, **kw)


SPECS: dict[str, TableSpec] = {
    s.name: s
    for s in [
        TableSpec(
            "commissioners", "Commissioning organisations (ICB/CCG-like).",
            (
                _c("commissioner_code", "code", "ODS-style commissioner code"),
                _c("commissioner_name", "str", "Name"),
                _c("region", "str", "NHS England region name"),
            ),
            key=("commissioner_code",),
        ),
        TableSpec(
            "sub_areas", "Sub-areas of a commissioner (sub-ICB locations / former CCGs).",
            (
                _c("sub_area_code", "code", "Sub-area code"),
                _c("sub_area_name", "str", "Name"),
                _c("commissioner_code", "code", "Parent commissioner"),
            ),
            key=("sub_area_code",),
            foreign=(ForeignKey("commissioner_code", "commissioners", "commissioner_code"),),
        ),
        TableSpec(
            "practices", "GP practices, one row each, with their commissioner and case-mix.",
            (
                _c("practice_code", "code", "ODS practice code"),
                _c("practice_name", "str", "Name"),
                _c("commissioner_code", "code", "Commissioner the practice belongs to"),
                _c("sub_area_code", "code", "Sub-area, if used", nullable=True),
                _c("open_date", "date", "Date opened"),
                _c("close_date", "date", "Date closed or merged, empty if open", nullable=True),
                _c("contract_type", "str", "GP contract", allowed=CONTRACT_TYPES),
                _c("imd_score", "float", "Attributed IMD score of registered patients",
                   min=0, max=100, unit="IMD score"),
                _c("rurality", "str", "Urban or rural", allowed=RURALITY),
                _c("ltc_prevalence", "float", "Share of patients on a long-term-condition "
                   "register", nullable=True, min=0, max=100, unit="%"),
                _c("successor_code", "code", "Practice that absorbed this one on merger",
                   nullable=True),
            ),
            key=("practice_code",),
            foreign=(
                ForeignKey("commissioner_code", "commissioners", "commissioner_code"),
                ForeignKey("sub_area_code", "sub_areas", "sub_area_code"),
                ForeignKey("successor_code", "practices", "practice_code"),
            ),
        ),
        TableSpec(
            "population", "Registered patients by practice, snapshot, sex and 5-year age band.",
            (
                _c("practice_code", "code", "Practice"),
                _c("period", "date", "Snapshot date the counts refer to"),
                _c("sex", "str", "F or M", allowed=SEXES),
                _c("age_band", "str", "5-year band 0-4 … 85-89, 90+", allowed=AGE_BANDS),
                _c("patients", "int", "Registered patients", min=0, unit="persons",
                   plausible_max=100_000),
            ),
            key=("practice_code", "period", "sex", "age_band"),
            foreign=(ForeignKey("practice_code", "practices", "practice_code"),),
        ),
        TableSpec(
            "groups", "Practice membership of federations and primary care networks.",
            (
                _c("practice_code", "code", "Member practice"),
                _c("group_code", "code", "Federation or PCN code"),
                _c("group_name", "str", "Group name"),
                _c("group_type", "str", "federation or network", allowed=GROUP_TYPES),
                _c("joined", "date", "Date the practice joined"),
                _c("left", "date", "Date it left, empty if still a member", nullable=True),
            ),
            key=("practice_code", "group_code", "joined"),
            foreign=(ForeignKey("practice_code", "practices", "practice_code"),),
        ),
        TableSpec(
            "specialties", "Specialties by treatment function code (TFC).",
            (
                _c("specialty_code", "code", "Treatment function code, e.g. 110"),
                _c("specialty_name", "str", "Name"),
                _c("follow_up_ratio", "float", "Follow-ups per first attendance", min=0,
                   max=20, unit="ratio"),
            ),
            key=("specialty_code",),
        ),
        TableSpec(
            "referrals", "GP referrals for a first outpatient appointment.",
            (
                _c("practice_code", "code", "Referring practice"),
                _c("month", "month", "Calendar month (first day)"),
                _c("specialty_code", "code", "Treatment function code"),
                _c("referrals", "int", "Referrals made", min=0, unit="referrals",
                   plausible_max=100_000),
            ),
            key=("practice_code", "month", "specialty_code"),
            foreign=(
                ForeignKey("practice_code", "practices", "practice_code"),
                ForeignKey("specialty_code", "specialties", "specialty_code"),
            ),
        ),
        TableSpec(
            "reference_rates", "Reference referral rates for indirect standardisation.",
            (
                _c("sex", "str", "F or M", allowed=SEXES),
                _c("age_band", "str", "5-year band", allowed=AGE_BANDS),
                _c("specialty_code", "code", "Treatment function code"),
                _c("rate", "float", "Referrals per person per year", min=0,
                   unit="per person-year", plausible_max=10),
            ),
            key=("sex", "age_band", "specialty_code"),
            foreign=(ForeignKey("specialty_code", "specialties", "specialty_code"),),
        ),
        TableSpec(
            "providers", "Hospital providers.",
            (
                _c("provider_code", "code", "ODS trust code"),
                _c("provider_name", "str", "Name"),
                _c("provider_type", "str", "acute, independent or community",
                   allowed=PROVIDER_TYPES),
            ),
            key=("provider_code",),
        ),
        TableSpec(
            "contracts", "Commissioner-provider contracts: form and payment parameters.",
            (
                _c("commissioner_code", "code", "Commissioner"),
                _c("provider_code", "code", "Provider"),
                _c("start_month", "month", "First month the terms apply"),
                _c("end_month", "month", "Last month, empty if open-ended", nullable=True),
                _c("contract_form", "str", "Payment form", allowed=CONTRACT_FORMS),
                _c("fixed_annual_gbp", "float", "Fixed element (block sum, blended fixed "
                   "part, capitation)", nullable=True, min=0, unit="£ per year",
                   plausible_max=1e11),
                _c("plan_value_gbp", "float", "Planned activity at full price",
                   nullable=True, min=0, unit="£ per year", plausible_max=1e11),
                _c("variable_rate", "float", "Share of price paid on activity away from "
                   "plan (blended, API, marginal rate)", nullable=True, min=0, max=1),
                _c("corridor_pct", "float", "Half-width of the cap-and-collar corridor",
                   nullable=True, min=0, max=100, unit="% of plan"),
                _c("outcome_target", "float", "Target for the outcome metric",
                   nullable=True),
                _c("outcome_bonus_pct", "float", "Bonus or penalty at the target",
                   nullable=True, min=0, max=100, unit="% of fixed element"),
            ),
            key=("commissioner_code", "provider_code", "start_month"),
            foreign=(
                ForeignKey("commissioner_code", "commissioners", "commissioner_code"),
                ForeignKey("provider_code", "providers", "provider_code"),
            ),
        ),
        TableSpec(
            "prices", "Outpatient attendance prices by specialty and financial year.",
            (
                _c("specialty_code", "code", "Treatment function code"),
                _c("year", "int", "Financial year, by its starting calendar year",
                   min=1990, max=2040),
                _c("price_first", "float", "First attendance price", min=0, unit="£",
                   plausible_max=100_000),
                _c("price_followup", "float", "Follow-up attendance price", min=0,
                   unit="£", plausible_max=100_000),
            ),
            key=("specialty_code", "year"),
            foreign=(ForeignKey("specialty_code", "specialties", "specialty_code"),),
        ),
        TableSpec(
            "activity", "Outpatient activity and payments by commissioner and provider.",
            (
                _c("commissioner_code", "code", "Commissioner"),
                _c("provider_code", "code", "Provider"),
                _c("month", "month", "Calendar month (first day)"),
                _c("specialty_code", "code", "Treatment function code"),
                _c("first_attendances", "int", "First attendances", min=0,
                   plausible_max=1_000_000),
                _c("follow_ups", "int", "Follow-up attendances", min=0,
                   plausible_max=5_000_000),
                _c("payment_gbp", "float", "Payment made for the month", min=0, unit="£",
                   plausible_max=1e10),
            ),
            key=("commissioner_code", "provider_code", "month", "specialty_code"),
            foreign=(
                ForeignKey("commissioner_code", "commissioners", "commissioner_code"),
                ForeignKey("provider_code", "providers", "provider_code"),
                ForeignKey("specialty_code", "specialties", "specialty_code"),
            ),
        ),
        TableSpec(
            "practice_outcomes", "Annual practice panel for scale analysis.",
            (
                _c("practice_code", "code", "Practice"),
                _c("year", "int", "Financial year, by its starting calendar year",
                   min=1990, max=2040),
                _c("registered_patients", "float", "Registered list size", min=0,
                   unit="persons", plausible_max=500_000),
                _c("weighted_patients", "float", "Carr-Hill weighted list size", min=0,
                   unit="weighted persons", plausible_max=1_000_000),
                _c("gp_fte", "float", "GP full-time equivalents", nullable=True, min=0,
                   unit="FTE", plausible_max=1_000),
                _c("payments_gbp", "float", "Total NHS payments to the practice",
                   nullable=True, min=0, unit="£", plausible_max=1e9),
                _c("satisfaction_pct", "float", "Patients rating experience good",
                   nullable=True, min=0, max=100, unit="%"),
            ),
            key=("practice_code", "year"),
            foreign=(ForeignKey("practice_code", "practices", "practice_code"),),
        ),
        TableSpec(
            "indicators", "Published practice-level indicators (optional; real data only): "
            "a count and its denominator per practice, indicator and period.",
            (
                _c("practice_code", "code", "Practice"),
                _c("indicator_id", "code", "Publisher's indicator id, e.g. 93930 (Fingertips) "
                   "or QOF-DM"),
                _c("indicator_name", "str", "What is counted, in words"),
                _c("year", "int", "Financial year, by its starting calendar year (2021 = "
                   "2021/22)", min=1990, max=2040),
                _c("count", "int", "Events or people counted; empty where the publisher "
                   "suppressed it", nullable=True, min=0, unit="events or people",
                   plausible_max=1_000_000),
                _c("denominator", "int", "Population the count is out of", min=1,
                   unit="persons", plausible_max=1_000_000),
                _c("multiplier", "float", "The rate is count / denominator × this (1000 "
                   "for per 1,000; 100 for a percentage)", min=1, max=1_000_000),
                _c("measure", "str", "rate (events, may exceed the denominator) or "
                   "proportion (people, at most the denominator)", allowed=MEASURES),
                _c("unit", "str", "The rate's unit in words, e.g. per 1,000 children aged "
                   "0-4"),
                _c("source", "str", "Publisher, indicator and file"),
                _c("note", "str", "The publisher's note on the row (e.g. why a count is "
                   "suppressed)", nullable=True),
            ),
            key=("practice_code", "indicator_id", "year"),
            foreign=(ForeignKey("practice_code", "practices", "practice_code"),),
        ),
    ]
}

REAL_ONLY_TABLES = ("indicators",)
"""Tables only published data fill: the synthetic England has none of them."""

REQUIRED_TABLES = ("commissioners", "practices", "population", "specialties", "referrals",
                   "reference_rates")


def _rows(mask: np.ndarray | pd.Series, df: pd.DataFrame) -> list:
    """Row labels (1-based data-row numbers when the index is a default range)."""
    idx = df.index[np.asarray(mask, dtype=bool)]
    if isinstance(df.index, pd.RangeIndex):
        return [int(i) + 1 for i in idx]
    return list(idx)


def code_problem(code: str) -> str | None:
    """Why a code breaks the contract's rule for codes (at most :data:`CODE_MAX_LENGTH`
    characters of :data:`CODE_CHARACTERS`, at least one a letter or digit), else None."""
    if len(code) > CODE_MAX_LENGTH:
        return f"codes longer than {CODE_MAX_LENGTH} characters ({len(code):,})"
    if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in code):
        return "codes holding control characters (such as NUL, tab or a line break)"
    if not CODE_CHARACTERS.fullmatch(code):
        return "codes holding characters other than letters, digits, spaces, '.', '_', " \
               "'-' and '/'"
    if not _HAS_ALNUM.search(code):
        return "codes with no letter or digit"
    return None


def _check_codes(col: Column, values: pd.Series, source: str, table: str,
                 df: pd.DataFrame) -> None:
    """Refuse codes that break :func:`code_problem`'s rule, naming file, column and rows."""
    distinct = [str(c) for c in (values.cat.categories if isinstance(
        values.dtype, pd.CategoricalDtype) else pd.unique(values.dropna()))]
    bad = {c: why for c in distinct if (why := code_problem(c)) is not None}
    if not bad:
        return
    why = next(iter(bad.values()))
    shown = [c if len(c) <= 40 else c[:37] + "..." for c in list(bad)[:3]]
    rows = values.astype("string").isin(list(bad)).fillna(False).to_numpy()
    raise ContractError(source, table, col.name, f"{why}: {shown!r}", _rows(rows, df),
                        f"a code is at most {CODE_MAX_LENGTH} characters of letters, digits, "
                        "spaces, '.', '_', '-' and '/', with at least one letter or digit")


def _coerce(col: Column, s: pd.Series, source: str, table: str, df: pd.DataFrame) -> pd.Series:
    missing = s.isna()
    if col.kind in ("code", "str") and isinstance(s.dtype, pd.CategoricalDtype):
        # large code columns stay categorical: check and tidy the categories, not every row
        cats = s.cat.categories.astype("string").str.strip()
        out = s.cat.rename_categories(cats) if not cats.equals(s.cat.categories) else s
        if (cats == "").any() or cats.isna().any() or cats.duplicated().any():
            out = out.astype("string").mask(out.astype("string") == "", pd.NA)
        missing = out.isna()
    elif col.kind in ("code", "str"):
        out = s.astype("string").str.strip()
        out = out.mask(out == "", pd.NA)
        missing = out.isna()
    elif col.kind in ("int", "float"):
        out = pd.to_numeric(s, errors="coerce")
        bad = out.isna() & ~missing
        if bad.any():
            examples = s[bad].astype(str).head(3).tolist()
            raise ContractError(source, table, col.name,
                                f"expected numbers, found text such as {examples}",
                                _rows(bad, df), "write plain numbers (no units, commas or "
                                "'n/a'); leave a cell empty where the value is missing")
        infinite = out.notna() & ~np.isfinite(out.astype("float64"))
        if infinite.any():
            raise ContractError(source, table, col.name, "values are not finite (inf)",
                                _rows(infinite, df), "replace them with the real value or "
                                "an empty cell")
        if col.kind == "int":
            frac = out.notna() & (out != np.floor(out))
            if frac.any():
                raise ContractError(source, table, col.name,
                                    "counts must be whole numbers", _rows(frac, df))
            # beyond int64 a count would wrap round (to a negative number) when stored
            huge = out.notna() & (out.astype("float64").abs() >= 2.0**63)
            if huge.any():
                raise ContractError(source, table, col.name,
                                    f"numbers too large to be counts, such as "
                                    f"{s[huge].astype(str).head(3).tolist()}",
                                    _rows(huge, df), "check the column holds counts, not "
                                    "identifiers or joined-up digits")
            out = out.astype("Int64") if col.nullable else out.astype("int64", errors="ignore")
        else:
            out = out.astype("float64")
    elif col.kind in ("date", "month"):
        if pd.api.types.is_datetime64_any_dtype(s):
            out = s.astype("datetime64[ns]")
        else:
            text = s.astype("string").str.strip()
            missing = text.isna() | (text == "")
            out = pd.to_datetime(text.where(~missing), errors="coerce", format="ISO8601")
        bad = out.isna() & ~missing
        if bad.any():
            examples = s[bad].astype(str).head(3).tolist()
            slashed = s[bad].astype(str).str.fullmatch(r"\d{1,2}/\d{1,2}/\d{2,4}").any()
            raise ContractError(
                source, table, col.name, f"not a valid date: {examples}", _rows(bad, df),
                "write dates as YYYY-MM-DD (ISO 8601): day/month/year and month/day/year "
                "cannot be told apart" if slashed else
                "write dates as YYYY-MM-DD (ISO 8601), with a real day of the month")
        out = out.astype("datetime64[ns]")
        missing = out.isna()
        present = out.notna()
        oob = present & ((out < MIN_DATE) | (out > MAX_DATE))
        if oob.any():
            raise ContractError(
                source, table, col.name,
                f"dates out of range {MIN_DATE.date()} to {MAX_DATE.date()}: "
                f"{out[oob].dt.date.astype(str).head(3).tolist()}", _rows(oob, df))
        if col.kind == "month":
            notfirst = present & (out.dt.day != 1)
            if notfirst.any():
                raise ContractError(source, table, col.name,
                                    "months must be given as the first day of the month",
                                    _rows(notfirst, df))
    else:  # pragma: no cover - specs are fixed
        raise ValueError(col.kind)

    if col.kind == "code":
        _check_codes(col, out, source, table, df)
    if not col.nullable and missing.any():
        what = "populations" if col.name == "patients" else "values"
        raise ContractError(source, table, col.name, f"missing {what}", _rows(missing, df))
    if col.kind in ("int", "float"):
        if col.min is not None:
            low = out.notna() & (out < col.min)
            if low.any():
                word = "negative values" if col.min == 0 else f"values below {col.min:g}"
                raise ContractError(source, table, col.name, word, _rows(low, df))
        if col.max is not None:
            high = out.notna() & (out > col.max)
            if high.any():
                raise ContractError(source, table, col.name, f"values above {col.max:g}",
                                    _rows(high, df))
        if col.plausible_max is not None:
            high = out.notna() & (out > col.plausible_max)
            if high.any():
                found = [f"{v:,.0f}" for v in out[high].head(3)]
                raise ContractError(
                    source, table, col.name,
                    f"implausibly large values {found} (more than {col.plausible_max:,.0f} "
                    f"{col.unit or col.description.lower()} in one row)", _rows(high, df),
                    "check the units and for stray digits")
    if col.allowed is not None:
        bad = out.notna() & ~out.isin(col.allowed)
        if bad.any():
            found = sorted(set(out[bad].astype(str)))[:5]
            raise ContractError(source, table, col.name,
                                f"unknown values {found}; allowed: {list(col.allowed)}",
                                _rows(bad, df))
    return out


def validate_table(df: pd.DataFrame, table: str, source: str = "<memory>") -> pd.DataFrame:
    """Check one table against its spec and return it with contract dtypes and column order.

    Extra columns are dropped; missing or misnamed ones are an error with a suggestion.
    """
    if table not in SPECS:
        raise ContractError(source, table, None,
                            f"unknown table; the contract has {sorted(SPECS)}")
    spec = SPECS[table]
    if not isinstance(df, pd.DataFrame):
        raise ContractError(source, table, None, "expected a table (pandas DataFrame)")
    df = df.reset_index(drop=True)
    present = [str(c) for c in df.columns]
    missing = [n for n in spec.names if n not in present]
    if missing:
        hints = []
        for m in missing:
            close = difflib.get_close_matches(m, present, n=1, cutoff=0.6)
            if close:
                hints.append(f"'{close[0]}' looks like '{m}'")
        hint = f" ({'; '.join(hints)})" if hints else ""
        raise ContractError(source, table, missing[0],
                            f"missing required column(s) {missing}{hint}; "
                            f"found {present}")
    out = pd.DataFrame(
        {c.name: _coerce(c, df[c.name], source, table, df) for c in spec.columns}
    )
    # codes are matched without regard to case (as the reports match them), so A81005 and
    # a81005 are one key
    keyed = out[list(spec.key)].apply(
        lambda c: c.str.upper() if spec.column(c.name).kind == "code" else c)
    dup = keyed.duplicated(keep=False)
    if dup.any():
        cased = " (codes differ only in upper and lower case)" if not out[
            list(spec.key)].duplicated(keep=False).equals(dup) else ""
        raise ContractError(source, table, ", ".join(spec.key),
                            f"duplicate keys ({int(dup.sum())} rows share a key){cased}",
                            _rows(dup, out))
    if table == "population":
        tot = out.groupby(["practice_code", "period"], observed=True)["patients"].transform("sum")
        zero = tot <= 0
        if zero.any():
            raise ContractError(source, table, "patients",
                                "zero population for a practice and period "
                                f"{out.loc[zero, 'practice_code'].unique()[:3].tolist()}",
                                _rows(zero, out))
    if table == "indicators":
        over = (out["measure"] == "proportion") & out["count"].notna() & \
            (out["count"] > out["denominator"])
        if over.any():
            raise ContractError(source, table, "count",
                                "a proportion's count exceeds its denominator",
                                _rows(over, out), "a proportion counts people out of the "
                                "denominator; give events as measure 'rate'")
    return out


def _foreign_key_check(tables: Mapping[str, pd.DataFrame], sources: Mapping[str, str]) -> None:
    for name, df in tables.items():
        for fk in SPECS[name].foreign:
            if fk.table not in tables:
                continue
            ref = set(tables[fk.table][fk.ref_column].dropna())
            vals = df[fk.column]
            bad = vals.notna() & ~vals.isin(ref)
            if bad.any():
                codes = sorted(set(vals[bad].astype(str)))[:5]
                raise ContractError(
                    sources.get(name, "<memory>"), name, fk.column,
                    f"codes not found in table '{fk.table}': {codes}", _rows(bad, df))


def _overlap_check(df: pd.DataFrame, source: str, table: str, by: list[str],
                   start: str, end: str, what: str) -> None:
    """Intervals [start, end) for the same ``by`` key must not overlap."""
    d = df.sort_values(by + [start])
    far = pd.Timestamp("2262-01-01")
    ends = d[end].fillna(far)
    prev_end = ends.groupby([d[c] for c in by]).shift()
    overlap = prev_end.notna() & (d[start] < prev_end)
    if overlap.any():
        keys = d.loc[overlap, by].astype(str).agg("/".join, axis=1).head(3).tolist()
        rows = [int(i) + 1 for i in d.index[overlap.to_numpy()]]
        raise ContractError(source, table, start, f"overlapping {what} for {keys}", rows)


def validate_dataset(tables: Mapping[str, pd.DataFrame],
                     sources: Mapping[str, str] | None = None) -> dict[str, pd.DataFrame]:
    """Validate every table, then the cross-table rules. Returns the validated tables."""
    sources = dict(sources or {})
    for t in REQUIRED_TABLES:
        if t not in tables:
            raise ContractError(sources.get(t, "<dataset>"), t, None, "required table missing",
                                fix=f"add {t}.csv or {t}.parquet (see docs/data-contract.md)")
        if len(tables[t]) == 0:
            raise ContractError(sources.get(t, "<dataset>"), t, None,
                                "required table has no rows", fix="supply its rows")
    out = {name: validate_table(df, name, sources.get(name, "<memory>"))
           for name, df in tables.items()}
    _foreign_key_check(out, sources)
    if float(out["referrals"]["referrals"].sum()) == 0:
        raise ContractError(sources.get("referrals", "<memory>"), "referrals", "referrals",
                            f"every count is 0 ({len(out['referrals'])} rows): the dataset "
                            "records no referral, so there is no rate to compare",
                            fix="supply the referral counts (at least one referral)")
    if "groups" in out:
        g = out["groups"]
        bad = g["left"].notna() & (g["left"] <= g["joined"])
        if bad.any():
            raise ContractError(sources.get("groups", "<memory>"), "groups", "left",
                                "left on or before joined", _rows(bad, g))
        _overlap_check(g, sources.get("groups", "<memory>"), "groups",
                       ["practice_code", "group_type"], "joined", "left",
                       "group memberships of the same type")
    if "contracts" in out:
        c = out["contracts"].copy()
        c["end_excl"] = c["end_month"] + pd.offsets.MonthBegin(1)
        _overlap_check(c, sources.get("contracts", "<memory>"), "contracts",
                       ["commissioner_code", "provider_code"], "start_month", "end_excl",
                       "contracts")
    p = out["practices"]
    bad = p["close_date"].notna() & (p["close_date"] < p["open_date"])
    if bad.any():
        raise ContractError(sources.get("practices", "<memory>"), "practices", "close_date",
                            "closed before it opened", _rows(bad, p))
    pops = out["population"]
    refs = out["referrals"]
    no_pop = ~refs["practice_code"].isin(pops["practice_code"])
    if no_pop.any():
        raise ContractError(sources.get("referrals", "<memory>"), "referrals", "practice_code",
                            "practices with referrals but no population: "
                            f"{sorted(refs.loc[no_pop, 'practice_code'].unique())[:5]}",
                            _rows(no_pop, refs))
    return out


def contract_markdown() -> str:
    """The column reference of ``docs/data-contract.md``, generated from the specs."""
    lines: list[str] = []
    for spec in SPECS.values():
        lines.append(f"### `{spec.name}`\n\n{spec.description} Key: "
                     f"{', '.join(f'`{k}`' for k in spec.key)}.\n")
        lines.append("| column | type | required | rule | meaning |")
        lines.append("| --- | --- | --- | --- | --- |")
        for c in spec.columns:
            rule = []
            if c.min is not None:
                rule.append(f"≥ {c.min:g}")
            if c.max is not None:
                rule.append(f"≤ {c.max:g}")
            if c.allowed:
                shown = ", ".join(c.allowed) if len(c.allowed) <= 8 else "0-4 … 85-89, 90+"
                rule.append(f"one of {shown}")
            for fk in spec.foreign:
                if fk.column == c.name:
                    rule.append(f"in `{fk.table}.{fk.ref_column}`")
            unit = f" ({c.unit})" if c.unit else ""
            lines.append(f"| `{c.name}` | {c.kind} | {'no' if c.nullable else 'yes'} | "
                         f"{'; '.join(rule)} | {c.description}{unit} |")
        lines.append("")
    return "\n".join(lines)
