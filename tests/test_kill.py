"""A batch killed with SIGKILL takes its workers and kernels with it: nothing keeps running
or writing, and the workers' kernel folders are removed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from helpers.paths import project_root

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="parent-death signals are Linux-only")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                tree.setdefault(int(fields[1]), []).append(int(d.name))
    return tree


def _descendants(pid: int) -> set[int]:
    tree, out, todo = _children(), set(), [pid]
    while todo:
        for c in tree.get(todo.pop(), []):
            out.add(c)
            todo.append(c)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigkill_of_the_batch_stops_workers_and_kernels(tmp_path, small):
    env = dict(os.environ, PACK_REPORTS=str(tmp_path / "reports"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "helpers.run.batch", "--grid",
         str(project_root() / "config" / "grids" / "small.yaml"), "--jobs", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        deadline = time.time() + 120
        family: set[int] = set()
        while time.time() < deadline:          # wait for 2 workers, each with a kernel
            family = _descendants(proc.pid)
            kernels_up = [p for p in family if "ipykernel" in
                          Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")]
            if len(kernels_up) >= 2:
                break
            time.sleep(0.5)
        else:
            pytest.fail("the batch did not start two kernels within 120 s")
        time.sleep(3)                          # let reports start running
        family = _descendants(proc.pid)
        folders = {d for d in Path(tempfile.gettempdir()).glob("pk-*")
                   if int(d.name.split("-")[1]) in family}
        assert folders, "no kernel folders found for the workers"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.time() + 20
        while time.time() < deadline and (any(_alive(p) for p in family)
                                          or any(d.exists() for d in folders)):
            time.sleep(0.5)                    # dying kernels remove their folders
        assert not [p for p in family if _alive(p)], "processes outlived the batch"
        assert not [d for d in folders if d.exists()], "kernel folders left behind"
        written = {p: p.stat().st_mtime for p in (tmp_path / "reports").rglob("*")}
        time.sleep(3)
        later = {p: p.stat().st_mtime for p in (tmp_path / "reports").rglob("*")}
        assert later == written, "something is still writing reports"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def kill_a_worker_midrun(tmp_path, args: list[str], n_reports: int) -> None:
    """Run the batch with ``args``, kill -9 one worker once some reports are written, and
    check the run: every report ok, or at most one lost as WorkerLost."""
    import json

    env = dict(os.environ, PACK_REPORTS=str(tmp_path / "reports"))
    proc = subprocess.Popen([sys.executable, "-m", "helpers.run.batch", *args,
                             "--jobs", "2", "--run-id", "killed"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline, victim = time.time() + 180, None
        while time.time() < deadline and victim is None:
            pages = list((tmp_path / "reports").glob(".build-*/*/*.html"))
            if len(pages) >= 2:                # some reports done, others running
                workers = [p for p in _descendants(proc.pid)
                           if "multiprocessing" in _cmdline(p)
                           and "ipykernel" not in _cmdline(p)
                           and "resource_tracker" not in _cmdline(p)]
                victim = workers[0] if workers else None
            time.sleep(0.3)
        assert victim, "no worker to kill"
        os.kill(victim, signal.SIGKILL)
        assert proc.wait(timeout=300) in (0, 1)
        manifest = json.loads((tmp_path / "reports" / "killed" / "manifest.json").read_text())
        statuses = [r["status"] for r in manifest["reports"]]
        assert len(statuses) == n_reports and statuses.count("ok") >= n_reports - 1, \
            manifest["reports"]
        for r in manifest["reports"]:
            assert r["status"] == "ok" or r["error"].startswith("WorkerLost"), r["error"]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def test_a_killed_worker_loses_no_other_report(tmp_path, small):
    """kill -9 of one worker mid-run: the batch finishes every other report, runs again the
    ones the dead pool had not finished, and writes its run (it used to lose everything to
    BrokenProcessPool)."""
    kill_a_worker_midrun(tmp_path, ["--grid", str(project_root() / "config" / "grids" /
                                                  "small.yaml")], 12)


def test_the_warm_up_child_dies_with_the_batch():
    """The process that builds the national tables before the reports (a cold cache takes
    minutes) goes when the batch is killed, instead of computing on."""
    script = ("import time\n"
              "from helpers.run.batch import warm_pool\n"
              "import os\n"
              "ex = warm_pool()\n"
              "print(ex.submit(os.getpid).result(), flush=True)\n"
              "ex.submit(time.sleep, 120)\n"
              "time.sleep(120)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        child = int(proc.stdout.readline())
        assert _alive(child)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.time() + 15
        while time.time() < deadline and _alive(child):
            time.sleep(0.2)
        assert not _alive(child), "the warm-up child outlived the batch"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
