"""What a batch spends before its first report: the batch process and its workers import
no notebook-running library (papermill) before their kernels start, and a worker prepares
its own imports while its kernel imports the pack."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from test_oracle import tiny  # noqa: F401 (the fixture)

from helpers.run import kernels, worker


def test_the_batch_imports_papermill_only_where_a_report_runs():
    """Importing the batch (as the batch process and, as ``__mp_main__``, each spawned
    worker does before starting its kernel) leaves papermill and nbconvert unimported."""
    code = ("import sys; import helpers.run.batch; "
            "print(sorted(m for m in ('papermill', 'nbconvert') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert out.stdout.strip() == "[]"


def test_a_worker_prepares_while_its_kernel_imports_the_pack():
    """The worker's own preparation runs once, while the kernel's warm-up is under way (the
    kernel then answers, warmed); a preparation that fails leaves the kernel started (the
    failure is a report's to record, later)."""
    seen = []

    def prepare():
        seen.append(kernels._state["starting"] is not None)
        worker.prepare()

    km = kernels._start(prepare)
    try:
        assert seen == [True] and km.has_kernel
        # the warm-up's channels are kept for the first report, which so needs no handshake
        assert kernels._state["kc_of"] is km and kernels._state["kc"] is not None
        assert kernels.register_engine() == kernels.ENGINE
        from papermill.engines import papermill_engines

        assert papermill_engines.get_engine(kernels.ENGINE) is not None
    finally:
        from jupyter_client.utils import run_sync

        kernels._close_client()
        run_sync(km.shutdown_kernel)(now=True)
        km.remove_folder()

    def broken():
        raise ImportError("no such library")

    km = kernels._start(broken)
    try:
        assert km.has_kernel
    finally:
        from jupyter_client.utils import run_sync

        kernels._close_client()
        run_sync(km.shutdown_kernel)(now=True)
        km.remove_folder()


def test_a_kernel_that_dies_while_warming_up_is_reported_at_once(monkeypatch):
    """The warm-up is sent without a handshake first; a kernel that dies before answering
    is found dead within a second or two (not after the warm-up's time limit), and its
    channels and folder go with it."""
    import tempfile
    import time
    from pathlib import Path

    def folders() -> set[Path]:
        return set(Path(tempfile.gettempdir()).glob(f"{kernels.PREFIX}{os.getpid()}-*"))

    before = folders()
    monkeypatch.setattr(kernels, "WARM_IMPORTS", "import os\nos._exit(3)")
    t = time.perf_counter()
    with pytest.raises(RuntimeError, match="died while starting"):
        kernels._start()
    assert time.perf_counter() - t < 30
    assert kernels._state["starting"] is None and folders() == before



def test_a_worker_reads_the_oracles_facts_while_its_kernel_starts(tiny, tmp_path,  # noqa: F811
                                                                 monkeypatch):
    """The facts file the batch names to its workers at start is the one its checks read
    (:func:`helpers.run.oracle_check.prepare`), and a worker's preparation reads it once,
    so the first report's check finds it read; a file not there yet is left for later."""
    from types import SimpleNamespace

    from helpers.run import batch, oracle_check

    monkeypatch.setenv("PACK_DATA", str(tmp_path))
    monkeypatch.setattr(oracle_check, "_HELD", {})
    named = batch._oracle_file(SimpleNamespace(path=tiny))
    assert not os.path.exists(named)
    oracle_check.load_facts.cache_clear()
    worker.prepare(named)                               # not there yet: nothing read
    assert oracle_check.load_facts.cache_info().currsize == 0
    paths = oracle_check.prepare(str(tiny), ["Q1"], ["ALL"], tiny)
    assert paths["oracle_facts"] == named
    worker.prepare(named)
    assert oracle_check.load_facts.cache_info().currsize == 1
    oracle_check.load_facts(paths["oracle_facts"])
    assert oracle_check.load_facts.cache_info().hits == 1
