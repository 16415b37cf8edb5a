"""What each section of a notebook shows at each level of area: one table per notebook.

A report is for England, a commissioner, a network or a practice. Some of a notebook's
sections mean the same at every level; some belong to a larger area (a network's contract is
its commissioner's); some mean nothing at a level (a practice has no spread of practices).
Each notebook declares that here, once, section by section, instead of in branches spread
over ``helpers.report`` and ``helpers.analysis``:

- ``SHOWN``: the section is computed and shown for the area itself;
- ``PARENT``: the section shows a larger area's figures, and every heading, sentence and
  chart title that shows them names that area (``Rule.owner``: ``"commissioner"`` or
  ``"network"``);
- ``OMITTED``: the section is left out, and the page says why in one sentence
  (``Rule.why``).

Report modules ask :func:`rule` (or :func:`shows`) for a section at the page's level; the
docs print :func:`level_table`. ``tests/test_levels.py`` checks every table is complete.
"""

from __future__ import annotations

from dataclasses import dataclass

LEVELS: tuple[str, ...] = ("england", "commissioner", "network", "practice")
SHOWN, PARENT, OMITTED = "shown", "parent", "omitted"
KINDS = (SHOWN, PARENT, OMITTED)


@dataclass(frozen=True)
class Rule:
    """How one section appears at one level."""

    kind: str                 # SHOWN, PARENT or OMITTED
    owner: str = ""           # PARENT: whose figures ("commissioner" or "network")
    why: str = ""             # OMITTED: the one sentence the page shows in its place

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"rule kind {self.kind!r} is not one of {KINDS}")
        if self.kind == PARENT and self.owner not in ("commissioner", "network"):
            raise ValueError("a PARENT rule names its owner: 'commissioner' or 'network'")
        if self.kind == OMITTED and not self.why.strip():
            raise ValueError("an OMITTED rule says why in one sentence")


def shown() -> Rule:
    """The section for the area itself."""
    return Rule(SHOWN)


def parent(owner: str) -> Rule:
    """The section shows the area's ``owner``'s figures, under that owner's name."""
    return Rule(PARENT, owner=owner)


def omitted(why: str) -> Rule:
    """The section is left out; ``why`` is shown in its place."""
    return Rule(OMITTED, why=why)


def everywhere() -> dict[str, Rule]:
    """A section shown for the area itself at every level."""
    return {level: shown() for level in LEVELS}


#: notebook name -> section key -> level -> rule. Every section lists all four levels.
TABLES: dict[str, dict[str, dict[str, Rule]]] = {
    "00_data_overview": {
        "headline": everywhere(),
        "data_tables": everywhere(),
        # a table kept by commissioner (contracts, payments): a network's or practice's
        # page shows its commissioner's rows, under that name
        "data_tables_by_commissioner": {
            "england": shown(), "commissioner": shown(),
            "network": parent("commissioner"), "practice": parent("commissioner")},
        "list_sizes": {
            "england": shown(), "commissioner": shown(), "network": shown(),
            "practice": omitted("A practice has one list; its size is in the headline.")},
        "monthly_referrals": everywhere(),
    },
    "01_referral_variation": {
        "headline": everywhere(),
        "comparison": {
            "england": omitted("England is the comparator for every other area."),
            "commissioner": shown(), "network": shown(), "practice": shown()},
        # a practice is set beside its network, its peers and its similar 10 as well
        "comparison_network": {
            "england": omitted("England is in no network."),
            "commissioner": omitted("A commissioner's networks are below it, not above."),
            "network": omitted("A network is compared with its commissioner and England."),
            "practice": shown()},
        "comparison_commissioner": {
            "england": omitted("England is the comparator for every other area."),
            "commissioner": omitted("The commissioner is the area itself."),
            "network": shown(), "practice": shown()},
        "profile": {
            "england": omitted("A profile sets one practice against England's practices."),
            "commissioner": omitted("A profile sets one practice against England's "
                                    "practices; the practices table lists each one."),
            "network": omitted("A profile sets one practice against England's practices; "
                               "the practices table lists each one."),
            "practice": shown()},
        "crude_rates": {
            "england": shown(), "commissioner": shown(), "network": shown(),
            "practice": omitted("One practice has no spread of crude and standardised "
                                "rates to chart.")},
        "funnel": everywhere(),      # a practice: drawn among the practices like it
        # the 50 practices most like a practice in size and deprivation, beside it
        "peers": {
            "england": omitted("Every practice in England is drawn itself."),
            "commissioner": omitted("Every practice of the commissioner is drawn itself."),
            "network": omitted("Every practice of the network is drawn itself."),
            "practice": shown()},
        "outliers": everywhere(),
        "ranked": {
            "england": shown(), "commissioner": shown(), "network": shown(),
            "practice": omitted("One practice cannot be ranked; the funnel shows it among "
                                "the practices like it.")},
        "practices_table": everywhere(),
        "partition": everywhere(),   # estimated once for England, and says so
        "specialties": everywhere(),
        "specialties_over_time": everywhere(),
        "spc": everywhere(),
        "deciles": {
            "england": omitted("England's deciles are the yardstick, not an area on them."),
            "commissioner": omitted("A practice's quarters against England's deciles are on "
                                    "each practice's page."),
            "network": omitted("A practice's quarters against England's deciles are on each "
                               "practice's page."),
            "practice": shown()},
        "opportunity": everywhere(),
        "similar_10": {
            "england": omitted("RightCare's similar 10 are drawn for a practice: each "
                               "practice's page names its own."),
            "commissioner": omitted("RightCare's similar 10 are drawn for a practice: each "
                                    "practice's page names its own."),
            "network": omitted("RightCare's similar 10 are drawn for a practice: each "
                               "practice's page names its own."),
            "practice": shown()},
        "validation": everywhere(),  # England's estimates against the planted truth
    },
    "02_federation_scale": {
        "headline_groups": everywhere(),
        "group_sizes_chart": {
            "england": shown(), "commissioner": shown(),
            "network": omitted("A network is one group, so it has no spread of group "
                               "sizes to chart: its size is in the headline and the table."),
            "practice": omitted("A practice is in one group (or none), so it has no spread "
                                "of group sizes to chart: the headline says which group it is "
                                "in, if any.")},
        "groups_table": {"england": shown(), "commissioner": shown(), "network": shown(),
                         "practice": parent("network")},
        "members": {
            "england": omitted("Each network's page lists its practices side by side."),
            "commissioner": omitted("Each network's page lists its practices side by side."),
            "network": shown(),
            "practice": omitted("The practice's own outcomes are in its profile below.")},
        "profile": {
            "england": omitted("A profile sets one practice against England's practices; "
                               "the size curves below show every practice."),
            "commissioner": omitted("A profile sets one practice against England's "
                                    "practices; each practice's page has one, and the size "
                                    "curves below show every practice of the area."),
            "network": omitted("A profile sets one practice against England's practices; "
                               "each member's page has one, and the size curves below show "
                               "every member."),
            "practice": shown()},
        "size_curves": everywhere(),
        "size_gaps": {
            "england": omitted("England's practices are England's size curves: their gap "
                               "from them is zero by construction."),
            "commissioner": shown(), "network": shown(), "practice": shown()},
        "england_elasticities": everywhere(),
        "england_joining": everywhere(),
        "england_group_size": everywhere(),
        "england_mergers": everywhere(),
        "validation": everywhere(),
    },
    "03_contract_forms": {
        "activity_value": {"england": shown(), "commissioner": shown(),
                           "network": parent("commissioner"),
                           "practice": parent("commissioner")},
        "whatif": everywhere(),
        "payment_curves": everywhere(),
        "risk": {"england": shown(), "commissioner": shown(),
                 "network": parent("commissioner"), "practice": parent("commissioner")},
        "england_switch_did": everywhere(),
        "switch_its": {"england": shown(), "commissioner": shown(),
                       "network": parent("commissioner"),
                       "practice": parent("commissioner")},
        "validation": everywhere(),
    },
    "04_real_indicators": {
        "values": everywhere(),
        "standing": {
            "england": omitted("England is the whole: it has no place among areas of its "
                               "own level."),
            "commissioner": shown(), "network": shown(), "practice": shown()},
        "spine": {
            "england": omitted("England is the centre of the spine chart; the spread of its "
                               "practices is in the funnels below."),
            "commissioner": shown(), "network": shown(), "practice": shown()},
        "funnel": everywhere(),
        "outliers": {
            "england": shown(), "commissioner": shown(), "network": shown(),
            "practice": omitted("A single practice's place against the funnel limits is "
                                "stated under its funnel.")},
        "size_curve": everywhere(),
    },
}


def rule(notebook: str, section: str, level: str) -> Rule:
    """The declared rule for ``section`` of ``notebook`` at ``level``.

    Raises KeyError naming what is missing: a section a report module asks for must be
    declared.
    """
    if level not in LEVELS:
        raise KeyError(f"level {level!r} is not one of {LEVELS}")
    try:
        return TABLES[notebook][section][level]
    except KeyError:
        raise KeyError(f"{notebook}: section {section!r} has no declared rule at level "
                       f"{level!r}; declare it in helpers.levels.TABLES") from None


def shows(notebook: str, section: str, level: str) -> bool:
    """True where the section appears at ``level`` (for the area or under its parent's name)."""
    return rule(notebook, section, level).kind != OMITTED


def level_table(notebook: str) -> list[dict[str, str]]:
    """The notebook's table as rows (section, then one cell per level) for docs and tests."""
    rows = []
    for section, by_level in TABLES[notebook].items():
        row = {"section": section}
        for level in LEVELS:
            r = by_level[level]
            row[level] = (r.kind if r.kind == SHOWN else
                          f"{r.owner}'s" if r.kind == PARENT else f"omitted: {r.why}")
        rows.append(row)
    return rows


def markdown(notebook: str) -> str:
    """The notebook's level table as a Markdown table (docs/levels.md)."""
    head = "| section | " + " | ".join(LEVELS) + " |\n|" + " --- |" * (len(LEVELS) + 1)
    body = ["| " + " | ".join(r[k] for k in ("section", *LEVELS)) + " |"
            for r in level_table(notebook)]
    return "\n".join([head, *body])


def document() -> str:
    """docs/levels.md: every notebook's level table (``python -m helpers.levels``)."""
    parts = ["# What each notebook shows at each level\n",
             "Written by `python -m helpers.levels > docs/levels.md` from the tables in "
             "`helpers.levels` (a test checks the two agree). *shown*: the section is "
             "the area's own; *commissioner's* / *network's*: the section shows that "
             "larger area's figures, under its name; *omitted*: the page says why in the "
             "sentence given.\n"]
    for notebook in TABLES:
        parts.append(f"## {notebook}\n\n{markdown(notebook)}\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(document(), end="")
