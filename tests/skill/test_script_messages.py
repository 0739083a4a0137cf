"""Each script's refusals are one line in the words of its own command line (the flag, not the field behind
it), say "Nothing was sent." once, and a missing key names what the scripts can use (`legnext-mcp sandbox`),
never the server's --sandbox flag, which the scripts do not have."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from legnext_mcp.sandbox import Engine, SandboxApp
from legnext_mcp.sandbox.serve import LoopbackSandbox
from tests.support import FAST

SCRIPTS = Path(__file__).resolve().parents[2] / "skill" / "legnext-midjourney" / "scripts"
KEY = "sk-skill-messages-0123456789"


@pytest.fixture(scope="module")
def api() -> Iterator[LoopbackSandbox[SandboxApp]]:
    with LoopbackSandbox(SandboxApp(Engine(keys={KEY: 100_000}, time_scale=FAST))) as running:
        yield running


def script(api: LoopbackSandbox[SandboxApp], tmp: Path, name: str, *args: str, key: str = KEY,
           ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
    env.update(LEGNEXT_BASE_URL=api.base_url, LEGNEXT_TIME_SCALE=str(FAST), LEGNEXT_DATA_DIR=str(tmp / "data"))
    if key:
        env["LEGNEXT_API_KEY"] = key
    return subprocess.run([sys.executable, str(SCRIPTS / f"{name}.py"), *args], env=env, text=True,
                          capture_output=True, timeout=60, cwd=tmp)


def one_line(out: subprocess.CompletedProcess[str]) -> str:
    assert out.returncode == 2 and out.stdout == "", out
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    assert lines[0].count("Nothing was sent.") <= 1
    return lines[0]


def test_refusals_name_the_flag_and_say_nothing_was_sent_once(api: LoopbackSandbox[SandboxApp],
                                                              tmp_path: Path) -> None:
    job = json.loads(script(api, tmp_path, "imagine", "a fox", "--json").stdout)["job_id"]
    assert one_line(script(api, tmp_path, "action", "upscale", job, "--image", "7")) == \
        "error: --image: must be at most 3 (got 7). Nothing was sent."
    assert one_line(script(api, tmp_path, "action", "pan", job, "--scale", "9")).startswith("error: --scale: ")
    assert "--prompt" in one_line(script(api, tmp_path, "action", "remix", job))
    flagged = one_line(script(api, tmp_path, "imagine", "a fox --q 9 --v 8.1"))
    assert flagged.startswith("error: PROMPT: --q is not supported on model v8.1") and \
        flagged.endswith("Nothing was sent.")
    assert one_line(script(api, tmp_path, "generate_and_wait", "")).startswith("error: PROMPT: ")


def test_a_missing_key_names_the_simulator_command_the_scripts_can_use(api: LoopbackSandbox[SandboxApp],
                                                                       tmp_path: Path) -> None:
    said = one_line(script(api, tmp_path, "verify_api_key", key=""))
    assert "LEGNEXT_API_KEY is not set" in said and "legnext-mcp sandbox" in said and ".env" in said
    assert "--sandbox" not in said
