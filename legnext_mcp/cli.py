"""``legnext-mcp`` command line: ``sandbox`` (serve the simulator) and ``demo`` (the main job, end to end).

Heavy modules (the simulator, uvicorn, Pillow) are imported inside the commands that need them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

DEFAULT_SANDBOX_SCALE = 20.0  # a documented ~40 s image job finishes in about 2 s


def _sandbox(args: argparse.Namespace) -> int:
    from legnext_mcp.sandbox import DEFAULT_KEY, Engine, SandboxApp
    from legnext_mcp.sandbox.serve import serve_forever

    key = args.key or DEFAULT_KEY
    engine = Engine(keys={key: args.points}, time_scale=args.time_scale)
    print("Legnext API sandbox (simulated; no real jobs, no real money)")
    print(f"  base URL : http://127.0.0.1:{args.port}/api")
    print(f"  API key  : {key}")
    print(f"  time     : x{args.time_scale:g} (a 40 s image job takes {40 / args.time_scale:.1f} s)")
    print(f"  try      : curl -H 'x-api-key: {key}' http://127.0.0.1:{args.port}/api/account/balance")
    sys.stdout.flush()
    serve_forever(SandboxApp(engine), port=args.port)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from legnext_mcp.demo import run_demo

    return run_demo(time_scale=args.time_scale, output_dir=args.output_dir)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="legnext-mcp", description=__doc__.splitlines()[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    sandbox = commands.add_parser("sandbox", help="serve the simulated Legnext API on 127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    sandbox.add_argument("--key", default=None, help="API key the sandbox accepts (default sandbox-key)")
    sandbox.add_argument("--points", type=int, default=100_000, help="starting balance in points")
    sandbox.add_argument("--time-scale", type=float, default=DEFAULT_SANDBOX_SCALE,
                         help="simulated seconds per real second (1 = real durations)")
    sandbox.set_defaults(handler=_sandbox)

    demo = commands.add_parser("demo", help="run describe -> imagine -> upscale -> save against the sandbox")
    demo.add_argument("--time-scale", type=float, default=DEFAULT_SANDBOX_SCALE)
    demo.add_argument("--output-dir", default=None, help="where to save images (default: a temporary folder)")
    demo.set_defaults(handler=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        build_parser().print_help()
        return 2
    result: int = handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
