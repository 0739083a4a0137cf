"""The ledger in one SQLite file: the default, for one machine (desktop hosts, the skill, one HTTP server).

``BEGIN IMMEDIATE`` takes the write lock up front, across processes sharing the file, so a budget check and
the reservation it allows cannot interleave with another writer. An intent left ``sending`` by a process that
died (SIGKILL, power loss) shows as uncertain once its process is gone (same machine) or it is stale.

Opening checks the file: integrity, schema version (``PRAGMA user_version``, migrated forward with nothing
lost, a newer one refused) and that it can be written; each failure is a :class:`LedgerError` saying what and
what to do. sqlite3 blocks, so every call runs in a worker thread on one connection guarded by a lock.
Snapshots (which can be read again from the API) are committed without waiting for the disk
(``synchronous=NORMAL`` in WAL mode: safe from a crash of the process, not from a power cut); intents and
submissions wait for it.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import anyio

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

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    dialect         TEXT NOT NULL,
    job_id          TEXT NOT NULL,
    task_type       TEXT NOT NULL,
    status          TEXT NOT NULL,
    prompt          TEXT,
    parent_job_id   TEXT,
    request_json    TEXT,
    job_json        TEXT,
    raw_json        TEXT,
    points_frozen   INTEGER NOT NULL DEFAULT 0,
    points_consumed INTEGER NOT NULL DEFAULT 0,
    estimate        INTEGER,
    recorded_at     REAL NOT NULL,
    updated_at      REAL NOT NULL,
    user_id         TEXT NOT NULL DEFAULT '',
    counted         INTEGER NOT NULL DEFAULT 0,
    callback_hash   TEXT,
    PRIMARY KEY (dialect, job_id)
);
CREATE INDEX IF NOT EXISTS jobs_callback ON jobs (callback_hash) WHERE callback_hash IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_recorded ON jobs (recorded_at DESC);
CREATE INDEX IF NOT EXISTS jobs_window ON jobs (dialect, recorded_at);
CREATE TABLE IF NOT EXISTS intents (
    id              INTEGER PRIMARY KEY,
    dialect         TEXT NOT NULL,
    task_type       TEXT NOT NULL,
    prompt          TEXT,
    parent_job_id   TEXT,
    request_json    TEXT NOT NULL,
    points          INTEGER,
    state           TEXT NOT NULL,
    reason          TEXT,
    owner           TEXT NOT NULL,
    created_at      REAL NOT NULL,
    updated_at      REAL NOT NULL,
    user_id         TEXT NOT NULL DEFAULT '',
    callback_hash   TEXT
);
CREATE INDEX IF NOT EXISTS intents_window ON intents (dialect, created_at);
CREATE TABLE IF NOT EXISTS spend (
    dialect         TEXT NOT NULL,
    scope           TEXT NOT NULL,
    minute          INTEGER NOT NULL,
    amount          INTEGER NOT NULL,
    PRIMARY KEY (dialect, scope, minute)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""

T = TypeVar("T")


def owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_alive(who: str) -> bool:
    host, _, pid = who.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's: cannot tell, the age rule decides
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def scope_of(user: str) -> str:
    return TEAM if user == NOBODY else user_scope(user)


class SqliteLedger:
    """SQLite history at ``path`` (created with its folder on first use)."""

    def __init__(self, path: Path, *, normalizers: Mapping[str, Normalizer] | None = None,
                 trace: Callable[[str], None] | None = None) -> None:
        self.path = path
        #: Sees every statement the connection runs, BEGIN and COMMIT included (tests and benchmarks count them).
        self.trace = trace
        self.normalizers: dict[str, Normalizer] = dict(normalizers or {})
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    @property
    def where(self) -> str:
        return str(self.path)

    # --- opening --------------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._db is not None:
            return self._db
        where = f"the ledger {self.path}"
        fix = "or set LEGNEXT_DATA_DIR to another folder"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise LedgerError(f"Cannot use {self.path.parent} as the data folder: a file has that name. Move it, "
                              f"{fix}.") from None
        except OSError as exc:
            raise LedgerError(f"Cannot create the data folder {self.path.parent} ({exc.strerror}); {fix}.") from None
        try:
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise LedgerError(f"Cannot open {where} ({exc}); check its permissions, {fix}.") from None
        try:
            db.execute("PRAGMA busy_timeout=5000")
            check = db.execute("PRAGMA quick_check").fetchone()
            if not check or check[0] != "ok":
                found = " ".join(str(check[0] if check else "?").split())[:80]
                raise LedgerError(f"{where[0].upper()}{where[1:]} is damaged ({found}). "
                                  f"Move it aside (it may still be readable with sqlite3), {fix}.")
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise LedgerError(f"{where[0].upper()}{where[1:]} was written by a newer legnext-mcp (schema "
                                  f"{version}, this one knows {SCHEMA_VERSION}). Upgrade legnext-mcp, {fix}.")
            db.execute("PRAGMA journal_mode=WAL")
            if version < SCHEMA_VERSION:  # a current file needs no write here: the probe below is the one write
                _migrate(db, version)
            with _transaction(db):  # proves the file can be written now, not mid-job
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('opened_at', ?)", (str(time.time()),))
            _expire_dead_intents(db)
        except LedgerError:
            db.close()
            raise
        except sqlite3.DatabaseError as exc:
            db.close()
            problem = " ".join(str(exc).split())
            raise LedgerError(f"Cannot use {where} ({problem}). If the disk is full or the file read-only, fix that; "
                              f"if it is damaged, move it aside, {fix}.") from None
        if self.trace is not None:
            db.set_trace_callback(self.trace)
        self._db = db
        return db

    async def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def locked() -> T:
            with self._lock:
                try:
                    return fn(self._connect())
                except LedgerError:
                    raise
                except sqlite3.Error as exc:
                    raise LedgerError(f"The local history ({self.path}) could not be used: {exc}.") from None

        return await anyio.to_thread.run_sync(locked)

    async def open(self) -> None:
        await self._call(lambda db: None)

    async def close(self) -> None:
        def close() -> None:
            with self._lock:
                if self._db is not None:
                    self._db.close()
                    self._db = None

        await anyio.to_thread.run_sync(close)

    async def ping(self) -> None:
        await self._call(lambda db: db.execute("SELECT 1").fetchone())

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
        rows = [(dialect, i.task_type, i.prompt, i.parent_job_id, json.dumps(i.request), i.points, owner(), now, now,
                 user, i.callback_hash) for i in intents]

        def write(db: sqlite3.Connection) -> list[int]:
            with _transaction(db):
                for cap in caps:  # no arithmetic at all without a cap
                    used = _spent(db, dialect, scope_of(user) if cap.per_user else TEAM, since)
                    if used + total > cap.limit:
                        raise BudgetExceededError.refused(f"{total} {unit}", used=used, cap=cap.limit, unit=unit,
                                                          setting=cap.setting)
                ids = []
                for row in rows:
                    cursor = db.execute(
                        "INSERT INTO intents (dialect, task_type, prompt, parent_job_id, request_json, points, state, "
                        "owner, created_at, updated_at, user_id, callback_hash) VALUES (?, ?, ?, ?, ?, ?, 'sending', "
                        "?, ?, ?, ?, ?)", row)
                    ids.append(int(cursor.lastrowid or 0))
                _charge(db, dialect, user, now, total)
                return ids

        return await self._call(write)

    async def spent(self, dialect: str, since: float, *, user: str | None = None) -> int:
        scope = TEAM if user is None else scope_of(user)
        return await self._call(lambda db: _spent(db, dialect, scope, since))

    async def submitted(self, intent_id: int, job: Job, *, prompt: str | None, parent_job_id: str | None,
                        request: dict[str, Any], estimate: int | None) -> None:
        now = time.time()

        def write(db: sqlite3.Connection) -> None:
            with _transaction(db):
                hashed = db.execute("SELECT callback_hash FROM intents WHERE id = ?", (intent_id,)).fetchone()
                user = _forget_intent(db, intent_id)
                _upsert(db, job, now, user=user, prompt=prompt, parent=parent_job_id, request=json.dumps(request),
                        estimate=estimate)
                if hashed and hashed[0] and not job.is_terminal:
                    db.execute("UPDATE jobs SET callback_hash = ? WHERE dialect = ? AND job_id = ?",
                               (hashed[0], job.dialect, job.job_id))

        await self._call(write)

    async def release(self, intent_id: int) -> None:
        def write(db: sqlite3.Connection) -> None:
            with _transaction(db):
                _forget_intent(db, intent_id)

        await self._call(write)

    async def claim_callback(self, token_hash: str) -> tuple[str, str] | None:
        def claim(db: sqlite3.Connection) -> tuple[str, str] | None:
            row = db.execute("SELECT dialect, job_id FROM jobs WHERE callback_hash = ? AND status NOT IN "
                             "('completed', 'failed')", (token_hash,)).fetchone()
            return (str(row[0]), str(row[1])) if row else None

        return await self._call(claim)

    async def announce(self, dialect: str, job_id: str) -> None:
        return None  # one process: the caller's own poller is the only one to tell

    async def listen(self) -> AsyncIterator[tuple[str, str]]:
        await anyio.sleep_forever()
        yield ("", "")  # never reached: an async generator that never yields

    async def uncertain(self, intent_id: int, reason: str) -> None:
        await self._call(lambda db: db.execute(
            "UPDATE intents SET state = 'uncertain', reason = ?, updated_at = ? WHERE id = ?",
            (reason[:500], time.time(), intent_id)))

    # --- observing ---------------------------------------------------------------------------------

    async def record(self, job: Job, *, user: str = NOBODY) -> None:
        await self.record_many([job], user=user)

    async def record_many(self, jobs: list[Job], *, user: str = NOBODY) -> None:
        if not jobs:
            return
        now = time.time()

        def write(db: sqlite3.Connection) -> None:
            db.execute("PRAGMA synchronous=NORMAL")  # a snapshot can be read again from the API
            try:
                with _transaction(db):
                    for job in jobs:
                        _upsert(db, job, now, user=user)
            finally:
                db.execute("PRAGMA synchronous=FULL")

        await self._call(write)

    async def get(self, dialect: str, job_id: str, *, user: str | None = None) -> LedgerEntry | None:
        rows = await self._call(lambda db: db.execute(
            f"SELECT {_ENTRY} FROM jobs WHERE dialect = ? AND job_id = ? "  # noqa: S608
            "AND (? IS NULL OR user_id = ?)", (dialect, job_id, user, user)).fetchall())
        return self._entry(rows[0]) if rows else None

    async def recent(self, dialect: str, *, status: str | None = None, task_type: str | None = None,
                     limit: int = 20, user: str | None = None) -> list[LedgerEntry]:
        kind = task_type.replace("_", "-") if task_type else None
        rows = await self._call(lambda db: db.execute(
            f"SELECT {_ENTRY} FROM jobs WHERE dialect = ? AND (? IS NULL OR status = ?) "  # noqa: S608
            "AND (? IS NULL OR task_type = ?) AND (? IS NULL OR user_id = ?) ORDER BY recorded_at DESC LIMIT ?",
            (dialect, status, status, kind, kind, user, user, limit)).fetchall())
        return [self._entry(row) for row in rows]

    async def intents(self, dialect: str, *, task_type: str | None = None, limit: int = 100,
                      user: str | None = None) -> list[Intent]:
        kind = task_type.replace("_", "-") if task_type else None

        def read(db: sqlite3.Connection) -> list[Intent]:
            _expire_dead_intents(db)
            rows = db.execute(
                "SELECT id, dialect, task_type, prompt, request_json, points, state, reason, created_at, user_id "
                "FROM intents WHERE dialect = ? AND (? IS NULL OR task_type = ?) AND (? IS NULL OR user_id = ?) "
                "ORDER BY created_at DESC LIMIT ?", (dialect, kind, kind, user, user, limit)).fetchall()
            return [Intent(id=i, dialect=d, task_type=t, prompt=p, request=json.loads(r), points=n, state=s,
                           reason=why or "", created_at=at, user=u) for i, d, t, p, r, n, s, why, at, u in rows]

        return await self._call(read)

    async def ids(self, dialect: str, prefix: str = "", limit: int = 20, *, user: str | None = None) -> list[str]:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = await self._call(lambda db: db.execute(
            "SELECT job_id FROM jobs WHERE dialect = ? AND job_id LIKE ? ESCAPE '\\' AND (? IS NULL OR user_id = ?) "
            "ORDER BY recorded_at DESC LIMIT ?", (dialect, escaped + "%", user, user, limit)).fetchall())
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


def _charge(db: sqlite3.Connection, dialect: str, user: str, at: float, delta: int) -> None:
    """Move ``delta`` points into the minute of ``at``, for the team and (when it is one) the user."""
    if not delta:
        return
    minute = int(at // BUCKET_S)
    for scope in {TEAM, scope_of(user)}:
        db.execute("INSERT INTO spend (dialect, scope, minute, amount) VALUES (?, ?, ?, ?) "
                   "ON CONFLICT (dialect, scope, minute) DO UPDATE SET amount = amount + excluded.amount",
                   (dialect, scope, minute, delta))


def _spent(db: sqlite3.Connection, dialect: str, scope: str, since: float) -> int:
    """The window's whole minutes from the buckets, and the rows of its first, partial minute."""
    edge = int(since // BUCKET_S)
    end = (edge + 1) * BUCKET_S
    user = None if scope == TEAM else scope.removeprefix("user:")
    whole = db.execute("SELECT COALESCE(SUM(amount), 0) FROM spend WHERE dialect = ? AND scope = ? AND minute > ?",
                       (dialect, scope, edge)).fetchone()[0]
    jobs = db.execute("SELECT COALESCE(SUM(counted), 0) FROM jobs WHERE dialect = ? AND recorded_at >= ? "
                      "AND recorded_at < ? AND (? IS NULL OR user_id = ?)",
                      (dialect, since, end, user, user)).fetchone()[0]
    intents = db.execute("SELECT COALESCE(SUM(COALESCE(points, 0)), 0) FROM intents WHERE dialect = ? "
                         "AND created_at >= ? AND created_at < ? AND (? IS NULL OR user_id = ?)",
                         (dialect, since, end, user, user)).fetchone()[0]
    return int(whole) + int(jobs) + int(intents)


def _forget_intent(db: sqlite3.Connection, intent_id: int) -> str:
    """Delete an intent and take its reservation back out of the budget; its user."""
    row = db.execute("SELECT dialect, points, created_at, user_id FROM intents WHERE id = ?", (intent_id,)).fetchone()
    if row is None:
        return NOBODY
    dialect, points, created_at, user = row
    db.execute("DELETE FROM intents WHERE id = ?", (intent_id,))
    _charge(db, dialect, user, created_at, -(points or 0))
    return str(user)


def _upsert(db: sqlite3.Connection, job: Job, now: float, *, user: str, prompt: str | None = None,
            parent: str | None = None, request: str | None = None, estimate: int | None = None) -> None:
    """Insert a job, or update a running one (a finished job stays finished), keeping its budget count."""
    old = db.execute("SELECT status, counted, recorded_at, user_id, estimate FROM jobs WHERE dialect = ? "
                     "AND job_id = ?", (job.dialect, job.job_id)).fetchone()
    if old is not None and old[0] in ("completed", "failed"):
        return
    known_estimate = estimate if old is None or old[4] is None else old[4]
    amount = counted(job.status.value, job.frozen, job.consumed, known_estimate)
    if old is None:
        db.execute(
            "INSERT INTO jobs (dialect, job_id, task_type, status, prompt, parent_job_id, request_json, job_json, "
            "raw_json, points_frozen, points_consumed, estimate, recorded_at, updated_at, user_id, counted) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (job.dialect, job.job_id, job.task_type, job.status.value, prompt, parent, request, job.model_dump_json(),
             json.dumps(job.raw), job.frozen, job.consumed, estimate, now, now, user, amount))
        _charge(db, job.dialect, user, now, amount)
        return
    _, before, recorded_at, owner_id, _ = old
    db.execute(
        """UPDATE jobs SET status = ?, job_json = ?, raw_json = ?, points_frozen = ?, points_consumed = ?,
               updated_at = ?, counted = ?,
               callback_hash = CASE WHEN ? IN ('completed', 'failed') THEN NULL ELSE callback_hash END,
               task_type = CASE WHEN ? = 'unknown' THEN task_type ELSE ? END,
               prompt = COALESCE(prompt, ?), parent_job_id = COALESCE(parent_job_id, ?),
               request_json = COALESCE(request_json, ?), estimate = COALESCE(estimate, ?)
           WHERE dialect = ? AND job_id = ?""",
        (job.status.value, job.model_dump_json(), json.dumps(job.raw), job.frozen, job.consumed, now, amount,
         job.status.value, job.task_type, job.task_type, prompt, parent, request, estimate, job.dialect, job.job_id))
    _charge(db, job.dialect, owner_id, recorded_at, amount - before)


def _expire_dead_intents(db: sqlite3.Connection) -> None:
    rows = db.execute("SELECT id, owner, created_at FROM intents WHERE state = 'sending'").fetchall()
    now = time.time()
    dead = [i for i, who, at in rows if not _owner_alive(who) or now - at > STALE_INTENT_S]
    if dead:
        with _transaction(db):
            db.executemany("UPDATE intents SET state = 'uncertain', updated_at = ?, reason = "
                           "'the process that sent it stopped before an answer was recorded' WHERE id = ?",
                           [(now, i) for i in dead])


def _migrate(db: sqlite3.Connection, version: int) -> None:
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    with _transaction(db):
        if version < 2 and "jobs" in tables and "dialect" not in _columns(db, "jobs"):
            # Schema 1 (Legnext only, keyed by job id): keep every row, re-keyed as Legnext jobs; the old
            # snapshot becomes the raw answer, normalized again when read.
            db.execute("ALTER TABLE jobs RENAME TO jobs_v1")
            db.execute("DROP INDEX IF EXISTS jobs_recorded")
            _create(db)
            db.execute("""INSERT INTO jobs (dialect, job_id, task_type, status, prompt, parent_job_id, request_json,
                                            job_json, raw_json, points_frozen, points_consumed, recorded_at,
                                            updated_at)
                          SELECT 'legnext', job_id, task_type, status, prompt, parent_job_id, request_json, NULL,
                                 job_json, COALESCE(json_extract(job_json, '$.meta.usage.frozen'), 0),
                                 COALESCE(json_extract(job_json, '$.meta.usage.consume'), 0), recorded_at,
                                 updated_at FROM jobs_v1""")
            db.execute("DROP TABLE jobs_v1")
        else:
            if "jobs" in tables and "user_id" not in _columns(db, "jobs"):  # schema 2: who, what it counts, callbacks
                db.execute("ALTER TABLE jobs ADD COLUMN user_id TEXT NOT NULL DEFAULT ''")
                db.execute("ALTER TABLE jobs ADD COLUMN counted INTEGER NOT NULL DEFAULT 0")
                db.execute("ALTER TABLE jobs ADD COLUMN callback_hash TEXT")
            if "intents" in tables and "user_id" not in _columns(db, "intents"):
                db.execute("ALTER TABLE intents ADD COLUMN user_id TEXT NOT NULL DEFAULT ''")
                db.execute("ALTER TABLE intents ADD COLUMN callback_hash TEXT")
            _create(db)
        if "uncertain" in tables:
            db.execute("""INSERT INTO intents (dialect, task_type, prompt, request_json, points, state, reason,
                                               owner, created_at, updated_at)
                          SELECT 'legnext', task_type, prompt, request_json, points, 'uncertain', reason,
                                 'migrated', recorded_at, recorded_at FROM uncertain""")
            db.execute("DROP TABLE uncertain")
        _recount(db)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _recount(db: sqlite3.Connection) -> None:
    """Every job's budget count by the one rule, and the minute buckets rebuilt from the rows."""
    rows = db.execute("SELECT dialect, job_id, status, points_frozen, points_consumed, estimate FROM jobs").fetchall()
    db.executemany("UPDATE jobs SET counted = ? WHERE dialect = ? AND job_id = ?",
                   [(counted(status, frozen, consumed, estimate), dialect, jid)
                    for dialect, jid, status, frozen, consumed, estimate in rows])
    db.execute("DELETE FROM spend")
    for table, amount, at in (("jobs", "counted", "recorded_at"), ("intents", "COALESCE(points, 0)", "created_at")):
        db.execute(f"INSERT INTO spend (dialect, scope, minute, amount) SELECT dialect, '', "  # noqa: S608
                   f"CAST({at} / {BUCKET_S} AS INTEGER) AS m, SUM({amount}) FROM {table} GROUP BY dialect, m "
                   "ON CONFLICT (dialect, scope, minute) DO UPDATE SET amount = amount + excluded.amount")
        db.execute(f"INSERT INTO spend (dialect, scope, minute, amount) SELECT dialect, 'user:' || user_id, "  # noqa: S608
                   f"CAST({at} / {BUCKET_S} AS INTEGER) AS m, SUM({amount}) FROM {table} WHERE user_id != '' "
                   "GROUP BY dialect, user_id, m "
                   "ON CONFLICT (dialect, scope, minute) DO UPDATE SET amount = amount + excluded.amount")


def _create(db: sqlite3.Connection) -> None:
    # One statement at a time: executescript would commit the migration's transaction half-way.
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}  # a fixed table name


class _transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error): takes the write lock up front, across
    processes, so a check and the write it allows cannot interleave with another writer."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")
