"""Seed 000: the early "generate API v1" (``lnx_`` keys, legnext.ai/api/v1) is refused at start by the server
and the skill scripts, with exit code 2, a message saying what it was, and no request sent."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from legnext_mcp.sandbox import Engine, SandboxApp
from legnext_mcp.sandbox.serve import LoopbackSandbox

PROTOTYPE_KEY = "lnx_" + "0123456789abcdef" * 4
SKILL = Path(__file__).resolve().parents[1] / "skill" / "legnext-midjourney"


@pytest.fixture(scope="module")
def api() -> Iterator[LoopbackSandbox[SandboxApp]]:
    with LoopbackSandbox(SandboxApp(Engine())) as running:
        yield running


def run(command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
    return subprocess.run(command, env={**clean, **env}, text=True, capture_output=True, timeout=60,
                          stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("command", [
    [sys.executable, "-m", "legnext_mcp.cli"],
    [sys.executable, str(SKILL / "scripts" / "verify_api_key.py")],
    [sys.executable, str(SKILL / "scripts" / "imagine.py"), "a fox"],
], ids=["server", "verify_api_key", "imagine"])
def test_an_lnx_key_is_refused_before_any_request(api: LoopbackSandbox[SandboxApp], command: list[str]) -> None:
    before = api.app.stats.count()
    out = run(command, LEGNEXT_API_KEY=PROTOTYPE_KEY, LEGNEXT_BASE_URL=api.base_url)
    assert out.returncode == 2, out.stderr
    assert "generate API v1" in out.stderr and "https://legnext.ai/app/api-keys" in out.stderr
    assert "Nothing was sent" in out.stderr and PROTOTYPE_KEY not in out.stdout + out.stderr
    assert api.app.stats.count() == before


@pytest.mark.parametrize("base", ["https://legnext.ai/api/v1", "https://www.legnext.ai/api/v1/"])
def test_the_prototype_base_url_is_refused(base: str) -> None:
    out = run([sys.executable, "-m", "legnext_mcp.cli"], LEGNEXT_API_KEY="sk-a-real-looking-key", LEGNEXT_BASE_URL=base)
    assert out.returncode == 2 and "generate API v1" in out.stderr and "https://api.legnext.ai/api" in out.stderr
