"""National scale-effects estimation on synthetic England: practice-year panel, four size
elasticities and spline curves, the joining panel, Callaway & Sant'Anna with bootstrap bands,
TWFE and the three size-band estimates. Target (2 cores): ≤ 60 s."""

from __future__ import annotations

from _measure import measure, report

CODE = """
import json, shutil, time
from helpers.sources import synthetic
from helpers.analysis import scale
from helpers.cache import cache_folder
d = synthetic.load("england")
for p in cache_folder(d).glob("scale_*"):
    p.unlink()
t = time.perf_counter()
py = scale.practice_year_panel(d)
for y in scale.OUTCOMES:
    scale.elasticity(py, y); scale.spline_curve(py, y)
jp = scale.joining_panel(d)
cs = scale.callaway_santanna(jp)
tw = scale.twfe(jp)
b = scale.by_size_band(jp)
print(json.dumps({"scale_s": round(time.perf_counter() - t, 1), "att": round(cs.estimate, 4),
                  "twfe": round(tw.estimate, 4)}))
"""

if __name__ == "__main__":
    r = measure(CODE)
    report("scale", {"national scale estimation: s": r["scale_s"], "peak MB": r["peak_mb"],
                     "CS ATT": r["att"], "TWFE": r["twfe"]},
           {"national scale estimation: s": "≤ 60"})
