"""The release suite's shared pieces: the wheel and sdist built once per run (``python -m build``), the pinned
MCPB CLI (``tests/release/node``, ``npm ci``), uv with a cache of this run's own (a wheel rebuilt under the same
version is otherwise served stale from uv's cache), and a Legnext simulator on a loopback port standing in for
the API. A tool the suite needs that is missing fails the run: a release check that skips proves nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from legnext_mcp.sandbox import Engine, SandboxApp
from legnext_mcp.sandbox.serve import LoopbackSandbox

REPO = Path(__file__).resolve().parents[2]
NODE = Path(__file__).resolve().parent / "node"
KEY = "sk-release-suite-0123456789"
#: Simulated seconds per real second: a 40 s image job takes 0.1 s.
SPEED = 400.0


def need(tool: str) -> str:
    """The path of ``tool`` (next to this Python first, where the dev extra puts uv), or fail the run."""
    beside = Path(sys.executable).parent / tool
    found = str(beside) if beside.is_file() else shutil.which(tool)
    if found is None:
        pytest.fail(f"{tool} is not installed: the release suite needs it (uv: pip install -e '.[dev]'; node and "
                    "npm: the distribution's nodejs and npm)", pytrace=False)
    return found


def run(command: Sequence[str | Path], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
        timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure, show what it said."""
    out = subprocess.run([str(part) for part in command], cwd=cwd, env=dict(env) if env is not None else None,
                         capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if check and out.returncode != 0:
        pytest.fail(f"{' '.join(map(str, command))} exited {out.returncode}:\n{out.stdout}\n{out.stderr}",
                    pytrace=False)
    return out


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without LEGNEXT_* settings (a developer's key must not leak into a release check)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEGNEXT_", "UV_", "VIRTUAL_ENV"))}
    return {**env, **extra}


@dataclass(frozen=True)
class Dist:
    folder: Path
    wheel: Path
    sdist: Path


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    folder = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--outdir", folder, REPO])
    wheels, sdists = list(folder.glob("*.whl")), list(folder.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, list(folder.iterdir())
    return Dist(folder, wheels[0], sdists[0])


@pytest.fixture(scope="session")
def mcpb() -> str:
    """The official MCPB CLI at the pinned version (tests/release/node/package-lock.json)."""
    need("node")
    binary = NODE / "node_modules" / ".bin" / "mcpb"
    if not binary.exists():
        run([need("npm"), "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE)
    return str(binary)


@pytest.fixture(scope="session")
def uv_env(tmp_path_factory: pytest.TempPathFactory, dist: Dist) -> dict[str, str]:
    """uv with this run's cache and tool folders, resolving legnext-mcp from this run's wheel (UV_FIND_LINKS;
    the name is not on PyPI yet) and its dependencies from PyPI."""
    home = tmp_path_factory.mktemp("uv")
    bin_dir = home / "bin"
    uv = Path(need("uv"))
    path = os.pathsep.join([str(bin_dir), str(uv.parent), os.environ.get("PATH", "")])
    return clean_env(UV_CACHE_DIR=str(home / "cache"), UV_TOOL_DIR=str(home / "tools"), UV_TOOL_BIN_DIR=str(bin_dir),
                     UV_FIND_LINKS=str(dist.folder), UV_PYTHON_DOWNLOADS="never", UV_NO_CONFIG="1", PATH=path)


@pytest.fixture(scope="session")
def api() -> Iterator[LoopbackSandbox[SandboxApp]]:
    """The Legnext simulator on a loopback port, as the API the installed server talks to."""
    with LoopbackSandbox(SandboxApp(Engine(keys={KEY: 1_000_000}, time_scale=SPEED))) as running:
        yield running
