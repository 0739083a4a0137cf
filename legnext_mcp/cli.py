"""``legnext-mcp`` command line: serve MCP (stdio or Streamable HTTP, optionally on the sandbox), ``sandbox``
(serve a simulated API) and ``demo`` (the main job, end to end, as an MCP client).

Each command imports what it runs, in its own function (the command line is one of the package's lazy seams,
ARCHITECTURE.md): ``--version`` and ``sandbox`` never load the MCP SDK, and serving never loads the simulator
unless asked. Every failure to start is one line on stderr saying what and the fix, with exit code 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import replace

from legnext_mcp import __version__
from legnext_mcp.dialects import DIALECTS
from legnext_mcp.settings import Settings, SettingsError, missing_key_message

DEFAULT_SANDBOX_SCALE = 20.0  # a documented ~40 s image job finishes in about 2 s
EXIT_CONFIG = 2


def _fail(message: str) -> int:
    print(f"legnext-mcp: {message}", file=sys.stderr)
    return EXIT_CONFIG


def _serve(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env(sandbox=args.sandbox, time_scale=args.time_scale if args.sandbox else 1.0,
                                     dialect=args.dialect, require_key=False)
    except SettingsError as exc:
        return _fail(str(exc))
    if settings.needs_key:
        # Started by a host without a key: serve anyway, so the model can tell the user the fix (every tool
        # answers it); a host shows stderr only in its logs.
        print(f"legnext-mcp: {missing_key_message(settings.dialect)} Serving in setup mode: every tool answers "
              "this until the key is set.", file=sys.stderr, flush=True)
    # stdout is the MCP channel on stdio: logs go to stderr only.
    logging.basicConfig(stream=sys.stderr, level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from legnext_mcp.server.run import ServeError, check_startup, serve

    with ExitStack() as stack:
        if settings.sandbox:  # the simulator on a loopback port, for as long as the server runs
            from legnext_mcp.sandbox.run import start_sandbox
            from legnext_mcp.sockets import PortTakenError

            try:
                check_startup(settings)  # the simulator writes into the data folder: check it first
            except ServeError as exc:
                return _fail(str(exc))
            try:
                base_url, key = start_sandbox(time_scale=settings.time_scale, state_dir=settings.sandbox_dir,
                                              stack=stack, dialect=settings.dialect)
            except PortTakenError as exc:
                return _fail(f"sandbox: {exc}")
            settings = replace(settings, base_url=base_url, api_key=key)
        try:
            return serve(settings, transport=args.transport, host=args.host, port=args.port)
        except ServeError as exc:
            return _fail(str(exc))


def _sandbox(args: argparse.Namespace) -> int:
    from legnext_mcp.sandbox.legnext.app import SandboxApp
    from legnext_mcp.sandbox.legnext.engine import DEFAULT_KEY, Engine
    from legnext_mcp.sandbox.mjproxy.app import MjProxyApp
    from legnext_mcp.sandbox.mjproxy.engine import DEFAULT_KEY as MJ_PROXY_KEY
    from legnext_mcp.sandbox.mjproxy.engine import MjProxyEngine
    from legnext_mcp.sandbox.serve import serve_forever
    from legnext_mcp.sockets import PortTakenError, bind

    try:
        sock = bind("127.0.0.1", args.port)
    except PortTakenError as exc:
        return _fail(f"sandbox: {exc}")
    port = sock.getsockname()[1]
    app: SandboxApp | MjProxyApp
    if args.dialect == "mj-proxy":
        key = args.key or MJ_PROXY_KEY
        app = MjProxyApp(MjProxyEngine(keys={key: args.points}, time_scale=args.time_scale))
        base = f"http://127.0.0.1:{port}/mj-fast"
        title = "midjourney-proxy relay sandbox (new-api flavour; any of /mj-fast, /mj-relax, /mj-turbo, /fast or none)"
        check = (f"curl -H 'Authorization: Bearer {key}' -H 'content-type: application/json' -d '{{\"ids\": []}}' "
                 f"{base}/mj/task/list-by-condition")
        dialect_env = " LEGNEXT_DIALECT=mj-proxy"
    else:
        key = args.key or DEFAULT_KEY
        app = SandboxApp(Engine(keys={key: args.points}, time_scale=args.time_scale))
        base = f"http://127.0.0.1:{port}/api"
        title, check = "Legnext API sandbox", f"curl -H 'x-api-key: {key}' {base}/account/balance"
        dialect_env = ""
    print(f"{title} (simulated; no real jobs, no real money)")
    print(f"  base URL : {base}")
    print(f"  API key  : {key}")
    print(f"  time     : x{args.time_scale:g} (a 40 s image job takes {40 / args.time_scale:.1f} s)")
    print(f"  try      : {check}")
    print(f"  scripts  : export LEGNEXT_BASE_URL={base} LEGNEXT_API_KEY={key} LEGNEXT_TIME_SCALE={args.time_scale:g}"
          f"{dialect_env}")
    sys.stdout.flush()
    serve_forever(app, sock)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from legnext_mcp.demo import run_demo

    return run_demo(time_scale=args.time_scale, output_dir=args.output_dir, dialect=args.dialect)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="legnext-mcp", description="MCP server for Midjourney APIs (Legnext, or a "
                                     "midjourney-proxy relay). Without a command it serves MCP (stdio by default).")
    parser.add_argument("--version", action="version", version=f"legnext-mcp {__version__}")
    parser.add_argument("--transport", choices=("stdio", "http"), default="stdio",
                        help="stdio (for desktop hosts) or http (Streamable HTTP at /mcp)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="HTTP bind address (default 127.0.0.1; any other needs LEGNEXT_HTTP_TOKEN)")
    parser.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000)")
    parser.add_argument("--dialect", choices=DIALECTS, default=None, help="which API (or LEGNEXT_DIALECT)")
    parser.add_argument("--sandbox", action="store_true",
                        help="use the built-in API simulator: no key, no money, time-scaled")
    parser.add_argument("--time-scale", type=float, default=DEFAULT_SANDBOX_SCALE,
                        help=f"sandbox speed: simulated seconds per real second (default {DEFAULT_SANDBOX_SCALE:g})")
    parser.set_defaults(handler=_serve)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    sandbox = commands.add_parser("sandbox", help="serve a simulated API on 127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765; 0 = any free port)")
    sandbox.add_argument("--dialect", choices=DIALECTS, default="legnext", help="which API to simulate")
    sandbox.add_argument("--key", default=None, help="API key the sandbox accepts (default sandbox-key)")
    sandbox.add_argument("--points", type=int, default=100_000, help="starting balance")
    sandbox.add_argument("--time-scale", type=float, default=DEFAULT_SANDBOX_SCALE,
                         help="simulated seconds per real second (1 = real durations)")
    sandbox.set_defaults(handler=_sandbox)

    demo = commands.add_parser("demo", help="an MCP client session over stdio against the sandbox: "
                                            "describe -> generate_and_wait -> upscale -> save_images")
    demo.add_argument("--time-scale", type=float, default=DEFAULT_SANDBOX_SCALE)
    demo.add_argument("--dialect", choices=DIALECTS, default="legnext")
    demo.add_argument("--output-dir", default=None,
                      help="where to save the images (default: ./legnext-demo in the current folder)")
    demo.set_defaults(handler=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.time_scale <= 0:
        return _fail("--time-scale must be positive (1 = real durations)")
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
