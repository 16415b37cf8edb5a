"""Stand-ins for a batch worker's report, importable by spawned pool workers (tests only):
a report that kills its worker the first time it runs, and the rest that finish at once."""

from __future__ import annotations

import os
import time
from pathlib import Path

from helpers.run.jobs import Job
from helpers.run.worker import input_copy


def ready() -> None:
    """A worker with nothing to warm."""


def run_job(job: Job, out_dir: str, timeout: int, provenance: dict) -> Job:
    """Mark the report as running (as the real worker does); a report whose parameters say
    ``die`` kills its worker the first time (``os._exit``), as an out-of-memory kill would."""
    marker = input_copy(job, out_dir)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("")
    died = Path(out_dir) / f"died-{job.area}"
    if job.parameters.get("die") and not died.exists():
        died.write_text("")
        os._exit(1)
    time.sleep(0.05)
    marker.unlink()
    job.status = "ok"
    return job
