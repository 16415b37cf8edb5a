"""An area's facts over a period, read from the oracle's dataset facts in plain Python (no
data stack, so a batch worker can use it), and the publish-mode disclosure rule.

The disclosure rule, restated: a count of people or events from 1 to 7 is suppressed; any
other count is rounded to the nearest 5 (halves up), and a count whose rounded value would
be 1 to 7 is suppressed too; 0 is shown as 0. A figure derived from a count (a ratio, a
count a year) is computed from the published count.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

ENGLAND = "ENGLAND"


def disclose(n: float | None) -> int | None:
    """A count as publish mode shows it: None when suppressed (or missing), else rounded to
    the nearest 5 (halves up)."""
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return None
    rounded = 5 * math.floor(n / 5 + 0.5)
    if n > 0 and (n <= 7 or rounded <= 7):
        return None
    return int(rounded)


def suppressed(n: float) -> bool:
    """Whether publish mode hides a count (a count above 0 that is, or rounds to, 1–7)."""
    return n > 0 and disclose(n) is None


def per_year_allowed(total: float, years: float, publish: bool) -> set[float | None]:
    """The values a count a year may print as: the exact total over ``years`` (not in
    publish mode), else that put through the disclosure rule, computed from the exact
    total or (the pack's rule for derived figures) from the published total."""
    if not publish:
        return {total / years}
    out: set[float | None] = {disclose(total / years)}
    pub = disclose(total)
    out.add(None if pub is None else disclose(pub / years))
    return out


@dataclass
class AreaFacts:
    """What the oracle knows of one area over a period (counts exact). Referrals a year are
    the period's referrals over the years open (months open / 12), as the pack documents
    its one exposure: a practice is open in a month when the data holds a referral row for
    it that month; an area in the months any of its practices was."""

    code: str                       # the data's code
    public: str                     # the code the pages show
    level: str                      # england, commissioner, network, practice
    name: str
    commissioner: str | None
    network: str | None             # a practice's network (the group it joined last)
    members: list[str]              # practices (data codes)
    networks: list[str] = field(default_factory=list)    # a commissioner's (England's)
    ungrouped: list[str] = field(default_factory=list)   # its practices in no group
    group_sizes: dict[str, int] = field(default_factory=dict)   # its networks' members
    observed: int = 0               # referrals in the period
    expected: float = 0.0           # expected referrals in the period (England = 1)
    years: float = 1.0              # the years a count a year averages over: months open / 12
    months_open: int = 0            # months open in the period: a referral row that month
                                    # (an area: the months any of its practices was open)
    list_size: int = 0              # patients at the latest count (open members)
    n_with_referrals: int = 0       # members with any expected referral in the period
    quarters_1_7: int = 0           # quarters of 1–7 referrals while open (a practice)
    months_1_7: int = 0             # months in which the area's referrals were 1–7
    closed: str | None = None       # a practice's closing date
    span: tuple[str, str] = ("", "")   # first and last month of the period

    @property
    def ratio(self) -> float:
        """Observed / expected (NaN when nothing is expected)."""
        return self.observed / self.expected if self.expected > 0 else math.nan

    @property
    def per_year(self) -> float:
        """Referrals a year: the period's referrals over the years open."""
        return self.observed / self.years

    @property
    def expected_per_year(self) -> float:
        """Expected referrals a year, over the same years."""
        return self.expected / self.years


@functools.lru_cache(maxsize=4096)
def _financial_year(month: str) -> int:
    """The financial year of a month written '2019-03' (2018: April to March)."""
    y, m = int(month[:4]), int(month[5:7])
    return y - (m < 4)


def _in_years(month: str, years: set[int]) -> bool:
    return _financial_year(month) in years


def quarter(facts: dict[str, Any], code: str, start: str) -> tuple[int, float, int]:
    """A practice's referrals, expected referrals and months open in the financial quarter
    starting ``start`` ('2018-04'): each month open expects its year's expected count over
    that year's months open."""
    p = facts["practices"][code]
    y, m = int(start[:4]), int(start[5:7])
    obs = exp = 0.0
    months = 0
    for k in range(3):
        mm = f"{y}-{m + k:02d}"
        if mm not in p["month_counts"]:
            continue
        fy = str(y - (m + k < 4))
        months += 1
        obs += p["month_counts"][mm]
        exp += p["exp"].get(fy, 0.0) / max(1, p["months"].get(fy, 0))
    return int(obs), exp, months


def _index(facts: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Upper-case code and public code → (level, data code), built once per facts."""
    if "_index" not in facts:
        idx: dict[str, tuple[str, str]] = {}
        for level, key in (("practice", "practices"), ("network", "networks"),
                           ("commissioner", "commissioners")):
            for c, v in facts[key].items():
                idx[str(v.get("public", c)).upper()] = (level, c)
                idx[c.upper()] = (level, c)
        facts["_index"] = idx
    return facts["_index"]


def find(facts: dict[str, Any], code: str) -> tuple[str, str]:
    """(level, data code) of an area named by its code or its public code (any case)."""
    want = str(code).strip().upper()
    if want == ENGLAND:
        return "england", ENGLAND
    try:
        return _index(facts)[want]
    except KeyError:
        raise KeyError(f"area {code!r} is not in the data") from None


def area_facts(facts: dict[str, Any], code: str, years: list[int] | None = None
               ) -> AreaFacts:
    """The facts of the area ``code`` (a data or public code, or ENGLAND) over the financial
    ``years`` (all the data's years when empty)."""
    level, c = find(facts, code)
    yrs = set(years or facts["years"])
    prac = facts["practices"]
    if level == "england":
        members, name, comm, net = sorted(prac), "England", None, None
        nets, ungrouped = sorted(facts["networks"]), [m for m in sorted(prac)
                                                      if prac[m]["network"] is None]
        public = ENGLAND
    elif level == "commissioner":
        v = facts["commissioners"][c]
        members, name, comm, net = v["members"], v["name"], c, None
        nets, ungrouped, public = v["networks"], v["ungrouped"], c
    elif level == "network":
        v = facts["networks"][c]
        members, name, comm, net = v["members"], v["name"], v["commissioner"], None
        nets, ungrouped, public = [], [], v["public"]
    else:
        v = prac[c]
        members, name, comm, net = [c], v["name"], v["commissioner"], v["network"]
        nets, ungrouped, public = [], [], v["public"]
    ys = [str(y) for y in sorted(yrs)]
    observed = sum(prac[m]["obs"].get(y, 0) for m in members for y in ys)
    expected = sum(prac[m]["exp"].get(y, 0.0) for m in members for y in ys)
    with_refs = [m for m in members if sum(prac[m]["exp"].get(y, 0.0) for y in ys) > 0]
    months: dict[str, int] = {}        # the area's months open: any member's, with referrals
    for m in members:
        for month, n in prac[m]["month_counts"].items():
            if _in_years(month, yrs):
                months[month] = months.get(month, 0) + n
    latest = facts["latest_count"]
    f = AreaFacts(
        code=c, public=public, level=level, name=name, commissioner=comm, network=net,
        members=list(members), networks=list(nets), ungrouped=list(ungrouped),
        group_sizes={g: len(facts["networks"][g]["members"]) for g in nets},
        observed=int(observed), expected=float(expected), years=max(1, len(months)) / 12,
        months_open=len(months),
        list_size=sum(prac[m]["list_size"] for m in members
                      if prac[m]["list_date"] == latest) if level != "practice"
        else int(prac[c]["list_size"]),
        n_with_referrals=len(with_refs),
        quarters_1_7=sum(1 for q in prac[c]["quarters_1_7"] if _in_years(q, yrs))
        if level == "practice" else 0,
        months_1_7=sum(1 for n in months.values() if 1 <= n <= 7),
        closed=prac[c]["close"] if level == "practice" else None,
        span=(min(months) if months else "", max(months) if months else ""))
    return f


def by_specialty(practice: dict[str, Any]) -> dict[str, dict[str, tuple[int, float]]]:
    """A practice's referrals and expected referrals by specialty and financial year, read
    from the line :func:`helpers.oracle.compute.encode_specialties` wrote:
    specialty → year → (referrals, expected)."""
    return _specialty_line(str(practice.get("spec") or ""))


@functools.lru_cache(maxsize=8192)
def _specialty_line(line: str) -> dict[str, dict[str, tuple[int, float]]]:
    """:func:`by_specialty` of one line of figures, read once a process (a worker checks
    the same practices' lines on page after page); callers only read what it returns."""
    out: dict[str, dict[str, tuple[int, float]]] = {}
    for part in filter(None, line.split(";")):
        s, _, rest = part.partition("=")
        by = out.setdefault(s, {})
        for cell in rest.split(","):
            y, _, oe = cell.partition(":")
            o, _, e = oe.partition("/")
            by[y] = (int(o), float(e))
    return out


def specialty_counts(facts: dict[str, Any], members: list[str], years: list[int] | None = None
                     ) -> dict[str, tuple[int, float]]:
    """The referrals and expected referrals (England's rates of each specialty, England's
    ratio 1 in each specialty and year) of a set of practices, by specialty code, summed
    over the financial ``years`` (all the data's when empty)."""
    return counts_of_lines(facts, [by_specialty(facts["practices"][m]) for m in members],
                           years)


def counts_of_lines(facts: dict[str, Any], lines: list[dict[str, dict[str, tuple]]],
                    years: list[int] | None = None) -> dict[str, tuple[int, float]]:
    """:func:`specialty_counts` of read lines of figures (:func:`by_specialty`, or an area's
    own line: :func:`area_line`)."""
    ys = [str(y) for y in (years or facts["years"])]
    out: dict[str, list[float]] = {}
    for line in lines:
        for s, by_year in line.items():
            acc = out.setdefault(s, [0, 0.0])
            for y in ys:
                o, e = by_year.get(y, (0, 0.0))
                acc[0] += o
                acc[1] += e
    return {s: (int(o), float(e)) for s, (o, e) in out.items()}


def area_line(facts: dict[str, Any], level: str, code: str
              ) -> dict[str, dict[str, tuple[int, float]]] | None:
    """A network's, commissioner's or England's own line of figures by specialty (the sum
    of its practices', written when the facts were computed), read; None for a practice,
    or facts without such lines."""
    if level == "england":
        line = (facts.get("england") or {}).get("spec")
    elif level in ("network", "commissioner"):
        line = facts[f"{level}s"].get(code, {}).get("spec")
    else:
        line = None
    return None if line is None else _specialty_line(str(line))


def specialty_by_year(facts: dict[str, Any], members: list[str], specialty: str,
                      years: list[int] | None = None) -> dict[int, int]:
    """A set of practices' referrals of one specialty in each financial year."""
    ys = years or facts["years"]
    out = {int(y): 0 for y in ys}
    for m in members:
        by_year = by_specialty(facts["practices"][m]).get(specialty, {})
        for y in ys:
            out[int(y)] += int(by_year.get(str(y), (0, 0.0))[0])
    return out


def specialty_code_of(facts: dict[str, Any], name: str) -> str | None:
    """The code of the specialty a page names (its name, or its code), None when unknown."""
    name = name.strip()
    names = facts.get("specialties") or {}
    if name in names:
        return name
    codes = [c for c, n in names.items() if n == name]
    return codes[0] if len(codes) == 1 else None
