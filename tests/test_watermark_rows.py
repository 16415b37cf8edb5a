"""On real practices carrying synthetic referrals, the 'synthetic' mark stands on the
synthetic figures only: the referral ratio's row of a practice's spine chart says
'(synthetic)' and no watermark crosses its real rows (list, payments, GP FTE); the size
curves of real outcomes carry no watermark, the referral ratio's does."""

from __future__ import annotations

import json
import shutil

import pytest

from helpers import report
from helpers.paths import project_root
from helpers.report import federation_scale
from helpers.report.page import watermark

pytestmark = pytest.mark.slow
MARK = "SYNTHETIC REFERRALS · ILLUSTRATION"


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    out = tmp_path_factory.mktemp("mixed") / "small_mixed"
    shutil.copytree(project_root() / "data" / "synthetic" / "small", out)
    prov = json.loads((out / "provenance.json").read_text())
    prov.update(source="real structure", real_tables=["practices", "population", "groups",
                                                      "practice_outcomes"],
                synthetic_tables=["referrals", "activity", "contracts"])
    (out / "provenance.json").write_text(json.dumps(prov))
    return out


def _texts(fig) -> list[str]:
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        out += [t.get_text() for t in ax.get_yticklabels() + ax.texts]
    return out


def test_spine_marks_the_synthetic_row_not_the_chart(mixed):
    ctx = report.start("02_federation_scale", {"data_source": str(mixed), "area": "P81061"})
    assert watermark(ctx) == MARK
    an = report.analyse(ctx)
    fig = federation_scale.profile_figure(ctx, an)
    texts = _texts(fig)
    assert MARK not in texts
    assert any(t.endswith("(synthetic)") and "referral" in t.lower() for t in texts), texts
    assert not any("payments" in t.lower() and "(synthetic)" in t for t in texts)
    curves = {y: federation_scale.size_curve_figure(ctx, an, y) for y in an.curves}
    assert MARK in _texts(curves["srr"])
    assert all(MARK not in _texts(f) for y, f in curves.items() if y != "srr" and f)


def test_headline_marks_the_synthetic_ratio_where_it_stands(mixed):
    ctx = report.start("02_federation_scale", {"data_source": str(mixed), "area": "P81061"})
    words = federation_scale.headline_text(ctx, report.analyse(ctx))
    assert "standardised referral ratio (synthetic) **" in words
    assert "payments per weighted patient **" in words        # real: no mark
    comm = report.start("02_federation_scale", {"data_source": str(mixed),
                                                "area": ctx.where.commissioner})
    words = federation_scale.headline_text(comm, report.analyse(comm))
    assert "Referrals here are synthetic" in words or "ratio (synthetic)" in words


def test_group_table_gives_each_column_its_own_period(mixed):
    from helpers import formats

    ctx = report.start("02_federation_scale", {"data_source": str(mixed), "area": "P81061"})
    comm = report.start("02_federation_scale", {"data_source": str(mixed),
                                                "area": ctx.where.commissioner})
    an = report.analyse(comm)
    html = federation_scale.networks_table(comm, an).data
    year = int(an.national_panel["year"].max())
    flat = comm.latest_list_when.replace(" (", ", ").replace(")", "")  # one pair of brackets
    assert f"Combined list (patients, {flat}; practices open in {formats.year(year)})" in html
    assert f"Payments per weighted patient (£, median, {formats.year(year)})" in html
    assert "latest year)" not in html.split("<caption")[0]


def test_published_commissioner_page_lists_no_network(mixed):
    from helpers.analysis.context import AREA_ROWS_WHY

    ctx = report.start("02_federation_scale", {"data_source": str(mixed), "area": "P81061"})
    comm = report.start("02_federation_scale", {"data_source": str(mixed), "publish": True,
                                                "area": ctx.where.commissioner})
    an = report.analyse(comm)
    assert federation_scale.networks_table(comm, an) == AREA_ROWS_WHY
    assert federation_scale.size_curve_figure(comm, an, "srr") == AREA_ROWS_WHY
