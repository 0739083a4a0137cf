"""The skill's scripts as a user runs them: subprocesses against the simulator on a loopback port."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from legnext_mcp import __version__
from legnext_mcp.sandbox import FAIL_WORD, HANG_WORD, Engine, SandboxApp
from legnext_mcp.sandbox.serve import LoopbackSandbox
from tests.support import FAST

SKILL = Path(__file__).resolve().parents[2] / "skill" / "legnext-midjourney"
KEY = "sk-skill-test-0123456789"


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackSandbox[SandboxApp]]:
    with LoopbackSandbox(SandboxApp(Engine(keys={KEY: 100_000}, time_scale=FAST))) as running:
        yield running


def script(server: LoopbackSandbox[SandboxApp], name: str, *args: str, key: str = KEY, cwd: Path | None = None,
           ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
    env.update(LEGNEXT_BASE_URL=server.base_url, LEGNEXT_TIME_SCALE=str(FAST))
    if key:
        env["LEGNEXT_API_KEY"] = key
    return subprocess.run([sys.executable, str(SKILL / "scripts" / f"{name}.py"), *args], env=env, text=True,
                          capture_output=True, timeout=60, cwd=cwd or SKILL)


def test_verify_prints_a_masked_key_and_the_balance(server: LoopbackSandbox[SandboxApp]) -> None:
    human = script(server, "verify_api_key")
    data = json.loads(script(server, "verify_api_key", "--json").stdout)
    assert human.returncode == 0 and "is valid" in human.stdout and "100000 points" in human.stdout
    assert data["valid"] and data["total_points"] == 100_000 and data["key"] == "sk-s…6789"
    assert KEY not in human.stdout + human.stderr


def test_a_wrong_key_exits_4_with_a_clear_message_and_no_key(server: LoopbackSandbox[SandboxApp]) -> None:
    out = script(server, "verify_api_key", key="sk-wrong-key-99999999")
    assert out.returncode == 4
    assert "refused the API key" in out.stderr and "LEGNEXT_API_KEY" in out.stderr
    assert "sk-wrong-key-99999999" not in out.stdout + out.stderr


def test_no_key_exits_2(server: LoopbackSandbox[SandboxApp], tmp_path: Path) -> None:
    out = script(server, "imagine", "a fox", key="", cwd=tmp_path)
    assert out.returncode == 2 and "LEGNEXT_API_KEY is not set" in out.stderr


def test_key_is_read_from_a_dotenv_file(server: LoopbackSandbox[SandboxApp], tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"LEGNEXT_API_KEY={KEY}\n")
    out = script(server, "verify_api_key", key="", cwd=tmp_path)
    assert out.returncode == 0, out.stderr


def test_imagine_then_get_task_waits_for_the_result(server: LoopbackSandbox[SandboxApp]) -> None:
    submitted = json.loads(script(server, "imagine", "a fox --ar 3:2", "--json").stdout)
    assert submitted["status"] == "pending"
    human = script(server, "imagine", "a fox")
    assert human.returncode == 0 and re.search(r"job_id: [0-9a-f-]{36}", human.stdout)
    done = script(server, "get_task", submitted["job_id"], "--wait", "--json")
    result = json.loads(done.stdout)
    assert done.returncode == 0 and result["status"] == "completed" and len(result["image_urls"]) == 4


def test_generate_and_wait_prints_progress_urls_seed_and_saves(server: LoopbackSandbox[SandboxApp],
                                                               tmp_path: Path) -> None:
    out = script(server, "generate_and_wait", "a lighthouse --ar 3:2", "--save", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "submitted job" in out.stdout and re.search(r"\d+\.\ds\s+(processing|completed)", out.stdout)
    assert "grid:" in out.stdout and out.stdout.count("image ") == 4 and "seed:" in out.stdout
    assert len(list(tmp_path.glob("*.png"))) == 4
    machine = script(server, "generate_and_wait", "a lighthouse", "--json")
    data = json.loads(machine.stdout)
    assert data["status"] == "completed" and data["seed"] and data["grid_url"]
    assert "submitted job" in machine.stderr


def test_a_failed_job_exits_1(server: LoopbackSandbox[SandboxApp]) -> None:
    out = script(server, "generate_and_wait", f"a fox {FAIL_WORD}", "--json")
    assert out.returncode == 1
    assert json.loads(out.stdout)["job"]["status"] == "failed" and "not charged" in out.stderr


def test_a_timeout_exits_3_and_says_how_to_check_later(server: LoopbackSandbox[SandboxApp]) -> None:
    out = script(server, "generate_and_wait", f"a fox {HANG_WORD}", "--timeout", "0.5")
    assert out.returncode == 3 and "get_task.py" in out.stderr


def test_a_bad_prompt_exits_2_before_sending(server: LoopbackSandbox[SandboxApp]) -> None:
    posts = server.app.stats.count("POST")
    out = script(server, "imagine", "x" * 8193)
    assert out.returncode == 2 and "nothing was sent" in out.stderr.lower()
    assert server.app.stats.count("POST") == posts


def test_action_upscales_and_pans_a_finished_job(server: LoopbackSandbox[SandboxApp]) -> None:
    parent = json.loads(script(server, "generate_and_wait", "a fox", "--json").stdout)["job_id"]
    up = json.loads(script(server, "action", "upscale", parent, "--image", "2", "--type", "creative", "--wait",
                           "--json").stdout)
    assert up["task_type"] == "upscale" and up["status"] == "completed" and len(up["image_urls"]) == 1
    pan = script(server, "action", "pan", parent, "--image", "1", "--direction", "up", "--scale", "9")
    assert pan.returncode == 2 and "scale" in pan.stderr
    sent = server.app.stats.count("POST")
    enhance = script(server, "action", "enhance", parent)  # the same local check as the MCP tool: nothing sent
    assert enhance.returncode == 2 and "--draft" in enhance.stderr and "Nothing was sent" in enhance.stderr
    assert server.app.stats.count("POST") == sent


def _frontmatter(text: str) -> dict[str, str]:
    match = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    assert match, "SKILL.md must start with --- frontmatter ---"
    fields = {}
    for line in match.group(1).splitlines():
        name, _, value = line.partition(":")
        fields[name.strip()] = value.strip()
    return fields


def test_skill_md_frontmatter_follows_the_agent_skill_rules() -> None:
    text = (SKILL / "SKILL.md").read_text()
    fields = _frontmatter(text)
    assert fields["name"] == "legnext-midjourney" == SKILL.name
    assert re.fullmatch(r"[a-z0-9-]{1,64}", fields["name"])
    assert 0 < len(fields["description"]) < 1024
    assert "<" not in fields["description"] and ">" not in fields["description"]
    assert len(text.split("---\n", 2)[2].splitlines()) < 500
    for script_name in ("verify_api_key", "imagine", "get_task", "generate_and_wait", "action"):
        assert f"scripts/{script_name}.py" in text
        header = (SKILL / "scripts" / f"{script_name}.py").read_text()
        # pinned: `uv run` gets the release this skill was written for, never an unrelated later one
        assert header.startswith("# /// script\n") and f'dependencies = ["legnext-mcp=={__version__}"]' in header
    for reference in re.findall(r"references/[\w.-]+", text):
        assert (SKILL / reference).is_file()
