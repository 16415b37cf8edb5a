"""XmR limits and Making Data Count rules against NHSRplotthedots 0.2.2 outputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.stats import spc

REL = 1e-9


def _vec(s: str) -> list[float]:
    return [float(v) for v in str(s).split(";")] if isinstance(s, str) else []


def test_rule_unit_cases(ref_dir):
    cases = pd.read_csv(ref_dir / "ptd_rule_unit_cases.csv")
    for row in cases.itertuples():
        helper = row.rule_helper
        if helper.startswith("special_cause_type"):
            y, rtm, close, outside = (_vec(p) for p in row.input_1.split("|"))
            got = spc.special_cause_type(y, rtm, close, outside)
            assert got == row.expected.split(";"), row.case_id
            continue
        fn = getattr(spc, helper)
        args = [_vec(row.input_1)] + ([_vec(row.input_2)] if isinstance(row.input_2, str)
                                      else [])
        got = list(fn(*args))
        assert got == [int(v) for v in _vec(row.expected)], row.case_id


@pytest.fixture(scope="module")
def ptd(ref_dir):
    return (pd.read_csv(ref_dir / "ptd_series_inputs.csv"),
            pd.read_csv(ref_dir / "ptd_expected_summary.csv"),
            pd.read_csv(ref_dir / "ptd_expected_points.csv"))


def _cases(ref_dir_path):
    import csv
    with open(ref_dir_path / "ptd_expected_summary.csv") as f:
        return sorted({r["case"] for r in csv.DictReader(f)})


@pytest.mark.parametrize("case", [f"C{i:02d}" for i in range(1, 29)])
def test_ptd_case(ptd, case):
    series, summary, points = ptd
    summ = summary[summary.case == case]
    first = summ.iloc[0]
    s = series[series.series == first.series]
    rebase = first.rebase if isinstance(first.rebase, str) else None
    fix = int(first.fix_after_n_points) if not np.isnan(first.fix_after_n_points) else None
    target = None if np.isnan(first.target) else float(first.target)
    pts, out = spc.xmr(s.y.to_numpy(), s.date, first.improvement_direction,
                       screen_outliers=bool(first.screen_outliers), rebase=rebase,
                       fix_after_n_points=fix, target=target)
    exp = points[points.case == case].reset_index(drop=True)
    np.testing.assert_allclose(pts["mean"], exp.mean_col, rtol=REL)
    np.testing.assert_allclose(pts.lpl, exp.lpl, rtol=REL)
    np.testing.assert_allclose(pts.upl, exp.upl, rtol=REL)
    assert list(pts.outside_limits) == list(exp.outside_limits)
    assert list(pts.relative_to_mean) == list(exp.relative_to_mean)
    assert list(pts.close_to_limits) == list(exp.close_to_limits)
    assert list(pts.special_cause_type) == list(exp.special_cause_type)
    assert list(pts.special_cause_flag) == list(exp.special_cause_flag)
    assert list(pts.point_type) == list(exp.point_type)
    for (_, o), (_, e) in zip(out.iterrows(), summ.iterrows(), strict=True):
        assert o.n_points == e.n_points
        assert o.variation_type == e.variation_type_last_point_in_group
        assert (o.assurance_type if isinstance(o.assurance_type, str) else "NA") == (
            e.assurance_type if isinstance(
                e.assurance_type, str) else "NA")
        assert o.n_special_cause == e.n_special_cause_in_group


def test_bad_direction():
    with pytest.raises(ValueError, match="improvement_direction"):
        spc.xmr([1, 2, 3], improvement_direction="up")
