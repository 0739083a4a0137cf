"""A team deployment, for real on loopback: PostgreSQL, the Legnext simulator, three `legnext-mcp --transport
http` replicas on one LEGNEXT_DATABASE_URL, and a round-robin balancer without stickiness (haproxy; see
tests/balancer.py). Through it: 300 concurrent calls from 30 clients, confirmations answered on another replica
than the one that asked, a job made through one replica waited on through another, a replica killed with
SIGKILL in the middle of a submit, and a budget with room for N jobs letting exactly N through."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import psycopg
import pytest
from mcp import Client
from mcp_types import ElicitRequestParams, ElicitResult

from legnext_mcp.ledger.postgres import PostgresLedger
from legnext_mcp.sandbox import DEFAULT_KEY, Engine, Fault, SandboxApp
from legnext_mcp.sandbox.serve import LoopbackSandbox
from tests.support import text_of
from tests.team import balancer, free_port, replicas

pytestmark = pytest.mark.anyio
SPEED = 400.0  # a 40 s image job takes 0.1 s
CLIENTS = 30
#: Room for the load (30 clients x 320 points), one cross-replica job, the killed submit, and 5 more jobs.
CAP = CLIENTS * 320 + 80 + 80 + 5 * 80
KEYS = secrets.token_hex(32)


@dataclass
class Deployment:
    sim: LoopbackSandbox[SandboxApp]
    replicas: list[subprocess.Popen[bytes]]
    ports: list[int]
    front: int
    kind: str
    url: str

    def mcp(self, port: int | None = None) -> str:
        return f"http://127.0.0.1:{port or self.front}/mcp"


def _replica_env(tmp: Path, n: int, sim: str, url: str, front: int, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
    env.update(LEGNEXT_API_KEY=DEFAULT_KEY, LEGNEXT_BASE_URL=sim, LEGNEXT_TIME_SCALE=str(SPEED),
               LEGNEXT_DATABASE_URL=url, LEGNEXT_DATA_DIR=str(tmp / f"r{n}"), LEGNEXT_OUTPUT_DIR=str(tmp / f"out{n}"),
               LEGNEXT_HTTP_ALLOWED_HOSTS=f"127.0.0.1:{front}", LEGNEXT_REQUEST_STATE_KEYS=KEYS,
               LEGNEXT_TRUSTED_PROXIES="127.0.0.1", LEGNEXT_WAIT_SOFT_DEADLINE_S="60",
               LEGNEXT_MAX_POINTS_PER_DAY=str(CAP), LEGNEXT_CONFIRM_ABOVE_POINTS="100", **extra)
    return env


@contextmanager
def deployment(tmp: Path, url: str, **extra: str) -> Iterator[Deployment]:
    with ExitStack() as stack:
        sim = stack.enter_context(LoopbackSandbox(SandboxApp(Engine(keys={DEFAULT_KEY: 10**7}, time_scale=SPEED))))
        front = free_port()
        processes, ports = stack.enter_context(replicas(
            [_replica_env(tmp, n, sim.base_url, url, front, extra) for n in range(3)]))
        kind = stack.enter_context(balancer(ports, front))
        yield Deployment(sim, processes, ports, front, kind, url)


async def _accept(context: Any, params: ElicitRequestParams) -> ElicitResult:
    return ElicitResult(action="accept", content={"confirm": True})


def _ok(result: Any, what: str) -> dict[str, Any]:
    assert not result.is_error, (what, result.content[0].text if result.content else result)
    structured: dict[str, Any] = result.structured_content
    return structured


async def _one_client(url: str, n: int) -> int:
    """Ten calls of the typical mix; every one must succeed. Returns the calls made."""
    async with Client(url, elicitation_callback=_accept) as client:
        made = _ok(await client.call_tool("generate_and_wait", {"prompt": f"a lighthouse number {n}"}), "generate")
        parent = made["job_id"]
        assert made["status"] == "completed"
        _ok(await client.call_tool("get_job", {"job_id": parent}), "get_job")
        up = _ok(await client.call_tool("upscale", {"job_id": parent, "image_no": n % 4}), "upscale")  # confirmed
        _ok(await client.call_tool("wait_for_job", {"job_ids": [up["job_id"]]}), "wait upscale")
        vary = _ok(await client.call_tool("variation", {"job_id": parent, "image_no": 0}), "variation")
        waited = _ok(await client.call_tool("wait_for_job", {"job_ids": [vary["job_id"]]}), "wait variation")
        assert waited["all_done"]
        listed = _ok(await client.call_tool("list_jobs", {"limit": 100}), "list_jobs")
        assert parent in {job["job_id"] for job in listed["jobs"]}
        saved = _ok(await client.call_tool("save_images", {"job_id": up["job_id"]}), "save_images")
        assert saved["saved_files"]
        _ok(await client.call_tool("get_job", {"job_id": vary["job_id"]}), "get_job")
        _ok(await client.call_tool("estimate_cost", {"tool": "upscale",
                                                     "arguments": {"job_id": parent, "image_no": 1}}), "estimate")
    return 10


async def _jobs_in_store(url: str) -> int:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        row = await (await conn.execute("SELECT count(*) FROM jobs")).fetchone()
    assert row is not None
    return int(row[0])


async def test_three_replicas_behind_a_balancer_behave_as_one_server(tmp_path: Path, pg_url: str) -> None:
    with deployment(tmp_path, pg_url) as team:
        stats, engine = team.sim.app.stats, team.sim.app.engine

        # 300 calls from 30 concurrent clients, round robin over the replicas
        calls: list[int] = []

        async def run(n: int) -> None:
            calls.append(await _one_client(team.mcp(), n))

        with anyio.fail_after(240):
            async with anyio.create_task_group() as group:
                for n in range(CLIENTS):
                    group.start_soon(run, n)
        assert sum(calls) == 300
        posts = stats.count("POST", "/api/v1/")
        assert posts == len(engine.jobs) == CLIENTS * 3  # one POST per job
        assert stats.max_identical_submissions() == 1
        assert await _jobs_in_store(pg_url) == len(engine.jobs)  # every job in the store

        # a job made through replica 1 is waited on through replica 2
        async with Client(team.mcp(team.ports[0])) as first, Client(team.mcp(team.ports[1])) as second:
            made = _ok(await first.call_tool("imagine", {"prompt": "a job that crosses replicas"}), "imagine")
            waited = _ok(await second.call_tool("wait_for_job", {"job_ids": [made["job_id"]]}), "wait elsewhere")
            assert waited["jobs"][0]["status"] == "completed"

        # kill -9 of a replica in the middle of a submit: the intent was recorded first, and another replica
        # lists it as uncertain at once
        engine.faults.add(Fault("slow", method="POST", path_prefix="/api/v1/diffusion", delay_s=60,
                                after_handling=True))
        before = stats.count("POST", "/api/v1/diffusion")

        async def doomed() -> None:
            async with Client(team.mcp(team.ports[2])) as third:
                await third.call_tool("imagine", {"prompt": "killed mid-submit"})

        async with anyio.create_task_group() as group:
            group.start_soon(doomed)
            with anyio.fail_after(30):
                while stats.count("POST", "/api/v1/diffusion") == before:  # noqa: ASYNC110 - counted in the simulator's thread
                    await anyio.sleep(0.02)
            team.replicas[2].send_signal(signal.SIGKILL)
            team.replicas[2].wait(timeout=10)
            group.cancel_scope.cancel()
        async with Client(team.mcp(team.ports[0])) as survivor:
            listed = _ok(await survivor.call_tool("list_jobs", {}), "list_jobs after the kill")
        unsure = [u for u in listed.get("uncertain", []) if u.get("prompt") == "killed mid-submit"]
        assert len(unsure) == 1 and unsure[0]["state"] == "uncertain"
        made_by_sim = [job for job in engine.jobs.values() if "killed mid-submit" in str(job.body)]
        assert len(made_by_sim) == 1  # the job exists, and the ledger keeps it as uncertain: nothing lost

        # a budget with room for N jobs lets exactly N through, across the replicas that are left
        ledger = PostgresLedger(pg_url)
        await ledger.open()
        try:
            room = (CAP - await ledger.spent("legnext", time.time() - 24 * 3600)) // 80
        finally:
            await ledger.close()
        assert room >= 3
        outcomes: list[bool] = []

        async def try_one(n: int) -> None:
            async with Client(team.mcp(team.ports[n % 2])) as client:
                result = await client.call_tool("imagine", {"prompt": f"budget race {n}"})
                text = text_of(result)
                assert not result.is_error or "Refused by the daily budget" in text, text
                outcomes.append(not result.is_error)

        jobs_before = len(engine.jobs)
        async with anyio.create_task_group() as group:
            for n in range(room + 7):
                group.start_soon(try_one, n)
        assert sum(outcomes) == room and len(engine.jobs) - jobs_before == room


async def test_legacy_clients_go_round_robin_on_stateless_replicas(tmp_path: Path, pg_url: str) -> None:
    # 2025-era clients keep a session in one process; with LEGNEXT_HTTP_STATELESS=1 every request stands alone,
    # so any replica answers. What it gives up: no question reaches the client (the job goes ahead with a note).
    with deployment(tmp_path, pg_url, LEGNEXT_HTTP_STATELESS="1") as team:
        async with Client(team.mcp(), mode="legacy", elicitation_callback=_accept) as client:
            made = _ok(await client.call_tool("generate_and_wait", {"prompt": "a legacy client"}), "generate")
            up = _ok(await client.call_tool("upscale", {"job_id": made["job_id"], "image_no": 0}), "upscale")
            assert any("cannot ask the user" in note for note in up["notes"])
            listed = _ok(await client.call_tool("list_jobs", {}), "list_jobs")
            assert {made["job_id"], up["job_id"]} <= {job["job_id"] for job in listed["jobs"]}


async def test_teammates_reach_the_replicas_by_the_public_name_behind_the_balancer(tmp_path: Path,
                                                                                   pg_url: str) -> None:
    # Through a balancer the Host header is the name users typed: LEGNEXT_PUBLIC_URL's host is accepted by every
    # replica without listing it again; any other name is still refused (DNS rebinding).
    with deployment(tmp_path, pg_url, LEGNEXT_PUBLIC_URL="https://mcp.team.example") as team:
        hello = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
        headers = {"accept": "application/json, text/event-stream"}
        async with httpx2.AsyncClient() as http:
            answers = [(await http.post(team.mcp(), json=hello, headers={**headers, "host": "mcp.team.example"}))
                       .status_code for _ in range(3)]  # round robin: each replica once
            other = await http.post(team.mcp(), json=hello, headers={**headers, "host": "evil.example"})
        assert answers == [200, 200, 200]
        assert other.status_code == 421
