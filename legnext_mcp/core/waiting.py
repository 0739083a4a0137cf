"""The one poll loop: look at jobs, each on its own schedule, until all end or a deadline passes.

Used by the typed Legnext client (``LegnextClient.wait``), which has no process around it; the server and the
skill wait through the process's poller (``service.poller``). Both take their schedule from ``core.policy`` and
the job-age rule from ``age_of``. The caller supplies how to read the jobs and which plan applies; the
clock turns API seconds into real ones.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from legnext_mcp.core import policy
from legnext_mcp.core.clock import Clock
from legnext_mcp.core.errors import LegnextError
from legnext_mcp.core.job import JobStatus


class Observed(Protocol):
    @property
    def job_id(self) -> str: ...

    @property
    def status(self) -> JobStatus: ...


J = TypeVar("J", bound=Observed)


async def poll_jobs(known: Sequence[J], *, read: Callable[[list[str]], Awaitable[Sequence[J | LegnextError]]],
                    plan: Callable[[J], policy.PollPlan], clock: Clock, timeout: float,
                    created_at: Callable[[J], datetime | None], looked: bool = False,
                    on_round: Callable[[list[J]], Awaitable[None]] | None = None,
                    ) -> tuple[list[J], dict[str, LegnextError]]:
    """Look at the unfinished jobs of ``known`` until every one is completed or failed, or ``timeout`` real
    seconds pass; return the latest snapshot of each (in order) and the errors of jobs that could not be read.

    ``known`` are snapshots we have (a submit answer, or a first read when ``looked``): a job's first look
    waits for its plan's first poll time unless it was just looked at. A job submitted earlier is already that
    old, so its age counts toward the schedule, on a real API's clock only (a simulator's timestamps run at
    another speed than ours). The next round comes when the soonest job is due; the last sleep is cut to the
    deadline and followed by one final look. ``on_round`` gets every job's latest snapshot after each round.
    Cancelling the caller stops it at once.
    """
    latest = {job.job_id: job for job in known}
    polls = dict.fromkeys(latest, 1 if looked else 0)
    ages = {jid: age_of(clock, created_at(job)) for jid, job in latest.items()}
    errors: dict[str, LegnextError] = {}
    start = clock.monotonic()
    deadline = start + timeout
    while True:
        waiting = [jid for jid, job in latest.items() if not job.status.is_terminal and jid not in errors]
        now = clock.monotonic()
        if not waiting or now >= deadline:
            break
        elapsed = clock.api_seconds(now - start)
        delay = min(policy.next_poll_delay(plan(latest[jid]), elapsed + ages[jid], polls[jid]) for jid in waiting)
        await clock.sleep(min(delay, clock.api_seconds(deadline - now)))
        for jid, found in zip(waiting, await read(waiting), strict=True):
            polls[jid] += 1
            if isinstance(found, LegnextError):  # the read already retried: this job's wait ends here
                errors[jid] = found
            else:
                latest[jid] = found
        if on_round is not None:
            await on_round([latest[job.job_id] for job in known])
    return [latest[job.job_id] for job in known], errors


def age_of(clock: Clock, created: datetime | None) -> float:
    """How old a job is, in API seconds, toward its poll schedule: on a real API's clock only (a simulator's
    timestamps run at another speed than ours), else 0."""
    if created is None or clock.scale != 1.0:
        return 0.0
    return max((clock.now() - created).total_seconds(), 0.0)
