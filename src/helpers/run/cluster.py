"""The report batch on a Dask distributed cluster (https://distributed.dask.org).

Each report is a Dask task running the same :func:`helpers.run.worker.run_job` as the local
pool, so jobs, checks, rendering, set-aside, manifest and index are one code path. Each Dask
worker holds a warm kernel (:class:`WarmKernel`, a worker plugin: a kernel is started in the
worker's task thread before its first report and reused, as in the local pool) and cleans
it up when the worker closes. The caches are built once, in the submitting process, on the
dataset's own folder, which every worker must read at the same path (a shared filesystem);
workers never build them.

Where the cluster comes from:

- ``--scheduler local``: a ``LocalCluster`` of ``--jobs`` single-threaded worker
  processes on this machine;
- ``--scheduler tcp://host:8786`` (or Dask's own configuration: ``scheduler-address``, e.g.
  ``DASK_SCHEDULER_ADDRESS``): an existing cluster (dask-jobqueue on Slurm, dask-kubernetes,
  ``dask scheduler`` + ``dask worker`` by hand).

A worker that dies (killed, out of memory) loses its report to the scheduler, which runs it
again on another worker; a report whose worker dies twice is failed (``KilledWorker``) and
the run goes on (``distributed.scheduler.allowed-failures`` = 1 on the local cluster; a
remote scheduler's own setting applies there).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable

from helpers.run import kernels
from helpers.run.jobs import Job

LOCAL = "local"
CONNECT_TIMEOUT_S = 5
"""How long the batch waits for a scheduler to answer before it stops with a message."""
SCHEMES = ("tcp", "tls")
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]")


class SchedulerError(ValueError):
    """The ``--scheduler`` address is malformed, or no scheduler answers there."""


def check_address(address: str) -> str:
    """A scheduler address as given (``local``, or ``tcp://host:port`` / ``tls://host:port``
    with a port from 1 to 65535); raises :class:`SchedulerError` saying what is wrong."""
    if address == LOCAL:
        return address
    hint = "give 'local' or an address such as tcp://scheduler-host:8786"
    scheme, sep, rest = address.partition("://")
    if not sep or scheme not in SCHEMES:
        raise SchedulerError(f"--scheduler {address!r} is not a scheduler address; {hint}")
    host, colon, port = rest.rpartition(":")
    if not colon or not _HOST.fullmatch(host) or not port.isdigit() or \
            not 1 <= int(port) <= 65535:
        raise SchedulerError(f"--scheduler {address!r}: expected {scheme}://host:port with a "
                             f"port from 1 to 65535; {hint}")
    return address


def reachable(address: str) -> str:
    """A well-formed scheduler address (:func:`check_address`) at which something accepts
    a connection within :data:`CONNECT_TIMEOUT_S` (``local`` needs none); raises
    :class:`SchedulerError` at once for a closed port, not after the client's retries."""
    import socket

    check_address(address)
    if address == LOCAL:
        return address
    host, _, port = address.partition("://")[2].rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)),
                                 timeout=CONNECT_TIMEOUT_S).close()
    except OSError as e:
        raise SchedulerError(f"no Dask scheduler answered at {address} "
                             f"({e.strerror or type(e).__name__}); start it, or check "
                             "the address") from e
    return address


def scheduler_address(option: str | None) -> str | None:
    """The scheduler to use: the ``--scheduler`` option, else Dask's configured
    ``scheduler-address`` (``DASK_SCHEDULER_ADDRESS``), else None (the local pool)."""
    if option:
        return option
    import dask

    return dask.config.get("scheduler-address", None)


def warm_kernel() -> int:
    """A task that starts this worker's kernel (and imports the pack in it) in the worker's
    task thread, where its reports will use it; returns the worker's process id."""
    import os

    kernels.worker_kernel()
    return os.getpid()


def _plugin():
    from distributed import WorkerPlugin

    class WarmKernel(WorkerPlugin):
        """Prepare each worker for reports (no inherited chart backend) and shut its kernel
        down when the worker closes."""

        name = "pack-warm-kernel"

        def setup(self, worker) -> None:
            import os

            os.environ.pop("MPLBACKEND", None)

        def teardown(self, worker) -> None:
            kernels.retire()

    return WarmKernel()


def connect(address: str, jobs_n: int):
    """A client on ``address`` (``local``: a new LocalCluster of ``jobs_n`` single-threaded
    worker processes, a lost report tried once more). Returns (client, cluster or None)."""
    import dask
    from distributed import Client, LocalCluster

    if address == LOCAL:
        # no statistical profiler in the workers: it walks the report's stack every 10 ms
        # for a dashboard the local cluster does not serve
        with dask.config.set({"distributed.scheduler.allowed-failures": 1,
                              "distributed.worker.profile.enabled": False}):
            cluster = LocalCluster(n_workers=jobs_n, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
        return Client(cluster), cluster
    check_address(address)
    try:
        # a short wait: a scheduler that does not answer is a clear message in seconds,
        # not half a minute of retries and a traceback
        with dask.config.set({"distributed.comm.timeouts.connect": f"{CONNECT_TIMEOUT_S}s"}):
            return Client(address, timeout=f"{CONNECT_TIMEOUT_S}s"), None
    except (OSError, TimeoutError, ValueError, MemoryError) as e:
        raise SchedulerError(f"no Dask scheduler answered at {address} within "
                             f"{CONNECT_TIMEOUT_S} s ({type(e).__name__}: "
                             f"{str(e).splitlines()[0][:200] if str(e) else 'no detail'}); "
                             "start it, or check the address") from e


def execute(jobs: list[Job], client, warm: Callable[[], object], out_dir: str,
            timeout: int, provenance: dict, on_done: Callable[[Job], None]) -> list[Job]:
    """Run every job as a Dask task: each worker's kernel starts while ``warm`` builds the
    caches here, then the reports are submitted; ``on_done`` sees each finished job."""
    from distributed import as_completed
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    from helpers.run.worker import run_job

    client.register_plugin(_plugin())
    token = uuid.uuid4().hex[:8]
    workers = list(client.scheduler_info()["workers"])
    starting = [client.submit(warm_kernel, workers=[w], pure=False,
                              key=f"warm-kernel-{i}-{token}") for i, w in enumerate(workers)]
    warm()
    futures = {client.submit(run_job, j, out_dir, timeout, provenance, pure=False,
                             key=f"report-{j.report_id}-{token}"): j for j in jobs}
    for f in starting:
        try:
            f.result()
        except (KilledWorker, FutureCancelledError, OSError):
            pass                                  # its reports go to the other workers
    done = []
    for f in as_completed(futures):
        try:
            j = f.result()
        except (KilledWorker, FutureCancelledError) as e:
            j = futures[f]
            j.status = "failed"
            j.error = (f"WorkerLost: the worker running this report died twice (killed, "
                       f"or out of memory); it was not tried a third time ({type(e).__name__})")
        finally:
            # forgotten by the scheduler at once: otherwise, when a worker dies, Dask runs
            # again the finished reports whose results it held, and a rerun deletes and
            # rewrites files this run has already counted
            f.release()
        done.append(j)
        on_done(j)
    return done
