"""A new user's first hour (issue 18): what the sandbox draws, the times a user reads, the hints they copy,
a taken port, the files' permissions, and a prompt shutdown."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest
from PIL import Image

from legnext_mcp.core.errors import PromptError
from legnext_mcp.core.prompt import parse_prompt
from legnext_mcp.files import current_umask
from legnext_mcp.server.guide import parameters_guide
from tests.support import Harness

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]


def _png(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


async def test_sandbox_pictures_keep_the_aspect_and_an_upscale_is_larger_than_its_source(harness: Harness) -> None:
    grid = (await harness.call("generate_and_wait", {"prompt": "a lighthouse at dusk --ar 3:2"}))
    job = grid.structured_content
    up = await harness.finished("upscale", {"job_id": job["job_id"], "image_no": 1})
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(harness.sandbox)) as files:
        tile = _png((await files.get(job["image_urls"][1])).content)
        big = _png((await files.get(up["image_urls"][0])).content)
    assert tile.width * 2 == tile.height * 3  # 3:2, as asked
    assert big.width > tile.width and big.height > tile.height and big.width * 2 == big.height * 3


async def test_times_a_user_reads_are_real_times(harness: Harness) -> None:
    job = (await harness.call("generate_and_wait", {"prompt": "a fox"})).structured_content
    saved = await harness.call("save_images", {"job_id": job["job_id"]})
    sidecar = json.loads(Path(saved.structured_content["saved_files"][-1]).read_text())
    from datetime import datetime

    created, saved_at = datetime.fromisoformat(sidecar["created_at"]), datetime.fromisoformat(sidecar["saved_at"])
    assert created <= saved_at  # the simulator runs jobs faster, but its clock shows real time


def test_numbers_are_printed_as_written_not_in_exponent_form() -> None:
    guide = parameters_guide()
    assert "0-4294967295" in guide and "e+" not in guide
    with pytest.raises(PromptError) as caught:
        parse_prompt("a fox --seed 99999999999")
    assert "0-4294967295" in caught.value.message


def test_the_skill_hint_runs_as_printed_from_the_skill_folder(tmp_path: Path) -> None:
    from legnext_mcp.sandbox import Engine, SandboxApp
    from legnext_mcp.sandbox.serve import LoopbackSandbox

    skill = ROOT / "skill" / "legnext-midjourney"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
    with LoopbackSandbox(SandboxApp(Engine(keys={"k-first-run-0001": 10_000}, time_scale=2000))) as api:
        env.update(LEGNEXT_BASE_URL=api.base_url, LEGNEXT_API_KEY="k-first-run-0001", LEGNEXT_TIME_SCALE="2000",
                   LEGNEXT_DATA_DIR=str(tmp_path / "data"))
        out = subprocess.run([sys.executable, "scripts/imagine.py", "a fox"], cwd=skill, env=env, text=True,
                             capture_output=True, timeout=60)
        hint = next(line for line in out.stdout.splitlines() if line.startswith("next:"))
        command = hint.removeprefix("next:").split()
        assert command[:2] == ["python", "scripts/get_task.py"], hint
        again = subprocess.run([sys.executable, *command[1:]], cwd=skill, env=env, text=True, capture_output=True,
                               timeout=60)
    assert again.returncode == 0 and "status: completed" in again.stdout, again.stdout + again.stderr


def test_a_taken_port_fails_before_the_banner_with_the_fix() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        out = subprocess.run([sys.executable, "-m", "legnext_mcp.cli", "sandbox", "--port", str(port)],
                             capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and out.stdout == ""
    assert f"cannot listen on 127.0.0.1:{port}" in out.stderr and "--port" in out.stderr


async def test_saved_files_get_the_users_usual_permissions(harness: Harness) -> None:
    job = (await harness.call("generate_and_wait", {"prompt": "a fox"})).structured_content
    saved = (await harness.call("save_images", {"job_id": job["job_id"]})).structured_content["saved_files"]
    expected = 0o666 & ~current_umask()
    assert saved and all(Path(p).stat().st_mode & 0o777 == expected for p in saved)


def test_sigint_stops_the_stdio_server_promptly_while_stdin_stays_open(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
    env.update(LEGNEXT_DATA_DIR=str(tmp_path / "data"), LEGNEXT_OUTPUT_DIR=str(tmp_path / "out"))
    process = subprocess.Popen([sys.executable, "-m", "legnext_mcp.cli", "--sandbox"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert process.stdin is not None and process.stdout is not None
    hello = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    process.stdin.write((json.dumps(hello) + "\n").encode())
    process.stdin.flush()
    assert b'"result"' in process.stdout.readline()  # serving, stdin still open
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    code = process.wait(timeout=10)
    elapsed = time.monotonic() - started
    for pipe in (process.stdin, process.stdout, process.stderr):
        if pipe is not None:
            pipe.close()
    assert code == 0 and elapsed < 5
