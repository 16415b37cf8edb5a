"""A network of one practice is described as what it is: the practice alone, with no other
practice to share staff or services with (not 'it works at scale with no other practice',
which says the opposite of what a one-member network can do)."""

from __future__ import annotations

import pytest

from helpers import report
from helpers.datasets import load_dataset
from helpers.paths import project_root
from helpers.report import federation_scale

pytestmark = pytest.mark.slow


def test_one_member_network_headline():
    ds = load_dataset(project_root() / "data" / "synthetic" / "small")
    g = ds.groups.assign(group_code=ds.groups["group_code"].astype(str),
                         practice_code=ds.groups["practice_code"].astype(str))
    size = g.groupby("group_code")["practice_code"].nunique()
    assert (size == 1).any()                          # the small preset has one
    code = g.loc[g["group_code"] == size[size == 1].index[0], "practice_code"].iloc[0]
    ctx = report.start("02_federation_scale", {"data_source": "synthetic:small",
                                               "area": code})
    first = federation_scale.headline_text(ctx, report.analyse(ctx)).splitlines()[0]
    assert "is the only practice in" in first
    assert "the network is this practice alone" in first
    assert "works at scale" not in first
