"""Sending a quoted job once and recording it, and waiting for jobs.

The order that keeps money safe (DESIGN.md section 5): the intent and its reserved price are written
first (atomically with the budget check); only then is the request sent, exactly once; the answer
replaces the intent with the job; a refusal releases it; a lost answer marks it uncertain. Recording
after the request is shielded from cancellation, so a host that gives up (or a SIGTERM) mid-call still
leaves the job, or the fact that it may exist, in the ledger.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio

from legnext_mcp.core import policy
from legnext_mcp.core.errors import LegnextError, SubmissionUncertainError
from legnext_mcp.core.job import Job
from legnext_mcp.service.quote import DAY_S, Quote
from legnext_mcp.service.runtime import Services

log = logging.getLogger("legnext_mcp.service")


class UnrecordedJobError(LegnextError):
    """The API made (and charges for) a job, but the ledger could not record it. ``job`` is that job."""

    code = "unrecorded"

    def __init__(self, job: Job) -> None:
        super().__init__(f"Job {job.job_id} was submitted ({job.task_type}) but could not be written to the local "
                         f"history; keep this id: {job.job_id}.", job_id=job.job_id)
        self.job = job


async def submit(svc: Services, quoted: Quote) -> Job:
    """Send ``quoted`` once and return the new job, recorded.

    Raises:
        BudgetExceededError / LedgerError: before sending (then nothing was sent).
        SubmissionUncertainError: sent, no answer: kept in the ledger as uncertain, never re-sent.
        LegnextError: the API refused it (nothing was made).
        UnrecordedJobError: made, but the ledger failed (the id is in the message).
    """
    prepared = quoted.prepared
    op = prepared.operation
    intent, _ = await svc.ledger.reserve(
        svc.dialect.name, task_type=prepared.task_type, prompt=op.text, parent_job_id=op.parent_id,
        request=prepared.body, points=prepared.estimate.amount, cap=svc.settings.max_points_per_day,
        since=time.time() - DAY_S)
    try:
        job = await svc.dialect.submit(prepared)
    except SubmissionUncertainError as exc:
        with anyio.CancelScope(shield=True):
            await svc.ledger.uncertain(intent, exc.message)
        raise
    except LegnextError:
        with anyio.CancelScope(shield=True):
            await svc.ledger.release(intent)
        raise
    except BaseException:  # cancelled (host gave up, SIGTERM) while the request may have been out
        with anyio.CancelScope(shield=True):
            await svc.ledger.uncertain(intent, "interrupted while the request was being sent; the job may exist")
        raise
    with anyio.CancelScope(shield=True):
        try:
            await svc.ledger.submitted(intent, job, prompt=op.text, parent_job_id=op.parent_id, request=prepared.body,
                                       estimate=prepared.estimate.amount)
        except LegnextError:
            log.exception("could not record job %s in the ledger", job.job_id)
            raise UnrecordedJobError(job) from None
    log.info("recorded %s job %s", prepared.task_type, job.job_id)
    return job


@dataclass
class Progress:
    """What a wait reports after every look: elapsed real seconds and each job's latest snapshot."""

    elapsed: float
    jobs: list[Job]


OnProgress = Callable[[Progress], Awaitable[None]]


async def wait(svc: Services, jobs: list[Job], *, timeout: float, on_progress: OnProgress | None = None,
               ) -> tuple[list[Job], list[LegnextError]]:
    """Look at unfinished jobs together until all are done or ``timeout`` real seconds pass.

    One request per round for all of them where the API allows (``Dialect.get_many``); the next round
    comes when the soonest job's poll plan says. Every snapshot goes to the ledger. Returns the latest
    snapshot of each job (in order) and the read errors of jobs that could not be read at all.
    Cancelling the caller stops at once.
    """
    clock = svc.dialect.clock
    latest = {job.job_id: job for job in jobs}
    prompts = {job.job_id: await _prompt(svc, job) for job in jobs}
    polls = dict.fromkeys(latest, 0)
    # A job submitted earlier is already that old: its age counts toward the schedule. Only on a real API's
    # clock: a simulator's timestamps run at another speed than ours.
    ages = {jid: max((clock.now() - job.created_at).total_seconds(), 0.0)
            if job.created_at is not None and clock.scale == 1.0 else 0.0 for jid, job in latest.items()}
    errors: dict[str, LegnextError] = {}
    start = clock.monotonic()
    deadline = start + timeout
    while True:
        waiting = [jid for jid, job in latest.items() if not job.is_terminal and jid not in errors]
        now = clock.monotonic()
        if not waiting or now >= deadline:
            break
        elapsed = clock.api_seconds(now - start)
        delay = min(policy.next_poll_delay(svc.dialect.poll_plan(latest[jid], prompts[jid]), elapsed + ages[jid],
                                           polls[jid]) for jid in waiting)
        await clock.sleep(min(delay, clock.api_seconds(deadline - now)))
        for jid, found in zip(waiting, await svc.dialect.get_many(waiting), strict=True):
            polls[jid] += 1
            if isinstance(found, LegnextError):  # the read already retried: this job's wait ends here
                errors[jid] = found
                continue
            latest[jid] = found
            await svc.ledger.record(found)
        if on_progress is not None:
            await on_progress(Progress(elapsed=clock.monotonic() - start, jobs=list(latest.values())))
    return [latest[job.job_id] for job in jobs], list(errors.values())


async def _prompt(svc: Services, job: Job) -> str | None:
    entry = await svc.ledger.get(svc.dialect.name, job.job_id)
    return (entry.prompt if entry else None) or job.prompt
