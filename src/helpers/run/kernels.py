"""Kernels for batch workers: one reusable IPC kernel per worker, started early, cleaned up
whatever happens to the batch.

* Each kernel talks over IPC sockets in a private folder ``<tmp>/pk-<worker pid>-*``: no TCP
  ports, so parallel kernels cannot collide (papermill #511) and ipykernel does not warn about
  unencrypted TCP.
* A worker starts its kernel and imports the pack in it as soon as the worker starts, in
  parallel with the batch's own preparation, and reuses it for successive reports (the
  namespace is reset between reports), recycling it after ``RECYCLE_AFTER`` reports, when
  its unique memory passes ``KERNEL_MEMORY_MB``, or after a failure, so memory cannot build
  up. A restart costs about 2.5 core-seconds (imports, and the national tables and caches
  the first reports read again), so recycling every 25 reports cost 0.1 core-s a report.
* A worker dies with the batch (Linux ``PR_SET_PDEATHSIG``): on SIGTERM it kills its kernel's
  process group and removes the kernel folder. A kernel whose worker vanished exits on its
  own (ipykernel polls its parent), and :func:`sweep_stale` removes folders left by
  processes that no longer exist.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

RECYCLE_AFTER = 500
KERNEL_MEMORY_MB = 1536
"""A kernel is recycled before its next report once its unique memory
(:func:`unique_memory_mb`) is above this. Measured: a kernel's unique memory settles near
300 MB on practice reports and grows by about 0.2 MB a report after that (400 practice
reports: 268 → 347 MB); a commissioner's or England's report can take it past 1 GB."""
PREFIX = "pk-"
WARM_TIMEOUT = 300
"""Seconds a new kernel has to start and import the pack before the worker gives up."""
WARM_IMPORTS = ("import helpers.report, helpers.report.charts\n"
                "import pandas, numpy, matplotlib.pyplot, IPython.display\n"
                "import gc as _gc\n_gc.collect()\n_gc.freeze()\ndel _gc")
"""What a new kernel runs before its first report: the pack and its data stack imported,
then every object they made moved out of the garbage collector's view (``gc.freeze``), so
the full collection each report's reset runs scans only what reports made (about 150 ms
less a report)."""
RESET_SOURCE = """\
[get_ipython().user_ns.pop(k, None) for k in list(get_ipython().user_ns)
 if k not in get_ipython().user_ns_hidden and not (k.startswith("__") and k.endswith("__"))]
import matplotlib.pyplot as _plt
_plt.close("all")
del _plt
get_ipython().displayhook.flush()
import gc as _gc, ctypes as _ct, pyarrow as _pa
_gc.freeze()
_pa.default_memory_pool().release_unused()
_ct.CDLL(None).malloc_trim(0) if hasattr(_ct.CDLL(None), "malloc_trim") else None
del _gc, _ct, _pa"""
"""Clears the previous report's names, figures and output cache from a reused kernel (what
``%reset -f`` does for a report, without its alias rebuild); the output cache's flush runs
a full garbage collection, and what survives it (modules, the in-memory cached tables) is
then frozen out of later collections, so each reset scans only what the last report made.
Freed memory then goes back to the system: Arrow's allocator and glibc's keep freed pages
for reuse, about 100 MB a kernel after a report, which adds up at many parallel jobs."""


class IPCKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel listens on IPC sockets in a private folder."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.transport = "ipc"
        self.folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
        self.ip = str(self.folder / "k")

    def remove_folder(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


_state: dict = {"km": None, "runs": 0, "starting": None, "kc": None, "kc_of": None}


def _alive(km: IPCKernelManager) -> bool:
    from jupyter_client.utils import run_sync

    return bool(km.has_kernel and run_sync(km.is_alive)())


def _start(prepare: Callable[[], object] | None = None) -> IPCKernelManager:
    """Start a kernel and import the pack in it (the imports take longer than the start);
    meanwhile this process runs ``prepare`` (a worker's own imports), so neither waits for
    the other. The warm-up is sent at once, without ``wait_for_ready``'s handshake: the
    request waits in its socket until the kernel listens, and its reply says the kernel
    is up (the handshake also waits 0.2 s for an IOPub message a subscriber that has just
    connected can miss, and a new client for the first report would wait again). The
    channels are kept for the worker's reports (:func:`register_engine`); the warm-up's
    own output on them is skipped there, as it belongs to no report's cell."""
    from queue import Empty

    from jupyter_client.utils import run_sync

    km = IPCKernelManager(kernel_name="python3")
    _state["starting"] = km            # so a SIGTERM during the warm-up still cleans it up
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["PACK_BATCH"] = "1"            # the page, not each notebook, carries shared scripts
    # no input history: IPython would otherwise write every cell of every report to its
    # SQLite file (a thread, a commit a cell) that no one reads back in a batch
    run_sync(km.start_kernel)(env=env, extra_arguments=["--HistoryManager.enabled=False"])
    kc = km.client()
    kc.start_channels()
    try:
        msg_id = kc.execute(WARM_IMPORTS, store_history=False)
        if prepare is not None:
            with contextlib.suppress(Exception):   # what fails here fails a report, later
                prepare()
        deadline = time.monotonic() + WARM_TIMEOUT
        while True:
            try:
                reply = run_sync(kc.get_shell_msg)(timeout=1)
            except Empty:
                if not _alive(km):
                    raise RuntimeError("kernel died while starting") from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"kernel not ready after {WARM_TIMEOUT} s") from None
                continue
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"kernel warm-up failed: {reply['content'].get('evalue')}")
    except BaseException:            # a kernel that never warmed up goes, with its folder
        kc.stop_channels()
        with contextlib.suppress(Exception):
            run_sync(km.shutdown_kernel)(now=True)
        km.remove_folder()
        _state["starting"] = None
        raise
    _close_client()
    _state.update(starting=None, kc=kc, kc_of=km)
    return km


def _close_client() -> None:
    kc = _state.get("kc")
    _state.update(kc=None, kc_of=None)
    if kc is not None:
        with contextlib.suppress(Exception):
            kc.stop_channels()


ENGINE = "pack-reused-kernel"
"""The papermill engine of a worker's reports (:func:`register_engine`)."""


@functools.cache
def register_engine() -> str:
    """Register papermill engine :data:`ENGINE` (once a process) and return its name: the
    standard nbclient engine with a client that reuses the worker's kernel and channels.
    Defined here rather than at import, so that a process that only starts kernels (the
    batch itself, a worker starting its kernel) does not wait for papermill's import
    (about half a second) first."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    class _ReusedKernelClient(PapermillNotebookClient):
        """papermill's notebook client for a kernel it does not own, reusing one set of
        channels to the worker's kernel for all its reports (opening them and waiting for
        the kernel's reply cost about 0.2 s a report). Exactly one client is connected at a
        time, so no socket queues another run's output; the channels close when the kernel
        is retired, and at once if a run fails."""

        def execute(self, **kwargs):
            kc = _state.get("kc")
            if kc is not None and _state.get("kc_of") is self.km:
                self.kc = kc
            try:
                out = super().execute(**kwargs)
            except BaseException:
                _close_client()
                self.kc = None
                raise
            _state.update(kc=self.kc, kc_of=self.km)
            return out

    class ReusedKernelEngine(NBClientEngine):
        """papermill engine ``pack-reused-kernel``: the standard nbclient engine with the
        client above. Pass ``engine_name=register_engine()`` and ``km=worker_kernel()`` to
        ``execute_notebook``."""

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False,
                                     stdout_file=None, stderr_file=None, start_timeout=60,
                                     execution_timeout=None, **kwargs):
            """As ``NBClientEngine.execute_managed_notebook`` (papermill 2.x), with the
            client that closes its channels."""
            from papermill.engines import logger

            kwargs = {k: v for k, v in kwargs.items()
                      if k not in ("input_path", "timeout", "startup_timeout")}
            return _ReusedKernelClient(
                nb_man, timeout=execution_timeout, startup_timeout=start_timeout,
                kernel_name=kernel_name, log=logger, log_output=log_output,
                stdout_file=stdout_file, stderr_file=stderr_file, **kwargs).execute()

    papermill_engines.register(ENGINE, ReusedKernelEngine)
    return ENGINE


def unique_memory_mb(pid: int | None) -> float:
    """A process's unique memory in MB: its resident anonymous pages (``RssAnon`` in
    ``/proc/<pid>/status``: the heap, not the memory-mapped national tables it shares with
    other kernels through the page cache; one small read, where ``smaps_rollup`` walks
    every mapping, 6 ms a report). 0 where that cannot be read, e.g. off Linux."""
    if not pid:
        return 0.0
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in text.splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _worn(km: IPCKernelManager) -> bool:
    """Whether a kernel should be recycled before its next report."""
    if _state["runs"] >= RECYCLE_AFTER or not _alive(km):
        return True
    pid = getattr(getattr(km, "provisioner", None), "pid", None)
    return unique_memory_mb(pid) > KERNEL_MEMORY_MB


def worker_kernel() -> IPCKernelManager:
    """This worker's kernel manager, started (and warmed) if there is none, or it died,
    served ``RECYCLE_AFTER`` reports or holds more than ``KERNEL_MEMORY_MB``."""
    km = _state["km"]
    if km is not None and _worn(km):
        retire()
        km = None
    if km is None:
        km = _start()
        _state.update(km=km, runs=0)
    _state["runs"] += 1
    return km


def retire() -> None:
    """Shut this worker's kernel down (now) and remove its folder."""
    from jupyter_client.utils import run_sync

    km = _state["km"]
    _state.update(km=None, runs=0)
    _close_client()
    if km is None:
        return
    if km.has_kernel:
        with contextlib.suppress(RuntimeError, OSError):
            run_sync(km.shutdown_kernel)(now=True)
    km.remove_folder()


atexit.register(lambda: retire())      # a kernel started outside a worker (tests, scripts)


def _kill_now(signum, frame) -> None:            # pragma: no cover - runs in a dying worker
    """SIGTERM or SIGINT in a worker (the batch died, was stopped or Ctrl-C was pressed):
    kill the kernel's process group,
    remove its folder, exit at once."""
    for km in (_state["km"], _state["starting"]):   # a kernel in use, or still warming up
        if km is None:
            continue
        pid = getattr(getattr(km, "provisioner", None), "pid", None)
        if pid:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)          # the kernel leads its own session
        km.remove_folder()
    os._exit(128 + signum)


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask Linux to send ``sig`` to this process when its parent dies (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, int(sig), 0, 0, 0)                    # PR_SET_PDEATHSIG = 1
    if os.getppid() != parent:                          # the parent died before prctl
        os.kill(os.getpid(), sig)


def init_worker(warm: bool = True, prepare: Callable[[], object] | None = None) -> None:
    """Batch worker start-up: die with the batch, clean up on SIGTERM and on Ctrl-C (SIGINT:
    the kernel killed, the worker gone without a traceback; the batch says it was
    interrupted), no inherited chart backend, and (``warm``) the kernel started and the
    pack imported before the first report arrives, while the worker runs ``prepare``."""
    from multiprocessing import util

    os.environ.pop("MPLBACKEND", None)
    signal.signal(signal.SIGTERM, _kill_now)
    signal.signal(signal.SIGINT, _kill_now)
    die_with_parent(signal.SIGTERM)
    util.Finalize(None, retire, exitpriority=10)
    if warm:
        _state.update(km=_start(prepare), runs=0)


def ready() -> int:
    """A no-op task: submitting one per worker makes the pool start every worker (and its
    kernel) at once."""
    return os.getpid()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(tmp: Path | None = None) -> int:
    """Remove kernel folders whose worker process no longer exists; returns how many."""
    tmp = Path(tmp or tempfile.gettempdir())
    removed = 0
    for d in tmp.glob(f"{PREFIX}*-*"):
        try:
            pid = int(d.name[len(PREFIX):].split("-", 1)[0])
        except ValueError:
            continue
        if d.is_dir() and not _pid_alive(pid):
            shutil.rmtree(d, ignore_errors=True)
            removed += 1
    return removed
