# /// script
# requires-python = ">=3.11"
# dependencies = ["legnext-mcp==0.1.0"]
# ///
"""Generate 4 images from a prompt, wait, and print the image URLs, grid, seed and job id.

Usage: python generate_and_wait.py "a lighthouse at dusk --ar 3:2" [--timeout 180] [--save DIR] [--json]
Exit: 0 done, 1 job failed, 2 bad prompt, 3 timed out (the job keeps running), 4 API error.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import _find_legnext  # noqa: F401  # finds the package: installed, this checkout's, or `legnext-mcp`'s on PATH

from legnext_mcp.core.operations import Imagine
from legnext_mcp.service.jobs import Progress
from legnext_mcp.service.runtime import Services
from legnext_mcp.skill_cli import EXIT_OK, add_dialect, emit, job_dict, print_job, run, submit, wait


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dialect(parser)
    parser.add_argument("prompt", help="prompt text with optional --flags (1-8192 characters)")
    parser.add_argument("--timeout", type=float, default=180.0, help="longest wait in seconds (default 180)")
    parser.add_argument("--save", metavar="DIR", help="download the images into DIR (never overwriting a file)")
    parser.add_argument("--json", action="store_true", help="print JSON on stdout (progress goes to stderr)")
    args = parser.parse_args()
    progress_stream = sys.stderr if args.json else sys.stdout
    save_dir = Path(args.save).expanduser().resolve() if args.save else None

    async def generate(svc: Services) -> int:
        start = time.monotonic()
        job = await submit(svc, Imagine.model_validate({"prompt": args.prompt}))
        print(f"submitted job {job.job_id} ({job.frozen} {svc.dialect.unit} reserved)", file=progress_stream,
              flush=True)

        async def progress(update: Progress) -> None:
            print(f"  {time.monotonic() - start:5.1f}s  {update.jobs[0].status.value}", file=progress_stream,
                flush=True)

        job = await wait(svc, job, args.timeout, on_progress=progress)
        saved: list[str] = []
        if save_dir is not None:
            result = await svc.outputs.save(job, save_dir, prompt=args.prompt, parent_job_id=None)
            saved = [str(p) for p in result.files] + [str(result.sidecar)]

        def human() -> None:
            print_job(job)
            for path in saved:
                print(f"saved:  {path}")

        emit(job_dict(job, saved_files=saved), args.json, human)
        return EXIT_OK

    return run(generate, as_json=args.json, dialect=args.dialect, names={"prompt": "PROMPT"})


if __name__ == "__main__":
    sys.exit(main())
