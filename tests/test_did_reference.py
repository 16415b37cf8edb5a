"""The staggered-DiD engine (csdid) reproduces R did 2.5.0 on mpdta (analytic SEs)."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def fitted(ref_dir):
    from csdid.att_gt import ATTgt
    d = pd.read_csv(ref_dir / "mpdta.csv")
    with contextlib.redirect_stdout(io.StringIO()):
        att = ATTgt(yname="lemp", gname="first.treat", idname="countyreal", tname="year",
                    xformla="lemp~1", data=d, control_group="nevertreated").fit(
            est_method="dr", bstrap=False)
    return att


def test_attgt_matches_r(fitted, ref_dir):
    ref = pd.read_csv(ref_dir / "csdid_r_did_ref_attgt.csv")
    ref = ref[ref.scenario == "mpdta_nev_dr"]
    got = pd.DataFrame({"group": fitted.results["group"], "t": fitted.results["year"],
                        "att": fitted.results["att"], "se": fitted.results["se"]})
    m = ref.merge(got, on=["group", "t"], suffixes=("_r", ""))
    assert len(m) == 12
    np.testing.assert_allclose(m.att, m.att_r, rtol=1e-6)
    np.testing.assert_allclose(m.se, m.se_r, rtol=1e-6)


def test_simple_and_dynamic_aggregation_match_r(fitted, ref_dir):
    ref = pd.read_csv(ref_dir / "csdid_r_did_ref_aggte.csv")
    ref = ref[ref.scenario == "mpdta_nev_dr"]
    with contextlib.redirect_stdout(io.StringIO()):
        fitted.aggte(typec="simple", bstrap=False)
        simple = dict(fitted.atte)
        fitted.aggte(typec="dynamic", bstrap=False)
        dyn = dict(fitted.atte)
    s = ref[ref.type == "simple"].iloc[0]
    assert simple["overall_att"] == pytest.approx(s.overall_att, rel=1e-6)   # -0.0399513
    assert simple["overall_se"] == pytest.approx(s.overall_se, rel=1e-6)     # 0.0120340
    d = ref[ref.type == "dynamic"]
    np.testing.assert_allclose(dyn["att_egt"], d.att_egt, rtol=1e-6)
    assert dyn["overall_att"] == pytest.approx(d.overall_att.iloc[0], rel=1e-6)
