"""The oracle check: every report's page, CSV downloads, chart point titles and results file,
and the site's area pages, against the independent oracle's facts (:mod:`helpers.oracle`).

A figure agrees when it is the oracle's value rounded the way the page prints it; in publish
mode a count agrees when it is the oracle's exact count put through the disclosure rule, and
a figure derived from a count (a ratio, a count a year) when it is computed from that
published count. What is compared:

- results files: the area's practices, referrals (each ``facts`` entry, notebook 00's
  headline, notebook 01's observed, expected, ratio and referrals a year), its network's
  size, notebook 02's number of groups;
- sentences: referrals and referrals a year (and the years open a closed practice's figure
  averages over), registered patients and months of data, quarters and months with 1 to 7
  referrals, the practices of an area (with patients at the latest count, with referrals),
  practices and groups (and the median group), the size of a practice's group, the count of
  networks or practices in the bar at the top of a report;
- tables and their CSV downloads (every row, where the page shows only the first of a
  sortable table): rows naming a practice (its code), the area, its network, commissioner or
  England: practices, list size, referrals a year, expected a year, ratio; a group table's
  practices; publish-mode counts (multiples of 5, never 1–7), a suppressed count that its
  row gives back (a ratio beside an expected count, a best ratio beside a ratio and
  referrals a year); each CSV equal, cell for cell, to the table it downloads;
- chart point titles (SVG ``<title>``): a practice's ratio and expected referrals a year on a
  funnel (an unnamed "practice like it" must be some practice of the data), a practice's
  ratio each quarter beside England's deciles (no quarter after it closed), a practice's
  list size on a size curve;
- notebook 03 below a commissioner: the contract figures are the commissioner's (its
  activity value at tariff), so a chart or table titled with the network's or practice's
  name is a finding;
- area pages: the networks (never practices) or practices listed under an area, and their
  count.

A finding fails the report in the batch as a lint finding does (:func:`findings` in the
worker, with the facts computed once per run); ``python -m helpers.run.oracle_check RUN``
checks a finished run and prints every disagreement.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import csv
import functools
import hashlib
import html
import io
import json
import math
import re
import statistics
import sys
from pathlib import Path
from typing import Any

from helpers.oracle.facts import (
    ENGLAND,
    AreaFacts,
    area_facts,
    area_line,
    by_specialty,
    counts_of_lines,
    disclose,
    find,
    per_year_allowed,
    quarter,
    specialty_code_of,
)

WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10}
_NUM = r"[−-]?£?\d[\d,]*(?:\.\d+)?"


_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@functools.lru_cache(maxsize=65536)
def number(text: str) -> tuple[float, int] | None:
    """A printed figure as (value, decimals shown), or None when it is not one ("suppressed",
    "–"); '1,900' → (1900.0, 0), '−0.25' → (-0.25, 2), 'three' → (3.0, 0). Read once a
    process (a page's figures are read again by several checks, and pages repeat them)."""
    t = text.strip().replace("−", "-").replace("£", "").replace(",", "").rstrip("%")
    if t.lower() in WORD_NUMBERS:
        return float(WORD_NUMBERS[t.lower()]), 0
    if not _PLAIN_NUMBER.fullmatch(t):
        return None
    return float(t), len(t.split(".")[1]) if "." in t else 0


def agrees(printed: str, value: float | None) -> bool:
    """Whether a printed figure is ``value`` rounded to the decimals printed (None: the
    figure must read as suppressed)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return printed.strip().lower() in ("suppressed", "–", "")
    got = number(printed)
    if got is None:
        return False
    x, d = got
    return abs(x - value) <= 0.5 * 10 ** -d + 1e-9 * max(1.0, abs(value))


def agrees_any(printed: str, values: set | list) -> bool:
    """Whether a printed figure agrees with any of ``values``."""
    return any(agrees(printed, v) for v in values)


def count_shown(n: float, publish: bool) -> float | None:
    """A count as the page must show it."""
    return disclose(n) if publish else float(n)


def ratio_shown(f: AreaFacts, publish: bool) -> float | None:
    """The ratio as the page must show it: from the published count in publish mode."""
    obs = disclose(f.observed) if publish else f.observed
    if obs is None or f.expected <= 0:
        return None
    return obs / f.expected


# ------------------------------------------------------------------------------------------
# reading a page

_CSV = re.compile(r'<a download="([^"]*)" href="data:text/csv;charset=utf-8;base64,([^"]+)"')
_SVG_TITLE = re.compile(r"<title>([^<]*)</title>")


def page_tables(page: str) -> list[list[list[str]]]:
    """The page's HTML tables (rows of cell texts), header cells stripped of the sortable
    table's marks."""
    from helpers.run.checks import _parsed

    out = []
    for t in _parsed(page).tables:
        if t and t[0]:
            t = [[_header(c) for c in t[0]]] + [list(r) for r in t[1:]]
        out.append(t)
    return out


def _header(cell: str) -> str:
    return re.sub(r"^[^\w(£%]+", "", cell.strip())


def csv_tables(page: str) -> list[tuple[str, list[list[str]]]]:
    """Every CSV download the page holds: (file name, rows)."""
    out = []
    for name, data in _CSV.findall(page):
        text = base64.b64decode(data).decode("utf-8-sig")
        out.append((html.unescape(name), [[_unguarded(c) for c in r]
                                          for r in csv.reader(io.StringIO(text))]))
    return out


def _unguarded(cell: str) -> str:
    """A CSV cell as the table shows it: without the apostrophe that keeps a spreadsheet
    from reading a cell starting with =, +, - or @ as a formula."""
    return cell[1:] if len(cell) > 1 and cell[0] == "'" and cell[1] in "=+-@\t\r" else cell


def chart_titles(page: str) -> list[str]:
    """The point titles of the page's charts (SVG ``<title>`` inside an ``<svg>``)."""
    out = []
    for svg in re.findall(r"<svg[\s>].*?</svg>", page, re.S):
        out += [html.unescape(t).strip() for t in _SVG_TITLE.findall(svg)]
    return out


def page_text(page: str) -> str:
    """The page's visible text, white space collapsed."""
    from helpers.run.checks import visible_text

    return re.sub(r"\s+", " ", visible_text(page))


# ------------------------------------------------------------------------------------------
# a report


DEFINITION_PARAMETERS = {"01": {"comparator": "england", "standardise": "age_sex"}}
"""Parameters (by notebook) that change what 'expected' means beyond the oracle's one
definition (England's age-sex rates): with any other value the expected counts and ratios
are not compared (each such comparison is counted as skipped). Notebook 03's `specialties`
or `provider` make its baseline a slice of the commissioner's activity: the check of its
contract figures' titles is skipped and counted the same way."""


class Report:
    """What one report's checks need: the oracle's facts for the slice the page shows (its
    specialty and years), the results, and which comparisons its parameters put beyond the
    oracle (counted in ``skipped``)."""

    def __init__(self, facts: dict[str, Any], results: dict[str, Any]):
        params = results.get("parameters") or {}
        self.notebook = str(results.get("notebook", ""))
        self.specialty = None
        if self.notebook.startswith("01"):
            spec = params.get("specialty", "ALL")
            self.specialty = None if spec in (None, "", "ALL") else str(spec)
        self.facts = facts_of_specialty(facts, self.specialty)
        self.all_facts = facts                  # every specialty's (tables by specialty)
        self.results = results
        self.publish = bool(results.get("publish", params.get("publish")))
        self.years = [int(y) for y in (results.get("years") or params.get("years") or [])]
        self.code = (results.get("where") or {}).get("code") or params.get("area", ENGLAND)
        self.beyond = {k: params[k] for k, v in
                       DEFINITION_PARAMETERS.get(self.notebook[:2], {}).items()
                       if k in params and params[k] != v}
        self.skipped = 0
        self.area = self.get(self.code)

    def expected_comparable(self) -> bool:
        """Whether the page's expected counts and ratios mean the oracle's (England's
        age-sex rates); when not, the comparison asked for is counted as skipped."""
        if self.beyond:
            self.skipped += 1
            return False
        return True

    def get(self, code: str) -> AreaFacts:
        """An area's facts over the report's years (worked out once a worker:
        :func:`known_facts`)."""
        return known_facts(self.facts, code, tuple(self.years))

    def get_in(self, code: str, year: int) -> AreaFacts:
        """An area's facts in one financial year."""
        return area_facts(self.facts, code, [year])

    def practice_by_public(self, public: str) -> str | None:
        """The data code of a practice the page names by its public code (or by its name,
        where no other practice has that name)."""
        try:
            level, code = find(self.facts, public)
        except KeyError:
            if self._names is None:
                self._names = {}
                for c, p in self.facts["practices"].items():
                    self._names.setdefault(str(p["name"]).strip(), []).append(c)
            codes = self._names.get(public.strip(), [])
            return codes[0] if len(codes) == 1 else None
        return code if level == "practice" else None

    _names: dict[str, list[str]] | None = None

    def by_specialty(self) -> dict[str, tuple[int, float]]:
        """The area's referrals and expected referrals by specialty over the report's
        years (empty when the facts hold no figures by specialty)."""
        if self._by_specialty is None:
            f = self.all_facts
            ok = f.get("specialty") is None and "specialties" in f
            self._by_specialty = counts_of_lines(f, self._lines(), self.years or None) \
                if ok else {}
        return self._by_specialty

    def _lines(self) -> list[dict[str, dict[str, tuple[int, float]]]]:
        """The area's lines of figures by specialty, read: its own where the facts hold one
        (a network, commissioner or England: the sum of its practices'), else each member
        practice's."""
        own = area_line(self.all_facts, self.area.level, self.area.code)
        if own is not None:
            return [own]
        practices = self.all_facts["practices"]
        return [by_specialty(practices[m]) for m in self.area.members]

    _by_specialty: dict[str, tuple[int, float]] | None = None

    def specialty_in_year(self, code: str, year: int) -> int:
        """The area's referrals of the specialty ``code`` in the financial ``year``
        (:func:`helpers.oracle.facts.specialty_by_year`): every specialty's figures of
        every year summed in one reading of each member practice's line of figures by
        specialty, once a report (not once a table row and year)."""
        if self._in_year is None:
            self._in_year = {}
            for line in self._lines():
                for s, by_year in line.items():
                    for y, (o, _e) in by_year.items():
                        counts = self._in_year.setdefault(int(y), {})
                        counts[s] = counts.get(s, 0) + int(o)
        return self._in_year.get(year, {}).get(code, 0)

    _in_year: dict[int, dict[str, int]] | None = None

    def every_practice(self) -> list[tuple[float | None, float]]:
        """Each practice's (ratio as shown, expected a year) over the report's years."""
        key = (id(self.facts), tuple(self.years), self.publish)
        if key not in _EVERY:
            _EVERY.clear()
            fs = [self.get(c) for c in self.facts["practices"]]
            _EVERY[key] = sorted(((ratio_shown(f, self.publish), f.expected_per_year)
                                  for f in fs if f.expected > 0), key=lambda p: p[1])
        return _EVERY[key]

    def some_practice_shows(self, ratio: str, expected: str) -> bool:
        """Whether some practice of the data has the printed ``ratio`` and ``expected``
        referrals a year (:func:`agrees` with both), as an anonymous chart point says.
        :meth:`every_practice` is sorted by expected referrals, so only the practices whose
        expected figure is within the printed figure's rounding are compared (a funnel of
        hundreds of anonymous points against 6,500 practices was 0.05 s a report)."""
        got = number(expected)
        if got is None:
            return False
        x, d = got
        every = self.every_practice()
        reach = 0.5 * 10 ** -d + 1e-6 * max(1.0, abs(x))
        lo = bisect.bisect_left(every, x - reach, key=lambda p: p[1])
        hi = bisect.bisect_right(every, x + reach, key=lambda p: p[1])
        return any(agrees(expected, e) and agrees(ratio, rs) for rs, e in every[lo:hi])


_EVERY: dict[tuple, list[tuple[float | None, float]]] = {}

_KNOWN: dict[int, tuple[dict[str, Any], dict[tuple[str, tuple[int, ...]], AreaFacts]]] = {}
"""Area facts already worked out, by the facts they came from (held, so that their id
stays theirs) and (code, years). A worker's reports ask for the same areas again and
again: England in every comparison table (a scan of every practice's months), the
area's commissioner, each practice in a table and again in its CSV."""
KNOWN_MAX = 20_000
"""Area facts kept for each facts (about one a practice of England's)."""


def known_facts(facts: dict[str, Any], code: str, years: tuple[int, ...] = ()
                ) -> AreaFacts:
    """:func:`helpers.oracle.facts.area_facts` of ``code`` over ``years`` (all the data's
    when empty), worked out once and shared by every report of the process that asks
    again; callers read it and never change it."""
    held = _KNOWN.get(id(facts))
    if held is None or held[0] is not facts:
        if len(_KNOWN) >= 8:
            _KNOWN.clear()
        held = _KNOWN[id(facts)] = (facts, {})
    memo = held[1]
    key = (code, years)
    f = memo.get(key)
    if f is None:
        if len(memo) >= KNOWN_MAX:
            memo.clear()
        f = memo[key] = area_facts(facts, code, list(years) or None)
    return f


def _years_word(years: float) -> str:
    """An exposure in words, as the pages write it: '3 years' for 36 months, else months."""
    months = round(years * 12)
    if months % 12 == 0:
        return f"{months // 12} year{'s' if months != 12 else ''}"
    return f"{months:,} month{'s' if months != 1 else ''}"


def _stated_months(n: str, unit: str) -> float | None:
    got = number(n)
    if got is None:
        return None
    return got[0] * (12 if unit.startswith("year") else 1)


def facts_of_specialty(facts: dict[str, Any], specialty: str | None) -> dict[str, Any]:
    """The oracle's facts of the same dataset for one specialty (all when None): computed
    once from the dataset folder the facts were computed from, and cached."""
    if specialty is None or facts.get("specialty") == specialty:
        return facts
    folder = facts.get("folder")
    if not folder:
        raise KeyError("the oracle's facts do not name their dataset folder")
    return _specialty_facts(folder, facts["content_hash"], specialty)


@functools.lru_cache(maxsize=8)
def _specialty_facts(folder: str, content_hash: str, specialty: str) -> dict[str, Any]:
    from helpers.oracle.compute import load_or_compute

    facts, _ = load_or_compute(Path(folder), specialty)
    if facts["content_hash"] != content_hash:
        raise RuntimeError(f"{folder}: its content changed during the run")
    return facts


def check_results(r: Report) -> list[str]:
    """The results file against the oracle."""
    out: list[str] = []
    res, a = r.results, r.area
    pub = r.publish
    for key, v in (res.get("facts") or {}).items():
        if key == "n_practices" and isinstance(v, dict):
            if v.get("count") not in (len(a.members), a.n_with_referrals):
                out.append(f"results facts.n_practices {v.get('count')}: the oracle counts "
                           f"{len(a.members)} practices in {a.name}")
        elif key == "referrals" and isinstance(v, dict):
            want = count_shown(a.observed, pub)
            if v.get("count") != want:
                out.append(f"results facts.referrals {v.get('count')}: the oracle has "
                           f"{a.observed} referrals in {a.name} (published {want})")
        elif key == "network_practices" and a.network:
            n = len(r.facts["networks"][a.network]["members"])
            if v != n:
                out.append(f"results facts.network_practices {v}: the oracle's network "
                           f"{a.network} has {n} practices")
    head = res.get("headline") or {}
    if r.notebook.startswith("00") and head:
        if "referrals" in head and head["referrals"] != count_shown(a.observed, pub):
            out.append(f"results headline.referrals {head['referrals']}: the oracle has "
                       f"{a.observed} (published {count_shown(a.observed, pub)})")
        if "patients" in head and head["patients"] != count_shown(a.list_size, pub):
            out.append(f"results headline.patients {head['patients']}: the oracle has "
                       f"{a.list_size} at the latest count")
    if r.notebook.startswith("01") and "observed" in res:
        if res["observed"] != count_shown(a.observed, pub):
            out.append(f"results observed {res['observed']}: the oracle has {a.observed}")
        exp = res.get("expected")
        if exp is not None and r.expected_comparable() and \
                not math.isclose(exp, a.expected, rel_tol=1e-6):
            out.append(f"results expected {exp}: the oracle has {a.expected:.6g}")
        rs = ratio_shown(a, pub)
        if res.get("area_ratio") is not None and rs is not None and \
                r.expected_comparable() and \
                not math.isclose(res["area_ratio"], rs, rel_tol=1e-6):
            out.append(f"results area_ratio {res['area_ratio']}: the oracle has {rs:.6g}")
        py = res.get("observed_per_year")
        if py is not None and py not in per_year_allowed(a.observed, a.years, pub) and \
                not any(v is not None and math.isclose(py, v, rel_tol=1e-9)
                        for v in per_year_allowed(a.observed, a.years, pub)):
            out.append(f"results observed_per_year {py}: the oracle has "
                       f"{a.per_year:.6g} ({a.observed} over {_years_word(a.years)} open)")
        if res.get("n_practices") not in (None, a.n_with_referrals):
            out.append(f"results n_practices {res['n_practices']}: the oracle has "
                       f"{a.n_with_referrals} practices with referrals in {a.name}")
    base = res.get("baseline_value_gbp")
    if r.notebook.startswith("03") and base is not None:
        value = activity_value(r)
        if value is not None and not math.isclose(base, value, rel_tol=1e-6):
            out.append(f"results baseline_value_gbp {base}: the oracle has the commissioner's "
                       f"activity at £{value:,.2f} in {res.get('year')}")
    if r.notebook.startswith("02") and "n_groups" in res and a.level in (
            "commissioner", "england"):
        groups = {r.facts["practices"][m]["network"] for m in a.members} - {None}
        if res["n_groups"] != len(groups):
            out.append(f"results n_groups {res['n_groups']}: the oracle finds "
                       f"{len(groups)} groups among {a.name}'s practices")
    return out


# sentences --------------------------------------------------------------------------------

_MADE = re.compile(r"made (\S+) GP referrals[^()]*?\((" + _NUM + r"|suppressed) a year"
                   r"(?: over the ([\w,]+) (years?|months?) it was open)?\)")
_OVER_MONTHS = re.compile(r"(" + _NUM + r") GP referrals for first outpatient appointments "
                          r"over (?:the )?(\d+) months")
_PRACTICES_WITH = re.compile(r"(\d[\d,]*) practices? with (?:" + _NUM +
                             r") registered patients in")
_PRACTICES_MADE = re.compile(r"(\d[\d,]*) practices? in (.+?) made (?:\S+) GP referrals")
_GROUP_OF = re.compile(r"belongs to (.+?) ?, a group of (\d+) practices?")
_PATIENTS = re.compile(r"(" + _NUM + r") registered patients in")
_GAPS = re.compile(r"(\w+) (quarters?|months?) with 1 to 7 referrals")
_GROUPS = re.compile(r"(" + _NUM + r") practices? in ([^↓·]+?) belongs? to (\d+) groups?"
                     r"(?: \(median (" + _NUM + r") practices? each\))?")
_NAV = re.compile(r"Its (\d+) (networks?|practices?) ↓")


LITERALS = {_OVER_MONTHS: " for first outpatient appointments over ",
            _PRACTICES_WITH: " registered patients in", _GROUP_OF: ", a group of ",
            _PATIENTS: " registered patients in", _GAPS: " with 1 to 7 referrals",
            _GROUPS: " belong"}
"""Text that every match of each of these sentence patterns contains."""


def _found(pattern: re.Pattern, text: str):
    """``pattern.finditer(text)``, or nothing at once where the pattern's literal
    (:data:`LITERALS`), which every match contains, is not in the text: a pattern opening
    with a number is tried at every figure of a page (2–4 ms a pattern on a commissioner's
    page, most of which hold none of its sentences)."""
    return pattern.finditer(text) if LITERALS[pattern] in text else iter(())


def check_text(r: Report, text: str, run_areas: set[str] | None) -> list[str]:
    """The page's sentences against the oracle."""
    out: list[str] = []
    a, pub = r.area, r.publish
    for m in _MADE.finditer(text):
        total, per, n_open, unit = m.groups()
        if not agrees(total, count_shown(a.observed, pub)):
            out.append(f"'{m.group(0)}': the oracle has {a.observed:,} referrals "
                       f"(published {count_shown(a.observed, pub)})")
        if not agrees_any(per, per_year_allowed(a.observed, a.years, pub)):
            out.append(f"'{m.group(0)}': the oracle has {a.per_year:,.1f} a year "
                       f"({a.observed:,} over the {_years_word(a.years)} open)")
        period = 12 * len(r.years or r.facts["years"])
        if n_open is not None and _stated_months(n_open, unit) != a.months_open:
            out.append(f"'{m.group(0)}': the oracle has it open {_years_word(a.years)}")
        if n_open is None and a.level == "practice" and a.months_open < period:
            out.append(f"'{m.group(0)}': the practice was open {_years_word(a.years)} of "
                       f"the period's {_years_word(period / 12)}, and the page does not say "
                       "its figure a year is over those")
    for m in _found(_OVER_MONTHS, text):
        if not agrees(m.group(1), count_shown(a.observed, pub)):
            out.append(f"'{m.group(0)}': the oracle has {a.observed:,} referrals")
        if int(m.group(2)) != a.months_open:
            out.append(f"'{m.group(0)}': the oracle has referrals in {a.months_open} months")
    for m in _found(_PRACTICES_WITH, text):
        latest = r.facts["latest_count"]
        n = sum(1 for x in a.members if r.facts["practices"][x]["list_date"] == latest)
        if number(m.group(1))[0] != n:
            out.append(f"'{m.group(0)}': the oracle has {n} of {a.name}'s practices with "
                       "patients at the latest count")
    for m in _PRACTICES_MADE.finditer(text):
        if m.group(2).strip() == a.name and number(m.group(1))[0] != a.n_with_referrals:
            out.append(f"'{m.group(0)}': the oracle has {a.n_with_referrals} practices of "
                       f"{a.name} with referrals in the period")
    for m in _found(_GROUP_OF, text):
        if a.network and m.group(1).strip() == r.facts["networks"][a.network]["name"]:
            n = len(r.facts["networks"][a.network]["members"])
            if int(m.group(2)) != n:
                out.append(f"'{m.group(0)}': the oracle's {m.group(1).strip()} has {n} "
                           "practices")
    for m in _found(_PATIENTS, text):
        if not agrees(m.group(1), count_shown(a.list_size, pub)):
            out.append(f"'{m.group(0)}': the oracle has {a.list_size:,} registered patients "
                       "at the latest count")
    if pub:
        for m in _found(_GAPS, text):
            got = number(m.group(1))
            if got is None:
                continue
            want = a.quarters_1_7 if m.group(2).startswith("quarter") else a.months_1_7
            if got[0] != want:
                out.append(f"'{m.group(0)}': the oracle finds {want} {m.group(2)} with 1 to "
                           f"7 referrals while {a.name} was open")
    for m in _found(_GROUPS, text):
        n, _name, g, med = m.groups()
        grouped = [x for x in a.members if r.facts["practices"][x]["network"] is not None]
        sizes: dict[str, int] = {}
        for x in grouped:
            net = r.facts["practices"][x]["network"]
            sizes[net] = sizes.get(net, 0) + 1
        if number(n)[0] != len(grouped):
            out.append(f"'{m.group(0)}': the oracle has {len(grouped)} of {a.name}'s "
                       f"{len(a.members)} practices in a group")
        if int(g) != len(sizes):
            out.append(f"'{m.group(0)}': the oracle has them in {len(sizes)} groups")
        if med is not None and sizes and not agrees(med, statistics.median(sizes.values())):
            out.append(f"'{m.group(0)}': the oracle's median group has "
                       f"{statistics.median(sizes.values())} of its practices")
    if run_areas is not None:
        for m in _NAV.finditer(text):
            want = children(r.facts, a, m.group(2), run_areas)
            if want is not None and int(m.group(1)) != len(want):
                out.append(f"'{m.group(0)}': the run holds {len(want)} {m.group(2)} of "
                           f"{a.name}")
    if r.notebook.startswith("03") and a.level in ("network", "practice"):
        out += _contract_names(r, text)
    if r.notebook.startswith("03"):
        out += _activity_value_text(r, text)
    return out


def money_agrees(printed: str, value: float) -> bool:
    """Whether a printed sum of money ('£11.1m', '£1,106k', '−£54k', '£553') is ``value``
    (in £) rounded as printed."""
    t = printed.strip().replace("−", "-")
    unit = {"k": 1e3, "m": 1e6, "bn": 1e9}.get(re.sub(r"^[^a-z]*", "", t), 1.0)
    return agrees(re.sub(r"[a-z]+$", "", t), value / unit)


def activity_value(r: Report) -> float | None:
    """The value of the area's commissioner's outpatient activity at tariff in the report's
    year (£), when the page's figures are that whole value (not a slice of specialties or
    of one provider); None when the oracle has none."""
    params = r.results.get("parameters") or {}
    if params.get("specialties") or params.get("provider", "ALL") != "ALL":
        return None
    comm = r.facts["commissioners"].get(r.area.commissioner or "", {})
    year = r.results.get("year")
    return (comm.get("activity_value_gbp") or {}).get(str(year))


_WORTH = re.compile(r"In (\d{4})/\d{2}, the outpatient activity of (.+?) with its providers "
                    r"was worth ([−-]?£[\d.,]+(?:k|m|bn)?) at tariff prices")
_FALL = re.compile(r"A (\d+(?:\.\d+)?)% fall in GP referrals(?: from this [\w' ]+? \(([\d.]+)% "
                   r"of the commissioner's referrals\))? changes that activity by "
                   r"([−-]?£[\d.,]+(?:k|m|bn)?) a year")
_NONE_IN_YEAR = re.compile(r"made no GP referrals in (\d{4})/\d{2}")


def _activity_value_text(r: Report, text: str) -> list[str]:
    """Notebook 03's money: the commissioner's activity a year at tariff (first attendances
    and follow-ups at that year's prices), the area's share of the commissioner's referrals
    that year, and what a fall of some per cent in the area's referrals changes of that
    activity (the fall × the share × the value)."""
    value = activity_value(r)
    a = r.area
    if value is None or not a.commissioner:
        return []
    year = int(r.results["year"])
    mine, comm = r.get_in(a.code, year), r.get_in(a.commissioner, year)
    shares = {100 * n / d for n, d in ((mine.observed, comm.observed),
                                        (disclose(mine.observed), disclose(comm.observed)))
              if n is not None and d}
    out = []
    for m in _WORTH.finditer(text):
        if int(m.group(1)) == year and not money_agrees(m.group(3), value):
            out.append(f"'{m.group(0)[:140]}': the oracle has £{value:,.0f} (the "
                       f"commissioner's first attendances and follow-ups at {year}'s prices)")
    for m in _FALL.finditer(text):
        pct, share, change = m.groups()
        if share is not None and not agrees_any(share, shares):
            out.append(f"'{m.group(0)[:140]}': the oracle has {a.name}'s referrals at "
                       f"{100 * mine.observed / max(1, comm.observed):.2f}% of the "
                       f"commissioner's in {year}")
        want = [float(pct) / 100 * x / 100 * value for x in (shares or {0.0})] \
            if a.level != "commissioner" else [float(pct) / 100 * value]
        if not any(money_agrees(change, w) for w in want):
            out.append(f"'{m.group(0)[:140]}': the oracle has £{want[0]:,.0f} ({pct}% of "
                       f"{a.name}'s referrals' share of the activity, £{value:,.0f})")
    for m in _NONE_IN_YEAR.finditer(text):
        y = int(m.group(1))
        if y == year and mine.observed:
            out.append(f"'{m.group(0)}': the oracle has {mine.observed:,} referrals in "
                       f"{a.name} that year")
    return out


def site_areas(facts: dict[str, Any], areas) -> set[str]:
    """The areas a run's site has a page for (public codes): the run's areas and every area
    above one (a practice's network and commissioner, a network's commissioner)."""
    out = set(areas)
    for code in list(out):
        try:
            level, c = find(facts, code)
        except KeyError:
            continue
        if level == "practice":
            p = facts["practices"][c]
            out.add(p["commissioner"])
            if p["network"]:
                out.add(facts["networks"][p["network"]]["public"])
        elif level == "network":
            out.add(facts["networks"][c]["commissioner"])
    return out


def children(facts: dict[str, Any], a: AreaFacts, word: str, run_areas: set[str]
             ) -> list[str] | None:
    """The public codes of an area's networks (or practices) that the run holds; None when
    the word does not fit the area's level."""
    if word.startswith("network") and a.level == "commissioner":
        return [facts["networks"][g]["public"] for g in a.networks
                if facts["networks"][g]["public"] in run_areas]
    if word.startswith("network") and a.level == "england":
        return [facts["networks"][g]["public"] for g in a.networks
                if facts["networks"][g]["public"] in run_areas]
    if word.startswith("practice") and a.level == "network":
        return [facts["practices"][p]["public"] for p in a.members
                if facts["practices"][p]["network"] == a.code
                and facts["practices"][p]["public"] in run_areas]
    if word.startswith("practice") and a.level == "commissioner":
        return [facts["practices"][p]["public"] for p in a.ungrouped
                if facts["practices"][p]["public"] in run_areas]
    return None


_CONTRACT_TITLE = re.compile(r"(?:by contract form|demand risk[^,.]*|switching form[^,.]*|"
                             r"the commissioner(?:'s)? saving[^,.]*), ([^.]+?)(?= Source:|$)")


def _contract_names(r: Report, text: str) -> list[str]:
    """Notebook 03 below a commissioner: the contract figures are the commissioner's (its
    activity value at tariff is the page's baseline), so a chart titled with the area's
    own name puts the commissioner's numbers under it."""
    a = r.area
    params = r.results.get("parameters") or {}
    if params.get("specialties") or params.get("provider", "ALL") != "ALL":
        r.skipped += 1          # a slice of the activity: not the oracle's whole value
        return []
    comm = r.facts["commissioners"].get(a.commissioner or "", {})
    year = r.results.get("year")
    value = (comm.get("activity_value_gbp") or {}).get(str(year))
    base = r.results.get("baseline_value_gbp")
    if value is None or base is None or not math.isclose(base, value, rel_tol=1e-6):
        return []
    out = []
    for m in _CONTRACT_TITLE.finditer(text):
        if m.group(1).strip().startswith(a.name):
            out.append(f"'{m.group(0)[:100]}': the figures are {comm['name']}'s (its "
                       f"activity, £{value:,.0f} in {year}), shown under {a.name}'s name")
    return out


# tables -----------------------------------------------------------------------------------

COUNT_HEADERS = ("referrals a year", "list size", "combined list", "referrals above",
                 "referrals in", "referrals")
"""How the headers of columns of counts of people or events begin."""


def _row_area(r: Report, first_header: str, label: str) -> AreaFacts | None:
    """The area a table row is about, when the oracle can tell."""
    label = label.strip()
    a = r.area
    if first_header.lower() == "practice":
        code = r.practice_by_public(label)
        return r.get(code) if code else None
    if first_header.lower() != "area":
        return None
    if label == a.name:
        return a
    if label == "England":
        return r.get(ENGLAND)
    m = re.fullmatch(r"Its (network|commissioner) \((.+)\)", label)
    if m:
        code = a.network if m.group(1) == "network" else a.commissioner
        return r.get(code) if code else None
    return None


def check_table(r: Report, rows: list[list[str]], where: str, blank_ok: bool = False
                ) -> list[str]:
    """One table (or CSV) against the oracle; with ``blank_ok`` an empty or '–' cell of a
    row naming an area is a figure the run does not hold (a summary's or download's
    practice whose notebook did not run), not compared."""
    if len(rows) < 2:
        return []
    out: list[str] = []
    head = [_header(h) for h in rows[0]]
    low = [h.lower() for h in head]
    pub = r.publish
    for row in rows[1:]:
        if len(row) != len(head):
            continue
        cells = dict(zip(low, row, strict=True))
        label = row[0]
        f = _row_area(r, low[0], label)
        if f is not None:
            for h, v in cells.items():
                if blank_ok and v.strip() in ("", "–"):
                    continue
                bad = None
                if h == "practices" and not agrees_any(v, {len(f.members),
                                                           f.n_with_referrals}):
                    bad = f"{f.n_with_referrals} practices"
                elif h.startswith("list size") and not agrees(v, count_shown(f.list_size,
                                                                             pub)):
                    bad = f"{f.list_size:,} patients at the latest count"
                elif h == "referrals a year" and not agrees_any(
                        v, per_year_allowed(f.observed, f.years, pub)):
                    bad = (f"{f.per_year:,.1f} referrals a year ({f.observed:,} over "
                           f"{_years_word(f.years)} open)")
                elif h == "expected a year" and r.expected_comparable() and \
                        not agrees(v, f.expected_per_year):
                    bad = (f"{f.expected_per_year:,.1f} expected a year (over "
                           f"{_years_word(f.years)} open)")
                elif (h.startswith("ratio (observed") or h == "standardised referral ratio") \
                        and r.expected_comparable() and not agrees(v, ratio_shown(f, pub)):
                    rs = ratio_shown(f, pub)
                    bad = f"ratio {rs:.4f}" if rs is not None else "no ratio"
                elif h == "months open" and not agrees(v, f.months_open):
                    bad = f"{f.months_open} months open (months with a referral row)"
                elif h == "referrals in the period" and not agrees(
                        v, count_shown(f.observed, pub)):
                    bad = f"{f.observed:,} referrals (published {count_shown(f.observed, pub)})"
                elif h == "expected referrals in the period" and r.expected_comparable() \
                        and not agrees(v, f.expected):
                    bad = f"{f.expected:,.2f} expected referrals"
                elif h == "open or closed" and not _open_or_closed(v, f, r.facts):
                    bad = f"closing date {f.closed}" if f.closed else "no closing date"
                if bad:
                    out.append(f"{where}, row '{label}', '{head[low.index(h)]}' {v}: the "
                               f"oracle has {bad}")
        if low[0] == "group" and "practices in this area" in cells:
            out += _group_row(r, label, cells["practices in this area"], where)
        if low[0] == "specialty":
            out += _specialty_row(r, head, row, where)
        if pub:
            out += _publish_row(head, low, row, where)
    if low[0] == "specialty":
        out += _main_specialties(r, rows, where)
    plan = [i for i, h in enumerate(low) if h.startswith("commissioner's spend at plan")]
    value = activity_value(r) if plan and r.notebook.startswith("03") else None
    for row in rows[1:] if value is not None else []:
        if len(row) == len(head) and not _note_row(row) and \
                not money_agrees(row[plan[0]], value):
            out.append(f"{where}, row '{row[0]}', '{head[plan[0]]}' {row[plan[0]]}: the "
                       f"oracle has the commissioner's activity at £{value:,.0f}")
    if low[0] == "group" and "practices in this area" in low:
        i = low.index("practices in this area")
        shown = [x for x in rows[1:] if len(x) == len(head) and number(x[i])]
        total = sum(number(x[i])[0] for x in shown)
        if more_rows(rows):
            # the first rows of a long table: their sum against the same groups' practices
            # (the CSV download, checked as a table of its own, holds every group)
            names = {x[0].strip() for x in shown}
            nets = {g for g, n in r.facts["networks"].items() if n["name"] in names}
            want = sum(1 for x in r.area.members
                       if r.facts["practices"][x]["network"] in nets)
            if total != want:
                out.append(f"{where}: the {len(shown)} groups it shows add to {total:.0f} "
                           f"practices; the oracle has {want} of {r.area.name}'s practices "
                           "in those groups")
        else:
            grouped = [x for x in r.area.members if r.facts["practices"][x]["network"]]
            if total != len(grouped):
                out.append(f"{where}: its groups add to {total:.0f} practices; the oracle "
                           f"has {len(grouped)} of {r.area.name}'s practices in a group")
    return out


def _open_or_closed(cell: str, f: AreaFacts, facts: dict[str, Any]) -> bool:
    """Whether a practice's 'Open or closed' cell ('open', 'closed April 2017') agrees with
    its closing date (a date after the data's last month is no closing yet)."""
    text = cell.strip().lower()
    closed = f.closed is not None and f.closed[:7] <= facts["last_month"]
    if not text.startswith("closed"):
        return text == "open" and not closed
    if not closed:
        return False
    months = ["january", "february", "march", "april", "may", "june", "july", "august",
              "september", "october", "november", "december"]
    y, m = int(f.closed[:4]), int(f.closed[5:7])
    return f"{months[m - 1]} {y}" in text or f.closed[:7] in text


_FY_HEADER = re.compile(r"^(\d{4})/\d{2} \(referrals\)$")


def _specialty_row(r: Report, head: list[str], row: list[str], where: str) -> list[str]:
    """One row of a table of the area's specialties (its first column the specialty's
    name): referrals a year, the ratio (England's rates of that specialty, its ratio 1 in
    each year) and referrals in each financial year, against the oracle's."""
    counts = r.by_specialty()
    code = specialty_code_of(r.all_facts, row[0]) if counts else None
    if code is None:
        return []
    a, pub = r.area, r.publish
    obs, exp = counts.get(code, (0, 0.0))
    per_year = per_year_allowed(obs, a.years, pub)
    out = []
    for h, v in zip(head, row, strict=True):
        low = h.lower()
        bad = None
        year = _FY_HEADER.match(h)
        if low == "referrals a year" and not agrees_any(v, per_year):
            bad = (f"{obs / a.years:,.1f} referrals a year ({obs:,} over "
                   f"{_years_word(a.years)} open)")
        elif low in ("ratio", "ratio (observed / expected)") and exp > 0:
            shown = count_shown(obs, pub)
            want: set = {None if shown is None else shown / exp}
            if pub and None in per_year:      # hidden with its count a year
                want.add(None)
            if not agrees_any(v, want):
                bad = (f"ratio {obs / exp:.4f} ({obs:,} referrals, {exp:,.1f} expected)")
        elif year:
            y = int(year.group(1))
            n = r.specialty_in_year(code, y)
            if not agrees(v, count_shown(n, pub)):
                bad = f"{n:,} referrals in {h.split(' ')[0]}"
        if bad:
            out.append(f"{where}, specialty '{row[0]}', '{h}' {v}: the oracle has {bad} in "
                       f"{a.name}")
    return out


def _main_specialties(r: Report, rows: list[list[str]], where: str) -> list[str]:
    """A table of the area's main specialties year by year lists those with most referrals
    over the report's years (none left out has more than one it lists)."""
    counts = r.by_specialty()
    if not counts or len(rows) < 2 or not any(_FY_HEADER.match(h) for h in rows[0]):
        return []
    listed = [specialty_code_of(r.all_facts, x[0]) for x in rows[1:]]
    if None in listed or more_rows(rows):
        return []
    least = min(counts.get(c, (0, 0.0))[0] for c in listed)
    above = sorted((n, c) for c, (n, _e) in counts.items() if c not in listed and n > least)
    if above:
        n, c = above[-1]
        name = r.all_facts["specialties"].get(c, c)
        return [f"{where}: it lists {len(listed)} specialties as {r.area.name}'s main, yet "
                f"{name} ({n:,} referrals) has more than one it lists ({least:,})"]
    return []


_MORE_ROWS = re.compile(r"\((\d[\d,]*) more rows? not shown\)")


def more_rows(rows: list[list[str]]) -> int:
    """How many rows a table says it leaves out ('(22 more rows not shown)', the static copy
    of a long sortable table), 0 when it shows them all."""
    for row in rows[1:]:
        for cell in row:
            m = _MORE_ROWS.search(cell)
            if m:
                return int(m.group(1).replace(",", ""))
    return 0


def _group_row(r: Report, label: str, shown: str, where: str) -> list[str]:
    nets = [g for g, n in r.facts["networks"].items() if n["name"] == label.strip()]
    if len(nets) != 1:
        return []
    n = sum(1 for x in r.area.members if r.facts["practices"][x]["network"] == nets[0])
    if not agrees(shown, n):
        return [f"{where}, group '{label}': {shown} practices in this area; the oracle has {n}"]
    return []


def _publish_row(head: list[str], low: list[str], row: list[str], where: str) -> list[str]:
    """Publish mode in one row: counts are 0 or multiples of 5 of at least 10, and a
    suppressed count cannot be worked back from the cells beside it."""
    out = []
    counts = [i for i, h in enumerate(low) if h.startswith(COUNT_HEADERS)]
    for i in counts:
        got = number(row[i])
        if got and (got[0] % 5 or 0 < got[0] <= 7):
            out.append(f"{where}, row '{row[0]}', '{head[i]}' {row[i]}: not a published "
                       "count (publish mode rounds to 5 and suppresses 1–7)")
    hidden = [i for i in counts if row[i].strip().lower() == "suppressed"]
    shown = {h: number(v) for h, v in zip(low, row, strict=True)}
    ratios = [h for h in low if h.startswith("ratio") or h.endswith(": ratio")
              or h.endswith(" ratio")]
    for i in hidden:
        h = low[i]
        if h == "referrals a year" and shown.get("expected a year") and any(
                shown.get(x) for x in ratios):
            out.append(f"{where}, row '{row[0]}': '{head[i]}' is suppressed but is the "
                       "ratio times the expected count beside it")
        elif "above" in h and shown.get("referrals a year") and \
                sum(1 for x in ratios if shown.get(x)) >= 2:
            out.append(f"{where}, row '{row[0]}': '{head[i]}' is suppressed but follows "
                       "from the referrals a year and the two ratios beside it "
                       "(referrals × (1 − best ratio / ratio))")
    return out


def _note_row(row: list[str]) -> bool:
    """A download's closing note (its first cell 'Note: …', the rest empty), which is no
    row of the table it downloads."""
    return bool(row) and row[0].startswith("Note: ") and not any(c.strip() for c in row[1:])


def check_csvs(page: str, tables: list[list[list[str]]]) -> list[str]:
    """Each CSV download equal, cell for cell, to the table it downloads (every row the
    page shows, in order, where the page shows the first rows of a sortable table)."""
    out = []
    used: set[int] = set()
    for name, rows in csv_tables(page):
        if not rows:
            out.append(f"CSV {name} is empty")
            continue
        head = [_header(h) for h in rows[0]]
        match = next((i for i, t in enumerate(tables) if i not in used and t
                      and t[0] == head), None)
        if match is None:
            out.append(f"CSV {name}: no table on the page has its header {head[:4]}")
            continue
        used.add(match)
        shown = [r for r in tables[match][1:] if len(r) == len(head)]
        body = [r for r in rows[1:] if not _note_row(r)]
        more = more_rows(tables[match])
        if more and len(body) != len(shown) + more:
            out.append(f"CSV {name} holds {len(body)} rows; its table shows {len(shown)} "
                       f"and says {more} more are not shown")
        if shown != body[:len(shown)] and not all(r in body for r in shown):
            bad = next((r for r in shown if r not in body), shown[0] if shown else [])
            out.append(f"CSV {name} disagrees with its table: the page's row {bad[:4]} is "
                       "not in the download")
    return out


# chart point titles -----------------------------------------------------------------------

_FUNNEL = re.compile(r"^(.+?): ratio (" + _NUM + r"), [^;]*; (" + _NUM +
                     r") expected referrals a year$")
_QUARTER = re.compile(r"^(Jan|Apr|Jul|Oct) (\d{4}) quarter: ratio (" + _NUM + r")$")
_MONTH_NUMBER = {"Jan": 1, "Apr": 4, "Jul": 7, "Oct": 10}
_SIZE = re.compile(r"^(\S+): (" + _NUM + r"); (" + _NUM + r") patients$")


def check_titles(r: Report, titles: list[str]) -> list[str]:
    """Chart point titles against the oracle."""
    out = []
    for t in titles:
        m = _FUNNEL.match(t)
        if m and not r.expected_comparable():
            continue
        if m:
            label, ratio, exp = m.groups()
            if label == "A practice like it":
                if not r.some_practice_shows(ratio, exp):
                    out.append(f"chart point '{t}': no practice of the data has that ratio "
                               "and expected referrals a year (over the years it was open)")
                continue
            code = r.practice_by_public(label)
            if code is None:
                continue
            f = r.get(code)
            if not agrees(ratio, ratio_shown(f, r.publish)) or not agrees(
                    exp, f.expected_per_year):
                rs = ratio_shown(f, r.publish)
                out.append(f"chart point '{t}': the oracle has ratio "
                           f"{rs if rs is None else round(rs, 4)} and "
                           f"{f.expected_per_year:,.1f} expected referrals a year (over "
                           f"{_years_word(f.years)} open)")
            continue
        m = _QUARTER.match(t)
        if m and r.area.level == "practice" and r.expected_comparable():
            start = f"{m.group(2)}-{_MONTH_NUMBER[m.group(1)]:02d}"
            obs, exp, months = quarter(r.facts, r.area.code, start)
            shown = count_shown(obs, r.publish) if months else None
            want = None if shown is None or exp <= 0 else shown / exp
            if not agrees(m.group(3), want):
                out.append(f"chart point '{t}': the oracle has "
                           + (f"ratio {want:.3f} ({obs} referrals, {exp:.1f} expected)"
                              if want is not None else
                              f"no ratio ({obs} referrals in {months} months open)"))
            continue
        m = _SIZE.match(t)
        if m:
            code = r.practice_by_public(m.group(1))
            if code and not agrees(m.group(3), count_shown(r.get(code).list_size,
                                                           r.publish)):
                out.append(f"chart point '{t}': the oracle has "
                           f"{r.get(code).list_size:,} patients at the latest count")
    return out


# one report, an area page, a run -----------------------------------------------------------


def findings(facts: dict[str, Any], results: dict[str, Any], page: str,
             run_areas: set[str] | None = None) -> list[str]:
    """Every disagreement between one report (its results and rendered page) and the
    oracle's facts; ``run_areas`` (public codes) lets the bar's counts be checked."""
    return check_report(facts, results, page, run_areas)[0]


def check_report(facts: dict[str, Any], results: dict[str, Any], page: str,
                 run_areas: set[str] | None = None) -> tuple[list[str], int]:
    """One report's disagreements with the oracle, and how many comparisons were skipped
    because the report's parameters define a figure beyond the oracle (a comparator or
    standardisation other than England's age-sex rates)."""
    r = Report(facts, results)
    run_areas = None if run_areas is None else site_areas(facts, run_areas)
    tables = page_tables(page)
    out = check_results(r)
    out += check_text(r, page_text(page), run_areas)
    for i, t in enumerate(tables):
        out += check_table(r, t, f"table {i + 1} ({' | '.join(t[0][:3]) if t else ''})")
    for name, rows in csv_tables(page):
        out += check_table(r, rows, f"CSV {name}")
    out += check_csvs(page, tables)
    out += check_titles(r, chart_titles(page))
    return list(dict.fromkeys(out)), r.skipped


_CHILDREN = re.compile(r'<h2 id="children">Its (\w+) in this run \((\d+)\)</h2>')
_CHILD_ROW = re.compile(r'<tr><td><a href="[^"]*">[^<]*</a></td><td>([^<]*)</td>')


def area_page_findings(facts: dict[str, Any], page: str, code: str, run_areas: set[str]
                       ) -> list[str]:
    """A site area page: the areas listed under it are of the level its heading names (a
    commissioner's networks are networks, never practices), and their count is right."""
    m = _CHILDREN.search(page)
    if not m:
        return []
    out = []
    word, n = m.group(1), int(m.group(2))
    listed = [html.unescape(c) for c in _CHILD_ROW.findall(   # its own table only
        page[m.end():].split("</table>")[0])]
    a = area_facts(facts, code)
    level = word.rstrip("s")
    kinds = {facts["networks"][g]["public"]: "network" for g in facts["networks"]}
    kinds.update({p["public"]: "practice" for p in facts["practices"].values()})
    kinds.update({c: "commissioner" for c in facts["commissioners"]})
    wrong = [c for c in listed if kinds.get(c) != level]
    if wrong:
        out.append(f"area page of {a.name}: 'Its {word} in this run ({n})' lists "
                   f"{len(wrong)} that are not {word} ({', '.join(wrong[:5])})")
    want = children(facts, a, word, run_areas)
    if level == "commissioner":
        want = [c for c in facts["commissioners"] if c in run_areas]
    if want is not None and n != len(want):
        out.append(f"area page of {a.name}: 'Its {word} in this run ({n})'; the run holds "
                   f"{len(want)} {word} of {a.name}")
    if n != len(listed):
        out.append(f"area page of {a.name}: 'Its {word} in this run ({n})' lists "
                   f"{len(listed)}")
    return out


def _summary_report(facts: dict[str, Any], code: str, publish: bool,
                    years: list[int] | None) -> Report:
    """A :class:`Report` of an area's page that no notebook made (a printable summary, a
    download), over the run's years."""
    return Report(facts, {"notebook": "", "where": {"code": code}, "publish": publish,
                          "years": years or [], "parameters": {"area": code}})


FIGURE_KEYS = ("Network", "Open or closed", "List size (patients)", "Months open")
"""Row headers that mark a summary's table of figures (header, value, header, value)."""


def summary_findings(facts: dict[str, Any], page: str, code: str, publish: bool,
                     years: list[int] | None = None) -> list[str]:
    """A printable summary (``summaries/<code>.html``) against the oracle: the practice's
    figures (list size, months open, referrals, referrals a year, expected, ratio, open or
    closed), its specialties' ratios, a network's practices' figures, and its headline
    sentences."""
    r = _summary_report(facts, code, publish, years)
    out = check_text(r, page_text(page), None)
    for i, t in enumerate(page_tables(page)):
        where = f"summary table {i + 1}"
        if t and t[0] and t[0][0] in FIGURE_KEYS:
            pairs = [(x[k], x[k + 1]) for x in t for k in range(0, len(x) - 1, 2)]
            t = [["Practice"] + [h for h, _v in pairs], [r.area.public] + [v for _h, v in pairs]]
            where = "summary figures"
        out += check_table(r, t, where, blank_ok=True)
    return list(dict.fromkeys(out))


def download_rows(path: Path) -> list[list[str]]:
    """An area's download of every practice as rows of text, header first: the CSV's table
    (after its header block's blank line) or the workbook's first sheet."""
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True)   # holds its file open until closed
        try:
            return [["" if c is None else _unguarded(str(c)) for c in row]
                    for row in book.worksheets[0].iter_rows(values_only=True)]
        finally:
            book.close()
    text = path.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    start = next((i for i, x in enumerate(rows) if not x), -1) + 1
    return [[_unguarded(c) for c in x] for x in rows[start:]]


def download_findings(facts: dict[str, Any], rows: list[list[str]], code: str,
                      publish: bool, years: list[int] | None = None) -> list[str]:
    """An area's download of every practice (CSV or workbook rows) against the oracle: each
    practice's list size, months open, referrals, referrals a year, expected referrals,
    ratio and whether it closed; publish-mode counts."""
    if len(rows) < 2 or rows[0][0] != "Practice code":
        return [f"download of {code}: no table of practices"] if rows else []
    r = _summary_report(facts, code, publish, years)
    return check_table(r, [["Practice"] + rows[0][1:]] + rows[1:], f"download of {code}",
                       blank_ok=True)


@functools.lru_cache(maxsize=4)
def load_facts(path: str) -> dict[str, Any]:
    """The oracle's facts from their cached file (read once a process)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


_HELD: dict[str, dict[str, Any]] = {}
"""Facts this process has read (or computed), by their cached file: a batch reads them
once for its workers' paths and again for its area pages' check otherwise (a 20 MB file
on synthetic England, about 0.3 s each time)."""


def _held(folder: Path) -> tuple[dict[str, Any], Path]:
    """The oracle's facts of a dataset folder, read (or computed) once a process."""
    from helpers.oracle.compute import facts_file, load_or_compute

    key = str(facts_file(folder))
    if key not in _HELD:
        facts, path = load_or_compute(folder)
        if len(_HELD) >= 4:
            _HELD.clear()
        _HELD[key] = facts
        return facts, path
    return _HELD[key], Path(key)


def facts_for(data_source: str) -> tuple[dict[str, Any], Path]:
    """The oracle's facts of a data source, computed once and cached (and read once a
    process)."""
    from helpers.oracle.compute import dataset_folder

    return _held(dataset_folder(data_source))


def prepare(data_source: str, areas: list[str], specialties: list[str] | None = None,
            folder: Path | None = None) -> dict[str, str]:
    """For a batch: the oracle's facts of the run's data (the dataset ``folder`` the run
    opened, else the one ``data_source`` names), and of each of the run's ``specialties``,
    computed once (or read from the cache), and the run's areas (public codes) written
    beside them, as the paths each worker reads once (:func:`worker_findings`)."""
    from helpers.atomic import write_text_atomic
    from helpers.oracle.compute import load_or_compute

    facts, path = _held(Path(folder)) if folder is not None else facts_for(data_source)
    for spec in sorted(set(specialties or []) - {"ALL", ""}):
        load_or_compute(Path(facts["folder"]), spec)
    text = json.dumps(sorted(set(areas)))
    where = path.parent / f"oracle-areas-{hashlib.sha256(text.encode()).hexdigest()[:16]}.json"
    if not where.exists():
        write_text_atomic(where, text)
    return {"oracle_facts": str(path), "oracle_areas": str(where)}


@functools.lru_cache(maxsize=4)
def _areas(path: str) -> frozenset[str]:
    return frozenset(json.loads(Path(path).read_text(encoding="utf-8")))


def worker_findings(results: dict[str, Any], page: str, provenance: dict[str, Any]
                    ) -> list[str]:
    """A batch worker's oracle check of one report (nothing when the run has no oracle
    facts); the facts and the run's areas are read once a worker."""
    if not provenance.get("oracle_facts"):
        return []
    facts = load_facts(provenance["oracle_facts"])
    areas = _areas(provenance["oracle_areas"]) if provenance.get("oracle_areas") else None
    return [f"oracle: {x}" for x in findings(facts, results, page, areas)]


def tree_findings(data_source: str, tree: dict[str, tuple[str, list[str]]],
                  areas: list[str]) -> dict[str, list[str]]:
    """The site's areas and their children as the area pages will list them (public code →
    (level, children's public codes)) against the oracle: a commissioner's networks are
    networks, never practices, and each list holds what the run holds. By area code."""
    facts, _ = facts_for(data_source)
    run = site_areas(facts, areas)
    kinds = {n["public"]: "network" for n in facts["networks"].values()}
    kinds.update({p["public"]: "practice" for p in facts["practices"].values()})
    kinds.update({c: "commissioner" for c in facts["commissioners"]})
    out: dict[str, list[str]] = {}
    for code, (_level, kids) in tree.items():
        if not kids:
            continue
        word = kinds.get(kids[0], "")
        wrong = [k for k in kids if kinds.get(k) != word]
        found = []
        if wrong:
            found.append(f"oracle: {code}'s area page lists {len(kids)} {word}s, of which "
                         f"{len(wrong)} are not ({', '.join(wrong[:5])})")
        try:
            a = area_facts(facts, code)
        except KeyError:
            continue
        want = children(facts, a, word, run) if word else None
        if word == "commissioner":
            want = [c for c in facts["commissioners"] if c in run]
        if want is not None and sorted(want) != sorted(k for k in kids if kinds.get(k) == word):
            found.append(f"oracle: {code}'s area page lists {len(kids)} {word}s; the run "
                         f"holds {len(want)} {word}s of {a.name}")
        if found:
            out[code] = found
    return out


def fail_on_tree(jobs: list, nodes: dict, data_source: str) -> int:
    """In a batch: fail every report of an area whose area page would list the wrong areas
    under it (:func:`tree_findings`); returns how many areas."""
    tree = {c: (n.level, list(n.children)) for c, n in nodes.items()}
    found = tree_findings(data_source, tree, [j.area for j in jobs])
    for j in jobs:
        if j.status == "ok" and j.area in found:
            j.status = "failed"
            j.error = "RuntimeError: oracle check: " + "; ".join(found[j.area])
    return len(found)


def check_run(run: Path, skipped: dict[str, int] | None = None) -> dict[str, list[str]]:
    """Every disagreement in a finished run folder, by page (report id or area page); the
    comparisons skipped on each page (parameters beyond the oracle) are added to
    ``skipped`` when given."""
    run = Path(run)
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    facts, _ = facts_for(manifest["data_source"])
    ok = [j for j in manifest["reports"] if j.get("status") == "ok"]
    areas = {j["area"] for j in ok}
    out: dict[str, list[str]] = {}
    years: dict[str, list[int]] = {}          # each area's years, as its reports state them
    for j in ok:
        files = j.get("files") or {}
        if "html" not in files or "results" not in files:
            continue
        page = (run / files["html"]).read_text(encoding="utf-8")
        res = json.loads((run / files["results"]).read_text(encoding="utf-8"))
        if res.get("years"):
            years.setdefault(str(j["area"]).upper(), [int(y) for y in res["years"]])
        found, n_skipped = check_report(facts, res, page, areas)
        if n_skipped and skipped is not None:
            skipped[j["report_id"]] = n_skipped
        if found:
            out[j["report_id"]] = found
    for p in sorted((run / "areas").glob("*.html")):
        page = p.read_text(encoding="utf-8")
        code = re.search(r'<span class="code">([^<·]+?) ·', page)
        code = html.unescape(code.group(1)).strip() if code else ENGLAND
        try:
            found = area_page_findings(facts, page, code, site_areas(facts, areas))
        except KeyError:
            continue
        if found:
            out[f"areas/{p.name}"] = found
    publish = bool(manifest.get("publish"))
    every = sorted({tuple(v) for v in years.values()})
    run_years = list(every[0]) if len(every) == 1 else None
    for p in sorted((run / "summaries").glob("*.html")):
        page = p.read_text(encoding="utf-8")
        code = re.search(r'<span class="meta">([^<·]+?) ·', page)
        if not code:
            continue
        code = html.unescape(code.group(1)).strip()
        try:
            found = summary_findings(facts, page, code, publish,
                                     years.get(code.upper(), run_years))
        except KeyError:
            continue
        if found:
            out[f"summaries/{p.name}"] = found
    for p in sorted((run / "areas").glob("*-practices.*")):
        if p.suffix not in (".csv", ".xlsx"):
            continue
        code = p.name.rsplit("-practices", 1)[0].upper()
        try:
            found = download_findings(facts, download_rows(p), code, publish,
                                      years.get(code, run_years))
        except KeyError:
            continue
        if found:
            out[f"areas/{p.name}"] = found
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.run.oracle_check RUN_FOLDER``: print every disagreement between
    a finished run and the oracle; exit 1 if there is any."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", type=Path, help="a run folder (reports/<run id>)")
    a = ap.parse_args(argv)
    skipped: dict[str, int] = {}
    found = check_run(a.run, skipped)
    for page, items in found.items():
        for item in items:
            print(f"{page}: {item}")
    n = sum(len(v) for v in found.values())
    manifest = json.loads((a.run / "manifest.json").read_text(encoding="utf-8"))
    n_reports = sum(j.get("status") == "ok" for j in manifest["reports"])
    n_areas, n_summaries = (len(list((a.run / d).glob("*.html"))) for d in
                            ("areas", "summaries"))
    print(f"checked {n_reports:,} report pages, {n_areas:,} area pages and "
          f"{n_summaries:,} summaries against the oracle", file=sys.stderr)
    print(f"{n} disagreement{'s' if n != 1 else ''} on {len(found)} page"
          f"{'s' if len(found) != 1 else ''}; {sum(skipped.values())} comparison"
          f"{'s' if sum(skipped.values()) != 1 else ''} skipped on {len(skipped)} page"
          f"{'s' if len(skipped) != 1 else ''} (parameters that define expected "
          "counts beyond the oracle's)", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
