"""The independent oracle: each area's basic facts computed a second, deliberately plain way,
straight from a dataset folder's contract tables (DuckDB SQL over the parquet or CSV files),
and the publish-mode disclosure rule restated.

It shares no code with the analysis it checks: it imports only core modules (to find a
dataset folder) and nothing from ``helpers.analysis``, ``helpers.report``, ``helpers.stats``
or ``helpers.sources`` (``tests/test_layout.py`` checks). :mod:`helpers.oracle.compute`
builds the facts once per dataset (a JSON-ready dict, cached beside the national tables);
:mod:`helpers.oracle.facts` reads them for an area and a period in plain Python, so a batch
worker can use them without the data stack. ``helpers.run.oracle_check`` compares them with
every page, results file and CSV download of a run.
"""

from helpers.oracle.facts import (
    AreaFacts,
    area_facts,
    disclose,
    per_year_allowed,
    suppressed,
)

__all__ = ["AreaFacts", "area_facts", "disclose", "per_year_allowed", "suppressed"]
