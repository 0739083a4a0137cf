"""The job ledger: every job id the API hands back, with its request and latest state, in SQLite.

A job is recorded before the tool that created it answers, and updated on every observation, so a host
that disconnects mid-wait loses nothing and a restarted server still knows every job. The API key is
never stored: requests are kept as the wire body, which has no credentials.

sqlite3 is blocking, so every call runs in a worker thread; one connection, guarded by a lock.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from legnext_mcp.api.models import Job, JobRequest

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id        TEXT PRIMARY KEY,
    task_type     TEXT NOT NULL,
    status        TEXT NOT NULL,
    prompt        TEXT,
    parent_job_id TEXT,
    request_json  TEXT,
    job_json      TEXT NOT NULL,
    recorded_at   REAL NOT NULL,
    updated_at    REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_recorded ON jobs (recorded_at DESC);
CREATE TABLE IF NOT EXISTS uncertain (
    id            INTEGER PRIMARY KEY,
    task_type     TEXT NOT NULL,
    prompt        TEXT,
    request_json  TEXT NOT NULL,
    reason        TEXT NOT NULL,
    points        INTEGER NOT NULL,
    recorded_at   REAL NOT NULL
);
"""


@dataclass(frozen=True)
class UncertainSubmission:
    """A job request that reached the API without an answer we could read: the job may exist (and cost
    ``points``) but its id is unknown. Kept so it is not forgotten, and counted by the daily budget."""

    task_type: str
    prompt: str | None
    request: dict[str, Any]
    reason: str
    points: int
    recorded_at: float


@dataclass(frozen=True)
class LedgerEntry:
    job: Job
    prompt: str | None
    parent_job_id: str | None
    request: dict[str, Any] | None
    recorded_at: float
    updated_at: float


def request_prompt(request: JobRequest) -> str | None:
    """The text a request carries (prompt, remix prompt or diffusion text), if any."""
    for name in ("text", "prompt", "remix_prompt"):
        value = getattr(request, name, None)
        if isinstance(value, str):
            return value
    return None


class Ledger:
    """SQLite job history at ``path`` (created with its folder on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=5000")
            db.executescript(_SCHEMA)
            self._db = db
        return self._db

    async def _call(self, fn: Any, *args: Any) -> Any:
        def locked() -> Any:
            with self._lock:
                return fn(self._connect(), *args)

        return await anyio.to_thread.run_sync(locked)

    async def open(self) -> None:
        """Create the database now, so a bad data directory fails at start-up, not mid-job."""
        await self._call(lambda db: None)

    async def close(self) -> None:
        def close() -> None:
            with self._lock:
                if self._db is not None:
                    self._db.close()
                    self._db = None

        await anyio.to_thread.run_sync(close)

    async def record(self, job: Job, request: JobRequest | None = None) -> None:
        """Insert or update a job. The request (wire body, no key) is kept from the first record."""
        now = time.time()
        body = json.dumps(request.to_wire()) if request is not None else None
        prompt = request_prompt(request) if request is not None else None
        parent = getattr(request, "job_id", None) if request is not None else None
        snapshot = job.model_dump_json(by_alias=True)

        def write(db: sqlite3.Connection) -> None:
            db.execute(
                """INSERT INTO jobs (job_id, task_type, status, prompt, parent_job_id, request_json, job_json,
                                     recorded_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(job_id) DO UPDATE SET
                       status = excluded.status, job_json = excluded.job_json, updated_at = excluded.updated_at,
                       task_type = CASE WHEN excluded.task_type = 'unknown' THEN jobs.task_type
                                        ELSE excluded.task_type END,
                       prompt = COALESCE(jobs.prompt, excluded.prompt),
                       parent_job_id = COALESCE(jobs.parent_job_id, excluded.parent_job_id),
                       request_json = COALESCE(jobs.request_json, excluded.request_json)""",
                (job.job_id, job.task_type, job.status.value, prompt, parent, body, snapshot, now, now),
            )

        await self._call(write)

    async def record_uncertain(self, request: JobRequest, reason: str, points: int) -> None:
        """Keep a submission whose outcome is unknown (see :class:`UncertainSubmission`)."""
        row = (request.task_type, request_prompt(request), json.dumps(request.to_wire()), reason, points, time.time())
        await self._call(lambda db: db.execute(
            "INSERT INTO uncertain (task_type, prompt, request_json, reason, points, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?)", row))

    async def uncertain(self, *, task_type: str | None = None, limit: int = 100) -> list[UncertainSubmission]:
        """Uncertain submissions, newest first, optionally of one task type (either spelling)."""
        kind = task_type.replace("_", "-") if task_type else None
        rows = await self._call(lambda db: db.execute(
            "SELECT task_type, prompt, request_json, reason, points, recorded_at FROM uncertain "
            "WHERE ? IS NULL OR task_type = ? ORDER BY recorded_at DESC LIMIT ?", (kind, kind, limit)).fetchall())
        return [UncertainSubmission(task_type=t, prompt=p, request=json.loads(r), reason=why, points=n,
                                    recorded_at=at) for t, p, r, why, n, at in rows]

    async def get(self, job_id: str) -> LedgerEntry | None:
        rows = await self._call(lambda db: db.execute(
            "SELECT job_json, prompt, parent_job_id, request_json, recorded_at, updated_at FROM jobs "
            "WHERE job_id = ?", (job_id,)).fetchall())
        return _entry(rows[0]) if rows else None

    async def recent(self, *, status: str | None = None, task_type: str | None = None,
                   limit: int = 20) -> list[LedgerEntry]:
        """Newest first, optionally filtered by status and task type (either spelling)."""
        where, args = [], []
        if status:
            where.append("status = ?")
            args.append(status)
        if task_type:
            where.append("task_type = ?")
            args.append(task_type.replace("_", "-"))
        # Only fixed column names are joined in; every value is a bound parameter.
        sql = ("SELECT job_json, prompt, parent_job_id, request_json, recorded_at, updated_at FROM jobs"  # noqa: S608
               + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY recorded_at DESC LIMIT ?")
        rows = await self._call(lambda db: db.execute(sql, (*args, limit)).fetchall())
        return [_entry(row) for row in rows]

    async def points_since(self, since: float) -> int:
        """Points of the jobs recorded since ``since`` (epoch seconds): consumed when finished, reserved
        while running, nothing for failed jobs, the estimate for uncertain submissions (they may have been
        charged). What the daily budget counts."""
        rows = await self._call(lambda db: db.execute(
            "SELECT job_json FROM jobs WHERE recorded_at >= ?", (since,)).fetchall())
        total = 0
        for (job_json,) in rows:
            job = Job.model_validate_json(job_json)
            usage = job.meta.usage
            if job.status.value == "failed":
                continue
            total += usage.consume if job.status.value == "completed" else max(usage.frozen, usage.consume)
        unsure = await self._call(lambda db: db.execute(
            "SELECT COALESCE(SUM(points), 0) FROM uncertain WHERE recorded_at >= ?", (since,)).fetchone()[0])
        return total + int(unsure)

    async def ids(self, prefix: str = "", limit: int = 20) -> list[str]:
        """Job ids starting with ``prefix``, newest first (for argument completion)."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = await self._call(lambda db: db.execute(
            "SELECT job_id FROM jobs WHERE job_id LIKE ? ESCAPE '\\' ORDER BY recorded_at DESC LIMIT ?",
            (escaped + "%", limit)).fetchall())
        return [row[0] for row in rows]


def _entry(row: tuple[Any, ...]) -> LedgerEntry:
    job_json, prompt, parent, request_json, recorded_at, updated_at = row
    return LedgerEntry(job=Job.model_validate_json(job_json), prompt=prompt, parent_job_id=parent,
                       request=json.loads(request_json) if request_json else None,
                       recorded_at=recorded_at, updated_at=updated_at)
