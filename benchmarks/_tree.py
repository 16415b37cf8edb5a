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


def role(pid: int, root: int) -> str:
    """What a process in a batch tree is: the batch itself, a pool worker, a kernel or
    another helper (the multiprocessing resource tracker)."""
    if pid == root:
        return "batch"
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "other"
    if "ipykernel" in cmd:
        return "kernel"
    if "spawn_main" in cmd:
        return "worker"
    return "other"


def run_tree(cmd: list[str], cwd: Path, env: dict | None = None, every: float = 0.5
             ) -> dict:
    """Run ``cmd`` and measure its process tree.

    Returns wall s; CPU s of every process in the tree (from the kernel's accounting of
    waited-for children, so processes that ended between samples count in full); peak total
    PSS (MB); peak PSS of the largest process; by role (batch, worker, kernel), the peak
    unique memory (USS, MB) of any one process of that role; for each worker and kernel its
    USS at every sample (growth over its life); the shared memory at the peak (PSS total
    minus USS total); and the return code."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    cpu_seen: dict[int, float] = {}
    peak = {"total": 0, "one": 0, "shared": 0}
    by_role: dict[str, int] = {}
    first_last: dict[int, list] = {}
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            pids = [proc.pid, *descendants(proc.pid)]
            pss = {p: _kb(p, "Pss") for p in pids}
            uss = {p: _kb(p, "Private_Clean") + _kb(p, "Private_Dirty") for p in pids}
            total = sum(pss.values())
            if total > peak["total"]:
                peak.update(total=total, shared=total - sum(uss.values()))
            peak["one"] = max(peak["one"], max(pss.values(), default=0))
            for p in pids:
                r = role(p, proc.pid)
                by_role[r] = max(by_role.get(r, 0), uss[p])
                if r in ("worker", "kernel") and uss[p]:
                    first_last.setdefault(p, [r, []])[1].append(uss[p])
                cpu_seen[p] = max(cpu_seen.get(p, 0.0), _cpu(p))
            stop.wait(every)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = proc.communicate()
    stop.set()
    th.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    waited = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": time.perf_counter() - t0,
            "cpu_s": max(waited, sum(cpu_seen.values())),
            "peak_pss_mb": peak["total"] / 1024, "peak_process_pss_mb": peak["one"] / 1024,
            "shared_at_peak_mb": peak["shared"] / 1024,
            "peak_uss_mb": {r: v / 1024 for r, v in by_role.items()},
            "uss_series_mb": [(r, [v / 1024 for v in series]) for r, series in
                              first_last.values()],
            "rc": proc.returncode, "stdout": out, "stderr": err}
