"""Replicas: calls per second through a balancer for 1 and 3 `legnext-mcp --transport http` replicas on one
PostgreSQL ledger (the same machine: 2 cores here, so three replicas share them), and what a job costs the
ledger in each store.

    python -m benchmarks.replicas [clients] [rounds]

PostgreSQL: LEGNEXT_BENCH_DATABASE_URL, or a throwaway cluster made the way the tests make theirs (tests/pg.py).
The balancer is haproxy (or the tests' fallback proxy where haproxy is missing: the table says which).
"""

from __future__ import annotations

import os
import secrets
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import anyio
import psycopg
from mcp import Client
from psycopg import sql

from benchmarks._common import table
from legnext_mcp.core.job import Job, JobStatus
from legnext_mcp.ledger import Ledger, SqliteLedger
from legnext_mcp.ledger.postgres import PostgresLedger
from legnext_mcp.sandbox import DEFAULT_KEY, Engine, SandboxApp
from legnext_mcp.sandbox.serve import LoopbackSandbox
from tests.pg import _Cluster, _read_state
from tests.team import balancer, free_port, replicas

SPEED = 1000.0  # jobs take tens of milliseconds: the servers, not the jobs, are measured


def _env(tmp: Path, n: int, sim: str, url: str, front: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
    env.update(LEGNEXT_API_KEY=DEFAULT_KEY, LEGNEXT_BASE_URL=sim, LEGNEXT_TIME_SCALE=str(SPEED),
               LEGNEXT_DATABASE_URL=url, LEGNEXT_DATA_DIR=str(tmp / f"r{n}"), LEGNEXT_OUTPUT_DIR=str(tmp / "out"),
               LEGNEXT_HTTP_ALLOWED_HOSTS=f"127.0.0.1:{front}", LEGNEXT_REQUEST_STATE_KEYS=secrets.token_hex(32),
               LEGNEXT_WAIT_SOFT_DEADLINE_S="60")
    return env


async def _load(url: str, clients: int, rounds: int) -> tuple[float, list[float]]:
    """``clients`` concurrent sessions, each ``rounds`` x (generate_and_wait, get_job, list_jobs); calls/s and
    the latency of each call."""
    latencies: list[float] = []

    async def one(n: int) -> None:
        async with Client(url) as client:
            for r in range(rounds):
                started = time.perf_counter()
                made = await client.call_tool("generate_and_wait", {"prompt": f"bench {n} {r}"})
                latencies.append(time.perf_counter() - started)
                assert not made.is_error, made.content
                job_id = (made.structured_content or {})["job_id"]
                for tool, arguments in (("get_job", {"job_id": job_id}), ("list_jobs", {"limit": 5})):
                    started = time.perf_counter()
                    assert not (await client.call_tool(tool, arguments)).is_error
                    latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    async with anyio.create_task_group() as group:
        for n in range(clients):
            group.start_soon(one, n)
    return len(latencies) / (time.perf_counter() - started), latencies


def _fresh_database(admin: str) -> str:
    name = f"bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return admin.rsplit("/", 1)[0] + f"/{name}"


async def _per_job(ledger: Ledger, jobs: int = 200) -> float:
    """Milliseconds of ledger time per job: reserve, submitted, and the snapshots of a typical wait."""
    await ledger.open()
    try:
        started = time.perf_counter()
        for n in range(jobs):
            intent = await ledger.reserve("legnext", task_type="diffusion", prompt="p", parent_job_id=None,
                                          request={}, points=80, unit="points", caps=[], since=time.time() - 86400)
            job = Job(dialect="legnext", job_id=f"j{n}", task_type="diffusion", status=JobStatus.PENDING, frozen=80)
            await ledger.submitted(intent, job, prompt="p", parent_job_id=None, request={}, estimate=80)
            for status in ("processing", "completed"):
                await ledger.record(job.model_copy(update={"status": JobStatus(status), "consumed": 80}))
        return (time.perf_counter() - started) * 1000 / jobs
    finally:
        await ledger.close()


async def main(clients: int = 12, rounds: int = 5) -> str:
    with ExitStack() as stack:
        admin = os.environ.get("LEGNEXT_BENCH_DATABASE_URL")
        if admin is None:
            cluster = _Cluster()
            stack.callback(cluster.stop)
            cluster.start()
            admin = _read_state(cluster.state_file).dsn
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="legnext-bench-")))
        sim = stack.enter_context(LoopbackSandbox(SandboxApp(Engine(keys={DEFAULT_KEY: 10**8}, time_scale=SPEED))))
        rows = []
        results: dict[int, float] = {}
        for count in (1, 3):
            url = _fresh_database(admin)
            front = free_port()
            with replicas([_env(tmp, n, sim.base_url, url, front) for n in range(count)]) as (_, ports), \
                    balancer(ports, front) as kind:
                await _load(f"http://127.0.0.1:{front}/mcp", 2, 1)  # warm up every replica's first call
                rate, latencies = await _load(f"http://127.0.0.1:{front}/mcp", clients, rounds)
            results[count] = rate
            latencies.sort()
            rows.append([f"{count} replica{'s' if count > 1 else ''} ({kind})", f"{rate:.1f}",
                         f"{statistics.median(latencies) * 1000:.0f} ms",
                         f"{latencies[int(len(latencies) * 0.99) - 1] * 1000:.0f} ms"])
        rows.append(["ratio 3 / 1", f"{results[3] / results[1]:.2f}", "", ""])
        sqlite_ms = await _per_job(SqliteLedger(tmp / "bench.sqlite3"))
        postgres_ms = await _per_job(PostgresLedger(_fresh_database(admin)))
    calls = table(f"Replicas: {clients} clients x {rounds} x (generate_and_wait, get_job, list_jobs) through a "
                  "balancer, simulator x1000", ["setup", "calls/s", "p50", "p99"], rows)
    store = table("Ledger time per job (reserve, submitted, 2 snapshots; 200 jobs, one process)",
                  ["store", "ms per job"], [["SQLite (data folder)", f"{sqlite_ms:.2f}"],
                                            ["PostgreSQL (loopback)", f"{postgres_ms:.2f}"]])
    return calls + "\n" + store


if __name__ == "__main__":
    clients, rounds = (int(sys.argv[1]) if len(sys.argv) > 1 else 12), (int(sys.argv[2]) if len(sys.argv) > 2 else 5)
    print(anyio.run(main, clients, rounds))
