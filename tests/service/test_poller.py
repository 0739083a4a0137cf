"""One poller per process: many waits on one job read it once per look, a relay's jobs are read together, a
snapshot is recorded only when something a user can see changed, and a job's percent never goes back, across
calls too."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.support import poller_of, relay_harness, server_harness

pytestmark = pytest.mark.anyio


async def registered(h: Any, job_id: str) -> None:
    """Until the first wait has read the job and registered it with the poller (the ledger's reads run in worker
    threads, which ``wait_all_tasks_blocked`` counts as blocked: it cannot tell)."""
    with anyio.fail_after(30):
        while job_id not in poller_of(h.server).watched():  # noqa: ASYNC110 - the poller has no event for it
            await anyio.sleep(0.005)


async def test_ten_waits_on_one_job_share_its_reads(tmp_path: Path) -> None:
    async with server_harness(tmp_path, speed=100) as h:  # a 40 s image job takes 0.4 s: several looks
        made = await h.call("imagine", {"prompt": "a fox"})
        job_id = made.structured_content["job_id"]
        results: list[Any] = []

        async def wait() -> None:
            results.append(await h.call("wait_for_job", {"job_ids": [job_id]}))

        async with anyio.create_task_group() as group:
            group.start_soon(wait)
            await registered(h, job_id)
            assert poller_of(h.server).watched() == [job_id]
            first = h.sandbox.stats.count("GET", f"/api/v1/job/{job_id}")
            for _ in range(9):  # nine more calls on the same job read nothing of their own
                group.start_soon(wait)
        assert len(results) == 10
        assert all(r.structured_content["jobs"][0]["status"] == "completed" for r in results)
        reads = h.sandbox.stats.count("GET", f"/api/v1/job/{job_id}")
        # ten waits polling on their own would read it ten times a look; one poller reads it once a look
        assert first == 1 and 0 < reads - first < 10


async def test_a_relay_s_jobs_are_read_together(tmp_path: Path) -> None:
    async with relay_harness(tmp_path, speed=100) as relay:
        ids = [(await relay.ok("imagine", {"prompt": f"a fox {n}"}))["job_id"] for n in range(5)]
        before = relay.app.stats.count("POST")
        waited = await relay.ok("wait_for_job", {"job_ids": ids})
        assert waited["all_done"]
        lists = [json.loads(r.body)["ids"] for r in relay.app.stats.requests
                 if r.method == "POST" and r.path.endswith("/mj/task/list-by-condition")]
        assert lists and max(len(batch) for batch in lists) > 1  # one request for several jobs
        assert relay.app.stats.count("GET", "/mj-fast/mj/task/") == 0  # never one fetch per job
        assert relay.app.stats.count("POST") - before == len(lists)


async def test_a_snapshot_is_recorded_only_when_something_visible_changed(tmp_path: Path) -> None:
    async with server_harness(tmp_path, speed=20) as h:  # a 42 s image job takes 2 s: many looks while it runs
        made = await h.call("imagine", {"prompt": "a fox"})
        job_id = made.structured_content["job_id"]
        db = sqlite3.connect(h.settings.ledger_path)  # count the server's writes of the job's row, from outside
        db.execute("CREATE TABLE updates (status TEXT)")
        db.execute("CREATE TRIGGER counted AFTER UPDATE ON jobs BEGIN INSERT INTO updates VALUES (NEW.status); END")
        db.commit()
        before = h.sandbox.stats.count("GET", f"/api/v1/job/{job_id}")
        waited = await h.call("wait_for_job", {"job_ids": [job_id]})
        assert waited.structured_content["jobs"][0]["status"] == "completed"
        reads = h.sandbox.stats.count("GET", f"/api/v1/job/{job_id}") - before
        statuses = [row[0] for row in db.execute("SELECT status FROM updates")]
        db.close()
        assert statuses[-1] == "completed" and len(statuses) == len(set(statuses))  # one write per change
        assert len(statuses) < reads, (statuses, reads)


@pytest.mark.eras
async def test_progress_never_goes_back_across_calls(tmp_path: Path, mode: str) -> None:
    async with server_harness(tmp_path, mode, speed=20, soft_deadline_s=0.5) as h:  # a 40 s job: 2 s here
        first: list[float] = []
        second: list[float] = []

        async def into(values: list[float]) -> Any:
            async def collect(progress: float, total: float | None, message: str | None) -> None:
                values.append(progress)
            return collect

        handed_back = await h.call("generate_and_wait", {"prompt": "a fox"}, progress_callback=await into(first))
        assert not handed_back.structured_content["done"] and first
        job_id = handed_back.structured_content["job_id"]
        await h.call("wait_for_job", {"job_ids": [job_id], "timeout_s": 1}, progress_callback=await into(second))
        assert second and second[0] >= first[-1]
        assert first == sorted(first) and second == sorted(second)
