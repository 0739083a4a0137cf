# /// script
# requires-python = ">=3.11"
# dependencies = ["legnext-mcp==0.1.0"]
# ///
"""Show a job's status and results; with --wait, wait until it finishes.

Usage: python get_task.py JOB_ID [--wait] [--timeout 180] [--json]
Exit: 0 shown (or completed with --wait), 1 job failed, 3 still running at --timeout, 4 API error.
"""

from __future__ import annotations

import argparse
import sys

import _find_legnext  # noqa: F401  # finds the package: installed, this checkout's, or `legnext-mcp`'s on PATH

from legnext_mcp.core.ids import check_job_id
from legnext_mcp.core.job import JobStatus
from legnext_mcp.service.runtime import Services
from legnext_mcp.skill_cli import EXIT_OK, JobFailed, add_dialect, emit, job_dict, print_job, run, wait


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dialect(parser)
    parser.add_argument("job_id", help="the job_id printed by imagine.py or another script")
    parser.add_argument("--wait", action="store_true", help="wait until the job completes or fails")
    parser.add_argument("--timeout", type=float, default=180.0, help="longest wait in seconds (default 180)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args()

    async def show(svc: Services) -> int:
        job = await svc.dialect.get(check_job_id(args.job_id))
        await svc.ledger.record(job)
        if args.wait:
            job = await wait(svc, job, args.timeout)
        elif job.status is JobStatus.FAILED:
            raise JobFailed(job)
        emit(job_dict(job), args.json, lambda: print_job(job))
        return EXIT_OK

    return run(show, as_json=args.json, dialect=args.dialect, names={"job_id": "JOB_ID"})


if __name__ == "__main__":
    sys.exit(main())
