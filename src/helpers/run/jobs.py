"""A report job: what to run and how it went. Standard library only, so batch workers can
use it without the data stack."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Job:
    """One report: a notebook for an area with its parameter values (and, from the
    catalogue, its title, least number of charts, headline keys and outputs; from the data,
    the area's display name and the kind of data), and how it went."""

    notebook: str
    area: str
    parameters: dict
    report_id: str = ""
    title: str = ""
    min_figures: int = 0
    headline_keys: list = field(default_factory=list)
    outputs: dict = field(default_factory=lambda: {"html": ".html", "notebook": ".ipynb",
                                                   "results": ".results.json"})
    status: str = "pending"
    duration_s: float = 0.0
    error: str = ""
    files: dict = field(default_factory=dict)
    headline: dict = field(default_factory=dict)
    area_name: str = ""
    summary: str = ""
    validation_failed: list = field(default_factory=list)   # recovery checks that failed
    data_kind: str = ""
    commit: str = ""                  # the git commit that made this report
    dirty: bool | None = None         # whether that tree had uncommitted changes (None: unknown)
    level: str = ""                   # england, commissioner, network or practice
    nav: dict = field(default_factory=dict)   # links up, across and down (helpers.run.site)


def slug(text: str) -> str:
    """File-name form of a code: lower case, anything but letters and digits as '-'."""
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")
