"""The ledger on its own, the same suite against both stores (SQLite, PostgreSQL): intents before requests,
submissions, uncertain sends, snapshots that never move a finished job back, budgets exact under concurrency
(team and user), what a finished relay job counts, a dead owner's intent, migrations, damage and refusals."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import psycopg
import pytest

from legnext_mcp.core.errors import BudgetExceededError, LedgerError
from legnext_mcp.core.job import Job, JobStatus
from legnext_mcp.ledger import SCHEMA_VERSION, Cap, IntentSpec, Ledger, SqliteLedger
from legnext_mcp.ledger.postgres import PostgresLedger, shown

pytestmark = pytest.mark.anyio
DAY = 24 * 3600
TEAM_CAP = "LEGNEXT_MAX_POINTS_PER_DAY"
USER_CAP = "LEGNEXT_MAX_POINTS_PER_USER_PER_DAY"


def job(job_id: str, status: str = "pending", dialect: str = "legnext", **fields: Any) -> Job:
    return Job(dialect=dialect, job_id=job_id, task_type="diffusion", status=JobStatus(status), **fields)


Store = Callable[..., Ledger]


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A factory of ledgers on one store (several make the connections several processes would have)."""
    if request.param == "sqlite":
        return lambda trace=None: SqliteLedger(tmp_path / "ledger.sqlite3", trace=trace)
    url: str = request.getfixturevalue("pg_url")
    return lambda trace=None: PostgresLedger(url, trace=trace)


@pytest.fixture
async def ledger(store: Store) -> AsyncIterator[Ledger]:
    opened = store()
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


async def reserve(ledger: Ledger, points: int | None, caps: list[Cap] | None = None, *, user: str = "",
                  dialect: str = "legnext") -> int:
    return await ledger.reserve(dialect, task_type="diffusion", prompt="a fox", parent_job_id=None,
                                request={"text": "a fox"}, points=points, unit="points", caps=caps or [],
                                since=time.time() - DAY, user=user)


async def spent(ledger: Ledger, user: str | None = None, dialect: str = "legnext") -> int:
    return await ledger.spent(dialect, time.time() - DAY, user=user)


async def test_an_intent_is_in_flight_until_its_answer_replaces_it(ledger: Ledger) -> None:
    intent = await reserve(ledger, 80)
    (pending,) = await ledger.intents("legnext")
    assert (pending.state, pending.points, pending.request) == ("sending", 80, {"text": "a fox"})
    await ledger.submitted(intent, job("j1", frozen=80), prompt="a fox", parent_job_id=None,
                           request={"text": "a fox"}, estimate=80)
    assert await ledger.intents("legnext") == []
    entry = await ledger.get("legnext", "j1")
    assert entry is not None and entry.prompt == "a fox" and entry.estimate == 80
    assert await spent(ledger) == 80  # the reservation became the job's count, not a second one


async def test_a_refused_request_leaves_nothing_and_a_lost_answer_stays_uncertain(ledger: Ledger) -> None:
    await ledger.release(await reserve(ledger, 80))
    assert await ledger.intents("legnext") == [] and await spent(ledger) == 0
    await ledger.uncertain(await reserve(ledger, 120), "the answer was lost")
    (unsure,) = await ledger.intents("legnext")
    assert (unsure.state, unsure.reason, unsure.points) == ("uncertain", "the answer was lost", 120)
    assert await spent(ledger) == 120  # it may have been charged


async def test_a_finished_job_never_moves_back_to_running(ledger: Ledger) -> None:
    await ledger.record(job("j1", "completed", consumed=80, frozen=80))
    await ledger.record_many([job("j1", "processing"), job("j2", "pending", frozen=80)])
    entry = await ledger.get("legnext", "j1")
    assert entry is not None and entry.job.status is JobStatus.COMPLETED and entry.job.consumed == 80
    assert await spent(ledger) == 160


async def test_what_each_job_counts_toward_the_budget(ledger: Ledger) -> None:
    await ledger.record(job("done", "completed", consumed=80, frozen=80))
    await ledger.record(job("failed", "failed", frozen=120))
    await ledger.record(job("running", "processing", frozen=160))
    await reserve(ledger, 20)
    assert await spent(ledger) == 80 + 160 + 20
    assert await spent(ledger, dialect="mj-proxy") == 0  # each dialect its own


async def test_a_finished_relay_job_counts_at_its_known_price(ledger: Ledger) -> None:
    # A relay reports neither a reserved nor a consumed price: a completed job counts its estimate (finding 1
    # of the third hostile round: completed relay jobs counted 0, so six 50-credit jobs passed a 100 limit).
    for n in range(6):
        try:
            intent = await reserve(ledger, 50, [Cap(100, TEAM_CAP)], dialect="mj-proxy")
        except BudgetExceededError:
            continue
        await ledger.submitted(intent, job(f"r{n}", "pending", dialect="mj-proxy"), prompt="a fox",
                               parent_job_id=None, request={}, estimate=50)
        await ledger.record(job(f"r{n}", "completed", dialect="mj-proxy"))
    assert len(await ledger.recent("mj-proxy")) == 2 and await spent(ledger, dialect="mj-proxy") == 100


async def test_a_budget_refusal_records_nothing_and_names_the_setting(ledger: Ledger) -> None:
    await reserve(ledger, 80, [Cap(100, TEAM_CAP)])
    with pytest.raises(BudgetExceededError, match=TEAM_CAP) as refused:
        await reserve(ledger, 80, [Cap(100, TEAM_CAP)])
    assert "80 of the 100 points" in refused.value.message
    assert len(await ledger.intents("legnext")) == 1


async def test_each_user_has_a_budget_inside_the_team_s(ledger: Ledger) -> None:
    caps = [Cap(160, USER_CAP, per_user=True), Cap(390, TEAM_CAP)]
    for user in ("ann", "ann", "bob", "bob"):
        await reserve(ledger, 80, caps, user=user)
    with pytest.raises(BudgetExceededError, match=USER_CAP):
        await reserve(ledger, 80, caps, user="ann")  # ann's 160 are used
    with pytest.raises(BudgetExceededError, match=TEAM_CAP):
        await reserve(ledger, 80, caps, user="cy")  # cy has room, the team does not (320 + 80 > 390)
    assert (await spent(ledger, "ann"), await spent(ledger, "bob"), await spent(ledger)) == (160, 160, 320)
    assert [i.user for i in await ledger.intents("legnext", user="bob")] == ["bob", "bob"]


async def test_concurrent_reservations_never_pass_the_budget(store: Store) -> None:
    # Ten connections (as ten processes or replicas would have) race for room for exactly three 80-point jobs.
    ledgers = [store() for _ in range(10)]
    for one in ledgers:
        await one.open()
    made: list[int] = []

    async def try_one(one: Ledger) -> None:
        with contextlib.suppress(BudgetExceededError):
            made.append(await reserve(one, 80, [Cap(240, TEAM_CAP)]))

    try:
        async with anyio.create_task_group() as group:
            for one in ledgers * 2:
                group.start_soon(try_one, one)
        assert len(made) == 3
        assert await spent(ledgers[0]) == 240
    finally:
        for one in ledgers:
            await one.close()


async def test_without_a_cap_the_budget_is_not_summed(store: Store) -> None:
    # The reservation of a server without a limit costs the same whatever the history: no sum is made.
    seen: list[str] = []
    ledger = store(trace=seen.append)
    await ledger.open()
    try:
        seen.clear()
        await reserve(ledger, 80)
        assert seen and not any("SUM(" in statement for statement in seen)
        await reserve(ledger, 80, [Cap(1000, TEAM_CAP)])
        assert any("SUM(" in statement for statement in seen)
    finally:
        await ledger.close()


async def test_an_intent_left_by_a_process_that_died_shows_as_uncertain(store: Store,
                                                                       tmp_path: Path) -> None:
    # A real process opens the ledger, reserves, and is killed with SIGKILL before its answer is recorded.
    target = store()
    script = tmp_path / "reserve_and_hang.py"
    script.write_text(_DYING.format(store=_describe(target)))
    dying = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert dying.stdout is not None
    with dying.stdout:
        assert dying.stdout.readline().strip() == "reserved"
    survivor = store()
    await survivor.open()
    try:
        (alive,) = await survivor.intents("legnext")
        assert alive.state == "sending"  # its process still runs: in flight
        os.kill(dying.pid, signal.SIGKILL)
        dying.wait(timeout=30)
        (left,) = await survivor.intents("legnext")
        assert left.state == "uncertain" and "stopped" in left.reason
    finally:
        await survivor.close()


def _describe(target: Ledger) -> str:
    if isinstance(target, SqliteLedger):
        return f"SqliteLedger(Path({str(target.path)!r}))"
    assert isinstance(target, PostgresLedger)
    return f"PostgresLedger({target._url!r})"


_DYING = """
import anyio, sys, time
from pathlib import Path
from legnext_mcp.ledger.sqlite import SqliteLedger
from legnext_mcp.ledger.postgres import PostgresLedger

async def main():
    ledger = {store}
    await ledger.open()
    await ledger.reserve("legnext", task_type="diffusion", prompt="a fox", parent_job_id=None, request={{}},
                         points=80, unit="points", caps=[], since=time.time() - 86400)
    print("reserved", flush=True)
    await anyio.sleep(600)

anyio.run(main)
"""


async def test_a_newer_schema_is_refused_with_the_fix(store: Store) -> None:
    first = store()
    await first.open()
    await first.close()
    await set_schema(first, SCHEMA_VERSION + 1)
    with pytest.raises(LedgerError, match="newer legnext-mcp") as refused:
        await store().open()
    assert ("LEGNEXT_DATA_DIR" if isinstance(first, SqliteLedger) else "LEGNEXT_DATABASE_URL") in \
        refused.value.message


async def test_a_write_that_fails_is_a_ledger_error_not_a_nothing_was_sent_error(ledger: Ledger) -> None:
    await ledger.record(job("j1"))
    await break_table(ledger, "jobs", "UPDATE")
    with pytest.raises(LedgerError) as failed:
        await ledger.record(job("j1", "processing"))
    assert "disk I/O error" in failed.value.message and "Nothing was sent" not in failed.value.message
    assert not failed.value.local


async def test_an_unreachable_database_refuses_the_start_with_one_line_and_no_password() -> None:
    with socket_closed() as port:
        url = f"postgresql://legnext:s3cret-pass@127.0.0.1:{port}/legnext"
        with pytest.raises(LedgerError) as refused:
            await PostgresLedger(url).open()
    text = refused.value.message
    assert "s3cret-pass" not in text and shown(url) in text and "LEGNEXT_DATABASE_URL" in text
    assert "\n" not in text


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
    migrated = SqliteLedger(path, normalizers={"legnext": lambda raw: job(raw["job_id"], raw["status"],
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


async def test_a_schema_2_file_keeps_its_rows_and_counts_them_by_the_rule(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE jobs (dialect TEXT NOT NULL, job_id TEXT NOT NULL, task_type TEXT NOT NULL, status TEXT NOT NULL,
            prompt TEXT, parent_job_id TEXT, request_json TEXT, job_json TEXT, raw_json TEXT,
            points_frozen INTEGER NOT NULL DEFAULT 0, points_consumed INTEGER NOT NULL DEFAULT 0, estimate INTEGER,
            recorded_at REAL NOT NULL, updated_at REAL NOT NULL, PRIMARY KEY (dialect, job_id));
        CREATE TABLE intents (id INTEGER PRIMARY KEY, dialect TEXT NOT NULL, task_type TEXT NOT NULL, prompt TEXT,
            parent_job_id TEXT, request_json TEXT NOT NULL, points INTEGER, state TEXT NOT NULL, reason TEXT,
            owner TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
        PRAGMA user_version = 2;
    """)
    now = time.time()
    relay = job("r1", "completed", dialect="mj-proxy")
    db.execute("INSERT INTO jobs VALUES ('mj-proxy', 'r1', 'diffusion', 'completed', 'a fox', NULL, NULL, ?, '{}', "
               "0, 0, 50, ?, ?)", (relay.model_dump_json(), now, now))
    db.commit()
    db.close()
    migrated = SqliteLedger(path)
    await migrated.open()
    try:
        assert await migrated.spent("mj-proxy", now - DAY) == 50  # counted 0 under schema 2
        assert (await migrated.get("mj-proxy", "r1")) is not None
    finally:
        await migrated.close()


# --- breaking a store behind its back ----------------------------------------------------------------


async def break_table(ledger: Ledger, table: str, action: str) -> None:
    """Make ``action`` on ``table`` fail as a failing disk would (a trigger the store knows nothing of)."""
    if isinstance(ledger, SqliteLedger):
        db = sqlite3.connect(ledger.path)
        db.execute(f"CREATE TRIGGER broken BEFORE {action} ON {table} BEGIN SELECT RAISE(FAIL, 'disk I/O error'); END")
        db.commit()
        db.close()
        return
    assert isinstance(ledger, PostgresLedger)
    await _pg(ledger, ["CREATE FUNCTION broken() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk I/O error'; END "
                       "$$ LANGUAGE plpgsql",
                       f"CREATE TRIGGER broken BEFORE {action} ON {table} FOR EACH ROW EXECUTE FUNCTION broken()"])


async def set_schema(ledger: Ledger, version: int) -> None:
    if isinstance(ledger, SqliteLedger):
        db = sqlite3.connect(ledger.path)
        db.execute(f"PRAGMA user_version = {version}")
        db.close()
        return
    assert isinstance(ledger, PostgresLedger)
    await _pg(ledger, [f"UPDATE meta SET value = '{version}' WHERE key = 'schema'"])  # noqa: S608


async def _pg(ledger: PostgresLedger, statements: list[str]) -> None:
    async with await psycopg.AsyncConnection.connect(ledger._url, autocommit=True) as conn:
        for statement in statements:
            await conn.execute(statement)


@contextlib.contextmanager
def socket_closed() -> Iterator[int]:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    yield port


def test_a_server_on_sqlite_never_loads_psycopg(tmp_path: Path) -> None:
    # The PostgreSQL store is imported only when LEGNEXT_DATABASE_URL is set: cold start unchanged for the rest.
    code = """
import anyio, sys
from pathlib import Path
from mcp import Client
from legnext_mcp.server import build_server
from legnext_mcp.settings import Settings

async def main():
    settings = Settings(api_key="k", data_dir=Path(sys.argv[1]))
    async with Client(build_server(settings)) as client:
        await client.list_tools()
        await client.call_tool("list_jobs", {})
    print(sorted(m for m in sys.modules if m.split(".")[0] in ("psycopg", "psycopg_pool", "legnext_mcp.ledger")))
    print("postgres store" if "legnext_mcp.ledger.postgres" in sys.modules else "no postgres store")

anyio.run(main)
"""
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["[]", "no postgres store"], out.stdout + out.stderr


async def test_a_batch_is_reserved_all_or_none_against_its_sum_for_user_and_team(ledger: Ledger) -> None:
    caps = [Cap(500, "LEGNEXT_MAX_POINTS_PER_USER_PER_DAY", per_user=True), Cap(300, "LEGNEXT_MAX_POINTS_PER_DAY")]
    batch = [IntentSpec("diffusion", f"a fox {n}", None, {"n": n}, 80) for n in range(5)]
    with pytest.raises(BudgetExceededError) as refused:  # 400 > the team's 300, though the user's 500 has room
        await ledger.reserve_many("legnext", batch, unit="points", caps=caps, since=0, user="ann")
    assert "LEGNEXT_MAX_POINTS_PER_DAY" in refused.value.message and "400 points" in refused.value.message
    assert await spent(ledger) == 0 and await ledger.intents("legnext") == []  # none recorded
    ids = await ledger.reserve_many("legnext", batch[:3], unit="points", caps=caps, since=0, user="ann")
    assert len(set(ids)) == 3 and await spent(ledger) == 240 and await spent(ledger, "ann") == 240
    assert len(await ledger.intents("legnext")) == 3
    await ledger.release(ids[1])
    assert await spent(ledger) == 160
