# /// script
# requires-python = ">=3.11"
# dependencies = ["legnext-mcp==0.1.0"]
# ///
"""Follow-ups on a finished job: upscale, variation, reroll, pan, outpaint, remix, enhance, video.

Usage: python action.py upscale JOB_ID --image 0 [--type creative] [--wait] [--json]
       python action.py pan JOB_ID --image 1 --direction left --scale 1.5 [--prompt "more sky"]
       python action.py reroll JOB_ID        python action.py video JOB_ID --image 2
Exit: 0 done, 1 job failed, 2 bad usage, 3 timed out, 4 API error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import _find_legnext  # noqa: F401  # finds the package: installed, this checkout's, or `legnext-mcp`'s on PATH
from pydantic import ValidationError

from legnext_mcp.core import operations as ops
from legnext_mcp.core.problems import describe
from legnext_mcp.service.runtime import Services
from legnext_mcp.skill_cli import (
    EXIT_OK,
    UsageError,
    add_dialect,
    emit,
    job_dict,
    nothing_sent,
    print_job,
    run,
    submit,
    wait,
)

ACTIONS = ("upscale", "variation", "reroll", "pan", "outpaint", "remix", "enhance", "video")
#: The flag or argument that sets each field of an operation, for problems in the words of this command line.
FLAGS = {"parent": "JOB_ID", "index": "--image", "scale": "--scale", "direction": "--direction",
         "prompt": "--prompt", "mode": "--type", "strength": "--type"}


def operation(args: argparse.Namespace) -> ops.Operation:
    """The operation for an action; its checks refuse bad values before anything is sent."""
    on = {"parent": args.job_id, "index": args.image}
    kind, prompt, scale = args.type, args.prompt, args.scale or 1.5
    builders: dict[str, Callable[[], ops.Operation]] = {
        "upscale": lambda: ops.Upscale(**on, mode="creative" if kind == "creative" else "subtle"),
        "variation": lambda: ops.Variation(**on, strength="strong" if kind == "strong" else "subtle", prompt=prompt),
        "reroll": lambda: ops.Reroll(parent=args.job_id),
        "pan": lambda: ops.Pan(**on, direction=args.direction, scale=scale, prompt=prompt),
        "outpaint": lambda: ops.Outpaint(**on, scale=scale, prompt=prompt),
        "remix": lambda: ops.Remix(**on, prompt=prompt or "", mode="subtle" if kind == "subtle" else "strong"),
        "enhance": lambda: ops.Enhance(**on),
        "video": lambda: ops.VideoDiffusion(**on, prompt=prompt),
    }
    if args.action == "remix" and not prompt:
        raise UsageError("remix needs --prompt \"the new prompt\". Nothing was sent.")
    try:
        return builders[args.action]()
    except ValidationError as exc:
        raise UsageError(nothing_sent(describe(exc, names=FLAGS))) from None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dialect(parser)
    parser.add_argument("action", choices=ACTIONS)
    parser.add_argument("job_id", help="job_id of the finished parent job")
    parser.add_argument("--image", type=int, default=0, help="image number 0-3 (default 0)")
    parser.add_argument("--type", choices=("subtle", "creative", "strong"), default="subtle",
                        help="upscale: subtle|creative; variation: subtle|strong; remix: strong|subtle")
    parser.add_argument("--direction", choices=("down", "right", "up", "left"), default="right", help="pan side")
    parser.add_argument("--scale", type=float, default=None, help="pan 1.1-3.0, outpaint 1.1-2.0 (default 1.5)")
    parser.add_argument("--prompt", default=None, help="guiding prompt (remix: required)")
    parser.add_argument("--wait", action="store_true", help="wait for the result")
    parser.add_argument("--timeout", type=float, default=180.0, help="longest wait in seconds (default 180)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args()

    async def act(svc: Services) -> int:
        job = await submit(svc, operation(args))
        if args.wait:
            job = await wait(svc, job, args.timeout)
        emit(job_dict(job), args.json, lambda: print_job(job))
        return EXIT_OK

    return run(act, as_json=args.json, dialect=args.dialect, names=FLAGS)


if __name__ == "__main__":
    sys.exit(main())
