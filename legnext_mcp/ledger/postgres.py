"""The ledger in PostgreSQL (``LEGNEXT_DATABASE_URL=postgresql://...``): one history and one budget for any
number of replicas. psycopg 3 with a connection pool; imported only when configured (the extra
``legnext-mcp[postgres]``), so a server on SQLite never loads it.

* The budget's check and the reservation are one transaction that holds a transaction-scoped advisory lock
  per budget scope (the team's, the user's), taken in a fixed order: concurrent replicas queue on the lock, not
  on the whole table, and nothing needs a retry. Without a cap there is no lock and no arithmetic.
* Each replica holds a session-level advisory lock on its own key for as long as it runs; an intent whose
  owner's lock is gone (the process died, even by SIGKILL: PostgreSQL releases the lock with the connection)
  shows as uncertain to every other replica at once.
* The schema is versioned in ``meta``; a newer one is refused with one line; a database that cannot be reached
  at start refuses the start with one line naming the URL without its password.
* Snapshots (which can be read again from the API) are committed with ``synchronous_commit = off``; intents and
  submissions wait for the disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeAlias
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from legnext_mcp.core.errors import BudgetExceededError, LedgerError
from legnext_mcp.core.job import Job
from legnext_mcp.ledger.base import (
    BUCKET_S,
    NOBODY,
    SCHEMA_VERSION,
    STALE_INTENT_S,
    TEAM,
    Cap,
    Intent,
    IntentSpec,
    LedgerEntry,
    Normalizer,
    counted,
    user_scope,
)

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)""",
    """CREATE TABLE IF NOT EXISTS jobs (
        dialect TEXT NOT NULL, job_id TEXT NOT NULL, task_type TEXT NOT NULL, status TEXT NOT NULL,
        prompt TEXT, parent_job_id TEXT, request_json TEXT, job_json TEXT, raw_json TEXT,
        points_frozen BIGINT NOT NULL DEFAULT 0, points_consumed BIGINT NOT NULL DEFAULT 0, estimate BIGINT,
        recorded_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL,
        user_id TEXT NOT NULL DEFAULT '', counted BIGINT NOT NULL DEFAULT 0, callback_hash TEXT,
        PRIMARY KEY (dialect, job_id))""",
    """CREATE INDEX IF NOT EXISTS jobs_callback ON jobs (callback_hash) WHERE callback_hash IS NOT NULL""",
    """CREATE INDEX IF NOT EXISTS jobs_recorded ON jobs (recorded_at DESC)""",
    """CREATE INDEX IF NOT EXISTS jobs_window ON jobs (dialect, recorded_at)""",
    """CREATE TABLE IF NOT EXISTS intents (
        id BIGSERIAL PRIMARY KEY, dialect TEXT NOT NULL, task_type TEXT NOT NULL, prompt TEXT,
        parent_job_id TEXT, request_json TEXT NOT NULL, points BIGINT, state TEXT NOT NULL, reason TEXT,
        owner TEXT NOT NULL, owner_key BIGINT NOT NULL, created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL, user_id TEXT NOT NULL DEFAULT '', callback_hash TEXT)""",
    """CREATE INDEX IF NOT EXISTS intents_window ON intents (dialect, created_at)""",
    """CREATE TABLE IF NOT EXISTS spend (
        dialect TEXT NOT NULL, scope TEXT NOT NULL, minute BIGINT NOT NULL, amount BIGINT NOT NULL,
        PRIMARY KEY (dialect, scope, minute))""",
]
#: Advisory lock keys are kept in [0, 2^60) so they read back unchanged from pg_locks (two unsigned halves).
_KEY_BITS = 60
#: Where replicas tell each other of news of a job (a callback reached one of them).
CHANNEL = "legnext_jobs"
#: Intents whose owner's life lock is gone (or that are stale) are uncertain now.
_EXPIRE = ("UPDATE intents SET state = 'uncertain', updated_at = %s, reason = 'the process that sent it stopped before "
           "an answer was recorded' WHERE state = 'sending' AND (created_at < %s OR owner_key NOT IN ("
           "SELECT (classid::bigint << 32) | objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted "
           "AND objsubid = 1))")


def lock_key(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) >> (256 - _KEY_BITS)


def shown(url: str) -> str:
    """The URL without its password (and without a query that could carry one)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = (f"{parts.username}@" if parts.username else "") + host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def scope_of(user: str) -> str:
    return TEAM if user == NOBODY else user_scope(user)


class PostgresLedger:
    """The ledger at ``url`` (a libpq URL); ``max_connections`` per replica."""

    def __init__(self, url: str, *, normalizers: Mapping[str, Normalizer] | None = None,
                 max_connections: int = 10, trace: Callable[[str], None] | None = None) -> None:
        self._url = url
        #: Sees every statement a transaction runs, with BEGIN and COMMIT (tests and benchmarks count them).
        self.trace = trace
        self.normalizers: dict[str, Normalizer] = dict(normalizers or {})
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.owner_key = lock_key(self.owner)
        self._pool = AsyncConnectionPool(url, min_size=1, max_size=max_connections, open=False, timeout=30,
                                         kwargs={"connect_timeout": 10})
        self._life: psycopg.AsyncConnection[TupleRow] | None = None

    def __repr__(self) -> str:
        return f"PostgresLedger({self.where!r})"

    @property
    def where(self) -> str:
        return shown(self._url)

    def _failed(self, exc: BaseException, doing: str) -> LedgerError:
        problem = " ".join(str(exc).replace(self._url, self.where).split())[:300] or type(exc).__name__
        return LedgerError(f"The ledger database {self.where} could not {doing} ({problem}).")

    # --- opening --------------------------------------------------------------------------------------

    async def open(self) -> None:
        try:
            await self._pool.open(wait=True, timeout=15)
        except (PoolTimeout, psycopg.Error) as exc:
            await self._pool.close()
            raise LedgerError(f"Cannot reach the ledger database {self.where} ({' '.join(str(exc).split())[:200]}); "
                              "check LEGNEXT_DATABASE_URL and that the server is up.") from None
        try:
            async with self._pool.connection() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key("legnext-mcp:schema"),))
                await conn.execute(_SCHEMA[0])
                row = await (await conn.execute("SELECT value FROM meta WHERE key = 'schema'")).fetchone()
                version = int(row[0]) if row else 0
                if version > SCHEMA_VERSION:
                    raise LedgerError(f"The ledger database {self.where} was written by a newer legnext-mcp "
                                      f"(schema {version}, this one knows {SCHEMA_VERSION}). Upgrade every "
                                      "replica, or point LEGNEXT_DATABASE_URL at another database.")
                if version < SCHEMA_VERSION:
                    for statement in _SCHEMA[1:]:
                        await conn.execute(statement)
                    await conn.execute("INSERT INTO meta (key, value) VALUES ('schema', %s) ON CONFLICT (key) "
                                       "DO UPDATE SET value = excluded.value", (str(SCHEMA_VERSION),))
            # This replica's life: an intent is in flight only while its owner holds this lock.
            self._life = await psycopg.AsyncConnection.connect(self._url, autocommit=True, connect_timeout=10)
            await self._life.execute("SELECT pg_advisory_lock(%s)", (self.owner_key,))
        except LedgerError:
            await self.close()
            raise
        except psycopg.Error as exc:
            await self.close()
            raise self._failed(exc, "be set up") from None

    async def close(self) -> None:
        if self._life is not None:
            await self._life.close()
            self._life = None
        await self._pool.close()

    @asynccontextmanager
    async def _tx(self, doing: str, *, durable: bool = True) -> AsyncIterator[Executes]:
        try:
            async with self._pool.connection() as conn, conn.transaction():
                session: Executes = conn if self.trace is None else _Traced(conn, self.trace)
                if self.trace is not None:
                    self.trace("BEGIN")
                if not durable:  # a snapshot: it can be read again from the API
                    await session.execute("SET LOCAL synchronous_commit = off")
                yield session
            if self.trace is not None:
                self.trace("COMMIT")
        except (LedgerError, BudgetExceededError):
            raise
        except (psycopg.Error, PoolTimeout) as exc:
            raise self._failed(exc, doing) from None

    async def ping(self) -> None:
        async with self._tx("answer") as conn:
            await conn.execute("SELECT 1")

    # --- spending ----------------------------------------------------------------------------------

    async def reserve(self, dialect: str, *, task_type: str, prompt: str | None, parent_job_id: str | None,
                      request: dict[str, Any], points: int | None, unit: str, caps: list[Cap], since: float,
                      user: str = NOBODY, callback_hash: str | None = None) -> int:
        one = IntentSpec(task_type, prompt, parent_job_id, request, points, callback_hash)
        return (await self.reserve_many(dialect, [one], unit=unit, caps=caps, since=since, user=user))[0]

    async def reserve_many(self, dialect: str, intents: list[IntentSpec], *, unit: str, caps: list[Cap],
                           since: float, user: str = NOBODY) -> list[int]:
        now = time.time()
        total = sum(i.points or 0 for i in intents)
        async with self._tx("record the intent") as conn:
            scopes = sorted({scope_of(user) if cap.per_user else TEAM for cap in caps})
            for scope in scopes:  # in a fixed order: two reservations never wait on each other's locks
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(f"budget:{dialect}:{scope}"),))
            for cap in caps:
                used = await _spent(conn, dialect, scope_of(user) if cap.per_user else TEAM, since)
                if used + total > cap.limit:
                    raise BudgetExceededError.refused(f"{total} {unit}", used=used, cap=cap.limit, unit=unit,
                                                      setting=cap.setting)
            ids = []
            for i in intents:
                row = await (await conn.execute(
                    "INSERT INTO intents (dialect, task_type, prompt, parent_job_id, request_json, points, state, "
                    "owner, owner_key, created_at, updated_at, user_id, callback_hash) VALUES (%s, %s, %s, %s, %s, "
                    "%s, 'sending', %s, %s, %s, %s, %s, %s) RETURNING id",
                    (dialect, i.task_type, i.prompt, i.parent_job_id, json.dumps(i.request), i.points, self.owner,
                     self.owner_key, now, now, user, i.callback_hash))).fetchone()
                assert row is not None
                ids.append(int(row[0]))
            await _charge(conn, dialect, user, now, total)
            return ids

    async def spent(self, dialect: str, since: float, *, user: str | None = None) -> int:
        async with self._tx("read the budget") as conn:
            return await _spent(conn, dialect, TEAM if user is None else scope_of(user), since)

    async def submitted(self, intent_id: int, job: Job, *, prompt: str | None, parent_job_id: str | None,
                        request: dict[str, Any], estimate: int | None) -> None:
        now = time.time()
        async with self._tx("record the job") as conn:
            hashed = await (await conn.execute("SELECT callback_hash FROM intents WHERE id = %s",
                                               (intent_id,))).fetchone()
            user = await _forget_intent(conn, intent_id)
            await _upsert(conn, job, now, user=user, prompt=prompt, parent=parent_job_id, request=json.dumps(request),
                          estimate=estimate)
            if hashed and hashed[0] and not job.is_terminal:
                await conn.execute("UPDATE jobs SET callback_hash = %s WHERE dialect = %s AND job_id = %s",
                                   (hashed[0], job.dialect, job.job_id))

    async def release(self, intent_id: int) -> None:
        async with self._tx("release the intent") as conn:
            await _forget_intent(conn, intent_id)

    async def claim_callback(self, token_hash: str) -> tuple[str, str] | None:
        async with self._tx("look up a callback") as conn:
            row = await (await conn.execute(
                "SELECT dialect, job_id FROM jobs WHERE callback_hash = %s AND status NOT IN ('completed', 'failed')",
                (token_hash,))).fetchone()
        return (str(row[0]), str(row[1])) if row else None

    async def announce(self, dialect: str, job_id: str) -> None:
        async with self._tx("announce news of a job") as conn:
            await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"{dialect} {job_id}"))

    async def listen(self) -> AsyncIterator[tuple[str, str]]:
        """Announcements of the other replicas (LISTEN on a connection of its own, for as long as it runs)."""
        async with await psycopg.AsyncConnection.connect(self._url, autocommit=True, connect_timeout=10) as conn:
            await conn.execute(f"LISTEN {CHANNEL}")
            async for note in conn.notifies():
                dialect, _, job_id = note.payload.partition(" ")
                yield dialect, job_id

    async def uncertain(self, intent_id: int, reason: str) -> None:
        async with self._tx("mark the intent uncertain") as conn:
            await conn.execute("UPDATE intents SET state = 'uncertain', reason = %s, updated_at = %s WHERE id = %s",
                               (reason[:500], time.time(), intent_id))

    # --- observing ---------------------------------------------------------------------------------

    async def record(self, job: Job, *, user: str = NOBODY) -> None:
        await self.record_many([job], user=user)

    async def record_many(self, jobs: list[Job], *, user: str = NOBODY) -> None:
        if not jobs:
            return
        now = time.time()
        async with self._tx("record a snapshot", durable=False) as conn:
            for job in jobs:
                await _upsert(conn, job, now, user=user)

    async def get(self, dialect: str, job_id: str, *, user: str | None = None) -> LedgerEntry | None:
        async with self._tx("read a job") as conn:
            row = await (await conn.execute(
                f"SELECT {_ENTRY} FROM jobs WHERE dialect = %s AND job_id = %s "  # noqa: S608
                "AND (%s::text IS NULL OR user_id = %s)", (dialect, job_id, user, user))).fetchone()
        return self._entry(row) if row else None

    async def recent(self, dialect: str, *, status: str | None = None, task_type: str | None = None,
                     limit: int = 20, user: str | None = None) -> list[LedgerEntry]:
        kind = task_type.replace("_", "-") if task_type else None
        async with self._tx("list jobs") as conn:
            rows = await (await conn.execute(
                f"SELECT {_ENTRY} FROM jobs WHERE dialect = %s AND (%s::text IS NULL OR status = %s) "  # noqa: S608
                "AND (%s::text IS NULL OR task_type = %s) AND (%s::text IS NULL OR user_id = %s) "
                "ORDER BY recorded_at DESC LIMIT %s",
                (dialect, status, status, kind, kind, user, user, limit))).fetchall()
        return [self._entry(row) for row in rows]

    async def intents(self, dialect: str, *, task_type: str | None = None, limit: int = 100,
                      user: str | None = None) -> list[Intent]:
        kind = task_type.replace("_", "-") if task_type else None
        now = time.time()
        async with self._tx("list intents") as conn:
            await conn.execute(_EXPIRE, (now, now - STALE_INTENT_S))
            rows = await (await conn.execute(
                "SELECT id, dialect, task_type, prompt, request_json, points, state, reason, created_at, user_id "
                "FROM intents WHERE dialect = %s AND (%s::text IS NULL OR task_type = %s) "
                "AND (%s::text IS NULL OR user_id = %s) ORDER BY created_at DESC LIMIT %s",
                (dialect, kind, kind, user, user, limit))).fetchall()
        return [Intent(id=i, dialect=d, task_type=t, prompt=p, request=json.loads(r), points=n, state=s,
                       reason=why or "", created_at=at, user=u) for i, d, t, p, r, n, s, why, at, u in rows]

    async def ids(self, dialect: str, prefix: str = "", limit: int = 20, *, user: str | None = None) -> list[str]:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        async with self._tx("complete an id") as conn:
            rows = await (await conn.execute(
                "SELECT job_id FROM jobs WHERE dialect = %s AND job_id LIKE %s ESCAPE '\\' "
                "AND (%s::text IS NULL OR user_id = %s) ORDER BY recorded_at DESC LIMIT %s",
                (dialect, escaped + "%", user, user, limit))).fetchall()
        return [row[0] for row in rows]

    def _entry(self, row: tuple[Any, ...]) -> LedgerEntry:
        dialect, job_json, raw_json, prompt, parent, request_json, estimate, recorded_at, updated_at, user = row
        raw = json.loads(raw_json) if raw_json else {}
        if job_json:
            job = Job.model_validate_json(job_json).model_copy(update={"raw": raw})
        else:
            job = self.normalizers[dialect](raw)
        return LedgerEntry(job=job, prompt=prompt, parent_job_id=parent,
                           request=json.loads(request_json) if request_json else None, estimate=estimate,
                           recorded_at=recorded_at, updated_at=updated_at, user=user)


_ENTRY = ("dialect, job_json, raw_json, prompt, parent_job_id, request_json, estimate, recorded_at, updated_at, "
          "user_id")


class Executes(Protocol):
    """What the statements need of a connection (a psycopg one, or one that reports each statement)."""

    async def execute(self, query: Any, params: Any = None) -> psycopg.AsyncCursor[TupleRow]: ...


class _Traced:
    def __init__(self, conn: psycopg.AsyncConnection[TupleRow], trace: Callable[[str], None]) -> None:
        self._conn = conn
        self._trace = trace

    async def execute(self, query: Any, params: Any = None) -> psycopg.AsyncCursor[TupleRow]:
        self._trace(str(query))
        return await self._conn.execute(query, params)


Conn: TypeAlias = Executes


async def _charge(conn: Conn, dialect: str, user: str, at: float, delta: int) -> None:
    if not delta:
        return
    minute = int(at // BUCKET_S)
    for scope in sorted({TEAM, scope_of(user)}):
        await conn.execute("INSERT INTO spend (dialect, scope, minute, amount) VALUES (%s, %s, %s, %s) "
                           "ON CONFLICT (dialect, scope, minute) DO UPDATE SET amount = spend.amount + excluded.amount",
                           (dialect, scope, minute, delta))


async def _spent(conn: Conn, dialect: str, scope: str, since: float) -> int:
    edge = int(since // BUCKET_S)
    end = (edge + 1) * BUCKET_S
    user = None if scope == TEAM else scope.removeprefix("user:")
    row = await (await conn.execute(
        "SELECT (SELECT COALESCE(SUM(amount), 0) FROM spend WHERE dialect = %s AND scope = %s AND minute > %s)"
        " + (SELECT COALESCE(SUM(counted), 0) FROM jobs WHERE dialect = %s AND recorded_at >= %s AND recorded_at < %s"
        "    AND (%s::text IS NULL OR user_id = %s))"
        " + (SELECT COALESCE(SUM(COALESCE(points, 0)), 0) FROM intents WHERE dialect = %s AND created_at >= %s"
        "    AND created_at < %s AND (%s::text IS NULL OR user_id = %s))",
        (dialect, scope, edge, dialect, since, end, user, user, dialect, since, end, user, user))).fetchone()
    return int(row[0]) if row else 0


async def _forget_intent(conn: Conn, intent_id: int) -> str:
    row = await (await conn.execute("DELETE FROM intents WHERE id = %s RETURNING dialect, points, created_at, user_id",
                                    (intent_id,))).fetchone()
    if row is None:
        return NOBODY
    dialect, points, created_at, user = row
    await _charge(conn, dialect, user, created_at, -(points or 0))
    return str(user)


async def _upsert(conn: Conn, job: Job, now: float, *, user: str, prompt: str | None = None,
                  parent: str | None = None, request: str | None = None, estimate: int | None = None) -> None:
    old = await (await conn.execute(
        "SELECT status, counted, recorded_at, user_id, estimate FROM jobs WHERE dialect = %s AND job_id = %s "
        "FOR UPDATE", (job.dialect, job.job_id))).fetchone()
    if old is not None and old[0] in ("completed", "failed"):
        return
    known_estimate = estimate if old is None or old[4] is None else old[4]
    amount = counted(job.status.value, job.frozen, job.consumed, known_estimate)
    if old is None:
        inserted = await conn.execute(
            "INSERT INTO jobs (dialect, job_id, task_type, status, prompt, parent_job_id, request_json, job_json, "
            "raw_json, points_frozen, points_consumed, estimate, recorded_at, updated_at, user_id, counted) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (dialect, job_id) DO NOTHING",
            (job.dialect, job.job_id, job.task_type, job.status.value, prompt, parent, request, job.model_dump_json(),
             json.dumps(job.raw), job.frozen, job.consumed, estimate, now, now, user, amount))
        if inserted.rowcount:  # another replica may have recorded it a moment ago: then it counted it
            await _charge(conn, job.dialect, user, now, amount)
        return
    _, before, recorded_at, owner_id, _ = old
    await conn.execute(
        """UPDATE jobs SET status = %s, job_json = %s, raw_json = %s, points_frozen = %s, points_consumed = %s,
               updated_at = %s, counted = %s,
               callback_hash = CASE WHEN %s IN ('completed', 'failed') THEN NULL ELSE callback_hash END,
               task_type = CASE WHEN %s = 'unknown' THEN task_type ELSE %s END,
               prompt = COALESCE(prompt, %s), parent_job_id = COALESCE(parent_job_id, %s),
               request_json = COALESCE(request_json, %s), estimate = COALESCE(estimate, %s)
           WHERE dialect = %s AND job_id = %s""",
        (job.status.value, job.model_dump_json(), json.dumps(job.raw), job.frozen, job.consumed, now, amount,
         job.status.value, job.task_type, job.task_type, prompt, parent, request, estimate, job.dialect, job.job_id))
    await _charge(conn, job.dialect, owner_id, recorded_at, amount - before)
