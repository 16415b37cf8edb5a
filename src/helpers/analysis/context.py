"""What every analysis of one report is about: validated parameters, the dataset and the area.

:func:`open_context` validates a notebook's parameter values against its catalogue spec,
opens the data source and resolves the area once (its level, code, name, practices, parents
and peers). Every analysis and every report section then reads the :class:`Context`; nothing
resolves the area again. The context also knows how the data may be shown: whether real
practices carry synthetic referrals (then practices are named by pseudonym) and, in publish
mode, what a count of people or events may be shown as.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from helpers import catalogue, formats
from helpers.analysis import areas
from helpers.datasets import Dataset
from helpers.params import ParameterError
from helpers.sources import open_source
from helpers.stats import sdc


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
        """The area's code as published (a pseudonym where :func:`pseudonymise`)."""
        return areas.public_code(self.ds, self.where.code, self.level)

    @property
    def network_name(self) -> str | None:
        """A practice's network as published (its pseudonym where :func:`pseudonymise`)."""
        w = self.where
        if not w.network:
            return None
        return areas.pseudonym(self.ds, w.network, "network") if self.pseudonymise \
            else (w.network_name or w.network)

    @property
    def area_name(self) -> str:
        """The area's name; a real practice carrying synthetic referrals by pseudonym."""
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
    def pseudonymise(self) -> bool:
        """True when real practices carry synthetic referrals (see :func:`pseudonymise`)."""
        return pseudonymise(self.ds)

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


def pseudonymise(ds: Dataset) -> bool:
    """True when real practices carry synthetic referrals: then practice and network names
    and codes must not appear beside referral findings (flags, £), which are not facts
    about them (:func:`helpers.analysis.areas.pseudonymised`)."""
    return areas.pseudonymised(ds)


def practice_labels(ds: Dataset, codes) -> list[str]:
    """How practices are named in tables and charts: their code, or on real practices with
    synthetic referrals a stable pseudonym (P-xxxxxx, keyed to this dataset)."""
    codes = [str(c) for c in codes]
    if not pseudonymise(ds):
        return codes
    return [areas.pseudonym(ds, c, "practice") for c in codes]


def network_labels(ds: Dataset, codes) -> list[str]:
    """How networks are named beside referral findings: their names, or on real networks
    with synthetic referrals a stable pseudonym (N-xxxxxx)."""
    return [areas.pseudonym(ds, str(c), "network") for c in codes] if pseudonymise(ds) \
        else [str(c) for c in codes]


def display_name(ds: Dataset, where: areas.Area) -> str:
    """An area's name as every page and the index show it: a real practice carrying
    synthetic referrals by its pseudonym."""
    if where.level in ("practice", "network") and pseudonymise(ds):
        return areas.pseudonym(ds, where.code, where.level)
    return where.name


def display_names(ds: Dataset, codes: list[str]) -> dict[str, str]:
    """:func:`display_name` of many areas at once (codes as the data spells them), from the
    cached area table, for the batch's index and page titles."""
    t = areas.area_table(ds).set_index("code")
    out = {}
    for code in codes:
        if code == areas.ENGLAND:
            out[code] = "England"
        elif t.loc[code, "level"] in ("practice", "network") and pseudonymise(ds):
            out[code] = areas.pseudonym(ds, code, str(t.loc[code, "level"]))
        else:
            out[code] = str(t.loc[code, "name"])
    return out


def open_context(notebook: str, values: Mapping[str, Any]) -> Context:
    """Validate parameter values for a notebook, open its data and resolve its area.

    The area is ENGLAND or any commissioner, network or practice code, matched without
    regard to case; the context's ``params['area']`` is then the code as the data spells it.
    Raises :class:`helpers.params.ParameterError` for anything a reader must fix.
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
    # the area as published: the data's spelling of its code, or its pseudonym
    p["area"] = areas.public_code(ds, where.code, where.level)
    return Context(nb.name, p, ds, where, bool(p["publish"]))
