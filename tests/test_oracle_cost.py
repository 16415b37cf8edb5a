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
    """A table of specialties year by year, however long, reads the commissioner's own line
    of figures by specialty (no member practice's), and finds what specialty_by_year finds
    from the practices: nothing on the right figures, a planted wrong one."""
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
    assert decoded == []
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


def test_an_area_of_many_practices_has_its_own_line_the_sum_of_theirs(tiny):  # noqa: F811
    """Each network's, commissioner's and England's figures by specialty are one line in the
    facts: the same referrals as its practices' lines summed, the same expected referrals
    to a part in 10^8 (each practice's line writes 9 significant digits); a practice has
    only its own."""
    facts = compute(tiny)
    areas = [("england", oracle_facts.ENGLAND, sorted(facts["practices"]))]
    areas += [("commissioner", c, v["members"]) for c, v in facts["commissioners"].items()]
    areas += [("network", g, v["members"]) for g, v in facts["networks"].items()]
    assert len(areas) >= 3
    for level, code, members in areas:
        own = oracle_facts.counts_of_lines(facts, [oracle_facts.area_line(facts, level, code)])
        summed = oracle_facts.specialty_counts(facts, members)
        assert own.keys() == summed.keys(), (level, code)
        for s, (o, e) in own.items():
            assert o == summed[s][0]
            assert e == pytest.approx(summed[s][1], rel=1e-8, abs=1e-9)
        for y in facts["years"]:
            one = oracle_facts.counts_of_lines(facts, [oracle_facts.area_line(
                facts, level, code)], [y])
            assert {s: o for s, (o, _e) in one.items()} == {
                s: o for s, (o, _e) in oracle_facts.specialty_counts(facts, members, [y]).items()}
    assert oracle_facts.area_line(facts, "practice", "A") is None


def test_a_sentence_pattern_is_skipped_only_where_it_cannot_match(q01_site):
    """The check skips a sentence pattern on a page without its literal
    (:data:`helpers.run.oracle_check.LITERALS`): on every page of the Q01 site each match
    of each pattern holds its literal, each pattern matches on some page (so the literals
    are tried on real sentences; one the site does not hold, on its sentence), and the
    check finds what trying every pattern finds."""
    pages = sorted(q01_site["out"].rglob("*.html"))
    texts = [oracle_check.page_text(p.read_text(encoding="utf-8")) for p in pages]
    seen = dict.fromkeys(oracle_check.LITERALS, 0)
    for text in texts:
        for pattern, literal in oracle_check.LITERALS.items():
            every = [m.group(0) for m in pattern.finditer(text)]
            assert all(literal in m for m in every), (pattern.pattern, every)
            assert [m.group(0) for m in oracle_check._found(pattern, text)] == every
            seen[pattern] += len(every)
    # a practice page names the network its practice belongs to; a network's or
    # commissioner's page its practices, patients and groups; a page whose practice had
    # quarters of 1 to 7 referrals says how many (none on this site: the sentence as written)
    gaps = "The chart leaves 3 months with 1 to 7 referrals as gaps."
    seen[oracle_check._GAPS] += len(list(oracle_check._found(oracle_check._GAPS, gaps)))
    assert all(seen.values()), {p.pattern[:40]: n for p, n in seen.items()}
