"""One poller per process: every wait registers its jobs here, and one loop looks at each job on its own
schedule, wakes every wait on that job with each new snapshot, and records a snapshot only when something a user
can see changed (one transaction per round).

Why one loop: a thousand waits that each poll on the same schedule send their reads in bursts and queue on the
event loop; here reads are spread by jitter, batched (one request for the jobs due together where the API has a
batch read, the relay's list-by-condition), and a job several calls wait on is read once.

A callback is news, never a fact: it makes its job due at once (``poke``), the read says what happened, and
several pokes before the read cost that one read. After such a read is recorded, the other processes on the
ledger are told (``announce``); one that waits on the job takes the snapshot from the ledger (``heard``), not
from the API, so a job costs one read whichever replica the API calls back.

A read uses the key of a call waiting on the job (per-user keys, LEGNEXT_USER_KEYS=header), held in memory only
while someone waits, never written anywhere.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio

from legnext_mcp.core import policy
from legnext_mcp.core.errors import LegnextError, ServerError
from legnext_mcp.core.job import Job
from legnext_mcp.core.waiting import age_of
from legnext_mcp.dialects.base import Dialect
from legnext_mcp.http.request_key import REQUEST_KEY

log = logging.getLogger("legnext_mcp.poller")

#: Jobs due within this many API seconds of the soonest are read with it (one batch, not a burst of rounds).
BATCH_WINDOW_S = 1.0
#: Each delay is stretched or shrunk by up to this share, so waits that start together spread their reads.
JITTER = 0.1
#: How many finished jobs' last percent the poller remembers (so a bar never goes back across calls).
REMEMBERED = 10_000

Recorder = Callable[[list[Job]], Awaitable[None]]
#: The latest recorded snapshots of jobs (from the ledger), for news another process had.
Recaller = Callable[[list[str]], Awaitable[list[Job]]]
#: Tells the other processes that these jobs' news has been read and recorded.
Announcer = Callable[[list[str]], Awaitable[None]]


@dataclass(eq=False)
class _Entry:
    job: Job
    prompt: str | None
    polls: int
    due: float  # monotonic real seconds
    age: float  # API seconds old when first registered
    registered: float
    waiters: set[_Watch] = field(default_factory=set)
    error: LegnextError | None = None


@dataclass(eq=False)
class _Watch:
    """One wait's view: the latest snapshot of each of its jobs, and a flag set when any of them changed."""

    job_ids: list[str]
    changed: anyio.Event = field(default_factory=anyio.Event)
    key: str | None = None


class Poller:
    """The process's poller for one dialect. ``record`` writes snapshots that changed; ``callbacks`` slows the
    fallback schedule when the API will call back; ``recall`` and ``announce`` share news with other processes."""

    def __init__(self, dialect: Dialect[Any], record: Recorder, *, callbacks: bool = False,
                 recall: Recaller | None = None, announce: Announcer | None = None,
                 rng: random.Random | None = None) -> None:
        self.dialect = dialect
        self.clock = dialect.clock
        self.record = record
        self.callbacks = callbacks
        self.recall = recall
        self.announce = announce
        self.rng = rng or random.Random()
        self._entries: dict[str, _Entry] = {}
        self._wake = anyio.Event()
        self._refresh: set[str] = set()  # news of jobs nobody here waits on: read and record them
        self._told: set[str] = set()  # poked: announce once read
        self._heard: set[str] = set()  # another process read and recorded them: take the ledger's snapshot
        self._percent: dict[str, float] = {}
        self.reads = 0  # jobs read (each job of a batch counts once): benchmarks and tests look at it
        #: Told of every job whose visible state changed, once it is recorded (the server publishes
        #: resource updates for ``legnext://jobs/{id}``); a listener that fails is logged, never the poller's end.
        self.listeners: list[Callable[[list[Job]], Awaitable[None]]] = []

    # --- what waits use -----------------------------------------------------------------------------

    @contextmanager
    def watching(self, jobs: list[Job], prompts: dict[str, str | None]) -> Iterator[_Watch]:
        """Register ``jobs`` for the duration of a wait."""
        watch = _Watch([job.job_id for job in jobs], key=REQUEST_KEY.get())
        now = self.clock.monotonic()
        for job in jobs:
            entry = self._entries.get(job.job_id)
            if entry is None:
                age = age_of(self.clock, job.created_at)
                entry = _Entry(job=job, prompt=prompts.get(job.job_id), polls=0, due=0.0, age=age, registered=now)
                entry.due = self._next(entry, now)
                self._entries[job.job_id] = entry
            entry.waiters.add(watch)
        self._wake.set()
        try:
            yield watch
        finally:
            for job_id in watch.job_ids:
                entry = self._entries.get(job_id)
                if entry is not None:
                    entry.waiters.discard(watch)
                    if not entry.waiters:
                        del self._entries[job_id]

    def latest(self, watch: _Watch) -> tuple[list[Job], dict[str, LegnextError]]:
        entries = [self._entries[job_id] for job_id in watch.job_ids]
        return [e.job for e in entries], {e.job.job_id: e.error for e in entries if e.error is not None}

    def snapshot(self, job_id: str) -> Job | None:
        """The latest snapshot of a job some wait is waiting on now (no need to read it again), or None."""
        entry = self._entries.get(job_id)
        return entry.job if entry is not None and entry.error is None else None

    def watched(self) -> list[str]:
        """The jobs some wait is waiting on now."""
        return list(self._entries)

    def poke(self, job_id: str) -> None:
        """News of a job (a callback): read it now, and record what the read says, whether or not anyone waits.
        The news itself is never believed: only the read is."""
        entry = self._entries.get(job_id)
        if entry is not None:
            if entry.job.is_terminal:
                return
            entry.due = self.clock.monotonic()
        else:
            self._refresh.add(job_id)
        self._told.add(job_id)
        self._wake.set()

    def heard(self, job_id: str) -> None:
        """Another process read news of a job and recorded it: a wait here takes it from the ledger."""
        entry = self._entries.get(job_id)
        if entry is not None and not entry.job.is_terminal and self.recall is not None:
            self._heard.add(job_id)
            self._wake.set()

    def percent(self, job: Job) -> float:
        """How far along a job is, never lower than the last figure given for it (in this process): 100 once it
        ended; the API's own percent when it reports one (at most 99); otherwise its age against the end of its
        documented duration (at most 95)."""
        if job.is_terminal:
            value = 100.0
        elif job.progress is not None:
            value = float(min(max(job.progress, 0), 99))
        else:
            entry = self._entries.get(job.job_id)
            age = age_of(self.clock, job.created_at) if entry is None else entry.age + self.clock.api_seconds(
                self.clock.monotonic() - entry.registered)
            value = min(95.0, 100.0 * age / self.dialect.poll_plan(job, None).late_after_s)
        best = max(value, self._percent.get(job.job_id, 0.0))
        self._percent[job.job_id] = best
        if len(self._percent) > REMEMBERED:
            self._percent.pop(next(iter(self._percent)))
        return best

    # --- the loop -----------------------------------------------------------------------------------

    async def run(self, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        """Look at due jobs until cancelled (owned by the services' task group)."""
        task_status.started()
        while True:
            self._wake = anyio.Event()
            if self._refresh:
                await self._read_unwatched(sorted(self._refresh))
                continue
            if self._heard:
                await self._recall(sorted(self._heard))
                continue
            waiting = [e for e in self._entries.values() if not e.job.is_terminal and e.error is None]
            if not waiting:
                await self._wake.wait()
                continue
            now = self.clock.monotonic()
            soonest = min(e.due for e in waiting)
            if soonest > now:
                with anyio.move_on_after(soonest - now):
                    await self._wake.wait()
                continue
            due = [e for e in waiting if e.due <= now + self.clock.real_seconds(BATCH_WINDOW_S)]
            await self._round(due)

    async def _round(self, due: list[_Entry]) -> None:
        by_key: dict[str | None, list[_Entry]] = {}
        for entry in due:
            key = next((w.key for w in entry.waiters if w.key is not None), None)
            by_key.setdefault(key, []).append(entry)
        changed: list[Job] = []
        read: list[_Entry] = []
        for key, entries in by_key.items():
            token = REQUEST_KEY.set(key)
            try:
                found = await self.dialect.get_many([e.job.job_id for e in entries])
            except LegnextError as exc:  # the batch read failed after its retries: each job's wait ends with it
                found = [exc] * len(entries)
            except Exception as exc:  # a bug reading an answer must end these waits with a message, not the poller
                log.exception("reading %d job(s) failed", len(entries))
                found = [ServerError(f"Reading the job failed unexpectedly ({type(exc).__name__}).")] * len(entries)
            finally:
                REQUEST_KEY.reset(token)
            self.reads += len(entries)
            now = self.clock.monotonic()
            for entry, item in zip(entries, found, strict=True):
                entry.polls += 1
                if isinstance(item, LegnextError):
                    entry.error = item
                elif _visible(item) != _visible(entry.job):
                    entry.job = item
                    changed.append(item)
                else:
                    entry.job = item
                entry.due = self._next(entry, now)
                read.append(entry)
        if changed:  # recorded before any wait learns of it: a call that returns has its job's state on record
            await self.record(changed)
            await self.publish(changed)
        for entry in read:
            for watch in entry.waiters:
                watch.changed.set()
        await self._tell([entry.job.job_id for entry in read])

    async def _read_unwatched(self, job_ids: list[str]) -> None:
        self._refresh.difference_update(job_ids)
        try:
            found = await self.dialect.get_many(job_ids)
        except LegnextError as exc:
            log.info("could not read %d job(s) after news of them: %s", len(job_ids), exc.code)
            return
        self.reads += len(job_ids)
        jobs = [item for item in found if isinstance(item, Job)]
        if jobs:
            await self.record(jobs)
            await self.publish(jobs)
        await self._tell([job.job_id for job in jobs])

    async def _recall(self, job_ids: list[str]) -> None:
        self._heard.difference_update(job_ids)
        assert self.recall is not None  # heard() adds only with a recall
        try:
            jobs = await self.recall(job_ids)
        except LegnextError as exc:  # the schedule still reads it in time
            log.info("could not take %d job(s) from the ledger: %s", len(job_ids), exc.code)
            return
        changed = []
        for job in jobs:
            entry = self._entries.get(job.job_id)
            if entry is None or entry.job.is_terminal or _visible(job) == _visible(entry.job):
                continue
            entry.job = job
            changed.append(job)
            for watch in entry.waiters:
                watch.changed.set()
        await self.publish(changed)

    async def _tell(self, job_ids: list[str]) -> None:
        told = [job_id for job_id in job_ids if job_id in self._told]
        if not told:
            return
        self._told.difference_update(told)
        if self.announce is not None:
            try:
                await self.announce(told)
            except LegnextError as exc:  # the others' own schedules still read it
                log.info("could not tell other processes of %d job(s): %s", len(told), exc.code)

    async def publish(self, jobs: list[Job]) -> None:
        """Tell the listeners of ``jobs`` (recorded snapshots that may differ from what a reader had)."""
        for listener in list(self.listeners):
            try:
                await listener(jobs)
            except Exception:
                log.exception("a listener to job changes failed")

    def _next(self, entry: _Entry, now: float) -> float:
        """When to look next: the job's poll plan, counted from its age, jittered; with callbacks, the fallback."""
        elapsed = entry.age + self.clock.api_seconds(now - entry.registered)
        plan = self.dialect.poll_plan(entry.job, entry.prompt)
        delay = (policy.fallback_poll_delay if self.callbacks else policy.next_poll_delay)(plan, elapsed, entry.polls)
        delay *= self.rng.uniform(1 - JITTER, 1 + JITTER)
        return now + self.clock.real_seconds(delay)


def _visible(job: Job) -> dict[str, Any]:
    """What a user can see of a snapshot (the raw answer's changing fields, such as timestamps, do not count)."""
    return job.model_dump(exclude={"raw"})
