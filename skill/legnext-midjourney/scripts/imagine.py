# /// script
# requires-python = ">=3.11"
# dependencies = ["legnext-mcp==0.1.0"]
# ///
"""Submit a text-to-image job and print its job id (does not wait; see generate_and_wait.py).

Usage: python imagine.py "a lighthouse at dusk --ar 3:2" [--json]    Exit: 0 submitted, 2 bad prompt, 4 API error.
"""

from __future__ import annotations

import argparse
import sys

import _find_legnext  # noqa: F401  # finds the package: installed, this checkout's, or `legnext-mcp`'s on PATH

from legnext_mcp.core.operations import Imagine
from legnext_mcp.service.runtime import Services
from legnext_mcp.skill_cli import EXIT_OK, add_dialect, emit, job_dict, run, script_path, submit


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dialect(parser)
    parser.add_argument("prompt", help="prompt text with optional --flags (1-8192 characters)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args()

    async def go(svc: Services) -> int:
        job = await submit(svc, Imagine.model_validate({"prompt": args.prompt}))
        emit(job_dict(job), args.json, lambda: print(
            f"job_id: {job.job_id}\nstatus: {job.status.value} ({job.frozen} {svc.dialect.unit} reserved)\n"
            f"next:   python {script_path('get_task.py')} {job.job_id} --wait"))
        return EXIT_OK

    return run(go, as_json=args.json, dialect=args.dialect, names={"prompt": "PROMPT"})


if __name__ == "__main__":
    sys.exit(main())
