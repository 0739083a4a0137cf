"""The ledger on its own: intents before requests, submissions, uncertain sends, snapshots that never move a
finished job back, the budget exact under concurrency, migrations and refusals."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from legnext_mcp.core.errors import BudgetExceededError, LedgerError
from legnext_mcp.core.job import Job, JobStatus
from legnext_mcp.ledger import SCHEMA_VERSION, Ledger

pytestmark = pytest.mark.anyio
DAY = 24 * 3600


def job(job_id: str, status: str = "pending", **fields: Any) -> Job:
    return Job(dialect="legnext", job_id=job_id, task_type="diffusion", status=JobStatus(status), **fields)


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[Ledger]:
    opened = Ledger(tmp_path / "ledger.sqlite3")
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


async def reserve(ledger: Ledger, points: int | None, cap: int | None = None, prompt: str = "a fox") -> int:
    return await ledger.reserve("legnext", task_type="diffusion", prompt=prompt, parent_job_id=None,
                                request={"text": prompt}, points=points, unit="points", cap=cap,
                                since=time.time() - DAY)


async def test_an_intent_is_in_flight_until_its_answer_replaces_it(ledger: Ledger) -> None:
    intent = await reserve(ledger, 80)
    (pending,) = await ledger.intents("legnext")
    assert (pending.state, pending.points, pending.request) == ("sending", 80, {"text": "a fox"})
    await ledger.submitted(intent, job("j1", frozen=80), prompt="a fox", parent_job_id=None,
                           request={"text": "a fox"}, estimate=80)
    assert await ledger.intents("legnext") == []
    entry = await ledger.get("legnext", "j1")
    assert entry is not None and entry.prompt == "a fox" and entry.estimate == 80


async def test_a_refused_request_leaves_nothing_and_a_lost_answer_stays_uncertain(ledger: Ledger) -> None:
    await ledger.release(await reserve(ledger, 80))
    assert await ledger.intents("legnext") == []
    await ledger.uncertain(await reserve(ledger, 120), "the answer was lost")
    (unsure,) = await ledger.intents("legnext")
    assert (unsure.state, unsure.reason, unsure.points) == ("uncertain", "the answer was lost", 120)
    assert await ledger.spent("legnext", time.time() - DAY) == 120  # it may have been charged


async def test_a_finished_job_never_moves_back_to_running(ledger: Ledger) -> None:
    await ledger.record(job("j1", "completed", consumed=80, frozen=80))
    await ledger.record(job("j1", "processing"))
    entry = await ledger.get("legnext", "j1")
    assert entry is not None and entry.job.status is JobStatus.COMPLETED and entry.job.consumed == 80


async def test_the_budget_counts_consumed_reserved_and_estimated_points_and_never_failed_ones(ledger: Ledger) -> None:
    await ledger.record(job("done", "completed", consumed=80, frozen=80))
    await ledger.record(job("failed", "failed", frozen=120))
    await ledger.record(job("running", "processing", frozen=160))
    await reserve(ledger, 20)
    assert await ledger.spent("legnext", time.time() - DAY) == 80 + 160 + 20
    assert await ledger.spent("mj-proxy", time.time() - DAY) == 0  # each dialect its own


async def test_a_budget_refusal_records_nothing_and_names_the_setting(ledger: Ledger) -> None:
    await reserve(ledger, 80, cap=100)
    with pytest.raises(BudgetExceededError, match="LEGNEXT_MAX_POINTS_PER_DAY") as refused:
        await reserve(ledger, 80, cap=100)
    assert "80 of the 100 points" in refused.value.message
    assert len(await ledger.intents("legnext")) == 1


async def test_concurrent_reservations_never_pass_the_budget(tmp_path: Path) -> None:
    # Ten connections (as ten processes would have) race for room for exactly three 80-point jobs.
    ledgers = [Ledger(tmp_path / "shared.sqlite3") for _ in range(10)]
    for one in ledgers:
        await one.open()
    made: list[int] = []

    async def try_one(one: Ledger) -> None:
        with contextlib.suppress(BudgetExceededError):
            made.append(await reserve(one, 80, cap=240))

    try:
        async with anyio.create_task_group() as group:
            for one in ledgers:
                group.start_soon(try_one, one)
        assert len(made) == 3
        assert await ledgers[0].spent("legnext", time.time() - DAY) == 240
    finally:
        for one in ledgers:
            await one.close()


async def test_an_intent_left_by_a_process_that_died_shows_as_uncertain(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    first = Ledger(path)
    await first.open()
    await reserve(first, 80)
    await first.close()
    db = sqlite3.connect(path)
    db.execute("UPDATE intents SET owner = 'this-host-never-existed:1'")  # another machine's, long ago
    db.execute("UPDATE intents SET created_at = created_at - 3600")
    db.commit()
    db.close()
    second = Ledger(path)
    await second.open()
    try:
        (left,) = await second.intents("legnext")
        assert left.state == "uncertain" and "stopped" in left.reason
    finally:
        await second.close()


async def test_a_schema_1_file_is_migrated_with_nothing_lost(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    old = {"job_id": "old-1", "task_type": "diffusion", "status": "completed",
           "output": {"image_urls": ["https://cdn.example/0.png"]}, "meta": {"usage": {"frozen": 80, "consume": 80}}}
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE jobs (job_id TEXT PRIMARY KEY, task_type TEXT, status TEXT, prompt TEXT, parent_job_id TEXT,
                           request_json TEXT, job_json TEXT, recorded_at REAL, updated_at REAL);
        CREATE TABLE uncertain (id INTEGER PRIMARY KEY, task_type TEXT, prompt TEXT, request_json TEXT,
                                points INTEGER, reason TEXT, recorded_at REAL);
        PRAGMA user_version = 1;
    """)
    now = time.time()
    db.execute("INSERT INTO jobs VALUES ('old-1', 'diffusion', 'completed', 'a fox', NULL, '{}', ?, ?, ?)",
               (json.dumps(old), now, now))
    db.execute("INSERT INTO uncertain VALUES (1, 'upscale', NULL, '{}', 120, 'timed out', ?)", (now,))
    db.commit()
    db.close()
    migrated = Ledger(path, normalizers={"legnext": lambda raw: job(raw["job_id"], raw["status"],
                                                                    consumed=raw["meta"]["usage"]["consume"])})
    await migrated.open()
    try:
        entry = await migrated.get("legnext", "old-1")
        assert entry is not None and entry.prompt == "a fox" and entry.job.consumed == 80
        (unsure,) = await migrated.intents("legnext")
        assert (unsure.state, unsure.points, unsure.reason) == ("uncertain", 120, "timed out")
        assert await migrated.spent("legnext", now - DAY) == 200
    finally:
        await migrated.close()
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    check.close()


async def test_a_newer_schema_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(LedgerError, match="newer legnext-mcp") as refused:
        await Ledger(path).open()
    assert "LEGNEXT_DATA_DIR" in refused.value.message


async def test_a_write_that_fails_is_a_ledger_error_not_a_nothing_was_sent_error(ledger: Ledger) -> None:
    await ledger.record(job("j1"))
    db = sqlite3.connect(ledger.path)
    db.execute("CREATE TRIGGER no_updates BEFORE UPDATE ON jobs BEGIN SELECT RAISE(FAIL, 'disk I/O error'); END")
    db.commit()
    db.close()
    with pytest.raises(LedgerError) as failed:
        await ledger.record(job("j1", "processing"))
    assert "disk I/O error" in failed.value.message and "Nothing was sent" not in failed.value.message
    assert not failed.value.local
