"""``bulk-import JOB_ID``: the helper the panel starts to import while Steam restarts.

Run detached by the plugin (``adapters.detached_helper``), not by hand: it runs the job
the plugin recorded, waits for Steam to exit, writes headless and records the result.
"""

from __future__ import annotations

import argparse
import os
from typing import TextIO

from bootstrap import App
from romdeck.domain.bulk_import import BulkState

EXIT_OK, EXIT_FAILED, EXIT_TIMED_OUT = 0, 1, 5


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``bulk-import`` to the ``romdeck`` parser."""
    bulk = sub.add_parser(
        "bulk-import", help="(started by the panel) run a bulk import job while Steam restarts"
    )
    bulk.add_argument("job_id", metavar="JOB_ID")


async def run(app: App, args: argparse.Namespace, out: TextIO) -> int:
    """Run the job; prints how it ended. Exit 0 done, 5 Steam did not exit, 1 failed."""
    job = await app.bulk_import.run_job(args.job_id, os.getpid())
    out.write(f"{job.state.value}: {job.message}\n")
    for failure in job.failures:
        out.write(f"  {failure}\n")
    if job.state is BulkState.DONE:
        return EXIT_OK
    return EXIT_TIMED_OUT if job.state is BulkState.TIMED_OUT else EXIT_FAILED
