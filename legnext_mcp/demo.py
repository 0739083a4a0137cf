"""The main job, end to end, as an assistant would do it: an MCP client session over stdio with
``legnext-mcp --sandbox``: describe -> generate_and_wait -> upscale -> save_images.

No key and no network: the server runs the built-in simulator; the files land in ``./legnext-demo`` (or
``--output-dir``), and the folder is printed.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio


def _say(text: str) -> None:
    print(text, flush=True)


async def _demo(time_scale: float, output_dir: Path, data_dir: Path, dialect: str) -> bool:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    env = {**os.environ, "LEGNEXT_OUTPUT_DIR": str(output_dir), "LEGNEXT_DATA_DIR": str(data_dir)}
    env.pop("LEGNEXT_API_KEY", None)  # the demo never needs (or sees) a real key
    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "legnext_mcp.cli", "--sandbox", "--dialect", dialect,
                                         "--time-scale", str(time_scale)],
                                   env=env)
    start = time.monotonic()

    shown: set[str] = set()

    async def progress(done: float, total: float | None, message: str | None) -> None:
        status = (message or "").rsplit(": ", 1)[-1]
        if status not in shown:  # one line per status change keeps the transcript short
            shown.add(status)
            _say(f"    ... {message}")

    async def call(client: Any, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        _say(f"> {tool}({', '.join(f'{k}={v!r}' for k, v in arguments.items())})")
        shown.clear()
        result = await client.call_tool(tool, arguments, progress_callback=progress)
        text = result.content[0].text if result.content and result.content[0].type == "text" else ""
        for line in text.splitlines():
            _say(f"  {line}")
        if result.is_error:
            raise RuntimeError(f"{tool} failed")
        structured: dict[str, Any] = result.structured_content or {}
        return structured

    async with Client(params) as client:
        tools = await client.list_tools()
        names = {tool.name for tool in tools.tools}
        _say(f"connected to legnext-mcp --sandbox over stdio ({dialect}): {len(tools.tools)} tools")
        balance = await call(client, "get_balance", {}) if "get_balance" in names else None
        described = await call(client, "describe", {"image_url": "https://example.com/red-fox-in-snow.jpg"})
        prompt = described["prompts"][0].split(" --", 1)[0]  # the text, with our own flags
        job = await call(client, "generate_and_wait", {"prompt": f"{prompt} --ar 3:2 --v 7"})
        if not job["done"]:
            job = (await call(client, "wait_for_job", {"job_ids": [job["job_id"]]}))["jobs"][0]
        await call(client, "estimate_cost", {"tool": "upscale", "arguments": {"job_id": job["job_id"],
                                                                             "image_no": 0}})
        upscaled = await call(client, "upscale", {"job_id": job["job_id"], "image_no": 0, "type": "creative"})
        upscaled = (await call(client, "wait_for_job", {"job_ids": [upscaled["job_id"]]}))["jobs"][0]
        saved = await call(client, "save_images", {"job_id": job["job_id"]})
        saved_up = await call(client, "save_images", {"job_id": upscaled["job_id"]})
        after = await call(client, "get_balance", {}) if balance is not None else None
    files = len(saved.get("saved_files", [])) + len(saved_up.get("saved_files", []))
    spent = f"; {balance['available'] - after['available']} simulated points spent" if balance and after else ""
    _say(f"done in {time.monotonic() - start:.1f}s: {files} files (images and JSON sidecars) in {output_dir}{spent}")
    return True


def run_demo(*, time_scale: float, output_dir: str | None, dialect: str = "legnext") -> int:
    """Run the demo, printing each call and result; 0 on success, 1 if any call failed."""
    target = Path(output_dir) if output_dir else Path.cwd() / "legnext-demo"
    with tempfile.TemporaryDirectory(prefix="legnext-demo-data-") as data:
        try:
            anyio.run(_demo, time_scale, target.resolve(), Path(data), dialect)
        except KeyboardInterrupt:
            print("demo interrupted (Ctrl-C); nothing real was spent: it ran on the simulator.", flush=True)
            return 130
        except (RuntimeError, BaseExceptionGroup) as exc:  # the client's task group wraps what a call raised
            failed = _failure(exc)
            if failed is None:
                raise
            print(f"demo failed: {failed}", flush=True)
            return 1
    return 0


def _failure(exc: BaseException) -> RuntimeError | None:
    """The demo's own failure (a call that failed, already printed above it) inside ``exc``, if that is what
    ended it."""
    if isinstance(exc, RuntimeError):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _failure(inner)
            if found is not None:
                return found
    return None
