"""Batch grids: a typed schema with no silent defaults, and a clear error for each mistake."""

from __future__ import annotations

import pytest

from helpers.run.grid import GridError, load_grid, read_grid

GOOD = "data_source: synthetic:small\npublish: true\nareas: all\nnotebooks: all\n"


def _grid(tmp_path, text):
    p = tmp_path / "g.yaml"
    p.write_text(text)
    return p


@pytest.mark.parametrize("text,message", [
    ("data_source: synthetic:small\npublish:\nareas: all\nnotebooks: all\n",
     r"'publish': Input should be a valid boolean \(got nothing\)"),
    ("data_source: synthetic:small\npublish: 'yes'\nareas: all\nnotebooks: all\n",
     r"'publish': Input should be a valid boolean \(got 'yes'\)"),
    ("data_source: synthetic:small\nareas: all\nnotebooks: all\n", "'publish' is required"),
    ("data_source: synthetic:small\npublish: true\nareas: all\n", "'notebooks' is required"),
    ("data_source: synthetic:small\npublish: true\nareas: Q01\nnotebooks: all\n",
     r"'areas': give 'all' .* or a list, e.g. areas: \[Q01\]"),
    ("data_source: synthetic:small\npublish: true\nareas: [01]\nnotebooks: all\n",
     "codes must be text; quote 1"),
    ("data_source: synthetic:small\npublish: true\nareas: []\nnotebooks: all\n",
     "'areas': the list is empty"),
    (GOOD + "notebook: [x]\n", r"unknown key 'notebook'"),
    ("data_source: synthetic:small\npublish: [true\n", r"not valid YAML at line 3, column 1"),
    ("- a\n- b\n", "expected keys data_source, publish, areas, notebooks; found list"),
    # a repeated key is refused, never last-wins (this one would turn disclosure control off)
    ("data_source: synthetic:small\npublish: true\nareas: all\nnotebooks: all\n"
     "publish: false\n", r"key 'publish' appears twice \(lines 2 and 5\); keep one"),
    # YAML 1.1 booleans are not booleans here
    ("data_source: synthetic:small\npublish: no\nareas: all\nnotebooks: all\n",
     r"'publish': Input should be a valid boolean \(got 'no'\); write true or false"),
    ("data_source: synthetic:small\npublish: on\nareas: all\nnotebooks: all\n",
     r"\(got 'on'\); write true or false"),
    ("data_source: synthetic:small\npublish: true\nareas: all\n"
     "notebooks: [01_referral_variation, 01_referral_variation]\n",
     r"notebooks listed more than once: \['01_referral_variation'\]"),
])
def test_schema_errors(tmp_path, text, message):
    with pytest.raises(GridError, match=message):
        read_grid(_grid(tmp_path, text))


def test_areas_ignore_case_and_repeats_are_refused(tmp_path, small):
    _, jobs = load_grid(_grid(tmp_path, GOOD.replace("areas: all", "areas: [q01, england]")))
    assert {j.area for j in jobs} == {"Q01", "ENGLAND"}
    assert {j.report_id.split("/")[1] for j in jobs} == {"q01", "england"}
    with pytest.raises(GridError, match=r"listed more than once .*\['Q01'\]"):
        load_grid(_grid(tmp_path, GOOD.replace("areas: all", "areas: [Q01, q01]")))
    with pytest.raises(GridError, match=r"area 'Q77' is not in the data"):
        load_grid(_grid(tmp_path, GOOD.replace("areas: all", "areas: [Q01, Q77]")))


def test_parameters_are_checked_against_the_catalogue(tmp_path, small):
    bad = GOOD + "parameters:\n  01_referral_variation:\n    limt: 95\n"
    with pytest.raises(GridError, match="unknown parameter 'limt'.*did you mean 'limit'"):
        load_grid(_grid(tmp_path, bad))
    bad = GOOD + "parameters:\n  01_referral_variation:\n    limit: '95'\n"
    with pytest.raises(GridError, match="must be int/float"):
        load_grid(_grid(tmp_path, bad))
    bad = GOOD + "parameters:\n  01_referral_variation:\n    publish: false\n"
    with pytest.raises(GridError, match=r"set \['publish'\], which the grid sets"):
        load_grid(_grid(tmp_path, bad))
    bad = GOOD.replace("notebooks: all", "notebooks: [00_data_overview]") + \
        "parameters:\n  01_referral_variation:\n    limit: 95\n"
    with pytest.raises(GridError, match="notebooks not in this grid"):
        load_grid(_grid(tmp_path, bad))
    with pytest.raises(GridError, match="no notebook '07_nothing'"):
        load_grid(_grid(tmp_path, GOOD.replace("notebooks: all", "notebooks: [07_nothing]")))


def test_publish_false_is_kept_and_data_source_can_be_replaced(tmp_path, small):
    grid, jobs = load_grid(_grid(tmp_path, GOOD.replace("publish: true", "publish: false")))
    assert grid.publish is False and all(j.parameters["publish"] is False for j in jobs)
    p = _grid(tmp_path, GOOD.replace("synthetic:small", "synthetic:england")
              .replace("areas: all", "areas: [Q01]"))
    grid, jobs = load_grid(p, data_source="synthetic:small")
    assert grid.data_source == "synthetic:small"
    assert {j.parameters["data_source"] for j in jobs} == {"synthetic:small"}
    with pytest.raises(GridError, match="data_source folder not found"):
        load_grid(p, data_source=str(tmp_path / "nowhere"))


def test_areas_below_the_commissioner(tmp_path, small):
    """Networks and practices are areas too: every one, or those of one commissioner."""
    from helpers.analysis import areas

    t = areas.area_table(small)
    nets_q01 = t[(t.level == "network") & (t.commissioner_code == "Q01")]["code"].tolist()
    _, jobs = load_grid(_grid(tmp_path, GOOD.replace("areas: all", "areas: networks in q01")))
    assert sorted({j.area for j in jobs}) == sorted(nets_q01) and len(nets_q01) >= 3
    _, jobs = load_grid(_grid(tmp_path, GOOD.replace("areas: all", "areas: practices")
                              .replace("notebooks: all", "notebooks: [00_data_overview]")))
    assert len(jobs) == len(small.practices)
    first = small.practices.practice_code.astype(str).iloc[0]
    _, jobs = load_grid(_grid(tmp_path, GOOD.replace("areas: all",
                                                     f"areas: [{first.lower()}, {nets_q01[0]}]")))
    assert {j.area for j in jobs} == {first, nets_q01[0]}
    with pytest.raises(GridError, match=r"'networks in Q01'\) or a list"):
        read_grid(_grid(tmp_path, GOOD.replace("areas: all", "areas: networks of Q01")))
    with pytest.raises(GridError, match="'A81001' is not a commissioner"):
        load_grid(_grid(tmp_path, GOOD.replace("areas: all", "areas: networks in A81001")))


def test_area_codes_map_to_file_names_one_to_one():
    from helpers.run.grid import check_file_names

    check_file_names(["Q01", "U10001", "A81005"], "g.yaml")
    with pytest.raises(GridError, match=r"areas P\.1 and P-1 would both be written as "
                                        r"'p-1\.html'"):
        check_file_names(["P.1", "P-1"], "g.yaml")
