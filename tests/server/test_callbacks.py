"""Callbacks (LEGNEXT_PUBLIC_URL): news of a job is never believed; it only makes the poller read that job now.
A valid callback wakes a wait at once (its fallback polling far away), a forged or unknown one reads nothing, a
replay after the job ended reads nothing, one whose body names another job reads nothing; on a shared ledger
the replica the API calls back reads the job once and the replica that waits takes it from the ledger.

The simulator runs at real speed here, so a job runs for a minute and the server's fallback polling (with
callbacks on, its first look comes when a job of the class is late: 100 s for an image) would not look for longer
than any of these tests: only the news can end a wait.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client

from legnext_mcp.core import capabilities
from legnext_mcp.dialects.legnext.dialect import LegnextDialect
from legnext_mcp.sandbox import Engine, SandboxApp
from legnext_mcp.server import build_server
from legnext_mcp.server.edge import CALLBACK_BURST, Edge, named_job
from legnext_mcp.server.front import LegnextServer
from tests.support import harness_settings, make_client, poller_of, text_of

pytestmark = pytest.mark.anyio
PUBLIC = "http://127.0.0.1:9/team"  # nothing listens there: the simulator's own delivery fails, tests deliver


@dataclass
class Replica:
    server: LegnextServer
    client: Client


@asynccontextmanager
async def replica(tmp_path: Path, sim: SandboxApp, name: str, **overrides: Any) -> AsyncIterator[Replica]:
    settings = harness_settings(tmp_path / name, public_url=PUBLIC, soft_deadline_s=120, **overrides)
    async with make_client(sim, time_scale=1.0) as api:
        server = build_server(settings, dialect=LegnextDialect(api))
        async with Client(server) as client:
            yield Replica(server, client)


async def submitted(r: Replica, sandbox: SandboxApp) -> tuple[str, str]:
    """A running job made through ``r``, and the capability its callback URL carries."""
    made = await r.client.call_tool("imagine", {"prompt": "a lighthouse at dusk"})
    assert not made.is_error, text_of(made)
    job_id: str = made.structured_content["job_id"]
    url = sandbox.engine.jobs[job_id].callback
    assert url.startswith(f"{PUBLIC}/callbacks/")
    return job_id, url.rsplit("/", 1)[1]


async def registered(r: Replica, job_id: str) -> None:
    """Until a wait has read the job and registered it with the poller (the ledger's reads run in worker threads,
    which ``wait_all_tasks_blocked`` counts as blocked: it cannot tell)."""
    with anyio.fail_after(30):
        while job_id not in poller_of(r.server).watched():  # noqa: ASYNC110 - the poller has no event for it
            await anyio.sleep(0.005)
    await anyio.wait_all_tasks_blocked()


async def recorded(r: Replica, job_id: str) -> None:
    """Until the ledger holds the job as completed (the poller records in a worker thread)."""
    ledger = r.server._sessions[-1].ledger
    with anyio.fail_after(30):
        while (entry := await ledger.get("legnext", job_id)) is None or entry.job.status != "completed":  # noqa: ASYNC110
            await anyio.sleep(0.005)


def reads(sandbox: SandboxApp, job_id: str) -> int:
    return sandbox.stats.count("GET", f"/api/v1/job/{job_id}")


async def test_a_callback_wakes_the_wait_with_one_read(tmp_path: Path) -> None:
    sandbox = SandboxApp(Engine(time_scale=1.0, seed=4))
    async with replica(tmp_path, sandbox, "one") as r:
        job_id, token = await submitted(r, sandbox)
        results: list[Any] = []

        async def wait() -> None:
            results.append(await r.client.call_tool("wait_for_job", {"job_ids": [job_id]}))

        async with anyio.create_task_group() as group:
            group.start_soon(wait)
            await registered(r, job_id)
            before = reads(sandbox, job_id)
            sandbox.engine.clock.advance(600)  # the job is done at the API; nothing here knows yet
            await anyio.wait_all_tasks_blocked()
            assert not results and reads(sandbox, job_id) == before  # no polling would see it for a long while
            await r.server.news(token, job_id)
        assert results[0].structured_content["jobs"][0]["status"] == "completed"
        assert reads(sandbox, job_id) == before + 1


async def test_forged_unknown_and_misnamed_callbacks_read_nothing(tmp_path: Path) -> None:
    sandbox = SandboxApp(Engine(time_scale=1.0, seed=4))
    async with replica(tmp_path, sandbox, "one") as r:
        job_id, token = await submitted(r, sandbox)
        other, _ = await submitted(r, sandbox)
        before = sandbox.stats.count("GET")
        for forged in (capabilities.mint()[0], "x" * 43, "../../etc/passwd", token.upper(), "", token + "a"):
            await r.server.news(forged, None)
        await r.server.news(token, other)  # the right capability, but the body names another job
        await anyio.wait_all_tasks_blocked()
        assert sandbox.stats.count("GET") == before
        await r.server.news(token, None)  # the capability alone is enough
        await anyio.wait_all_tasks_blocked()
        assert sandbox.stats.count("GET") == before + 1 and reads(sandbox, job_id) >= 1


async def test_a_callback_for_a_job_nobody_waits_on_records_it_and_a_replay_after_it_ended_reads_nothing(
        tmp_path: Path) -> None:
    sandbox = SandboxApp(Engine(time_scale=1.0, seed=4))
    async with replica(tmp_path, sandbox, "one") as r:
        job_id, token = await submitted(r, sandbox)
        sandbox.engine.clock.advance(600)
        before = reads(sandbox, job_id)
        await r.server.news(token, job_id)
        await recorded(r, job_id)  # recorded from the read, with nobody waiting
        assert reads(sandbox, job_id) == before + 1
        for _ in range(5):  # replayed after the end: the capability died with the job
            await r.server.news(token, job_id)
        await anyio.wait_all_tasks_blocked()
        assert reads(sandbox, job_id) == before + 1
        ledger = (tmp_path / "one" / "data").rglob("*.sqlite3")
        assert not any(token.encode() in path.read_bytes() for path in ledger)  # only its hash was ever kept


async def test_the_replica_called_back_reads_once_and_wakes_the_one_that_waits(tmp_path: Path, pg_url: str) -> None:
    sandbox = SandboxApp(Engine(time_scale=1.0, seed=4))
    shared = {"database_url": pg_url, "sandbox": False, "api_key": "k"}  # (the sandbox keeps its own ledger)
    async with replica(tmp_path, sandbox, "a", **shared) as a, replica(tmp_path, sandbox, "b", **shared) as b:
        job_id, token = await submitted(a, sandbox)
        await b.client.call_tool("list_jobs", {})  # b is serving (its services and listener are up)
        results: list[Any] = []
        done = anyio.Event()

        async def wait() -> None:
            results.append(await a.client.call_tool("wait_for_job", {"job_ids": [job_id]}))
            done.set()

        async with anyio.create_task_group() as group:
            group.start_soon(wait)
            await registered(a, job_id)
            before = reads(sandbox, job_id)
            sandbox.engine.clock.advance(600)
            await b.server.news(token, None)  # the API called the other replica back
            with anyio.fail_after(120):  # a bound, not a measure: a's own fallback read would show in the count
                await done.wait()
        assert results[0].structured_content["jobs"][0]["status"] == "completed"
        assert reads(sandbox, job_id) == before + 1  # b read it; a took it from the ledger
        assert poller_of(b.server).reads == 1


async def echo(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def ready() -> None:
    return None


async def test_the_edge_answers_every_callback_alike_caps_bodies_and_limits_unknown_capabilities() -> None:
    heard: list[tuple[str, str | None]] = []

    async def news(token: str, named: str | None) -> bool:
        heard.append((token, named))
        return token.startswith("good")

    now = [100.0]
    edge = Edge(echo, ready=ready, news=news, prefixes=("", "/team"), clock=lambda: now[0])
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(edge, client=("198.51.100.7", 1)),
                                  base_url="http://t") as client:
        ok = await client.post("/team/callbacks/abc", json={"timestamp": 1, "data": {"job_id": "j1"}})
        assert (ok.status_code, ok.json()) == (200, {"status": "ok"})
        assert (await client.post("/callbacks/def", json={"id": "17", "status": "SUCCESS"})).status_code == 200
        assert (await client.post("/callbacks/ghi", content=b"not json")).status_code == 200
        assert heard == [("abc", "j1"), ("def", "17"), ("ghi", None)]
        assert (await client.get("/callbacks/abc")).status_code == 405
        assert (await client.post("/callbacks/big", content=b"x" * (64 * 1024 + 1))).status_code == 413
        assert (await client.post("/mcp")).status_code == 204  # everything else goes on
        good = [(await client.post(f"/callbacks/good{n}")).status_code for n in range(100)]
        assert good == [200] * 100  # good callbacks are never limited (jobs often end together)
        answers = [(await client.post(f"/callbacks/t{n}")).status_code for n in range(CALLBACK_BURST)]
        assert answers == [200] * 16 + [429] * 4  # 20 unknown a burst, 4 spent above (3 unknown, 1 too large)
        assert (await client.post("/callbacks/good-but-late")).status_code == 429  # the address is out of tries
        now[0] += 1.0  # a second later: 5 more tries
        answers = [(await client.post(f"/callbacks/u{n}")).status_code for n in range(6)]
        assert answers == [200] * 5 + [429]
    assert len(heard) == 3 + 100 + 16 + 5  # refused and oversized calls never reach the server


def test_a_callback_body_names_its_job_in_either_shape() -> None:
    assert named_job(b'{"timestamp": 1, "data": {"job_id": "a-b"}}') == "a-b"
    assert named_job(b'{"job_id": "a-b", "status": "completed"}') == "a-b"
    assert named_job(b'{"id": 1730000000, "status": "SUCCESS"}') == "1730000000"
    assert named_job(b'{"data": {"job_id": true}}') is None
    assert named_job(b"[1, 2]") is None and named_job(b"\xff") is None
