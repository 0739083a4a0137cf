"""The server as hosts run it: a real stdio subprocess and Streamable HTTP on loopback, on the sandbox."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from legnext_mcp.server import build_server
from legnext_mcp.server.tool_table import END, START, replace_table, tool_table
from legnext_mcp.settings import Settings

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
    return {**env, "LEGNEXT_DATA_DIR": str(tmp_path / "data"), "LEGNEXT_OUTPUT_DIR": str(tmp_path / "out")}


async def test_stdio_subprocess_generates_and_lists(tmp_path: Path) -> None:
    params = StdioServerParameters(command=sys.executable, env=_env(tmp_path),
                                   args=["-m", "legnext_mcp.cli", "--sandbox", "--time-scale", "400"])
    with anyio.fail_after(60):
        async with Client(params) as client:
            assert len((await client.list_tools()).tools) == 29
            result = await client.call_tool("generate_and_wait", {"prompt": "a fox"})
            listed = await client.call_tool("list_jobs", {})
    assert result.structured_content["status"] == "completed"
    assert listed.structured_content["jobs"][0]["job_id"] == result.structured_content["job_id"]
    assert (tmp_path / "data" / "sandbox-ledger.sqlite3").exists()


async def test_streamable_http_on_loopback(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "legnext_mcp.cli", "--sandbox", "--time-scale", "400", "--transport", "http",
         "--port", str(port)], env=_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        with anyio.fail_after(30):
            while True:
                try:
                    async with httpx2.AsyncClient() as http:
                        await http.get(f"http://127.0.0.1:{port}/mcp")
                    break
                except httpx2.TransportError:
                    await anyio.sleep(0.05)
        with anyio.fail_after(60):
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                names = {t.name for t in (await client.list_tools()).tools}
                result = await client.call_tool("generate_and_wait", {"prompt": "a fox"})
        assert "generate_and_wait" in names
        assert result.structured_content["status"] == "completed"
    finally:
        process.terminate()
        process.communicate(timeout=10)


async def test_the_tool_table_in_the_docs_matches_the_server() -> None:
    page = (ROOT / "docs" / "tools.md").read_text()
    assert START in page and END in page
    assert replace_table(page, await tool_table()) == page, \
        "docs/tools.md tool table is stale: run python -m legnext_mcp.server.tool_table --write docs/tools.md"


async def test_readme_tool_table_marks_exactly_the_job_tools_paid() -> None:
    from tests.cases import FREE, PAID

    rows = [line for line in (await tool_table()).splitlines() if line.startswith("| `")]
    # The last two cells (the summary itself may hold "|"): kind, and whether a relay serves it.
    cells = {row.split("`")[1].split("(")[0]: [c.strip() for c in row.rsplit("|", 3)[1:3]] for row in rows}
    assert {name for name, (kind, _) in cells.items() if kind == "paid"} == PAID | {"imagine_batch"}
    assert {name for name, (kind, _) in cells.items() if kind == "free"} == FREE | {"upload_picture"}
    relay = build_server(Settings(api_key="k", sandbox=True, dialect="mj-proxy"))
    assert {name for name, (_, on_relay) in cells.items() if on_relay == "yes"} == {
        tool.name for tool in await relay.list_tools()}


async def test_stdio_ignores_the_public_url_and_refuses_a_local_picture_naming_both_ways(tmp_path: Path) -> None:
    """Nothing listens on stdio, so no capability URL may be handed out there: LEGNEXT_PUBLIC_URL is ignored and a
    local picture for Legnext is refused in one line naming both ways (LEGNEXT_UPLOAD_URL is the stdio one)."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "cat.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    env = {**_env(tmp_path), "LEGNEXT_PUBLIC_URL": "https://mcp.example.com"}
    params = StdioServerParameters(command=sys.executable, env=env,
                                   args=["-m", "legnext_mcp.cli", "--sandbox", "--time-scale", "400"])
    with anyio.fail_after(60):
        async with Client(params) as client:
            result = await client.call_tool("describe", {"image_url": str(out / "cat.png")})
    text = " ".join(getattr(block, "text", "") for block in result.content)
    assert result.is_error and "LEGNEXT_PUBLIC_URL" in text and "LEGNEXT_UPLOAD_URL" in text, text
    assert not list((tmp_path / "data").glob("*inputs*/*"))  # no capability was minted
