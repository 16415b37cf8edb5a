"""The independent oracle and its check.

- Known answers: on a dataset of three practices built by hand (one closed after a year, one
  in no group with quarters of 1 to 7 referrals), every fact the oracle computes is worked
  out here from the tables' numbers; the disclosure rule at its edges.
- Planted defects: each class of wrong fact found when the site was read from outside is
  planted into a copy of a real rendered page, CSV or results file of the small preset, and
  the check must find it (and not find it on the page as rendered).
- The suite: a whole commissioner's site (the smallest commissioner of the small preset, in
  publish mode, plus a practice that closed) rendered once by the batch, with the oracle in
  its post-run checks: 0 failed reports and 0 disagreements.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import Q01_SITE_CLOSED, Q01_SITE_COMMISSIONER

from helpers.oracle import area_facts, disclose, per_year_allowed, suppressed
from helpers.oracle.compute import compute, load_or_compute
from helpers.oracle.facts import by_specialty, specialty_by_year, specialty_counts
from helpers.run import oracle_check

# ------------------------------------------------------------------------------------------
# known answers on a hand-built dataset


def _months(first: str, n: int) -> list[pd.Timestamp]:
    return list(pd.date_range(first, periods=n, freq="MS"))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """Three practices of one commissioner, April 2018 to March 2020 (two financial years):

    - A: network N1, 10 referrals of specialty S1 a month for 24 months; 1,200 women aged
      25-29 in both years' snapshots;
    - B: network N1 (joined after A), closed April 2019: 5 referrals a month for 12 months;
      600 women aged 25-29 in 2018 only;
    - C: in no group; 1 referral a month in 2018/19, 20 a month in 2019/20; 300 women.

    England's rates for women aged 25-29: S1 0.1 and S2 0.05 referrals a person-year (so a
    year's full expected count is 0.15 × patients); men's rates are 0.
    """
    d = tmp_path_factory.mktemp("tiny")
    practices = pd.DataFrame({
        "practice_code": ["A", "B", "C"], "practice_name": ["Alpha", "Beta", "Gamma"],
        "commissioner_code": "Q1", "sub_area_code": None,
        "open_date": pd.to_datetime(["2000-01-01"] * 3),
        "close_date": pd.to_datetime([None, "2019-04-01", None]),
        "contract_type": "GMS", "imd_score": [10.0, 20.0, 30.0], "rurality": "Urban",
        "ltc_prevalence": None, "successor_code": [None, "A", None]})
    rows = []
    for m in _months("2018-04-01", 24):
        rows.append(("A", m, "S1", 10))
        rows.append(("C", m, "S1", 1 if m < pd.Timestamp("2019-04-01") else 20))
    for m in _months("2018-04-01", 12):
        rows.append(("B", m, "S1", 5))
    referrals = pd.DataFrame(rows, columns=["practice_code", "month", "specialty_code",
                                            "referrals"])
    pop = []
    for code, n, periods in (("A", 1200, ["2018-04-01", "2019-04-01"]),
                             ("B", 600, ["2018-04-01"]),
                             ("C", 300, ["2018-04-01", "2019-04-01"])):
        for p in periods:
            pop.append((code, pd.Timestamp(p), "F", "25-29", n))
            pop.append((code, pd.Timestamp(p), "M", "25-29", 0))
    population = pd.DataFrame(pop, columns=["practice_code", "period", "sex", "age_band",
                                            "patients"])
    rates = pd.DataFrame({"sex": ["F", "F", "M", "M"], "age_band": "25-29",
                          "specialty_code": ["S1", "S2", "S1", "S2"],
                          "rate": [0.1, 0.05, 0.0, 0.0]})
    specialties = pd.DataFrame({"specialty_code": ["S1", "S2"],
                                "specialty_name": ["One", "Two"],
                                "follow_up_ratio": [1.0, 1.0]})
    groups = pd.DataFrame({"practice_code": ["A", "B"], "group_code": "N1",
                           "group_name": "Network One", "group_type": "network",
                           "joined": pd.to_datetime(["2016-01-01", "2017-01-01"]),
                           "left": pd.NaT})
    commissioners = pd.DataFrame({"commissioner_code": ["Q1"], "commissioner_name": ["Cee"],
                                  "region": ["R"]})
    for name, df in (("practices", practices), ("referrals", referrals),
                     ("population", population), ("reference_rates", rates),
                     ("specialties", specialties), ("groups", groups),
                     ("commissioners", commissioners)):
        df.to_parquet(d / f"{name}.parquet", index=False)
    return d


# each year's expected counts are scaled so that England's observed / expected is 1:
# 2018/19 observed 120 + 60 + 12 = 192 against 0.15 × (1,200 + 600 + 300) = 315;
# 2019/20 observed 240 + 120 = 360 against 0.15 × (1,200 + 300) = 225
S18, S19 = 192 / 315, 360 / 225
EXPECTED = {"A": 180 * S18 + 180 * S19, "B": 90 * S18, "C": 45 * S18 + 45 * S19}


def test_oracle_known_answers(tiny):
    facts = compute(tiny)
    assert facts["years"] == [2018, 2019]
    a, b, c = (area_facts(facts, x) for x in "ABC")
    assert (a.observed, b.observed, c.observed) == (240, 60, 252)
    for f in (a, b, c):
        assert f.expected == pytest.approx(EXPECTED[f.code], rel=1e-12)
        assert f.ratio == pytest.approx(f.observed / EXPECTED[f.code], rel=1e-12)
    # months open: a referral row that month; figures a year over months open / 12
    assert (a.months_open, b.months_open, c.months_open) == (24, 12, 24)
    assert b.years == 1 and b.per_year == 60 and b.expected_per_year == pytest.approx(90 * S18)
    assert a.per_year == 120
    assert (a.list_size, b.list_size, c.list_size) == (1200, 600, 300)
    assert b.closed == "2019-04-01"
    # quarters of 1 to 7 referrals while open: C's four quarters of 3 in 2018/19; B has
    # none after it closed (no rows), nor before (15 a quarter)
    assert (a.quarters_1_7, b.quarters_1_7, c.quarters_1_7) == (0, 0, 4)
    assert c.months_1_7 == 12
    # structure: the network's members, the commissioner's networks and ungrouped practice
    n1 = area_facts(facts, "N1")
    assert n1.level == "network" and n1.members == ["A", "B"] and n1.commissioner == "Q1"
    assert n1.observed == 300 and n1.months_open == 24 and n1.per_year == 150
    q1 = area_facts(facts, "q1")                    # codes ignore case
    assert (q1.networks, q1.ungrouped, q1.group_sizes) == (["N1"], ["C"], {"N1": 2})
    assert q1.observed == 552 and q1.ratio == pytest.approx(1.0)
    assert q1.list_size == 1500                     # B's last count is not the latest
    assert a.network == "N1" and c.network is None
    # one year only
    a19 = area_facts(facts, "A", [2019])
    assert (a19.observed, a19.months_open) == (120, 12)
    assert a19.expected == pytest.approx(180 * S19)


def test_oracle_pseudonyms_and_cache(tiny, tmp_path, monkeypatch):
    (tiny / "provenance.json").write_text(json.dumps({
        "content_hash": "abc123", "real_tables": ["practices"],
        "synthetic_tables": ["referrals"]}))
    try:
        facts = compute(tiny)
    finally:
        (tiny / "provenance.json").unlink()
    # real practices carrying synthetic referrals are published under their own codes
    # (a pseudonym was undone by the content hash every page prints; docs/real-data.md)
    assert not facts["pseudonymised"]
    assert facts["practices"]["A"]["public"] == "A"
    assert area_facts(facts, "A").code == "A"
    assert facts["networks"]["N1"]["public"] == "N1"
    monkeypatch.setenv("PACK_DATA", str(tmp_path))
    first, path = load_or_compute(tiny)
    again, same = load_or_compute(tiny)
    assert path == same and path.exists() and again == json.loads(json.dumps(first))


def test_the_facts_are_named_by_the_oracle_code_the_process_runs(tmp_path, monkeypatch):
    """A process that imported the oracle before its files changed (a batch started earlier)
    names the facts it computes by the code it runs, so a newer oracle never reads them as
    its own."""
    from helpers.oracle import compute as oracle_compute

    running = oracle_compute._code_hash()
    for p in Path(oracle_compute.__file__).parent.glob("*.py"):
        (tmp_path / p.name).write_bytes(p.read_bytes() + b"\n# changed on disk\n")
    monkeypatch.setattr(oracle_compute, "__file__", str(tmp_path / "compute.py"))
    assert oracle_compute._source_hash() != running         # the files as they are now
    assert oracle_compute._code_hash() == running           # the code this process runs


# S1 alone: each year's expected counts scaled so England's S1 ratio is 1:
# 2018/19 observed 192 against 0.1 × 2,100 = 210; 2019/20 360 against 0.1 × 1,500 = 150
T18, T19 = 192 / 210, 360 / 150


def test_oracle_one_specialty_and_its_cache(tiny, tmp_path, monkeypatch):
    """A report of one specialty is checked against that specialty's referrals and expected
    counts (the months open stay those with any referral row); its facts are cached apart."""
    s1 = compute(tiny, "S1")
    a, b, c = (area_facts(s1, x) for x in "ABC")
    assert (a.observed, b.observed, c.observed) == (240, 60, 252)
    assert a.expected == pytest.approx(120 * T18 + 120 * T19, rel=1e-12)
    assert b.expected == pytest.approx(60 * T18, rel=1e-12)
    assert area_facts(s1, "Q1").ratio == pytest.approx(1.0)
    s2 = compute(tiny, "S2")                   # no S2 referrals: 0 observed, months kept
    assert area_facts(s2, "A").observed == 0 and area_facts(s2, "A").months_open == 24
    assert area_facts(s2, "C").months_1_7 == 0 and s2["specialty"] == "S2"
    monkeypatch.setenv("PACK_DATA", str(tmp_path))
    (_, every), (_, one) = load_or_compute(tiny), load_or_compute(tiny, "S1")
    assert every != one and one.name.endswith("-sS1.json")
    with pytest.raises(ValueError):
        compute(tiny, "S1' OR TRUE --")


def test_oracle_facts_follow_the_folder_and_its_content(tiny, tmp_path, monkeypatch):
    """Facts are keyed by the dataset folder's content: a folder with other counts gets its
    own facts, and a cached file of other content under the same name is not read."""
    monkeypatch.setenv("PACK_DATA", str(tmp_path / "data"))
    other = tmp_path / "scaled"
    other.mkdir()
    for p in tiny.glob("*.parquet"):
        df = pd.read_parquet(p)
        if p.stem == "referrals":
            df["referrals"] = df["referrals"] * 2
        df.to_parquet(other / p.name, index=False)
    mine, path = load_or_compute(tiny)
    theirs, their_path = load_or_compute(other)
    assert path != their_path
    assert area_facts(theirs, "ENGLAND").observed == 2 * area_facts(mine, "ENGLAND").observed
    stale = dict(mine, content_hash="0" * 16)          # a damaged or stale file
    their_path.write_text(json.dumps(stale))
    again, _ = load_or_compute(other)
    assert area_facts(again, "ENGLAND").observed == 2 * area_facts(mine, "ENGLAND").observed
    # a batch locates the facts by the folder it opened, not by the data source's name
    paths = oracle_check.prepare("synthetic:small", ["A"], ["S1", "ALL"], folder=other)
    got = json.loads(Path(paths["oracle_facts"]).read_text())
    assert got["content_hash"] == theirs["content_hash"] and sorted(got["practices"]) == \
        ["A", "B", "C"]


def _results_01(**params) -> dict:
    return {"notebook": "01_referral_variation", "where": {"code": "A"},
            "parameters": {"area": "A", "publish": False, **params}}


def test_check_honours_a_reports_specialty_and_years(tiny):
    facts = compute(tiny)
    # A in 2019/20, S1: 120 referrals, expected 120 × T19
    res = dict(_results_01(specialty="S1", years=[2019]), years=[2019], observed=120,
               expected=120 * T19)
    found, skipped = oracle_check.check_report(facts, res, "")
    assert found == [] and skipped == 0
    wrong = dict(res, observed=240)                # the all-years count under one year
    assert any("results observed 240" in x for x in oracle_check.findings(facts, wrong, ""))
    every = dict(res, expected=120 * S19)          # all specialties' expected under S1's
    assert any("results expected" in x for x in oracle_check.findings(facts, every, ""))


@pytest.mark.parametrize("params", [{"standardise": "age_sex_imd"}, {"comparator": "peer"},
                                    {"comparator": "commissioner"}])
def test_check_skips_and_counts_what_a_definition_changes(tiny, params):
    """A comparator or standardisation the oracle does not compute: its expected counts and
    ratios are skipped and counted, its observed counts still checked."""
    facts = compute(tiny)
    res = dict(_results_01(**params), observed=240, expected=1.0, area_ratio=240.0)
    found, skipped = oracle_check.check_report(facts, res, "")
    assert found == [] and skipped == 2
    assert any("results observed 241" in x
               for x in oracle_check.findings(facts, dict(res, observed=241), ""))
    plain = dict(res, parameters=_results_01()["parameters"])
    found, skipped = oracle_check.check_report(facts, plain, "")
    assert skipped == 0 and any("results expected" in x for x in found)


def _two_networks(tiny) -> dict:
    """The tiny facts with C in a second network, Network Two."""
    facts = compute(tiny)
    facts["practices"]["C"]["network"] = "N2"
    facts["networks"]["N2"] = {"name": "Network Two", "commissioner": "Q1",
                               "members": ["C"], "public": "N2"}
    return facts


HEAD = ["Group", "Practices in this area", "Size band (practices)"]


def test_a_long_group_tables_first_rows_against_the_same_groups(tiny):
    """A group table showing its first rows ('(1 more rows not shown)') adds up against the
    groups it shows; the CSV download holds every group and adds up against them all."""
    facts = _two_networks(tiny)
    r = oracle_check.Report(facts, {"notebook": "02_federation_scale",
                                    "where": {"code": "Q1"}, "parameters": {"area": "Q1"}})
    first = [HEAD, ["Network One", "2", "2–4"], ["Groups in Cee (1 more rows not shown)"]]
    assert oracle_check.check_table(r, first, "table") == []
    planted = [HEAD, ["Network One", "1", "2–4"], first[2]]
    found = oracle_check.check_table(r, planted, "table")
    assert any("the 1 groups it shows add to 1" in x for x in found)
    whole = [HEAD, ["Network One", "2", "2–4"], ["Network Two", "1", "1"]]
    assert oracle_check.check_table(r, whole, "CSV") == []
    short = [HEAD, ["Network One", "2", "2–4"]]      # every row shown, one group missing
    assert any("add to 2 practices" in x for x in oracle_check.check_table(r, short, "CSV"))
    # the download of the first rows must hold the rows left out
    data = base64.b64encode("\n".join(",".join(x) for x in short).encode()).decode()
    page = f'<a download="g.csv" href="data:text/csv;charset=utf-8;base64,{data}">'
    assert any("says 1 more are not shown" in x
               for x in oracle_check.check_csvs(page, [first]))
    # a download of real-structure data ends with its note on synthetic figures: no row
    whole_csv = whole + [["Note: GP referrals … are synthetic", "", ""]]
    data = base64.b64encode("\n".join(",".join(x) for x in whole_csv).encode()).decode()
    page = f'<a download="g.csv" href="data:text/csv;charset=utf-8;base64,{data}">'
    assert oracle_check.check_csvs(page, [first]) == []


# by specialty (the tiny dataset: only S1 is referred to): A 240 S1 referrals, expected
# 120 × T18 + 120 × T19; C 12 in 2018/19 and 240 in 2019/20; England's S1 ratio 1
SPEC = ["Specialty", "Referrals a year", "Ratio (observed / expected)"]
BY_YEAR = ["Specialty", "2018/19 (referrals)", "2019/20 (referrals)"]


def _report_of(facts, code: str, notebook: str = "01_referral_variation", **extra
               ) -> oracle_check.Report:
    return oracle_check.Report(facts, {"notebook": notebook, "where": {"code": code},
                                       "parameters": {"area": code}, **extra})


def test_oracle_by_specialty_known_answers(tiny):
    facts = compute(tiny)
    assert facts["specialties"] == {"S1": "One", "S2": "Two"}
    a = specialty_counts(facts, ["A"])
    assert a["S1"] == (240, pytest.approx(120 * T18 + 120 * T19, rel=1e-8))
    assert a["S2"] == (0, 0.0)               # England refers no one to S2: nothing expected
    q1 = specialty_counts(facts, ["A", "B", "C"])
    assert q1["S1"][0] == 552 and q1["S1"][1] == pytest.approx(552, rel=1e-8)
    assert specialty_counts(facts, ["C"], [2019])["S1"][0] == 240
    assert specialty_by_year(facts, ["C"], "S1") == {2018: 12, 2019: 240}
    # stored as one line a practice: specialty = year: referrals / expected
    c = by_specialty(facts["practices"]["C"])
    assert c["S1"] == {"2018": (12, pytest.approx(30 * T18, rel=1e-8)),
                       "2019": (240, pytest.approx(30 * T19, rel=1e-8))}
    assert c["S2"] == {"2018": (0, 0.0), "2019": (0, 0.0)}
    assert specialty_by_year(facts, ["B"], "S1", [2019]) == {2019: 0}     # closed
    # the same expected counts as one specialty's report (compute(folder, 'S1'))
    s1 = compute(tiny, "S1")
    for code in "ABC":
        assert specialty_counts(facts, [code])["S1"][1] == pytest.approx(
            area_facts(s1, code).expected, rel=1e-8)


@pytest.mark.parametrize("publish", [False, True])
def test_a_table_of_specialties_against_the_oracle(tiny, publish):
    """Referrals a year (over the 2 years open), the ratio and each year's referrals of a
    specialty: as rendered, 0 findings; each planted wrong value found."""
    facts = compute(tiny)
    r = _report_of(facts, "Q1", publish=publish)
    # 552 referrals (published 550) over 2 years; ratio 552 / 552 (published 550 / 552)
    per_year, by_year = ("275", ["190", "360"]) if publish else ("276", ["192", "360"])
    good = [SPEC, ["One", per_year, "1.00"]]
    assert oracle_check.check_table(r, good, "t") == []
    for bad, said in ((["One", "300", "1.00"], "'Referrals a year' 300"),
                      (["One", per_year, "1.10"], "'Ratio (observed / expected)' 1.10")):
        found = oracle_check.check_table(_report_of(facts, "Q1", publish=publish),
                                         [SPEC, bad], "t")
        assert any(said in x and "specialty 'One'" in x for x in found), found
    assert oracle_check.check_table(r, [BY_YEAR, ["One", *by_year]], "t") == []
    found = oracle_check.check_table(r, [BY_YEAR, ["One", by_year[0], "400"]], "t")
    assert any("'2019/20 (referrals)' 400" in x and "360 referrals" in x for x in found)
    # the area's main specialties: one it leaves out has more referrals than one it lists
    found = oracle_check.check_table(r, [BY_YEAR, ["Two", "0", "0"]], "t")
    assert any("One (552 referrals) has more" in x for x in found)
    # a practice's summary names the column 'Ratio'
    ra = _report_of(facts, "A", publish=publish)
    shown = 240 / (120 * T18 + 120 * T19)
    assert oracle_check.check_table(ra, [["Specialty", "Ratio"], ["One", f"{shown:.2f}"]],
                                    "t") == []
    assert oracle_check.check_table(ra, [["Specialty", "Ratio"], ["One", "0.50"]], "t")


DL_HEAD = ["Practice code", "Practice", "Network", "Commissioner", "Open or closed",
           "List size (patients)", "Months open", "Referrals in the period",
           "Referrals a year", "Expected referrals in the period",
           "Standardised referral ratio"]


def _download_row(code: str) -> list:
    """A practice's row of the tiny commissioner's download, worked by hand: B closed in
    April 2019 after 12 months, 60 referrals against 90 × S18 expected."""
    return {"A": ["A", "Alpha", "N1", "Q1", "open", 1200, 24, 240, 120,
                  round(EXPECTED["A"], 1), round(240 / EXPECTED["A"], 3)],
            "B": ["B", "Beta", "N1", "Q1", "closed April 2019", 600, 12, 60, 60,
                  round(90 * S18, 1), round(60 / (90 * S18), 3)],
            "C": ["C", "Gamma", "", "Q1", "open", 300, 24, 252, 126, round(EXPECTED["C"], 1),
                  round(252 / EXPECTED["C"], 3)]}[code]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_an_area_download_against_the_oracle(tiny, tmp_path, suffix):
    """The every-practice download (CSV and workbook as the run writes them): each row's
    list size, months open, referrals, a year, expected, ratio and closing against the
    oracle; planted wrong values found."""
    from helpers.run import downloads

    facts = compute(tiny)
    write = (lambda p, rows: p.write_text(downloads.csv_text(["About"], [], DL_HEAD, rows),
                                          encoding="utf-8")) if suffix == ".csv" else \
        (lambda p, rows: p.write_bytes(downloads.xlsx_bytes(["About"], [], DL_HEAD, rows)))
    path = tmp_path / f"q1-practices{suffix}"
    rows = [_download_row(c) for c in "ABC"]
    write(path, rows)
    read = oracle_check.download_rows(path)
    assert read[0] == DL_HEAD and len(read) == 4
    assert oracle_check.download_findings(facts, read, "Q1", False) == []
    not_run = [x[:8] + ["", "", ""] for x in rows]          # notebook 01 ran for none
    write(path, not_run)
    assert oracle_check.download_findings(facts, oracle_check.download_rows(path), "Q1",
                                          False) == []
    for i, value, said in ((4, "open", "closing date 2019-04-01"),
                           (6, 24, "12 months open"),
                           (7, 65, "60 referrals"), (10, 0.9, "ratio")):
        bad = [list(x) for x in rows]
        bad[1][i] = value
        write(path, bad)
        found = oracle_check.download_findings(facts, oracle_check.download_rows(path), "Q1",
                                               False)
        assert any(f"row 'B', '{DL_HEAD[i]}'" in x and said in x for x in found), found


def test_a_printable_summary_against_the_oracle(tiny):
    """A practice's summary: its figures (header, value, header, value), its specialties'
    ratios, its headline; a network's table of practices named 'Practice …'."""
    facts = compute(tiny)
    b = _download_row("B")
    figs = "".join(f"<tr><th>{h1}</th><td>{v1}</td><th>{h2}</th><td>{v2}</td></tr>"
                   for h1, v1, h2, v2 in zip(DL_HEAD[2::2], b[2::2], DL_HEAD[3::2],
                                             b[3::2], strict=False))
    spec = (f"<table><thead><tr><th>Specialty</th><th>Ratio</th></tr></thead><tbody><tr>"
            f"<td>One</td><td>{60 / (60 * T18):.2f}</td></tr></tbody></table>")
    page = (f'<h1>Beta <span class="meta">B · practice</span></h1><table class="figs">'
            f"<tbody>{figs}</tbody></table>{spec}")
    assert oracle_check.summary_findings(facts, page, "B", False) == []
    planted = page.replace("<td>60</td>", "<td>65</td>", 1)
    assert any("'Referrals in the period' 65" in x
               for x in oracle_check.summary_findings(facts, planted, "B", False))
    planted = page.replace(f"<td>{60 / (60 * T18):.2f}</td>", "<td>2.00</td>")
    assert any("specialty 'One', 'Ratio' 2.00" in x
               for x in oracle_check.summary_findings(facts, planted, "B", False))
    net = ("<table><thead><tr><th>Practice</th><th>List size (patients)</th><th>Referrals a "
           "year</th></tr></thead><tbody><tr><td>Alpha</td><td>1,200</td><td>{}</td></tr>"
           "</tbody></table>")
    assert oracle_check.summary_findings(facts, net.format("120"), "N1", False) == []
    assert any("row 'Alpha', 'Referrals a year' 130" in x
               for x in oracle_check.summary_findings(facts, net.format("130"), "N1", False))
    # a practice whose notebook 01 did not run reads '–': a figure the run does not hold
    assert oracle_check.summary_findings(facts, net.format("–"), "N1", False) == []


@pytest.fixture(scope="module")
def tiny_money(tiny, tmp_path_factory) -> Path:
    """The tiny dataset with outpatient activity and prices: Q1's 2018/19 activity is 10
    first attendances and 20 follow-ups of S1 (April 2018) at £100 and £50, and 4 first
    attendances of S2 (January 2019) at £200: £2,800; 2019/20 is 5 and 5 of S1 at £110 and
    £55: £825."""
    import shutil

    d = tmp_path_factory.mktemp("tiny-money")
    for p in tiny.glob("*.parquet"):
        shutil.copy(p, d / p.name)
    pd.DataFrame({"commissioner_code": "Q1", "provider_code": "P1",
                  "month": pd.to_datetime(["2018-04-01", "2019-01-01", "2019-04-01"]),
                  "specialty_code": ["S1", "S2", "S1"], "first_attendances": [10, 4, 5],
                  "follow_ups": [20, 0, 5], "payment_gbp": 0.0}).to_parquet(
        d / "activity.parquet", index=False)
    pd.DataFrame({"specialty_code": ["S1", "S2", "S1", "S2"], "year": [2018, 2018, 2019, 2019],
                  "price_first": [100.0, 200.0, 110.0, 220.0],
                  "price_followup": [50.0, 100.0, 55.0, 110.0]}).to_parquet(
        d / "prices.parquet", index=False)
    return d


def test_the_commissioners_activity_value_and_an_areas_share(tiny_money):
    """Notebook 03's money: the commissioner's activity at tariff (£2,800 in 2018/19), A's
    share of Q1's referrals that year (120 of 192: 62.5%) and what a 10% fall in A's
    referrals changes (10% × 62.5% × £2,800 = £175)."""
    facts = compute(tiny_money)
    assert facts["commissioners"]["Q1"]["activity_value_gbp"] == {
        "2018": pytest.approx(2800), "2019": pytest.approx(825)}
    res = {"notebook": "03_contract_forms", "where": {"code": "A"}, "year": 2018,
           "parameters": {"area": "A", "specialties": [], "provider": "ALL"},
           "baseline_value_gbp": 2800.0}
    page = ("<p>In 2018/19, the outpatient activity of Cee (the commissioner of Alpha) with "
            "its providers was worth <strong>£2,800</strong> at tariff prices.</p><p>A 10% "
            "fall in GP referrals from this practice (62.5% of the commissioner's referrals) "
            "changes that activity by <strong>£175 a year</strong>.</p><table><thead><tr>"
            "<th>Contract form</th><th>Commissioner's spend at plan (£k)</th></tr></thead>"
            "<tbody><tr><td>Block</td><td>£3k</td></tr></tbody></table>")
    assert oracle_check.findings(facts, res, page) == []
    # a real-structure download's closing note is no row of the table
    note = page.replace("</tbody>", "<tr><td>Note: GP referrals … are synthetic</td><td>"
                                    "</td></tr></tbody>")
    assert oracle_check.findings(facts, res, note) == []
    for old, new, said in (("£2,800", "£2,900", "the oracle has £2,800"),
                           ("62.5%", "60.0%", "62.50% of the commissioner's"),
                           ("£175 a year", "£190 a year", "the oracle has £175"),
                           ("£3k", "£4k", "activity at £2,800")):
        found = oracle_check.findings(facts, res, page.replace(old, new))
        assert any(said in x for x in found), (new, found)
    found = oracle_check.findings(facts, dict(res, baseline_value_gbp=2900.0), page)
    assert any("results baseline_value_gbp 2900" in x for x in found)
    # a slice of the activity (some specialties) is not the commissioner's whole value
    sliced = dict(res, parameters=dict(res["parameters"], specialties=["S1"]))
    assert oracle_check.findings(facts, sliced, page.replace("£2,800", "£2,900")) == []


@pytest.mark.parametrize("n,shown", [(0, 0), (1, None), (7, None), (7.4, None), (8, 10),
                                     (12.4, 10), (12.5, 15), (17.5, 20), (1902, 1900),
                                     (1902.5, 1905)])
def test_disclosure_rule(n, shown):
    assert disclose(n) == shown
    assert suppressed(n) == (shown is None)


def test_per_year_allowed_is_the_published_count_over_the_years():
    assert per_year_allowed(9512, 5, publish=False) == {9512 / 5}
    assert per_year_allowed(9512, 5, publish=True) == {1900}
    assert per_year_allowed(4903, 3, publish=True) == {1635}
    assert per_year_allowed(12, 2, publish=True) == {None}


def test_agreement_is_the_value_rounded_as_printed():
    assert oracle_check.agrees("0.97", 0.9726) and not oracle_check.agrees("0.98", 0.9726)
    assert oracle_check.agrees("1,956", 1955.61)
    assert not oracle_check.agrees("1,955", 1955.61)
    assert oracle_check.agrees("−7.1%", -7.05) and oracle_check.agrees("suppressed", None)
    assert not oracle_check.agrees("5", None) and not oracle_check.agrees("suppressed", 5)


# ------------------------------------------------------------------------------------------
# a whole commissioner's site, rendered once

COMMISSIONER = Q01_SITE_COMMISSIONER
CLOSED = Q01_SITE_CLOSED   # closed April 2017, in the other commissioner


@pytest.fixture(scope="module")
def site(q01_site):
    """The Q01 site of the small preset with the closed practice, rendered once for the
    session (``tests/conftest.py``)."""
    return q01_site


def _report(site, notebook: str, area: str) -> tuple[str, dict]:
    """A rendered page and its results file, from the run or set aside with its failures."""
    stem = area.lower()
    for base in (site["out"], site["aside"]):
        page = base / notebook / f"{stem}.html"
        if page.exists():
            res = json.loads((base / notebook / f"{stem}.results.json").read_text())
            return page.read_text(encoding="utf-8"), res
    raise FileNotFoundError(f"{notebook}/{stem}")


def _new(site, res: dict, before: str, after: str) -> list[str]:
    """Findings on the planted page that the page as rendered did not have."""
    was = set(oracle_check.findings(site["facts"], res, before, site["areas"]))
    now = oracle_check.findings(site["facts"], res, after, site["areas"])
    return [f for f in now if f not in was]


@pytest.mark.slow
def test_the_whole_commissioner_site_agrees_with_the_oracle(site):
    """0 failed reports (the oracle is in the batch's post-run checks) and 0 disagreements
    when the finished run is checked again from its files."""
    failed = [f"{r['report_id']}: {r.get('error', '')[:600]}"
              for r in site["manifest"]["reports"] if r["status"] != "ok"]
    found = oracle_check.check_run(site["out"])
    print(f"site of {len(site['manifest']['reports'])} reports rendered and checked in "
          f"{site['seconds']:.0f} s")
    assert len(site["manifest"]["reports"]) > 140
    assert failed == [] and found == {}, "\n".join(
        failed + [f"{p}: {x}" for p, xs in found.items() for x in xs])


@pytest.mark.slow
def test_planted_closed_practice_a_year_over_the_whole_period(site):
    """Class 1: a closed practice's figure a year divided by the whole period."""
    page, res = _report(site, "01_referral_variation", CLOSED)
    f = area_facts(site["facts"], CLOSED)
    assert f.months_open < 60
    wrong = f"{disclose(disclose(f.observed) / 5):,} a year)"
    planted, n = re.subn(r"[\d,]+ a year over the [\w,]+ (?:years?|months?) it was open\)",
                         wrong, page, count=1)
    if not n:        # the page as rendered gives no exposure: plant the whole-period figure
        planted, n = re.subn(r"\(([\d,]+) a year\)", f"({wrong}", page, count=1)
    assert n == 1
    assert any("a year" in x for x in _new(site, res, page, planted))


@pytest.mark.slow
def test_planted_funnel_point_over_the_whole_period(site):
    """Classes 1 and 7: a chart point's expected a year over the whole period (a closed
    practice among the peers) or a wrong ratio in a point's title."""
    page, res = _report(site, "01_referral_variation", "A81004")
    closed = area_facts(site["facts"], "P81081")          # closed: 48 months of 60
    assert closed.months_open == 48
    anon = (f"A practice like it: ratio {closed.ratio:.2f}, within the 99.8% limits; "
            f"{closed.expected / 5:,.0f} expected referrals a year")
    planted = re.sub(r"<title>A practice like it:[^<]*</title>", f"<title>{anon}</title>",
                     page, count=1)
    assert any("no practice of the data" in x for x in _new(site, res, page, planted))
    page, res = _report(site, "01_referral_variation", COMMISSIONER)
    own = re.search(r"(<title>A81004: ratio )([\d.]+)", page)
    planted = page.replace(own.group(0), own.group(1) + f"{float(own.group(2)) + 0.05:.2f}")
    assert any("chart point 'A81004" in x for x in _new(site, res, page, planted))
    exp = re.search(r"(<title>A81004: ratio [^<]*; )([\d,]+)( expected)", page)
    planted = page.replace(exp.group(0), exp.group(1) + f"{f_years(site, 'A81004'):,.0f}"
                           + exp.group(3))
    assert any("chart point 'A81004" in x for x in _new(site, res, page, planted))


def f_years(site, code: str) -> float:
    """A practice's expected referrals a year over 4 years, not the 5 it was open."""
    return area_facts(site["facts"], code).expected / 4


@pytest.mark.slow
def test_planted_gaps_after_closure(site):
    """Class 2: quarters after a practice closed counted as gaps of 1 to 7 referrals."""
    page, res = _report(site, "01_referral_variation", CLOSED)
    sentence = " 8 quarters with 1 to 7 referrals are gaps (publish mode)."
    planted = re.sub(r"(In the latest quarter shown[^<]*?)(</p>)", r"\1" + sentence + r"\2",
                     page, count=1)
    if planted == page:
        planted = page.replace("</h2>", "</h2><p>" + sentence + "</p>", 1)
    assert any("quarters with 1 to 7" in x for x in _new(site, res, page, planted))


@pytest.mark.slow
def test_planted_practices_counted_as_networks(site):
    """Class 3: a commissioner's area page listing practices among its networks, and a bar
    counting them."""
    page = (site["out"] / "areas" / "q01.html").read_text()
    n = len(site["facts"]["commissioners"][COMMISSIONER]["networks"])
    planted = page.replace(f"Its networks in this run ({n})",
                           f"Its networks in this run ({n + 1})")
    planted = planted.replace(
        "</tbody></table>", '<tr><td><a href="a81001.html">Practice A81001</a></td>'
        "<td>A81001</td><td></td></tr></tbody></table>", 1)
    check = oracle_check.area_page_findings
    assert check(site["facts"], page, COMMISSIONER, site["areas"]) == []
    found = check(site["facts"], planted, COMMISSIONER, site["areas"])
    assert any("not networks" in x for x in found) and any("holds" in x for x in found)
    tree = {COMMISSIONER: ("commissioner", sorted(
        [site["facts"]["networks"][g]["public"] for g in
         site["facts"]["commissioners"][COMMISSIONER]["networks"]] + ["A81001"]))}
    assert oracle_check.tree_findings("synthetic:small", tree,
                                      sorted(site["areas"]))[COMMISSIONER]
    report, res = _report(site, "00_data_overview", COMMISSIONER)
    bar = report.replace(f"Its {n} networks", f"Its {n + 2} networks")
    assert any("networks of" in x for x in _new(site, res, report, bar))


@pytest.mark.slow
def test_planted_group_counts_that_do_not_add_up(site):
    """Class 4: practices said to be in groups that the group table does not add to."""
    page, res = _report(site, "02_federation_scale", COMMISSIONER)
    m = re.search(r"(\d+)( practices</strong> in .{0,200}?belong to)", page)
    assert m, "the headline sentence on groups"
    planted = page.replace(m.group(0), f"{int(m.group(1)) + 10}{m.group(2)}", 1)
    assert any("in a group" in x for x in _new(site, res, page, planted))
    row = re.search(r"(<td[^>]*>Federation 7</td>\s*<td[^>]*>)(\d+)(</td>)", page)
    assert row, "the group table's row of Federation 7"
    planted = page.replace(row.group(0), f"{row.group(1)}{int(row.group(2)) - 1}"
                                         f"{row.group(3)}", 1)
    found = _new(site, res, page, planted)
    assert any("groups add to" in x for x in found)
    assert any("group 'Federation 7'" in x for x in found)


@pytest.mark.slow
def test_planted_commissioners_figures_under_a_networks_name(site):
    """Class 5: notebook 03's contract figures (the commissioner's) titled with a network's
    name."""
    page, res = _report(site, "03_contract_forms", "U10002")
    planted = re.sub(r"(Commissioner's share of demand risk by contract form, )[^<]*",
                     r"\1Federation 2", page, count=1)
    planted = re.sub(r"(by contract form, )[^<]*", r"\1Federation 2", planted)
    found = oracle_check.findings(site["facts"], res, planted, site["areas"])
    assert any("shown under Federation 2's name" in x for x in found)


@pytest.mark.slow
def test_planted_suppressed_cell_recomputable_from_its_row(site):
    """Class 12: a suppressed count beside the cells it can be worked back from."""
    page, res = _report(site, "01_referral_variation", "A81004")
    start = page.index("Best 5 of the similar 10: ratio")
    row = re.compile(r"(<td[^>]*>Trauma and Orthopaedics</td>(?:\s*<td[^>]*>[^<]*</td>){3}"
                     r"\s*<td[^>]*>)([\d,]+)(</td>)").search(page, start)
    assert row, "the similar-10 table's row"
    planted = page[:row.start()] + row.group(1) + "suppressed" + row.group(3) + \
        page[row.end():]
    assert any("is suppressed but follows" in x for x in _new(site, res, page, planted))


@pytest.mark.slow
def test_planted_wrong_table_cells_and_counts(site):
    """A table's ratio, referrals a year and list size against the oracle; a count publish
    mode would not show."""
    page, res = _report(site, "01_referral_variation", "A81004")
    f = area_facts(site["facts"], "A81004")
    per = f"{disclose(disclose(f.observed) / 5):,}"
    ratio = f"{disclose(f.observed) / f.expected:.2f}"
    cells = re.search(r"(<td[^>]*>Practice A81004</td>\s*<td[^>]*>1</td>\s*<td[^>]*>)"
                      + per + r"(</td>\s*<td[^>]*>)" + ratio, page)
    assert cells, "the comparison table's row of the practice"
    planted = page.replace(cells.group(0), cells.group(1) + per + cells.group(2) + "0.91", 1)
    assert any("Ratio (observed / expected)" in x for x in _new(site, res, page, planted))
    planted = page.replace(cells.group(0), cells.group(1) + "1,902" + cells.group(2) + ratio,
                           1)
    found = _new(site, res, page, planted)
    assert any("not a published count" in x for x in found)
    assert any("'Referrals a year' 1,902" in x for x in found)


@pytest.mark.slow
def test_planted_csv_cell_disagreeing_with_its_table(site):
    """A CSV download that is not the table it downloads, and one that disagrees with the
    oracle."""
    page, res = _report(site, "01_referral_variation", "A81004")
    m = re.search(r'(href="data:text/csv;charset=utf-8;base64,)([^"]+)"', page)
    text = base64.b64decode(m.group(2)).decode("utf-8-sig")
    lines = text.split("\n")
    assert lines[1].startswith("Practice A81004,")
    cells = lines[1].split(",")
    cells[-3] = "0.55"                                    # the ratio
    lines[1] = ",".join(cells)
    data = base64.b64encode(("\ufeff" + "\n".join(lines)).encode()).decode()
    planted = page.replace(m.group(2), data, 1)
    found = _new(site, res, page, planted)
    assert any("disagrees with its table" in x for x in found)
    assert any(x.startswith("CSV") and "0.55" in x for x in found)


@pytest.mark.slow
def test_planted_results_file_figures(site):
    """The results file: referrals, expected, ratio, a year, the network's size."""
    page, res = _report(site, "01_referral_variation", "A81004")
    assert oracle_check.check_results(oracle_check.Report(site["facts"], res)) == []
    for key, value in (("observed", res["observed"] + 5), ("expected", res["expected"] * 1.01),
                       ("area_ratio", res["area_ratio"] + 0.01),
                       ("observed_per_year", res["observed_per_year"] + 5)):
        bad = dict(res, **{key: value})
        found = oracle_check.check_results(oracle_check.Report(site["facts"], bad))
        assert any(f"results {key}" in x for x in found)
    bad = json.loads(json.dumps(res))
    bad["facts"]["referrals"]["count"] += 5
    found = oracle_check.check_results(oracle_check.Report(site["facts"], bad))
    assert any("facts.referrals" in x for x in found)


@pytest.mark.slow
def test_the_cli_prints_disagreements(site, tmp_path, capsys):
    """``python -m helpers.run.oracle_check RUN`` on a run with one planted defect."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(site["out"], run)
    p = run / "00_data_overview" / "q01.html"
    if not p.exists():
        pytest.skip("the commissioner's 00 page failed its checks in this run")
    text = p.read_text()
    m = re.search(r"([\d,]+) GP referrals", text)
    p.write_text(text.replace(m.group(0), "12,345 GP referrals", 1))
    assert oracle_check.main([str(run)]) == 1
    assert "00_data_overview/q01: '12,345 GP referrals" in capsys.readouterr().out


@pytest.mark.slow
def test_planted_quarter_ratio_and_gap_after_closure(site):
    """A practice's quarterly ratio on its chart against England's deciles, and a quarter
    drawn after the practice closed."""
    page, res = _report(site, "01_referral_variation", CLOSED)
    m = re.search(r"<title>Apr 2015 quarter: ratio ([\d.]+)</title>", page)
    assert m, "the deciles chart's point for April 2015"
    planted = page.replace(m.group(0), f"<title>Apr 2015 quarter: ratio "
                                       f"{float(m.group(1)) + 0.3:.2f}</title>")
    assert any("Apr 2015 quarter" in x for x in _new(site, res, page, planted))
    planted = page.replace(m.group(0), m.group(0) + "<title>Apr 2018 quarter: ratio 0.50"
                                                    "</title>")
    assert any("Apr 2018 quarter" in x and "no ratio" in x
               for x in _new(site, res, page, planted))


@pytest.mark.slow
@pytest.mark.parametrize("notebook,area,old,new,said", [
    ("00_data_overview", COMMISSIONER, r"<strong>28 practices</strong> with",
     "<strong>27 practices</strong> with", "practices with patients at the latest count"),
    ("01_referral_variation", "U10002", r"5 practices</strong> in", "6 practices</strong> in",
     "with referrals in the period"),
    ("02_federation_scale", "A81004", r"a group of 2 practices", "a group of 3 practices",
     "Federation 3 has 2 practices"),
    ("00_data_overview", CLOSED, r"over the 36 months it was open",
     "over the 60 months it was open", "referrals in 36 months")])
def test_planted_practice_counts_and_months_open(site, notebook, area, old, new, said):
    """An area's practices (with patients at the latest count, with referrals), a practice's
    group size and a closed practice's months of data, each said wrongly."""
    page, res = _report(site, notebook, area)
    assert re.search(old, page), old
    planted = re.sub(old, new, page, count=1)
    assert any(said in x for x in _new(site, res, page, planted))


@pytest.mark.parametrize("params,skipped", [({}, 0), ({"specialties": ["S1"]}, 1),
                                            ({"provider": "P1"}, 1)])
def test_contract_titles_of_a_slice_of_activity_are_skipped_and_counted(tiny, params,
                                                                        skipped):
    facts = compute(tiny)
    res = {"notebook": "03_contract_forms", "where": {"code": "A"}, "year": 2018,
           "parameters": {"area": "A", "specialties": [], "provider": "ALL", **params}}
    assert oracle_check.check_report(facts, res, "")[1] == skipped


@pytest.mark.slow
def test_planted_figures_by_specialty(site):
    """A specialty's referrals in a year (the area's main specialties over time), its
    referrals a year and its ratio, each planted wrong on a rendered page."""
    page, res = _report(site, "01_referral_variation", COMMISSIONER)
    cell = re.compile(r"(<td[^>]*>Trauma and Orthopaedics</td>\s*<td[^>]*>)([\d,]+)(</td>)"
                      ).search(page, page.index("Main specialties of"))
    assert cell, "the main specialties' row of Trauma and Orthopaedics"
    n = int(cell.group(2).replace(",", ""))
    planted = page.replace(cell.group(0), f"{cell.group(1)}{n + 100:,}{cell.group(3)}", 1)
    assert any("specialty 'Trauma and Orthopaedics'" in x and "(referrals)" in x
               for x in _new(site, res, page, planted))
    page, res = _report(site, "01_referral_variation", "A81004")
    row = re.search(r"(<td[^>]*>Cardiology</td>\s*<td[^>]*>)([\d,]+)(</td>\s*<td[^>]*>)"
                    r"([\d.]+)(</td>)", page)
    assert row, "a specialty table's row of Cardiology"
    planted = page.replace(row.group(0), row.group(1) + row.group(2) + row.group(3)
                           + f"{float(row.group(4)) + 0.2:.2f}" + row.group(5))
    assert any("specialty 'Cardiology', 'Ratio (observed / expected)'" in x
               for x in _new(site, res, page, planted))
    planted = page.replace(row.group(0), row.group(1) + f"{int(row.group(2)) + 50:,}"
                           + row.group(3) + row.group(4) + row.group(5))
    assert any("specialty 'Cardiology', 'Referrals a year'" in x
               for x in _new(site, res, page, planted))


@pytest.mark.slow
def test_planted_contract_money(site):
    """Notebook 03: the commissioner's activity at tariff, the practice's share of its
    referrals and what a 10% fall changes, each planted wrong."""
    page, res = _report(site, "03_contract_forms", "A81004")
    worth = re.search(r"was worth <strong>(£[\d.]+m)</strong>", page)
    share = re.search(r"\(([\d.]+)% of the commissioner's referrals\)", page)
    change = re.search(r"activity by <strong>(£[\d,]+k) a year", page)
    assert worth and share and change
    for m, new in ((worth, "£99.9m"), (share, "12.3"), (change, "£999k")):
        planted = page.replace(m.group(0), m.group(0).replace(m.group(1), new), 1)
        assert _new(site, res, page, planted), new


@pytest.mark.slow
def test_planted_summary_and_download_found_in_the_run(site, tmp_path):
    """The printable summary and the every-practice download of a finished run, checked by
    :func:`oracle_check.check_run` (as ``make quality`` does): a practice's referrals on its
    summary and its months open in the commissioner's CSV and workbook, each planted."""
    import shutil

    from openpyxl import load_workbook

    run = tmp_path / "run"
    shutil.copytree(site["out"], run)
    summary = run / "summaries" / "a81004.html"
    text = summary.read_text()
    m = re.search(r"(Referrals in the period</th><td[^>]*>)([\d,]+)<", text)
    assert m, "the summary's referrals in the period"
    summary.write_text(text.replace(m.group(0), m.group(1) + "1,234<", 1))
    csv_path = run / "areas" / "q01-practices.csv"
    lines = csv_path.read_bytes().decode("utf-8-sig").split("\r\n")
    i = next(k for k, x in enumerate(lines) if x.startswith("A81004,"))
    cells = lines[i].split(",")
    cells[6] = "59"                                   # months open
    lines[i] = ",".join(cells)
    csv_path.write_bytes(("\ufeff" + "\r\n".join(lines)).encode("utf-8"))
    book = load_workbook(run / "areas" / "q01-practices.xlsx")
    ws = book.worksheets[0]
    for row in ws.iter_rows():
        if row[0].value == "A81004":
            row[6].value = 59
    book.save(run / "areas" / "q01-practices.xlsx")
    found = oracle_check.check_run(run)
    assert any("Referrals in the period' 1,234" in x
               for x in found.get("summaries/a81004.html", []))
    for name in ("q01-practices.csv", "q01-practices.xlsx"):
        assert any("row 'A81004', 'Months open' 59" in x
                   for x in found.get(f"areas/{name}", [])), (name, found.get(f"areas/{name}"))


def test_an_areas_facts_are_worked_out_once_a_process(tiny, monkeypatch):
    """England's facts (a scan of every practice's months) and each practice's are worked
    out once, however many reports and tables ask: the same facts as area_facts gives,
    over each report's own years."""
    facts = compute(tiny)
    calls: list[tuple] = []

    def counted(f, code, years=None):
        calls.append((code, tuple(years or ())))
        return area_facts(f, code, years)

    monkeypatch.setattr(oracle_check, "area_facts", counted)
    monkeypatch.setattr(oracle_check, "_KNOWN", {})
    reports = [_report_of(facts, "Q1") for _ in range(3)]
    for r in reports:
        for code in ("ENGLAND", "A", "B", "ENGLAND"):
            assert r.get(code) == area_facts(facts, code)
    assert sorted(calls) == sorted([("Q1", ()), ("ENGLAND", ()), ("A", ()), ("B", ())])
    one_year = _report_of(facts, "Q1", years=[2019])
    assert one_year.get("B") == area_facts(facts, "B", [2019])
    assert one_year.get("B").observed == 0 and reports[0].get("B").observed == 60
    # another facts (another dataset or specialty) is another set of areas
    other = compute(tiny, "S1")
    assert _report_of(other, "Q1").get("A") == area_facts(other, "A")
    assert len(calls) == 4 + 2 + 2
