"""Property: any small dataset cut from the small preset, however sparse, goes through the
batch in publish mode with every report rendered (or refused with a clear message), no count
of 1-7 in any table or results file, no chart whose drawn values imply a count publish mode
would not show (read back from what was drawn), and nothing suppressed shown as a number.

Hypothesis draws the practices kept (1 to 6), how far one practice's referrals are scaled
down (to none, to a few, to a tenth, or not at all) and the seed; each example is a full
batch run, so a few examples are drawn, derandomised so CI is repeatable."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from test_degenerate import PROV, _only
from test_publish import COUNT_HEADERS, _number, _Tables, count_values

from helpers.datasets import save_dataset
from helpers.run import batch
from helpers.run.checks import chart_metadata
from helpers.schema import ContractError


def _published(x) -> bool:
    """A count as publish mode may show it: none (suppressed), 0, or 8+ in steps of 5."""
    return x is None or (isinstance(x, float) and math.isnan(x)) or x == 0 or \
        (x > 7 and abs(x / 5 - round(x / 5)) < 1e-9)


@settings(max_examples=3, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate],   # a failure is reported as drawn:
          # shrinking a batch run would take many minutes
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(n=st.integers(1, 6), scale=st.sampled_from([0.0, 0.01, 0.1, 1.0]),
       seed=st.integers(0, 10_000))
def test_sparse_datasets_publish_safely(small, tmp_path_factory, n, scale, seed):
    rng = np.random.default_rng(seed)
    codes = small.practices["practice_code"].astype(str).tolist()
    keep = set(rng.choice(codes, n, replace=False).tolist())
    t = _only(small.tables, keep)
    victim = sorted(keep)[0]
    r = t["referrals"]
    sel = r["practice_code"].astype(str) == victim
    r.loc[sel, "referrals"] = (r.loc[sel, "referrals"] * scale).round().astype("int64")
    t["referrals"] = r[r["referrals"] > 0] if scale == 0 else r
    root = tmp_path_factory.mktemp("prop")
    if not (t["referrals"]["referrals"] > 0).any():   # no referral at all: refused, clearly
        with pytest.raises(ContractError, match="required table has no rows|every count is 0"):
            save_dataset(t, root / "data", provenance=PROV)
        return
    save_dataset(t, root / "data", provenance=PROV)
    areas = ["ENGLAND", *sorted(t["commissioners"]["commissioner_code"].astype(str)),
             *sorted(keep)]
    grid = root / "grid.yaml"
    grid.write_text(yaml.safe_dump({"data_source": str(root / "data"), "publish": True,
                                    "areas": areas, "notebooks": "all"}))
    n_failed, out = batch.run(grid, jobs_n=2, out_root=root / "reports", timeout=300)
    manifest = json.loads((out / "manifest.json").read_text())
    assert n_failed == 0, [(r["report_id"], r["error"][:300]) for r in manifest["reports"]
                           if r["status"] != "ok"]
    for rep in manifest["reports"]:
        res = json.loads((out / rep["files"]["results"]).read_text())
        for key, value in count_values(res, rep["notebook"]):
            assert _published(value), (rep["report_id"], key, value)
        # what each chart drew, read back when it was drawn: no count publish mode hides
        nb = json.loads((out / rep["files"]["notebook"]).read_text())
        metas = chart_metadata(nb)
        assert len(metas) == res.get("charts_shown", len(metas))
        assert all(m.get("unpublished_counts") == 0 for m in metas), (rep["report_id"], [
            (m.get("alt"), m.get("unpublished_examples")) for m in metas
            if m.get("unpublished_counts")])
        page = _Tables()
        page.feed((out / rep["files"]["html"]).read_text())
        for table in page.tables:
            header = table[0] if table else []
            for row in table[1:]:
                cells = dict(zip(header, row, strict=False))
                for h in COUNT_HEADERS:
                    if h in cells and cells[h] not in ("suppressed", "–"):
                        assert _published(_number(cells[h])), (rep["report_id"], h, cells)
                if cells.get("Referrals a year") == "suppressed":
                    for h in ("Ratio (observed / expected)", "95% CI low", "95% CI high"):
                        assert cells.get(h, "suppressed") == "suppressed", (rep["report_id"],
                                                                            cells)


pytestmark = pytest.mark.slow
