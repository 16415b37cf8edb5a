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
import uuid
from collections.abc import Callable

from helpers.run import kernels
from helpers.run.jobs import Job

LOCAL = "local"


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
        with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
            cluster = LocalCluster(n_workers=jobs_n, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
        return Client(cluster), cluster
    return Client(address), None


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
