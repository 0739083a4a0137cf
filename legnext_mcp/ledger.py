"""The ledger: every job this machine sent or saw, in SQLite, so nothing paid for is ever lost.

* A job's *intent* (its request and reserved price) is written **before** the request is sent, in the same
  transaction that checks the daily budget, so concurrent calls and several processes sharing the file
  cannot overspend (``BEGIN IMMEDIATE`` serialises writers across processes).
* The answer replaces the intent with the job row (keyed by ``(dialect, job_id)``: a relay's ids mean
  nothing to Legnext); a refusal deletes it; a lost answer marks it *uncertain*. An intent left
  ``sending`` by a process that died (SIGKILL, power loss) shows as uncertain after a restart.
* Every later observation updates the row, except that a finished job stays finished: an answer that
  moves a completed job back to running is not believed.
* Rows keep the normalized job and the API's raw answer; never the key (requests are stored as the wire
  body, which has no credentials).

Opening checks the file: integrity, schema version (``PRAGMA user_version``, migrated forward from
earlier versions with nothing lost, a newer one refused) and that it can be written; each failure is a
:class:`LedgerError` saying what and what to do. sqlite3 blocks, so every call runs in a worker thread
on one connection guarded by a lock.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio

from legnext_mcp.core.errors import BudgetExceededError, LedgerError
from legnext_mcp.core.job import Job

SCHEMA_VERSION = 2
#: A ``sending`` intent older than this is not in flight any more (a request is abandoned well before).
STALE_INTENT_S = 600.0

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
    PRIMARY KEY (dialect, job_id)
);
CREATE INDEX IF NOT EXISTS jobs_recorded ON jobs (recorded_at DESC);
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
    updated_at      REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""

#: What counts toward the budget: consumed when completed, nothing when failed, otherwise the most of what
#: was reserved (frozen), charged, or estimated. Intents count their reservation.
_SPENT_SQL = """
SELECT COALESCE((SELECT SUM(CASE status WHEN 'completed' THEN points_consumed WHEN 'failed' THEN 0
                            ELSE MAX(points_frozen, points_consumed, COALESCE(estimate, 0)) END)
                 FROM jobs WHERE dialect = ? AND recorded_at >= ?), 0)
     + COALESCE((SELECT SUM(COALESCE(points, 0)) FROM intents WHERE dialect = ? AND created_at >= ?), 0)
"""

T = TypeVar("T")


@dataclass(frozen=True)
class LedgerEntry:
    job: Job
    prompt: str | None
    parent_job_id: str | None
    request: dict[str, Any] | None
    estimate: int | None
    recorded_at: float
    updated_at: float


@dataclass(frozen=True)
class Intent:
    """A submission without a job id: being sent now (``in flight``), or sent without an answer we could read
    (``uncertain``: the job may exist and cost points)."""

    id: int
    dialect: str
    task_type: str
    prompt: str | None
    request: dict[str, Any]
    points: int | None
    state: str
    reason: str
    created_at: float


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_alive(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
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


class Ledger:
    """SQLite history at ``path`` (created with its folder on first use).

    ``normalizers`` turn a stored raw answer back into a job, per dialect, for rows written before jobs
    were stored normalized.
    """

    def __init__(self, path: Path, *, normalizers: Mapping[str, Callable[[dict[str, Any]], Job]] | None = None) -> None:
        self.path = path
        self.normalizers = dict(normalizers or {})
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

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
                self._migrate(db, version)
            with _transaction(db):  # proves the file can be written now, not mid-job
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('opened_at', ?)", (str(time.time()),))
            self._expire_dead_intents(db)
        except LedgerError:
            db.close()
            raise
        except sqlite3.DatabaseError as exc:
            db.close()
            problem = " ".join(str(exc).split())
            raise LedgerError(f"Cannot use {where} ({problem}). If the disk is full or the file read-only, fix that; "
                              f"if it is damaged, move it aside, {fix}.") from None
        self._db = db
        return db

    @staticmethod
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
                _create(db)
            if "uncertain" in tables:
                db.execute("""INSERT INTO intents (dialect, task_type, prompt, request_json, points, state, reason,
                                                   owner, created_at, updated_at)
                              SELECT 'legnext', task_type, prompt, request_json, points, 'uncertain', reason,
                                     'migrated', recorded_at, recorded_at FROM uncertain""")
                db.execute("DROP TABLE uncertain")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @staticmethod
    def _expire_dead_intents(db: sqlite3.Connection) -> None:
        rows = db.execute("SELECT id, owner, created_at FROM intents WHERE state = 'sending'").fetchall()
        now = time.time()
        dead = [i for i, owner, at in rows if not _owner_alive(owner) or now - at > STALE_INTENT_S]
        if dead:
            with _transaction(db):
                db.executemany("UPDATE intents SET state = 'uncertain', updated_at = ?, reason = "
                               "'the process that sent it stopped before an answer was recorded' WHERE id = ?",
                               [(now, i) for i in dead])

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
        """Open and check the database now, so a bad data folder fails at start-up, not mid-job.

        Raises:
            LedgerError: what is wrong with the file or folder, and the fix.
        """
        await self._call(lambda db: None)

    async def close(self) -> None:
        def close() -> None:
            with self._lock:
                if self._db is not None:
                    self._db.close()
                    self._db = None

        await anyio.to_thread.run_sync(close)

    # --- spending ----------------------------------------------------------------------------------

    async def reserve(self, dialect: str, *, task_type: str, prompt: str | None, parent_job_id: str | None,
                      request: dict[str, Any], points: int | None, unit: str, cap: int | None, since: float) -> int:
        """Record the intent to send a request, after checking the budget, in one transaction; its id.

        Raises:
            BudgetExceededError: ``cap`` would be passed; nothing recorded.
            LedgerError: the intent could not be written (then the request must not be sent).
        """
        now = time.time()
        body = json.dumps(request)

        def write(db: sqlite3.Connection) -> int:
            with _transaction(db):
                used = int(db.execute(_SPENT_SQL, (dialect, since, dialect, since)).fetchone()[0])
                if cap is not None and used + (points or 0) > cap:
                    raise BudgetExceededError.refused(f"{points} {unit}", used=used, cap=cap, unit=unit)
                cursor = db.execute(
                    "INSERT INTO intents (dialect, task_type, prompt, parent_job_id, request_json, points, state, "
                    "owner, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'sending', ?, ?, ?)",
                    (dialect, task_type, prompt, parent_job_id, body, points, _owner(), now, now))
                return int(cursor.lastrowid or 0)

        return await self._call(write)

    async def spent(self, dialect: str, since: float) -> int:
        """What the budget counts since ``since`` (epoch seconds), intents included."""
        return await self._call(lambda db: int(db.execute(_SPENT_SQL, (dialect, since, dialect, since)).fetchone()[0]))

    async def submitted(self, intent_id: int, job: Job, *, prompt: str | None, parent_job_id: str | None,
                        request: dict[str, Any], estimate: int | None) -> None:
        """The API answered with a job: it replaces the intent, in one transaction."""
        now = time.time()

        def write(db: sqlite3.Connection) -> None:
            with _transaction(db):
                _upsert(db, job, now, prompt=prompt, parent=parent_job_id, request=json.dumps(request),
                        estimate=estimate)
                db.execute("DELETE FROM intents WHERE id = ?", (intent_id,))

        await self._call(write)

    async def release(self, intent_id: int) -> None:
        """The API refused the request (no job was made): forget the intent."""
        await self._call(lambda db: db.execute("DELETE FROM intents WHERE id = ?", (intent_id,)))

    async def uncertain(self, intent_id: int, reason: str) -> None:
        """The request was sent but no answer could be read: the job may exist."""
        await self._call(lambda db: db.execute(
            "UPDATE intents SET state = 'uncertain', reason = ?, updated_at = ? WHERE id = ?",
            (reason[:500], time.time(), intent_id)))

    # --- observing ---------------------------------------------------------------------------------

    async def record(self, job: Job) -> None:
        """Insert or update a job seen on the API (a finished job stays finished)."""
        now = time.time()

        def write(db: sqlite3.Connection) -> None:
            with _transaction(db):
                _upsert(db, job, now)

        await self._call(write)

    async def get(self, dialect: str, job_id: str) -> LedgerEntry | None:
        rows = await self._call(lambda db: db.execute(
            f"SELECT {_ENTRY} FROM jobs WHERE dialect = ? AND job_id = ?", (dialect, job_id)).fetchall())  # noqa: S608
        return self._entry(rows[0]) if rows else None

    async def recent(self, dialect: str, *, status: str | None = None, task_type: str | None = None,
                     limit: int = 20) -> list[LedgerEntry]:
        """Newest first, optionally filtered by status and task type (either spelling)."""
        kind = task_type.replace("_", "-") if task_type else None
        rows = await self._call(lambda db: db.execute(
            f"SELECT {_ENTRY} FROM jobs WHERE dialect = ? AND (? IS NULL OR status = ?) "  # noqa: S608
            "AND (? IS NULL OR task_type = ?) ORDER BY recorded_at DESC LIMIT ?",
            (dialect, status, status, kind, kind, limit)).fetchall())
        return [self._entry(row) for row in rows]

    async def intents(self, dialect: str, *, task_type: str | None = None, limit: int = 100) -> list[Intent]:
        """Submissions without a job id, newest first: in flight now, or uncertain."""
        kind = task_type.replace("_", "-") if task_type else None

        def read(db: sqlite3.Connection) -> list[Intent]:
            self._expire_dead_intents(db)
            rows = db.execute(
                "SELECT id, dialect, task_type, prompt, request_json, points, state, reason, created_at FROM intents "
                "WHERE dialect = ? AND (? IS NULL OR task_type = ?) ORDER BY created_at DESC LIMIT ?",
                (dialect, kind, kind, limit)).fetchall()
            return [Intent(id=i, dialect=d, task_type=t, prompt=p, request=json.loads(r), points=n, state=s,
                           reason=why or "", created_at=at) for i, d, t, p, r, n, s, why, at in rows]

        return await self._call(read)

    async def ids(self, dialect: str, prefix: str = "", limit: int = 20) -> list[str]:
        """Job ids starting with ``prefix``, newest first (argument completion)."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = await self._call(lambda db: db.execute(
            "SELECT job_id FROM jobs WHERE dialect = ? AND job_id LIKE ? ESCAPE '\\' ORDER BY recorded_at DESC "
            "LIMIT ?", (dialect, escaped + "%", limit)).fetchall())
        return [row[0] for row in rows]

    def _entry(self, row: tuple[Any, ...]) -> LedgerEntry:
        dialect, job_json, raw_json, prompt, parent, request_json, estimate, recorded_at, updated_at = row
        raw = json.loads(raw_json) if raw_json else {}
        if job_json:
            job = Job.model_validate_json(job_json).model_copy(update={"raw": raw})
        else:
            job = self.normalizers[dialect](raw)
        return LedgerEntry(job=job, prompt=prompt, parent_job_id=parent,
                           request=json.loads(request_json) if request_json else None, estimate=estimate,
                           recorded_at=recorded_at, updated_at=updated_at)


_ENTRY = "dialect, job_json, raw_json, prompt, parent_job_id, request_json, estimate, recorded_at, updated_at"


def _upsert(db: sqlite3.Connection, job: Job, now: float, *, prompt: str | None = None, parent: str | None = None,
            request: str | None = None, estimate: int | None = None) -> None:
    db.execute(
        """INSERT INTO jobs (dialect, job_id, task_type, status, prompt, parent_job_id, request_json, job_json,
                             raw_json, points_frozen, points_consumed, estimate, recorded_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (dialect, job_id) DO UPDATE SET
               status = excluded.status, job_json = excluded.job_json, raw_json = excluded.raw_json,
               points_frozen = excluded.points_frozen, points_consumed = excluded.points_consumed,
               updated_at = excluded.updated_at,
               task_type = CASE WHEN excluded.task_type = 'unknown' THEN jobs.task_type ELSE excluded.task_type END,
               prompt = COALESCE(jobs.prompt, excluded.prompt),
               parent_job_id = COALESCE(jobs.parent_job_id, excluded.parent_job_id),
               request_json = COALESCE(jobs.request_json, excluded.request_json),
               estimate = COALESCE(jobs.estimate, excluded.estimate)
           WHERE jobs.status NOT IN ('completed', 'failed')""",
        (job.dialect, job.job_id, job.task_type, job.status.value, prompt, parent, request, job.model_dump_json(),
         json.dumps(job.raw), job.frozen, job.consumed, estimate, now, now))


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
