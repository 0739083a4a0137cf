"""The skill after install, as SKILL.md documents it: ``legnext-mcp`` installed as a uv tool, the skill folder
copied to ``~/.claude/skills/``, and every script run with a plain Python 3.11+ that does not have the package;
then through ``uv run`` with the PEP 723 header resolving from a local wheel index (as it will from PyPI)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from legnext_mcp.sandbox import SandboxApp
from legnext_mcp.sandbox.serve import LoopbackSandbox
from tests.release.conftest import KEY, REPO, SPEED, Dist, clean_env, need, run

#: A Python without the package: the one this virtual environment was made from.
BARE = Path(sys.base_prefix) / "bin" / "python3"


@pytest.fixture(scope="module")
def tool_bin(dist: Dist, uv_env: dict[str, str]) -> Path:
    run([need("uv"), "tool", "install", "--force", dist.wheel], env=uv_env, timeout=300)
    return Path(uv_env["UV_TOOL_BIN_DIR"])


@pytest.fixture(scope="module")
def skill(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    target = home / ".claude" / "skills" / "legnext-midjourney"
    shutil.copytree(REPO / "skill" / "legnext-midjourney", target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def bare_env(api: LoopbackSandbox[SandboxApp], work: Path, *path: Path) -> dict[str, str]:
    return clean_env(PATH=":".join(str(p) for p in path), PYTHONNOUSERSITE="1", HOME=str(work),
                     LEGNEXT_API_KEY=KEY, LEGNEXT_BASE_URL=api.base_url, LEGNEXT_TIME_SCALE=str(SPEED),
                     LEGNEXT_DATA_DIR=str(work / "data"))


def script(skill: Path, name: str, *args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BARE), str(skill / "scripts" / f"{name}.py"), *args], env=env, cwd=cwd, text=True,
                          capture_output=True, timeout=120)


def test_the_plain_python_has_no_package(tmp_path: Path) -> None:
    out = subprocess.run([str(BARE), "-c", "import legnext_mcp"], capture_output=True, text=True, cwd=tmp_path,
                         env=clean_env(PYTHONNOUSERSITE="1"))
    assert out.returncode != 0, f"{BARE} has legnext_mcp installed: it cannot stand for a plain Python"


def test_every_script_runs_from_the_copied_skill_with_a_plain_python(
        skill: Path, tool_bin: Path, api: LoopbackSandbox[SandboxApp], tmp_path: Path) -> None:
    env = bare_env(api, tmp_path, tool_bin, BARE.parent, Path("/usr/bin"), Path("/bin"))
    verify = script(skill, "verify_api_key", env=env, cwd=tmp_path)
    assert verify.returncode == 0 and "is valid" in verify.stdout and KEY not in verify.stdout, verify
    submitted = script(skill, "imagine", "a fox in the snow --ar 3:2", "--json", env=env, cwd=tmp_path)
    assert submitted.returncode == 0, submitted.stderr
    job = json.loads(submitted.stdout)["job_id"]
    waited = script(skill, "get_task", job, "--wait", env=env, cwd=tmp_path)
    assert waited.returncode == 0 and "status: completed" in waited.stdout, waited
    generated = script(skill, "generate_and_wait", "a lighthouse at dusk --ar 3:2", "--save",
                       str(tmp_path / "saved"), env=env, cwd=tmp_path)
    assert generated.returncode == 0 and generated.stdout.count("image ") == 4, generated
    assert len(list((tmp_path / "saved").glob("*.png"))) == 4
    upscaled = script(skill, "action", "upscale", job, "--image", "0", "--wait", env=env, cwd=tmp_path)
    assert upscaled.returncode == 0 and "status: completed (upscale)" in upscaled.stdout, upscaled
    refused = script(skill, "action", "upscale", job, "--image", "7", env=env, cwd=tmp_path)
    assert refused.returncode == 2 and refused.stderr.strip() == "error: --image: must be at most 3 (got 7). " \
        "Nothing was sent."
    for out in (verify, waited, generated, upscaled, refused):
        print("$", " ".join(out.args[1:]).replace(str(skill), "~/.claude/skills/legnext-midjourney"))
        print(out.stdout + out.stderr)


def test_without_the_package_a_script_says_how_to_install_it(skill: Path, api: LoopbackSandbox[SandboxApp],
                                                               tmp_path: Path) -> None:
    env = bare_env(api, tmp_path, BARE.parent, Path("/usr/bin"), Path("/bin"))  # no legnext-mcp on PATH
    out = script(skill, "verify_api_key", env=env, cwd=tmp_path)
    assert out.returncode == 2 and out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1 and "uv tool install legnext-mcp" in out.stderr
    assert "uv run" in out.stderr


def test_uv_run_resolves_the_pinned_package_from_a_wheel_index(skill: Path, uv_env: dict[str, str],
                                                                api: LoopbackSandbox[SandboxApp],
                                                                tmp_path: Path) -> None:
    env = {**uv_env, "LEGNEXT_API_KEY": KEY, "LEGNEXT_BASE_URL": api.base_url, "LEGNEXT_TIME_SCALE": str(SPEED),
           "LEGNEXT_DATA_DIR": str(tmp_path / "data")}
    out = run([need("uv"), "run", "--no-project", "--python", BARE, skill / "scripts" / "verify_api_key.py"],
              env=env, cwd=tmp_path, timeout=300)
    assert "is valid" in out.stdout
    header = (skill / "scripts" / "verify_api_key.py").read_text()
    assert re.search(r'dependencies = \["legnext-mcp==\d+\.\d+\.\d+"\]', header)
