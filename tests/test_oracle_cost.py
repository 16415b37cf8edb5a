"""What the oracle check costs a report: figures it works out once however many rows and
tables ask for them, giving what working each out afresh gives."""

from __future__ import annotations

import pytest
from test_oracle import BY_YEAR, _report_of, tiny  # noqa: F401 (tiny: the fixture)

from helpers.oracle import facts as oracle_facts
from helpers.oracle.compute import compute
from helpers.oracle.facts import specialty_by_year
from helpers.run import oracle_check


@pytest.mark.parametrize("publish", [False, True])
def test_each_years_figures_by_specialty_are_summed_once_a_report(tiny, monkeypatch,  # noqa: F811
                                                                  publish):
    """A table of specialties year by year, however long, reads each member practice's
    figures by specialty twice (for the whole period, and for every year at once), and finds what
    specialty_by_year finds: nothing on the right figures, a planted wrong one."""
    facts = compute(tiny)
    members = ["A", "B", "C"]
    want = specialty_by_year(facts, members, "S1")           # {2018: 192, 2019: 360}
    shown = [str(oracle_check.count_shown(want[y], publish)).removesuffix(".0")
             for y in (2018, 2019)]
    decoded: list[str] = []
    real = oracle_facts.by_specialty

    def counted(practice):
        decoded.append(practice["public"])
        return real(practice)

    monkeypatch.setattr(oracle_facts, "by_specialty", counted)
    monkeypatch.setattr(oracle_check, "by_specialty", counted, raising=False)
    r = _report_of(facts, "Q1", publish=publish)
    rows = [BY_YEAR] + [["One", *shown] for _ in range(20)]
    assert oracle_check.check_table(r, rows, "t") == []
    assert len(decoded) <= len(members) * 2
    assert r.specialty_in_year("S1", 2019) == want[2019]
    assert r.specialty_in_year("S2", 2018) == 0
    bad = oracle_check.check_table(r, [BY_YEAR, ["One", shown[0], "400"]], "t")
    assert any("'2019/20 (referrals)' 400" in x and "360 referrals" in x for x in bad), bad


def test_a_batch_reads_the_facts_once(tiny, tmp_path, monkeypatch):  # noqa: F811
    """The batch's preparation and its area pages' check read the facts file once between
    them, and get the same facts as a fresh read; a folder with other content is read
    (or computed) afresh."""
    from helpers.oracle import compute as oracle_compute

    monkeypatch.setenv("PACK_DATA", str(tmp_path))
    monkeypatch.setattr(oracle_check, "_HELD", {})
    reads: list[str] = []
    real = oracle_compute.load_or_compute

    def counted(folder, specialty=None):
        reads.append(str(folder))
        return real(folder, specialty)

    monkeypatch.setattr(oracle_compute, "load_or_compute", counted)
    paths = oracle_check.prepare(str(tiny), ["Q1"], ["ALL"], tiny)
    facts, path = oracle_check.facts_for(str(tiny))
    assert reads == [str(tiny)]
    assert str(path) == paths["oracle_facts"] and facts == real(tiny)[0]
    assert oracle_check.tree_findings(str(tiny), {"Q1": ("commissioner", ["N1"])},
                                      ["Q1", "N1"]) == {}
    assert reads == [str(tiny)]
