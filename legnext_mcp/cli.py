"""``legnext-mcp`` command line: serve MCP (stdio or HTTP, optionally on the sandbox), ``sandbox`` (serve the
simulated API) and ``demo`` (the main job, end to end, as an MCP client).

Heavy modules (the simulator, uvicorn, Pillow) are imported inside the commands that need them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

DEFAULT_SANDBOX_SCALE = 20.0  # a documented ~40 s image job finishes in about 2 s


def _serve(args: argparse.Namespace) -> int:
    import logging

    from legnext_mcp.settings import Settings, SettingsError

    try:
        settings = Settings.from_env(sandbox=args.sandbox, time_scale=args.time_scale if args.sandbox else 1.0)
    except SettingsError as exc:
        print(f"legnext-mcp: {exc}", file=sys.stderr)
        return 2
    # stdout is the MCP channel on stdio: logs go to stderr only.
    logging.basicConfig(stream=sys.stderr, level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from legnext_mcp.server import build_server

    server = build_server(settings)
    if args.transport == "stdio":
        server.run("stdio")
    else:
        print(f"legnext-mcp: Streamable HTTP on http://{args.host}:{args.port}/mcp", file=sys.stderr)
        server.run("streamable-http", host=args.host, port=args.port, streamable_http_path="/mcp")
    return 0


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
    print(f"  scripts  : export LEGNEXT_BASE_URL=http://127.0.0.1:{args.port}/api LEGNEXT_API_KEY={key} "
          f"LEGNEXT_TIME_SCALE={args.time_scale:g}")
    sys.stdout.flush()
    serve_forever(SandboxApp(engine), port=args.port)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from legnext_mcp.demo import run_demo

    return run_demo(time_scale=args.time_scale, output_dir=args.output_dir)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="legnext-mcp", description="MCP server for the Legnext Midjourney API. "
                                     "Without a command it serves MCP (stdio by default).")
    parser.add_argument("--transport", choices=("stdio", "http"), default="stdio",
                        help="stdio (for desktop hosts) or http (Streamable HTTP at /mcp)")
    parser.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000)")
    parser.add_argument("--sandbox", action="store_true",
                        help="use the built-in API simulator: no key, no money, time-scaled")
    parser.add_argument("--time-scale", type=float, default=DEFAULT_SANDBOX_SCALE,
                        help=f"sandbox speed: simulated seconds per real second (default {DEFAULT_SANDBOX_SCALE:g})")
    parser.set_defaults(handler=_serve)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    sandbox = commands.add_parser("sandbox", help="serve the simulated Legnext API on 127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    sandbox.add_argument("--key", default=None, help="API key the sandbox accepts (default sandbox-key)")
    sandbox.add_argument("--points", type=int, default=100_000, help="starting balance in points")
    sandbox.add_argument("--time-scale", type=float, default=DEFAULT_SANDBOX_SCALE,
                         help="simulated seconds per real second (1 = real durations)")
    sandbox.set_defaults(handler=_sandbox)

    demo = commands.add_parser("demo", help="an MCP client session over stdio against the sandbox: "
                                            "describe -> generate_and_wait -> upscale -> save_images")
    demo.add_argument("--time-scale", type=float, default=DEFAULT_SANDBOX_SCALE)
    demo.add_argument("--output-dir", default=None, help="where to save images (default: a temporary folder)")
    demo.set_defaults(handler=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
