"""Referral-variation computations on full synthetic England. Targets (2 cores): national ISR +
funnel + over-dispersion for all practices × specialties ≤ 2 s; variance partition ≤ 30 s;
notebook 01 for one commissioner ≤ 30 s including kernel start, once national tables are
cached."""

from __future__ import annotations

from _measure import measure, report

NATIONAL = """
import json, time
from helpers.sources import synthetic
from helpers.analysis.referrals import national_tables, practice_table, specialty_table
from helpers.stats.funnels import funnel
d = synthetic.load("england")
t = time.perf_counter(); nt = national_tables(d); cache_s = time.perf_counter() - t
t = time.perf_counter()
pt = practice_table(d, pys=nt["pys"])
fr = funnel(pt.observed, pt.expected, pt.practice_code, method="robust")
sp = specialty_table(d)
isr_s = time.perf_counter() - t
print(json.dumps({"cache_s": round(cache_s, 2), "isr_funnel_s": round(isr_s, 2),
                  "units": int(len(pt) * (1 + len(sp)))}))
"""
PARTITION = """
import json, time
import numpy as np
from helpers.sources import synthetic
from helpers.analysis.referrals import practice_table
from helpers.stats.funnels import funnel
from helpers.stats.variation import variance_partition
from helpers.report.referral_variation import COVARIATES
d = synthetic.load("england")
pt = practice_table(d)
fr = funnel(pt.observed, pt.expected, pt.practice_code, method="robust")
pt = pt.assign(outlier=fr.points.outlier.to_numpy(), log_list=np.log(pt.list_size))
t = time.perf_counter()
vp = variance_partition(pt[pt.outlier == 0], COVARIATES)
print(json.dumps({"partition_s": round(time.perf_counter() - t, 2),
                  "practice_sd": round(vp["practice_sd"], 4)}))
"""
NOTEBOOK = """
import json, time, tempfile, pathlib
import papermill as pm
from helpers.paths import notebooks_dir
out = pathlib.Path(tempfile.mkdtemp()) / "o.ipynb"
t = time.perf_counter()
pm.execute_notebook(str(notebooks_dir() / "01_referral_variation.ipynb"), str(out),
                    parameters={"area": "Q05"}, kernel_name="python3",
                    language="python", cwd=str(notebooks_dir()), progress_bar=False)
print(json.dumps({"notebook_s": round(time.perf_counter() - t, 2)}))
"""

CLEAR = """
import shutil
from helpers.sources import synthetic
from helpers.cache import cache_folder
shutil.rmtree(cache_folder(synthetic.load("england")), ignore_errors=True)
"""

if __name__ == "__main__":
    measure(CLEAR)
    n = measure(NATIONAL)      # first call also fills the cache
    n2 = measure(NATIONAL)
    p = measure(PARTITION)
    nb = measure(NOTEBOOK)
    report("referrals", {
        "national tables, first build (cached after): s": n["cache_s"],
        "ISR + funnel + over-dispersion, all practices x specialties: s": n2["isr_funnel_s"],
        "units analysed (practices x (specialties + all))": n2["units"],
        "variance partition (4 nested models): s": p["partition_s"],
        "recovered practice SD (truth 0.18)": p["practice_sd"],
        "notebook 01, one commissioner, incl. kernel start: s": nb["notebook_s"],
        "notebook 01: peak MB": nb["peak_mb"],
    }, {"ISR + funnel + over-dispersion, all practices x specialties: s": "≤ 2",
        "variance partition (4 nested models): s": "≤ 30",
        "notebook 01, one commissioner, incl. kernel start: s": "≤ 30"})
