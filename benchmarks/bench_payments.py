"""Payment engine throughput: 1 million commissioner × provider × month scenarios with mixed
contract forms in one vectorised call. Target (2 cores): ≤ 1 s."""

from __future__ import annotations

from _measure import measure, report

CODE = """
import json, time
import numpy as np
from helpers.stats import payments
rng = np.random.default_rng(0)
n = 1_000_000
forms = rng.choice(["pbr", "block", "blended", "cap_collar", "api", "cost_volume"], n)
plan = rng.uniform(1e5, 5e6, n)
value = plan * rng.lognormal(0, 0.1, n)
t = time.perf_counter()
out = payments.payment(forms, value, plan, fixed=plan, variable_rate=np.full(n, np.nan))
wall = time.perf_counter() - t
assert np.isfinite(out).all()
print(json.dumps({"engine_s": round(wall, 3), "n": n}))
"""

if __name__ == "__main__":
    r = measure(CODE)
    report("payments", {"scenarios": r["n"], "payment engine, mixed forms: s": r["engine_s"],
                        "scenarios per second": int(r["n"] / r["engine_s"]),
                        "peak MB": r["peak_mb"]},
           {"payment engine, mixed forms: s": "≤ 1"})
