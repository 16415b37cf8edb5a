"""The funnel and ISR machinery on real NHS open data (skips without ../shared)."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.schema import ContractError
from helpers.sources import nhs_files
from helpers.stats import rates
from helpers.stats.funnels import funnel


@pytest.fixture(scope="module")
def ae(real_dir):
    return nhs_files.read_fingertips_practice(real_dir / "fingertips_practice_ae_attendances_0to4.csv",
                                         indicator_id=93930)


def test_ae_loader_facts(ae):
    assert 6000 <= len(ae) <= 6343            # 6,343 practice rows, a few suppressed
    assert ae.practice_code.is_unique
    assert set(ae.period) == {"2021/22"}
    assert ae["count"].sum() > 1_000_000      # > 1m attendances by under-5s


def test_crude_rate_reproduces_fingertips_published_values(ae):
    """Our crude rate per 1,000 equals the published value for every practice. (The published
    95% limits for this indicator are not Byar's, so only the intervals' coverage of the value
    is compared.)"""
    cr = rates.crude_rate(ae["count"], ae["denominator"], multiplier=1000, confidence=0.95)
    np.testing.assert_allclose(cr.value, ae.value, rtol=1e-6)
    assert ((cr.lower95 <= ae.value) & (ae.value <= cr.upper95)).all()


def test_ae_funnel_is_overdispersed(ae):
    nat = ae["count"].sum() / ae["denominator"].sum()
    e = ae["denominator"] * nat
    plain = funnel(ae["count"], e, ae.practice_code, method="none")
    adj = funnel(ae["count"], e, ae.practice_code, method="robust")
    share_plain = plain.points.outlier.mean()
    share_adj = adj.points.outlier.mean()
    assert adj.phi > 1 and adj.tau2 > 0                       # real over-dispersion
    assert share_plain > 0.25                                 # Poisson limits flag many
    assert share_adj < 0.03                                   # adjusted limits flag few
    ratio_sd = np.sqrt(adj.tau2)
    assert 0.15 < ratio_sd < 0.6                              # plausible spread of A&E use


def test_qof_prevalence_proportion_funnel(real_dir):
    q = nhs_files.read_qof_prevalence(real_dir / "qof_2020-21_prevalence.csv", "DM")
    assert 6400 <= len(q) <= 6571 and q.practice_code.is_unique
    p = q.register / q.list_size
    assert 0.05 < q.register.sum() / q.list_size.sum() < 0.09  # diabetes ≈ 7% of adults
    shares = {m: funnel(q.register, q.list_size, q.practice_code, kind="PR",
                        method=m).points.outlier.mean() for m in ("none", "additive", "robust")}
    # prevalence differs for real between practices: Poisson-type limits flag half of them;
    # over-dispersed limits a few per cent, fewest with the trimming-bias correction
    assert shares["none"] > 0.4
    assert shares["robust"] < shares["additive"] < 0.1
    assert shares["robust"] < 0.05
    wil = rates.proportion(q.register, q.list_size, confidence=0.95)
    assert (wil.lower95 <= p).all() and (p <= wil.upper95).all()


def test_loader_rejects_wrong_publication(real_dir):
    with pytest.raises(ContractError, match="not the expected Fingertips export"):
        nhs_files.read_fingertips_practice(real_dir / "qof_2020-21_prevalence.csv")
    with pytest.raises(ContractError, match="expected indicator 93553"):
        nhs_files.read_fingertips_practice(real_dir / "fingertips_practice_ae_attendances_0to4.csv",
                                      indicator_id=93553)
    with pytest.raises(ContractError, match="no rows for group 'XX'"):
        nhs_files.read_qof_prevalence(real_dir / "qof_2020-21_prevalence.csv", "XX")
