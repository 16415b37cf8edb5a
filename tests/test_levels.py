"""The level tables: every notebook declares every section at every level, once."""

from __future__ import annotations

import pytest

from helpers import catalogue, levels


def test_every_notebook_has_a_table():
    assert set(levels.TABLES) == set(catalogue.NOTEBOOKS)


@pytest.mark.parametrize("notebook", sorted(levels.TABLES))
def test_every_section_declares_every_level(notebook):
    for section, by_level in levels.TABLES[notebook].items():
        assert set(by_level) == set(levels.LEVELS), (notebook, section)
        for rule in by_level.values():
            assert isinstance(rule, levels.Rule)


def test_rules_say_whose_and_why():
    with pytest.raises(ValueError, match="owner"):
        levels.Rule(levels.PARENT)
    with pytest.raises(ValueError, match="why"):
        levels.Rule(levels.OMITTED)
    with pytest.raises(ValueError, match="kind"):
        levels.Rule("sometimes")
    assert levels.parent("commissioner").owner == "commissioner"
    assert levels.omitted("A practice has no spread.").why


def test_an_undeclared_section_is_an_error_naming_it():
    with pytest.raises(KeyError, match="no_such_section"):
        levels.rule("01_referral_variation", "no_such_section", "practice")
    with pytest.raises(KeyError, match="level"):
        levels.rule("01_referral_variation", "anything", "galaxy")


def test_docs_print_the_tables_as_declared():
    from helpers.paths import project_root

    assert (project_root() / "docs" / "levels.md").read_text() == levels.document(), \
        "docs/levels.md is stale: python -m helpers.levels > docs/levels.md"


def test_an_area_is_resolved_once_per_dataset_and_a_dataset_in_memory_afresh(small):
    """A kernel resolves each area once for each notebook: a dataset loaded from files
    (with a content hash) gives the same area object again; one built in memory, whose
    tables may differ from any file's, is resolved afresh each time, and equal."""
    from helpers.analysis.areas import resolve
    from helpers.datasets import Dataset

    practice = small.practices["practice_code"].iloc[0]
    first = resolve(small, practice)
    assert first.level == "practice" and resolve(small, practice.lower()) is first
    loose = Dataset(dict(small.tables))
    again = resolve(loose, practice)
    assert again == first and again is not first and resolve(loose, practice) is not again
