"""What every analysis of one report is about: validated parameters, the dataset and the area.

:func:`open_context` validates a notebook's parameter values against its catalogue spec,
opens the data source and resolves the area once (its level, code, name, practices, parents
and peers). Every analysis and every report section then reads the :class:`Context`; nothing
resolves the area again. The context also knows how the data may be shown: whether real
practices carry synthetic referrals, and then, in publish mode, which reports and sections
are not published (:func:`withheld`, :data:`AREA_ROWS`: no synthetic finding is tied to a
real practice or network; docs/real-data.md), and what a count of people or events may be
shown as.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from helpers import catalogue, formats, levels
from helpers.analysis import areas
from helpers.datasets import Dataset
from helpers.params import ParameterError
from helpers.sources import open_source
from helpers.stats import sdc

SYNTHETIC_FINDINGS = ("00_data_overview", "01_referral_variation", "02_federation_scale",
                      "03_contract_forms")
"""Notebooks whose pages state synthetic referral or hospital-activity figures about the
area they are for (00 its referral counts and monthly totals)."""

AREA_ROWS = {
    "01_referral_variation": ("crude_rates", "funnel", "outliers", "ranked", "practices_table",
                              "opportunity"),
    "02_federation_scale": ("groups_table", "members", "size_curves"),
}
"""Sections that show practices or networks one by one beside synthetic findings (a row, a
label or a chart point each): on a published page of real-structure data they are left out,
so a commissioner's or England's page holds the area's synthetic figures in aggregate only.
(02's ``size_curves`` is asked for the referral ratio's curve only; the payment and GP FTE
curves are real.)"""

AREA_ROWS_WHY = ("Left out of this published page: its referrals are synthetic, and listing "
                 "them practice by practice (or network by network) beside real list sizes "
                 "would tie an illustration to a real, identifiable practice. The run with "
                 "publish off shows it, marked as an illustration.")

WITHHELD_WHY = ("Practice and network reports of notebooks " + ", ".join(SYNTHETIC_FINDINGS)
                + " are not published for real-structure data: their referral and "
                "hospital-activity figures are synthetic, and a page for one real practice "
                "or network would tie them to it. Their real findings are in notebook "
                "04_real_indicators; a run with publish: false shows the illustration, "
                "marked as one, under the real name.")


def withheld(notebook: str, level: str, ds: Dataset, publish: bool) -> str:
    """Why the report of ``notebook`` for an area at ``level`` is not published ('' when it
    is): in publish mode, on data where real practices carry synthetic referrals, a
    practice's or network's page of a notebook of :data:`SYNTHETIC_FINDINGS`. The one rule
    the grid (which skips such reports and says why) and :func:`open_context` (which refuses
    them) both apply."""
    if publish and level in ("practice", "network") and notebook in SYNTHETIC_FINDINGS \
            and areas.synthetic_on_real(ds):
        return WITHHELD_WHY
    return ""


@dataclass
class Context:
    """One report's parameters, data and area."""

    notebook: str
    params: dict[str, Any]
    ds: Dataset
    where: areas.Area
    publish: bool

    @property
    def level(self) -> str:
        """'england', 'commissioner', 'network' or 'practice'."""
        return self.where.level

    @property
    def area(self) -> str:
        """The area's code as the data spells it."""
        return self.where.code

    @property
    def public_code(self) -> str:
        """The area's code as published (the data's own)."""
        return areas.public_code(self.ds, self.where.code, self.level)

    @property
    def network_name(self) -> str | None:
        """A practice's network by name (its code where it has none)."""
        w = self.where
        if not w.network:
            return None
        return w.network_name or w.network

    @property
    def area_name(self) -> str:
        """The area's name."""
        return display_name(self.ds, self.where)

    @property
    def practice_codes(self) -> list[str]:
        return list(self.where.practices)

    @property
    def commissioner(self) -> str:
        """The commissioner the area is in (ENGLAND for England)."""
        return self.where.commissioner

    @property
    def is_england(self) -> bool:
        return self.level == "england"

    @property
    def data_kind(self) -> str:
        """'synthetic', 'real' or 'mixed' (real structure with synthetic tables)."""
        return data_kind(self.ds)

    @property
    def synthetic_on_real(self) -> bool:
        """True when real practices carry synthetic referrals: every referral or activity
        figure on the page is an illustration, marked as one where it stands."""
        return areas.synthetic_on_real(self.ds)

    @property
    def withholds_area_rows(self) -> bool:
        """True on a published page of real-structure data: sections of :data:`AREA_ROWS`
        (practices or networks one by one beside synthetic findings) are left out."""
        return self.publish and self.synthetic_on_real

    def table_span(self, table: str, first: Any, last: Any) -> str:
        """The period a contract table's rows cover, in words (see :func:`table_span`)."""
        return table_span(self.ds, table, first, last)

    def outcome_period(self, outcome: str, year: int) -> str:
        """A practice-panel outcome's period, in words (see :func:`outcome_period`)."""
        return outcome_period(self.ds, outcome, year)

    @property
    def latest_list_when(self) -> str:
        """When the latest registered-list count was taken, in words (:func:`list_when`)."""
        return list_when(self.ds, self.ds.population["period"].max())

    def list_when(self, period: Any) -> str:
        """When a registered-list count was taken, in words (see :func:`list_when`)."""
        return list_when(self.ds, period)

    @property
    def price_words(self) -> str:
        """What the £ value of referrals is priced at: 'tariff prices' on simulated data,
        'reference costs' where the prices are the published NHS reference costs (the
        real structure), which are costs, not prices (see :func:`price_words`)."""
        return price_words(self.ds)

    def rule(self, section: str) -> levels.Rule:
        """How ``section`` of this notebook appears on this page: the level table's rule
        (:func:`helpers.levels.rule`), except that a section of :data:`AREA_ROWS` is
        omitted, with :data:`AREA_ROWS_WHY`, where :attr:`withholds_area_rows`."""
        if self.withholds_area_rows and section in AREA_ROWS.get(self.notebook, ()):
            return levels.omitted(AREA_ROWS_WHY)
        return levels.rule(self.notebook, section, self.level)

    def practice_labels(self, codes) -> list[str]:
        """How practices are named in tables and charts (see :func:`practice_labels`)."""
        return practice_labels(self.ds, codes)

    def network_labels(self, codes) -> list[str]:
        """How networks are named in tables (see :func:`network_labels`)."""
        return network_labels(self.ds, codes)

    def published(self, n: float) -> float:
        """A count of people or events as it may be shown: exact, or in publish mode rounded
        to 5 (NaN when suppressed)."""
        return sdc.round_count(n) if self.publish else float(n)

    def count(self, n: float) -> str:
        """A count for report text, published as in the tables and the results file."""
        return formats.count(self.published(n))

    def require_tables(self, tables: list[str], what: str) -> None:
        """Stop with a clear message when the data lacks tables an analysis needs."""
        missing = [t for t in tables if not self.ds.has(t)]
        if missing:
            where = self.ds.path or self.params.get("data_source")
            raise ParameterError(
                f"{what} needs the contract table(s) {missing}, which {where} does not "
                "have; see docs/data-contract.md")


def data_kind(ds: Dataset) -> str:
    """'synthetic', 'real' or 'mixed' (real structure with synthetic tables)."""
    prov = ds.provenance
    real, synthetic = prov.get("real_tables"), prov.get("synthetic_tables")
    if prov.get("source") == "synthetic" or (synthetic and not real):
        return "synthetic"
    if not real:                   # an extract that does not list its tables: real
        return "real"
    return "mixed" if synthetic else "real"


def list_when(ds: Dataset, period: Any) -> str:
    """When a registered-list count with ``period`` (a date) was taken, in words: 'April
    2021' for a count at a date; on the real structure, whose lists are NHS Payments to
    General Practice's per financial year (``provenance.list_period`` 'financial_year'),
    the financial year and what the figure is: '2021/22 (the year's average list)' from
    2018/19, '2017/18 (the year's last known list)' before."""
    ts = pd.Timestamp(period)
    if ds.provenance.get("list_period") != "financial_year" and not \
            areas.synthetic_on_real(ds):
        return f"{ts:%B %Y}"
    fy = ts.year if ts.month >= 4 else ts.year - 1
    what = "the year's average list" if fy >= 2018 else "the year's last known list"
    return f"{formats.year(fy)} ({what})"


def _profile_source(label: str) -> str:
    """'NHSBSA 2016-01 (9 bands split)' (a quarter's file) as 'NHSBSA January–March 2016'."""
    m = re.match(r"(NHSBSA|NHS Digital) (\d{4})-(\d\d)", label)
    if not m:
        return "its ICB's mean profile" if label == "commissioner mean profile" else label
    first = pd.Timestamp(f"{m.group(2)}-{m.group(3)}-01")
    if m.group(1) == "NHS Digital":
        return f"NHS Digital {first:%B %Y}"
    return f"NHSBSA {first:%B}–{first + pd.DateOffset(months=2):%B %Y}"


def table_status(ds: Dataset, table: str) -> str:
    """Whether a contract table is real or synthetic, in words, with what a real table
    holds where its period is not the rows' own: on the real structure the registered
    lists are real by year but their age and sex mix is one quarter's, the same every year;
    the prices are reference costs of the years published, the latest carried forward."""
    prov = ds.provenance
    kind = data_kind(ds)
    if kind != "mixed":
        return kind
    if table in prov.get("synthetic_tables", []):
        return "synthetic"
    d = prov.get("derivations", {})
    if table == "population" and isinstance(d.get("age_sex_profile_source"), dict):
        src = sorted(d["age_sex_profile_source"].items(), key=lambda kv: -kv[1])
        mix = "; ".join(f"{_profile_source(k)} for {formats.orgs(v)} practices"
                        for k, v in src)
        return (f"real list totals by year; age and sex mix held the same every year, from "
                f"{mix}")
    if table == "prices" and isinstance(d.get("prices"), str):
        carried = re.search(r"carried forward from the latest: \[([\d, ]+)\]", d["prices"])
        have = re.search(r"for (\d{4}/\d\d)–(\d{4}/\d\d)", d["prices"])
        out = "real NHS reference costs (average unit costs, not prices)"
        if have:
            out += f", {have.group(1)} to {have.group(2)}"
        if carried and have:
            years = [int(y) for y in carried.group(1).split(",")]
            out += (f"; {formats.year(years[0])} to {formats.year(years[-1])} carried "
                    f"forward from {have.group(2)}")
        return out
    if table == "practice_outcomes" and d.get("gp_fte"):
        return ("real: lists and payments by financial year (NHS Payments to General "
                "Practice); GP FTE a calendar year's, shown with the financial year ending in "
                "it (2023 with 2022/23)")
    return "real"


def table_span(ds: Dataset, table: str, first: Any, last: Any) -> str:
    """The period a contract table's rows cover, in words: 'Apr 2017 – Mar 2022' from its
    first and last dates; the real structure's registered lists, which are financial years
    (:func:`list_when`), as '2017/18 – 2021/22'; '–' where the table has no dates."""
    if pd.isna(first):
        return "–"
    a, b = pd.Timestamp(first), pd.Timestamp(last)
    if table == "population" and (ds.provenance.get("list_period") == "financial_year"
                                  or areas.synthetic_on_real(ds)):
        fy = [t.year if t.month >= 4 else t.year - 1 for t in (a, b)]
        return formats.year(fy[0]) if fy[0] == fy[1] else \
            f"{formats.year(fy[0])} – {formats.year(fy[1])}"
    # one month (or one year) reads as itself, not as a range with equal ends
    return f"{a:%b %Y}" if (a.year, a.month) == (b.year, b.month) else f"{a:%b %Y} – {b:%b %Y}"


def outcome_period(ds: Dataset, outcome: str, year: int) -> str:
    """The period of a practice-panel outcome of financial year ``year``, in words:
    '2022/23'; GP FTE on the real structure is the workforce file's calendar year ending in
    it, so '2022/23 (GP FTE of 2023)'."""
    fy = formats.year(int(year))
    if outcome.startswith("gp_fte") and isinstance(
            ds.provenance.get("derivations", {}).get("gp_fte"), str):
        return f"{fy} (GP FTE of {int(year) + 1})"
    return fy


def price_words(ds: Dataset) -> str:
    """'tariff prices' for simulated prices; 'reference costs' where the ``prices`` table
    is real (the published NHS reference costs: average unit costs, not prices paid)."""
    return "reference costs" if "prices" in ds.provenance.get("real_tables", []) \
        else "tariff prices"


def practice_labels(ds: Dataset, codes) -> list[str]:
    """How practices are named in tables and charts: their code."""
    return [str(c) for c in codes]


def network_labels(ds: Dataset, codes) -> list[str]:
    """How networks are named in tables: their code."""
    return [str(c) for c in codes]


def display_name(ds: Dataset, where: areas.Area) -> str:
    """An area's name as every page and the index show it."""
    return where.name


def display_names(ds: Dataset, codes: list[str]) -> dict[str, str]:
    """:func:`display_name` of many areas at once (codes as the data spells them), from the
    cached area table, for the batch's index and page titles."""
    t = areas.area_table(ds).set_index("code")
    out = {}
    for code in codes:
        if code == areas.ENGLAND:
            out[code] = "England"
        else:
            out[code] = str(t.loc[code, "name"])
    return out


def open_context(notebook: str, values: Mapping[str, Any]) -> Context:
    """Validate parameter values for a notebook, open its data and resolve its area.

    The area is ENGLAND or any commissioner, network or practice code, matched without
    regard to case; the context's ``params['area']`` is then the code as the data spells it.
    Raises :class:`helpers.params.ParameterError` for anything a reader must fix, and for
    a report that is not published (:func:`withheld`).
    """
    nb = catalogue.get(notebook)
    p = nb.validate(dict(values))
    ds = open_source(p["data_source"])
    try:
        where = areas.resolve(ds, p["area"])
    except areas.AreaError as e:
        raise ParameterError(str(e)) from e
    if not where.practices:
        raise ParameterError(f"area '{where.code}' has no practices in the data")
    why = withheld(nb.name, where.level, ds, bool(p["publish"]))
    if why:
        raise ParameterError(why)
    # the area as published: the data's spelling of its code
    p["area"] = areas.public_code(ds, where.code, where.level)
    return Context(nb.name, p, ds, where, bool(p["publish"]))
