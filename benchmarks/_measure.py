"""Run a Python snippet in a fresh process and report wall time and peak memory."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def measure(code: str) -> dict:
    """Wall seconds and peak resident memory (MB) of ``python -c code`` in a new process."""
    tail = ("\nimport resource as _r, sys as _s\n_s.stderr.write('PEAK_KB=%d' % max("
            "_r.getrusage(_r.RUSAGE_SELF).ru_maxrss, _r.getrusage(_r.RUSAGE_CHILDREN).ru_maxrss))")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code + tail], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise RuntimeError(proc.stderr[-3000:])
    peak_kb = int(proc.stderr.rsplit("PEAK_KB=", 1)[1])
    out = {"wall_s": round(wall, 2), "peak_mb": round(peak_kb / 1024)}
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    if last.startswith("{"):
        out.update(json.loads(last))
    return out


def report(name: str, rows: dict, targets: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(rows, indent=2) + "\n")
    print(f"\n{name}")
    for k, v in rows.items():
        t = targets.get(k, "")
        print(f"  {k:<48} {v!s:<40} {('target ' + t) if t else ''}")
