"""The skill scripts, ``legnext-mcp sandbox --dialect mj-proxy`` and the demo on a relay, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from legnext_mcp.sandbox.mjproxy.app import MjProxyApp
from legnext_mcp.sandbox.mjproxy.engine import MjProxyEngine
from legnext_mcp.sandbox.serve import LoopbackSandbox

SKILL = Path(__file__).resolve().parents[2] / "skill" / "legnext-midjourney"
KEY = "sk-relay-script-0123456789"
FAST = 2000.0


@pytest.fixture(scope="module")
def relay() -> Iterator[LoopbackSandbox[MjProxyApp]]:
    with LoopbackSandbox(MjProxyApp(MjProxyEngine(keys={KEY: 0}, time_scale=FAST))) as running:
        yield running


def script(relay: LoopbackSandbox[MjProxyApp], name: str, *args: str, key: str = KEY,
           ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
    env.update(LEGNEXT_BASE_URL=f"{relay.origin}/mj-relax", LEGNEXT_TIME_SCALE=str(FAST), LEGNEXT_API_KEY=key)
    return subprocess.run([sys.executable, str(SKILL / "scripts" / f"{name}.py"), "--dialect", "mj-proxy", *args],
                          env=env, text=True, capture_output=True, timeout=60, cwd=SKILL)


def test_verify_says_how_the_key_was_verified(relay: LoopbackSandbox[MjProxyApp]) -> None:
    human = script(relay, "verify_api_key")
    assert human.returncode == 0, human.stderr
    assert "is valid (the relay)" in human.stdout and "list-by-condition" in human.stdout
    data = json.loads(script(relay, "verify_api_key", "--json").stdout)
    assert data["api"] == "mj-proxy" and data["total_points"] is None and data["verified_by"]
    wrong = script(relay, "verify_api_key", key="sk-not-this-relay-key-1")
    assert wrong.returncode == 4 and "sk-not-this-relay-key-1" not in wrong.stdout + wrong.stderr


def test_generate_and_wait_and_an_action_through_the_relay(relay: LoopbackSandbox[MjProxyApp]) -> None:
    done = json.loads(script(relay, "generate_and_wait", "a fox on a hill", "--json").stdout)
    assert done["status"] == "completed" and done["api"] == "mj-proxy" and "/mj-relax/mj/image/" in done["grid_url"]
    up = json.loads(script(relay, "action", "upscale", done["job_id"], "--image", "3", "--wait", "--json").stdout)
    assert up["status"] == "completed" and up["task_type"] == "upscale"
    assert relay.app.engine.modes and set(relay.app.engine.modes) == {"/mj-relax"}


def test_the_demo_runs_on_the_relay_simulator(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
    out = subprocess.run([sys.executable, "-m", "legnext_mcp.cli", "demo", "--dialect", "mj-proxy", "--time-scale",
                          "1000", "--output-dir", str(tmp_path / "demo")], env=env, text=True, capture_output=True,
                         timeout=120)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "(mj-proxy)" in out.stdout and "unknown price" in out.stdout
    assert len(list((tmp_path / "demo").glob("*.png"))) == 5  # four quadrants cut from the grid + the upscale


def test_sandbox_command_prints_the_relay_settings(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-m", "legnext_mcp.cli", "sandbox", "--dialect", "mj-proxy",
                                "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(6)]
        assert "midjourney-proxy relay sandbox" in lines[0]
        assert any("LEGNEXT_DIALECT=mj-proxy" in line for line in lines)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


@pytest.mark.anyio
async def test_the_server_over_stdio_as_the_readme_configures_it(relay: LoopbackSandbox[MjProxyApp],
                                                                 tmp_path: Path) -> None:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
    env.update(LEGNEXT_BASE_URL=f"{relay.origin}/mj-turbo", LEGNEXT_API_KEY=KEY, LEGNEXT_TIME_SCALE=str(FAST),
               LEGNEXT_RELAY_PRICES="imagine=50,upscale=25", LEGNEXT_DATA_DIR=str(tmp_path / "data"),
               LEGNEXT_OUTPUT_DIR=str(tmp_path / "out"))
    params = StdioServerParameters(command=sys.executable, args=["-m", "legnext_mcp.cli", "--dialect", "mj-proxy"],
                                   env=env)
    before = len(relay.app.engine.modes)
    async with Client(params) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert "get_balance" not in names and "generate_and_wait" in names
        imagine = next(t for t in (await client.list_tools()).tools if t.name == "imagine")
        assert "50 credits (your relay's price)" in (imagine.description or "")
        result = await client.call_tool("generate_and_wait", {"prompt": "a harbour at night"})
        assert not result.is_error and result.structured_content["status"] == "completed"
    assert relay.app.engine.modes[before:] == ["/mj-turbo"]
    assert KEY not in (tmp_path / "data").joinpath("ledger.sqlite3").read_bytes().decode("latin-1")
