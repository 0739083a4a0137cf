"""A server started without a key (and without --sandbox) still helps: it starts, lists its tools, and every
call answers the one-line fix, so the model can tell the user; the line is also on stderr and in the server's
instructions. Any other start-up problem still fails fast with one line (exit 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp_types import TextContent

from legnext_mcp.server import build_server
from legnext_mcp.settings import Settings, SettingsError, missing_key_message

pytestmark = pytest.mark.anyio
SETUP = missing_key_message("legnext")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
    return {**env, "LEGNEXT_DATA_DIR": str(tmp_path / "data"), "LEGNEXT_OUTPUT_DIR": str(tmp_path / "out"), **extra}


async def test_a_server_without_a_key_lists_its_tools_and_every_call_answers_the_fix(tmp_path: Path) -> None:
    errors = tmp_path / "stderr.txt"
    params = StdioServerParameters(command=sys.executable, args=["-m", "legnext_mcp.cli"], env=_env(tmp_path))
    with anyio.fail_after(60), errors.open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            tools = (await client.list_tools()).tools
            results = [await client.call_tool(name, arguments) for name, arguments in (
                ("generate_and_wait", {"prompt": "a fox"}), ("get_balance", {}), ("list_jobs", {}),
                ("estimate_cost", {"tool": "imagine", "arguments": {"prompt": "a fox"}}))]
            with pytest.raises(Exception, match="LEGNEXT_API_KEY is not set") as resource:
                await client.read_resource("legnext://jobs")
            instructions = client.instructions
    assert len(tools) == 29
    for result in results:
        assert result.is_error
        assert [block.text for block in result.content if isinstance(block, TextContent)] == [SETUP]
    assert "https://legnext.ai/app/api-keys" in SETUP and "--sandbox" in SETUP and "\n" not in SETUP
    assert SETUP in str(resource.value)
    assert instructions is not None and instructions.startswith(SETUP)
    logged = errors.read_text()
    assert SETUP in logged and "setup mode" in logged
    assert not (tmp_path / "out").exists()  # nothing saved, nothing sent


async def test_setup_mode_builds_no_back_and_no_api_connection(tmp_path: Path) -> None:
    server = build_server(Settings(api_key=None, data_dir=tmp_path / "data", output_dir=tmp_path / "out"))
    async with Client(server) as client:
        result = await client.call_tool("get_job", {"job_id": "a" * 8})
        info = client.server_info
    assert result.is_error and server.setup == SETUP
    assert server._back is None  # the warm half (dialect, HTTP client, services) was never made
    # the server's own icon and site, shown by hosts in their server lists
    assert info is not None and info.icons and info.icons[0].src.startswith("data:image/png;base64,")
    assert info.website_url == "https://github.com/legnext-ai/legnext-mcp"


def test_a_relay_without_a_key_is_told_to_use_the_relays_key(tmp_path: Path) -> None:
    server = build_server(Settings(api_key=None, dialect="mj-proxy", base_url="https://relay.example/mj",
                                   data_dir=tmp_path / "data"))
    assert server.setup is not None and "the key your relay gave you" in server.setup


@pytest.mark.parametrize(("extra", "said"), [
    ({"LEGNEXT_LOG_LEVEL": "LOUD"}, "LEGNEXT_LOG_LEVEL must be"),
    ({"LEGNEXT_BASE_URL": "http://api.example.com/api"}, "plain http"),
])
def test_other_bad_settings_still_stop_the_start_with_one_line(tmp_path: Path, extra: dict[str, str],
                                                                said: str) -> None:
    out = subprocess.run([sys.executable, "-m", "legnext_mcp.cli"], env=_env(tmp_path, **extra), capture_output=True,
                         text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert out.returncode == 2 and out.stdout == ""
    assert said in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_a_bad_data_folder_still_stops_the_start_without_a_key(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file, not a folder")
    out = subprocess.run([sys.executable, "-m", "legnext_mcp.cli"], env=_env(tmp_path), capture_output=True,
                         text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert out.returncode == 2 and out.stdout == ""
    assert "LEGNEXT_DATA_DIR" in out.stderr or "data folder" in out.stderr, out.stderr


def test_fields_a_host_left_unfilled_are_unset_and_home_is_expanded_in_folders() -> None:
    """Claude Desktop passes a bundle's empty optional field as the literal ``${user_config.X}`` and does not
    expand ``${HOME}`` inside a field's default."""
    env = {"HOME": "/home/u", "LEGNEXT_API_KEY": "${user_config.api_key}",
           "LEGNEXT_MAX_POINTS_PER_DAY": "${user_config.max_points_per_day}",
           "LEGNEXT_CONFIRM_ABOVE_POINTS": " ${user_config.confirm_above_points} ",
           "LEGNEXT_TOOLSETS": "${user_config.toolsets}", "LEGNEXT_OUTPUT_DIR": "${HOME}/Pictures/legnext",
           "LEGNEXT_DATA_DIR": "~/legnext-data"}
    settings = Settings.from_env(env, require_key=False)
    assert settings.needs_key and settings.api_key is None
    assert settings.max_points_per_day is None and settings.confirm_above_points is None
    assert settings.toolsets == {"core", "edit", "video", "account"}
    assert settings.output_dir == Path("/home/u/Pictures/legnext").resolve()
    assert settings.data_dir == Path("~/legnext-data").expanduser().resolve()
    # a filled value is read as before, and a value that merely contains ${...} is not dropped
    filled = Settings.from_env({**env, "LEGNEXT_API_KEY": "sk-real-key-0123456789",
                                "LEGNEXT_MAX_POINTS_PER_DAY": "500"})
    assert filled.api_key == "sk-real-key-0123456789" and filled.max_points_per_day == 500 and not filled.needs_key
    with pytest.raises(SettingsError, match="LEGNEXT_TOOLSETS"):
        Settings.from_env({**env, "LEGNEXT_TOOLSETS": "core,${user_config.toolsets}"}, require_key=False)
