"""Scenario 3: the server process is killed (SIGKILL, no clean-up) while its tools wait for jobs; a new
process lists the same jobs and wait_for_job finishes them, without submitting anything again.

The simulator runs in this test process on a loopback port with its clock stopped, so the jobs are
certainly still running at the kill and finish exactly when the test moves the clock.
"""

from __future__ import annotations

import os
import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from mcp import Client

from legnext_mcp.sandbox import Engine, SandboxApp
from legnext_mcp.sandbox.serve import LoopbackSandbox
from tests.support import stdio_server, text_of

pytestmark = [pytest.mark.anyio,
              pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the server's pid in /proc")]
JOBS = 3


def children() -> set[int]:
    """Direct child processes of this one (Linux /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == os.getpid():
                found.add(int(entry.name))
    return found


def ledger_statuses(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    db = sqlite3.connect(path)
    try:
        return dict(db.execute("SELECT job_id, status FROM jobs").fetchall())
    finally:
        db.close()


async def until(condition: Callable[[], bool]) -> None:
    """Wait for something another process does (bounded by the caller's fail_after)."""
    while not condition():  # noqa: ASYNC110  (the other side is another process: no Event to wait on)
        await anyio.sleep(0.02)


async def test_killed_mid_wait_a_new_process_lists_and_finishes_the_jobs(tmp_path: Path) -> None:
    sandbox = SandboxApp(Engine(time_scale=0.0, seed=13))  # the clock moves only when told
    ledger = tmp_path / "data" / "ledger.sqlite3"
    with LoopbackSandbox(sandbox) as loop:
        params = stdio_server(loop, tmp_path)

        def gets() -> int:
            return sandbox.stats.count("GET", "/api/v1/job/")

        before = children()
        with anyio.fail_after(60):
            async with Client(params) as first:
                (pid,) = children() - before
                async with anyio.create_task_group() as calls:
                    for n in range(JOBS):
                        calls.start_soon(first.call_tool, "generate_and_wait", {"prompt": f"restart job {n}"})
                    await until(lambda: len(ledger_statuses(ledger)) == JOBS and gets() > JOBS)
                    os.kill(pid, signal.SIGKILL)
                    calls.cancel_scope.cancel()
        recorded = ledger_statuses(ledger)
        assert sorted(recorded) == sorted(sandbox.engine.jobs) and set(recorded.values()) <= {"pending", "staged"}

        with anyio.fail_after(60):
            async with Client(params) as second:
                listed = (await second.call_tool("list_jobs", {})).structured_content["jobs"]
                assert sorted(j["job_id"] for j in listed) == sorted(recorded)
                assert {j["status"] for j in listed} <= {"pending", "staged"}
                waited: dict[str, object] = {}
                async with anyio.create_task_group() as group:

                    async def wait() -> None:
                        waited["result"] = await second.call_tool("wait_for_job", {"job_ids": list(recorded)})

                    polled = gets()
                    group.start_soon(wait)
                    await until(lambda: gets() > polled + JOBS)  # the new process is polling them
                    assert "result" not in waited
                    sandbox.engine.clock.advance(120)  # now they finish
        result = waited["result"]
        assert not result.is_error, text_of(result)  # type: ignore[attr-defined]
        assert {j["status"] for j in result.structured_content["jobs"]} == {"completed"}  # type: ignore[attr-defined]
    assert set(ledger_statuses(ledger).values()) == {"completed"}
    assert sandbox.stats.count("POST") == JOBS and sandbox.stats.max_identical_submissions() == 1
