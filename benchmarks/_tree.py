"""Run a command and measure its whole process tree: wall time, CPU time (every process,
including kernels), and peak memory as the sum of proportional set sizes (PSS: shared pages
are split between the processes that share them, so the sum is what the tree really uses)."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(d.name))
    return tree


def descendants(pid: int) -> list[int]:
    tree, out, todo = _children(), [], [pid]
    while todo:
        for c in tree.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu(pid: int) -> float:
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / 100.0          # utime + stime, clock ticks
    except (OSError, IndexError, ValueError):
        return 0.0


def run_tree(cmd: list[str], cwd: Path, env: dict | None = None, every: float = 0.5
             ) -> dict:
    """Wall s, CPU s (sum over the tree's processes, sampled up to their exit), peak total
    PSS (MB), peak PSS of the largest process (MB), and the return code."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    cpu_seen: dict[int, float] = {}
    peak = {"total": 0, "one": 0}
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            pids = [proc.pid, *descendants(proc.pid)]
            pss = [_kb(p, "Pss") for p in pids]
            peak["total"] = max(peak["total"], sum(pss))
            peak["one"] = max(peak["one"], max(pss) if pss else 0)
            for p in pids:
                cpu_seen[p] = max(cpu_seen.get(p, 0.0), _cpu(p))
            stop.wait(every)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = proc.communicate()
    stop.set()
    th.join()
    return {"wall_s": time.perf_counter() - t0, "cpu_s": sum(cpu_seen.values()),
            "peak_pss_mb": peak["total"] / 1024, "peak_process_pss_mb": peak["one"] / 1024,
            "rc": proc.returncode, "stdout": out, "stderr": err}
