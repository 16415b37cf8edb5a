"""The notebook registry: what each report notebook is, takes, does and must produce.

One entry per notebook in ``notebooks/``, in the spirit of OpenSAFELY's ``project.yaml``:
its name, title and question; its parameter spec (each notebook's ``parameters`` cell is
checked against it by the grid loader and the tests); its analysis entry point
(``helpers.analysis.<module>:analyse``, called with an analysis context); its warm-up stage
(what the batch runs once per dataset before any report, so reports only slice cached
national tables); its outputs, each with its file suffix and sensitivity class; the least
number of charts a rendered report must carry; the results keys its headline is made of and
the results keys holding counts of people or events (rounded or suppressed in publish mode).
The notebooks, the batch runner, the report set-up and the tests all read this one table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from helpers.params import Param, ParameterError
from helpers.params import validate as validate_spec
from helpers.schema import CONTRACT_FORMS, ENGLAND


def _years(value: list) -> str | None:
    if all(1990 <= y <= 2040 for y in value):
        return None
    return "must list whole financial years by their starting year (e.g. 2016)"


def _between(lo: float, hi: float) -> Callable[[Any], str | None]:
    def check(value: float) -> str | None:
        return None if lo <= value <= hi else f"must be between {lo:g} and {hi:g}"
    return check


def _forms(value: list) -> str | None:
    bad = [f for f in value if f not in CONTRACT_FORMS]
    if bad or not value:
        return f"must be a non-empty list from {list(CONTRACT_FORMS)} (unknown: {bad})"
    return None


def _year(value: int) -> str | None:
    return None if value == 0 or 1990 <= value <= 2040 else \
        "must be 0 (latest) or a financial year by its starting year, e.g. 2018"


COMMON: dict[str, Param] = {
    "data_source": Param(str, "synthetic:england",
                         "synthetic:<preset> or a dataset folder (absolute or project-relative)"),
    "area": Param(str, ENGLAND, "ENGLAND, or the code of a commissioner, network (federation "
                  "or PCN) or practice"),
    "publish": Param(bool, False, "apply disclosure control (suppress 1-7, round to 5)"),
    "results_path": Param(str, "", "where to write the machine-readable results (JSON)"),
}


SENSITIVITY = {
    "published": "safe to share in publish mode: every count of people or events rounded to "
                 "5 or suppressed (1-7), everything derived from a count recomputed from the "
                 "published count",
    "internal": "for the analyst only: exact counts (never part of a run folder)",
}
"""Sensitivity classes of outputs (the OpenSAFELY distinction between outputs that may be
released and those that stay on the server)."""


@dataclass(frozen=True)
class Output:
    """One output of a report: its key, file suffix (after the area's file name), what it
    is and its sensitivity class (a key of :data:`SENSITIVITY`)."""

    key: str
    suffix: str
    what: str
    sensitivity: str = "published"


OUTPUTS: tuple[Output, ...] = (
    Output("html", ".html", "the rendered page: self-contained HTML, no code"),
    Output("notebook", ".ipynb", "the executed notebook (the page's outputs with its code)"),
    Output("results", ".results.json", "machine-readable results (published values only)"),
)
"""What every report writes, in its notebook's folder of the run."""

CACHE = Output("cache", ".parquet/.json", "national tables computed once per dataset "
               "(data/cache/<hash>/)", "internal")
"""The national tables behind every report: exact counts, never published."""

WARM_STAGES = ("england", "none")
"""``england``: the batch runs the analysis once for England per distinct parameter set
before any report (it builds every national table the reports slice); ``none``: nothing to
warm."""


@dataclass(frozen=True)
class Notebook:
    """One report notebook."""

    name: str
    title: str
    question: str
    params: dict[str, Param]
    analysis: str                     # "helpers.analysis.<module>:analyse", given a context
    min_figures: int                  # charts every page has (each page must also carry
                                      # every chart it showed: results' charts_shown)
    headline_keys: tuple[str, ...]    # results keys ("a.b" reaches into a dict)
    count_keys: tuple[str, ...] = ()  # results holding counts of people or events
    warm: str = "england"             # warm-up stage (see WARM_STAGES)
    outputs: tuple[Output, ...] = OUTPUTS
    levels: tuple[str, ...] = ("england", "commissioner", "network", "practice")
    """The levels of area the notebook serves: a grid renders it for no other (a site does
    not hold a page that means nothing at its level)."""
    requires: tuple[str, ...] = ()
    """Optional contract tables the notebook is about: a grid of ``notebooks: all`` leaves
    it out for data without them (a grid that names it for such data is an error)."""

    def __post_init__(self):
        if self.warm not in WARM_STAGES:
            raise ValueError(f"{self.name}: warm stage {self.warm!r} not in {WARM_STAGES}")
        bad = set(self.levels) - {"england", "commissioner", "network", "practice"}
        if bad or not self.levels:
            raise ValueError(f"{self.name}: levels {sorted(bad) or '(none)'} are not "
                             "england, commissioner, network or practice")
        unknown = [o.key for o in self.outputs if o.sensitivity not in SENSITIVITY]
        if unknown:
            raise ValueError(f"{self.name}: outputs {unknown} have no known sensitivity")

    def validate(self, values: dict[str, Any], *, fill_defaults: bool = True
                 ) -> dict[str, Any]:
        """Check parameter values against this notebook's spec (see :mod:`helpers.params`)."""
        return validate_spec(self.params, values, self.name, fill_defaults=fill_defaults)


NOTEBOOKS: dict[str, Notebook] = {nb.name: nb for nb in [
    Notebook(
        "00_data_overview", "Data overview",
        "What the data holds for an area, and which parts are real.",
        dict(COMMON), "helpers.analysis.overview:analyse", 1,
        ("headline.n_practices", "headline.referrals"),
        ("headline.patients", "headline.median_list", "headline.referrals"),
    ),
    Notebook(
        "01_referral_variation", "Referral variation",
        "How much of the difference in practices' referral rates is age, sex, deprivation and "
        "chance, and which practices and specialties stand out beyond it?",
        {**COMMON,
         "years": Param(list, [], "financial years to include (start year), empty for all",
                        item_type=int, check=_years),
         "specialty": Param(str, "ALL", "treatment function code, or ALL"),
         "comparator": Param(str, "england", "what 'expected' means",
                             ("england", "commissioner", "peer")),
         "standardise": Param(str, "age_sex", "standardisation variables",
                              ("age_sex", "age_sex_imd")),
         "limit": Param((int, float), 99.8, "control limit that defines an outlier",
                        (95, 99.8)),
         "overdispersion": Param(str, "robust", "funnel limits: over-dispersed (robust, "
                                 "additive, multiplicative), Poisson only (none), or the "
                                 "Fingertips convention (phe)",
                                 ("robust", "additive", "multiplicative", "none", "phe"))},
        "helpers.analysis.referral_variation:analyse", 2,
        ("area_ratio", "n_high", "n_low", "n_practices"),
        ("observed", "observed_per_year", "excess_to_limit_per_year",
         "excess_to_median_per_year"),
    ),
    Notebook(
        "02_federation_scale", "Federation scale effects",
        "Do larger practices and groups refer, cost or perform differently, and what does "
        "joining one change?",
        {**COMMON,
         "outcome": Param(str, "srr", "outcome for the joining analysis",
                          ("srr", "payments_per_weighted", "gp_fte_per_1000",
                           "satisfaction_pct")),
         "group_type": Param(str, "all", "which groups count as joining",
                             ("all", "federation", "network")),
         "estimator": Param(str, "callaway_santanna", "joining-effect estimator",
                            ("callaway_santanna", "twfe")),
         "control_group": Param(str, "never_treated", "comparison practices",
                                ("never_treated", "not_yet_treated"))},
        "helpers.analysis.federation_scale:analyse", 1,
        ("n_groups", "joining_att"),
    ),
    Notebook(
        "03_contract_forms", "Contract forms",
        "What does a cut in referrals save under each contract form, who carries the risk, "
        "and what did switching form change?",
        {**COMMON,
         "provider": Param(str, "ALL", "provider code, or ALL"),
         "forms": Param(list, ["pbr", "block", "blended", "cap_collar", "api",
                               "cost_volume"], "contract forms to compare", item_type=str,
                        check=_forms),
         "change_pct": Param((int, float), -10.0, "referral change scenario, % (negative = "
                             "fewer referrals)", check=_between(-100, 100)),
         "start_month": Param(int, 10, "calendar month (1-12) the change starts",
                              check=_between(1, 12)),
         "specialties": Param(list, [], "treatment function codes affected, empty for all",
                              item_type=str),
         "outliers_only": Param(bool, False, "apply the change only to referrals from "
                                "practices above the 99.8% funnel limit"),
         "year": Param(int, 0, "financial year (start year) for the what-if; 0 = latest",
                       check=_year),
         "window_months": Param(int, 24, "months either side of a switch to show",
                                check=_between(6, 60))},
        "helpers.analysis.contract_forms:analyse", 2,
        ("current_form", "saving_current_form_gbp"),
    ),
    Notebook(
        "04_real_indicators", "Real indicators",
        "Where does the area stand on published, real practice indicators (A&E attendances "
        "of children aged 0-4, QOF disease registers), and which practices lie beyond the "
        "funnel limits?",
        dict(COMMON), "helpers.analysis.real_indicators:analyse", 1,
        ("headline.rate", "headline.verdict"),
        ("headline.count", "headline.denominator", "indicators.*.count",
         "indicators.*.denominator"),
        requires=("indicators",),
    ),
]}


def get(name: str) -> Notebook:
    """The registry entry for a notebook name (``NN_name``, with or without a suffix)."""
    stem = name.rsplit("/", 1)[-1].removesuffix(".ipynb").removesuffix(".py")
    if stem not in NOTEBOOKS:
        raise ParameterError(f"no notebook '{stem}' in the catalogue; known: "
                             f"{sorted(NOTEBOOKS)}")
    return NOTEBOOKS[stem]


def names() -> list[str]:
    """Every registered notebook, in order."""
    return sorted(NOTEBOOKS)
