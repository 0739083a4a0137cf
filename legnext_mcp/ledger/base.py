"""What every ledger store offers the service (one protocol, two stores: SQLite, PostgreSQL), the records it
hands back, and the rules both apply the same way: what a job counts toward a budget, and how a window of
spending is summed in constant time.

The guarantees, whichever store: a job's *intent* (its request and reserved price) is written before the
request is sent, in the one transaction that checks every budget it falls under (the team's and the user's),
so concurrent calls, processes and replicas cannot overspend; the answer replaces the intent with the job; a
refusal deletes it; a lost answer marks it *uncertain*, and an intent whose process died shows as uncertain
to everyone else. A finished job stays finished. Rows keep the normalized job and the API's raw answer, never
a key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from legnext_mcp.core.job import Job

#: The schema both stores write (SQLite: ``PRAGMA user_version``; PostgreSQL: the ``meta`` table).
SCHEMA_VERSION = 3
#: A ``sending`` intent older than this is not in flight any more (a request is abandoned well before).
STALE_INTENT_S = 600.0
#: Spending is summed by the minute: a window is its whole minutes from the buckets plus, at its start, the
#: rows of one minute, so the sum costs the same at 100,000 jobs as at none.
BUCKET_S = 60
#: The budget scope of the whole team (every user); a user's is ``user:<id>``.
TEAM = ""
#: The user of a server with one identity (stdio, a shared token).
NOBODY = ""


def user_scope(user: str) -> str:
    return f"user:{user}"


def counted(status: str, frozen: int, consumed: int, estimate: int | None) -> int:
    """What a job counts toward a budget: a failed job nothing (failed jobs are free); a completed one its known
    price: what it consumed, else what it reserved, else our estimate (relays report neither); a running one
    the most of what it reserved, consumed or was estimated at."""
    if status == "failed":
        return 0
    if status == "completed":
        return consumed or frozen or (estimate or 0)
    return max(frozen, consumed, estimate or 0)


@dataclass(frozen=True)
class Cap:
    """A budget a reservation must fit: at most ``limit`` over the window, for the team or one user, set by
    ``setting`` (named in the refusal)."""

    limit: int
    setting: str
    per_user: bool = False


@dataclass(frozen=True)
class LedgerEntry:
    job: Job
    prompt: str | None
    parent_job_id: str | None
    request: dict[str, Any] | None
    estimate: int | None
    recorded_at: float
    updated_at: float
    user: str = NOBODY


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
    user: str = NOBODY


Normalizer = Callable[[dict[str, Any]], Job]


@dataclass(frozen=True)
class IntentSpec:
    """One request of a batch, as ``Ledger.reserve_many`` records it (the fields of ``reserve``)."""

    task_type: str
    prompt: str | None
    parent_job_id: str | None
    request: dict[str, Any]
    points: int | None
    callback_hash: str | None = None


class Ledger(Protocol):
    """A store of jobs, intents and spending (``sqlite.SqliteLedger``, ``postgres.PostgresLedger``)."""

    #: Per dialect: a stored raw answer back into a job, for rows written before jobs were stored normalized.
    normalizers: dict[str, Normalizer]

    @property
    def where(self) -> str:
        """The store, as a message may name it (a path, or a URL without its password)."""

    async def open(self) -> None:
        """Open and check the store now, so a bad one fails at start-up, not mid-job.

        Raises:
            LedgerError: what is wrong and the fix (damaged, newer schema, unreachable, read-only...).
        """

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """One trivial read (readiness). Raises LedgerError."""

    async def reserve(self, dialect: str, *, task_type: str, prompt: str | None, parent_job_id: str | None,
                      request: dict[str, Any], points: int | None, unit: str, caps: list[Cap], since: float,
                      user: str = NOBODY, callback_hash: str | None = None) -> int:
        """Record the intent to send a request, after checking every cap (in one transaction); its id.
        ``callback_hash``: the hash of the capability the request's callback URL carries (never the token).

        Raises:
            BudgetExceededError: a cap would be passed (naming its setting); nothing recorded.
            LedgerError: the intent could not be written (then the request must not be sent).
        """

    async def reserve_many(self, dialect: str, intents: list[IntentSpec], *, unit: str, caps: list[Cap],
                           since: float, user: str = NOBODY) -> list[int]:
        """Record several intents at once, all or none, after checking every cap against their sum (one
        transaction); their ids, in order.

        Raises:
            BudgetExceededError: the sum would pass a cap (naming its setting); nothing recorded.
            LedgerError: the intents could not be written (then no request may be sent).
        """

    async def submitted(self, intent_id: int, job: Job, *, prompt: str | None, parent_job_id: str | None,
                        request: dict[str, Any], estimate: int | None) -> None:
        """The API answered with a job: it replaces the intent, in one transaction."""

    async def release(self, intent_id: int) -> None:
        """The API refused the request (no job was made): forget the intent."""

    async def uncertain(self, intent_id: int, reason: str) -> None:
        """The request was sent but no answer could be read: the job may exist."""

    async def record(self, job: Job, *, user: str = NOBODY) -> None:
        """Insert or update a job seen on the API (a finished job stays finished)."""

    async def record_many(self, jobs: list[Job]) -> None:
        """Several snapshots of known jobs in one transaction (a poll round)."""

    async def get(self, dialect: str, job_id: str, *, user: str | None = None) -> LedgerEntry | None:
        """A job, or None; with ``user``, only that user's."""

    async def recent(self, dialect: str, *, status: str | None = None, task_type: str | None = None,
                     limit: int = 20, user: str | None = None) -> list[LedgerEntry]:
        """Newest first, optionally filtered by status, task type (either spelling) and user."""

    async def intents(self, dialect: str, *, task_type: str | None = None, limit: int = 100,
                      user: str | None = None) -> list[Intent]:
        """Submissions without a job id, newest first: in flight now, or uncertain."""

    async def ids(self, dialect: str, prefix: str = "", limit: int = 20, *, user: str | None = None) -> list[str]:
        """Job ids starting with ``prefix``, newest first (argument completion)."""

    async def spent(self, dialect: str, since: float, *, user: str | None = None) -> int:
        """What the budget counts since ``since`` (epoch seconds): the team's, or with ``user`` that user's."""

    async def claim_callback(self, token_hash: str) -> tuple[str, str] | None:
        """The job (dialect, id) a callback capability belongs to, while that job runs: an unknown capability, or
        one whose job has ended (its hash is dropped then), gets None. Not single-shot: a relay calls back at each
        change; a replay while the job runs costs one read, coalesced with any other news of it."""

    async def announce(self, dialect: str, job_id: str) -> None:
        """Tell every process on this ledger that there is news of a job (a callback came)."""

    def listen(self) -> AsyncIterator[tuple[str, str]]:
        """The (dialect, job id) others announce, for as long as the ledger is open (SQLite: one process, none)."""

