"""Installs from the built wheel, as users will: ``uvx --from <wheel> legnext-mcp --sandbox`` answering an MCP
client, and ``uv tool install <wheel>`` putting ``legnext-mcp`` on the PATH of an isolated home."""

from __future__ import annotations

import shutil
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from legnext_mcp import __version__
from tests.release.conftest import SPEED, Dist, need, run

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_uvx_from_the_wheel_serves_the_sandbox(dist: Dist, uv_env: dict[str, str], tmp_path: Path) -> None:
    params = StdioServerParameters(command=need("uvx"), env={**uv_env, "LEGNEXT_DATA_DIR": str(tmp_path / "data")},
                                   args=["--from", str(dist.wheel), "legnext-mcp", "--sandbox", "--time-scale",
                                         str(SPEED)])
    with anyio.fail_after(300):
        async with Client(params) as client:
            tools = (await client.list_tools()).tools
            result = await client.call_tool("generate_and_wait", {"prompt": "a lighthouse --ar 3:2"})
    assert len(tools) == 29 and not result.is_error
    assert result.structured_content is not None and result.structured_content["status"] == "completed"


def test_uv_tool_install_puts_the_command_on_path(dist: Dist, uv_env: dict[str, str]) -> None:
    run([need("uv"), "tool", "install", "--force", dist.wheel], env=uv_env, timeout=300)
    command = shutil.which("legnext-mcp", path=uv_env["PATH"])
    assert command is not None and Path(command).parent == Path(uv_env["UV_TOOL_BIN_DIR"])
    out = run([command, "--version"], env=uv_env)
    assert out.stdout.strip() == f"legnext-mcp {__version__}"
