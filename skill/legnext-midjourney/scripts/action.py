# /// script
# requires-python = ">=3.11"
# dependencies = ["legnext-mcp"]
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
from pathlib import Path

try:
    import legnext_mcp  # noqa: F401
except ImportError:  # run from a checkout without installing: use the repository copy
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from legnext_mcp.api import LegnextClient, build_request
from legnext_mcp.api import models as m
from legnext_mcp.skill_cli import EXIT_OK, emit, job_dict, print_job, run

ACTIONS = ("upscale", "variation", "reroll", "pan", "outpaint", "remix", "enhance", "video")


def request_for(args: argparse.Namespace) -> m.JobRequest:
    """The request model for an action; build_request refuses bad values before anything is sent."""
    base = {"job_id": args.job_id, "image_no": args.image}
    if args.action == "upscale":
        return build_request(m.UpscaleRequest, **base, type=1 if args.type == "creative" else 0)
    if args.action == "variation":
        return build_request(m.VariationRequest, **base, type=1 if args.type == "strong" else 0,
                             remix_prompt=args.prompt)
    if args.action == "reroll":
        return build_request(m.RerollRequest, job_id=args.job_id)
    if args.action == "pan":
        direction = {"down": 0, "right": 1, "up": 2, "left": 3}[args.direction]
        return build_request(m.PanRequest, **base, direction=direction, scale=args.scale or 1.5,
                             remix_prompt=args.prompt)
    if args.action == "outpaint":
        return build_request(m.OutpaintRequest, **base, scale=args.scale or 1.5, remix_prompt=args.prompt)
    if args.action == "remix":
        return build_request(m.RemixRequest, **base, remix_prompt=args.prompt or "",
                             mode=1 if args.type == "subtle" else 0)
    if args.action == "enhance":
        return build_request(m.EnhanceRequest, **base)
    return build_request(m.VideoDiffusionRequest, **base, prompt=args.prompt)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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

    async def act(client: LegnextClient) -> int:
        job = await client.submit(request_for(args))
        if args.wait:
            job = await client.wait(job.job_id, timeout=args.timeout, known=job)
        emit(job_dict(job), args.json, lambda: print_job(job))
        return EXIT_OK

    return run(act, as_json=args.json)


if __name__ == "__main__":
    sys.exit(main())
