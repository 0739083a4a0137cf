# /// script
# requires-python = ">=3.11"
# dependencies = ["legnext-mcp"]
# ///
"""Show a job's status and results; with --wait, wait until it finishes.

Usage: python get_task.py JOB_ID [--wait] [--timeout 180] [--json]
Exit: 0 shown (or completed with --wait), 1 job failed, 3 still running at --timeout, 4 API error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    import legnext_mcp  # noqa: F401
except ImportError:  # run from a checkout without installing: use the repository copy
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

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

    return run(show, as_json=args.json, dialect=args.dialect)


if __name__ == "__main__":
    sys.exit(main())
