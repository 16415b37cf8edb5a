"""Real size curves from NHS Payments to General Practice, ePCN membership and GP workforce
(skips without ../shared)."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.analysis import scale
from helpers.schema import ContractError
from helpers.sources import nhs_files


@pytest.fixture(scope="module")
def pay(real_dir):
    return nhs_files.read_gp_payments_panel(real_dir)


def test_payments_panel_facts(pay):
    n = pay.groupby("year").practice_code.nunique()
    assert list(n.index) == list(range(2014, 2023))            # nine years
    assert n[2014] > 7800 and n[2022] < 6700                     # 7,959 → 6,669 rows
    assert (np.diff(n.to_numpy()) < 0).all()                     # practices fall every year
    assert pay.loc[pay.year >= 2019, "pcn_code"].notna().mean() > 0.95   # PCNs from 2019/20
    assert pay.loc[pay.year < 2019, "pcn_code"].isna().all()
    assert set(pay.contract_type.dropna()) <= {"GMS", "PMS", "APMS"}
    assert pay.groupby(["year", "practice_code"]).size().max() == 1


def test_share_of_small_practices_falls(pay):
    small = pay[pay.registered_patients > 0].groupby("year").apply(
        lambda d: (d.registered_patients < 5000).mean(), include_groups=False)
    assert small[2014] > 0.3 and small[2022] < 0.25     # Oct 2014: 37%; Sep 2019: 26.5%
    assert (np.diff(small.to_numpy()) < 0.005).all()             # falls (or flat) every year


def test_real_size_curves(pay, real_dir):
    p = pay[(pay.registered_patients > 1000) & (pay.weighted_patients > 0)].copy()
    p["payments_per_weighted"] = p.total_payments_gbp / p.weighted_patients
    p["commissioner_code"] = p.ccg_code
    p["rurality"] = p.rurality.fillna("unknown")
    p = p[p.payments_per_weighted.between(20, 2000) & (p.year >= 2016)]   # rurality from 2016
    e = scale.elasticity(p, "payments_per_weighted", controls=("C(rurality)", "C(year)"))
    assert -0.3 < e.estimate < 0.05        # payments per patient fall (or flat) with size
    b = scale.binned_means(p[p.year == 2022], "registered_patients", "payments_per_weighted")
    assert len(b) >= 6 and (b["n"] > 100).all()
    wf = nhs_files.read_gp_workforce(real_dir / "heec_gp_workforce_practice_year.csv")
    wf = wf[wf.patients > 1000]
    w = scale.elasticity(wf, "gp_fte_per_1000", x="patients", controls=("C(year)",),
                         cluster="practice_code")
    assert w.n > 15000 and -0.5 < w.estimate < 0.2


def test_network_sizes(pay, real_dir):
    m = nhs_files.read_epcn_membership(real_dir / "ods_epcn_core_partner_details_2022-04.csv")
    current = m[m.left.isna()]
    sizes = current.groupby("group_code").practice_code.nunique()
    assert 1100 < len(sizes) < 1350                  # ≈ 1,250 PCNs
    assert sizes.median() in range(3, 8)
    lists = pay[pay.year == 2021].set_index("practice_code").registered_patients
    combined = current.assign(l=current.practice_code.map(lists)).groupby("group_code").l.sum()
    assert 25_000 < combined.median() < 70_000       # PCNs typically 30k-50k patients


def test_wrong_file_is_refused(real_dir):
    with pytest.raises(ContractError, match="not the expected NHS Payments"):
        nhs_files.read_gp_payments(real_dir / "qof_2020-21_mapping_nhs_geographies.csv")
