"""Sending a quoted job once and recording it, and waiting for jobs.

The order that keeps money safe (DESIGN.md section 5): the intent and its reserved price are written
first (atomically with the budget check); only then is the request sent, exactly once; the answer
replaces the intent with the job; a refusal releases it; a lost answer marks it uncertain. Recording
after the request is shielded from cancellation, so a host that gives up (or a SIGTERM) mid-call still
leaves the job, or the fact that it may exist, in the ledger.

After a job exists nothing may hide its id: a ledger that fails while a wait records what it saw is a note
on the result, not an error that loses the job.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio

from legnext_mcp.core import capabilities, policy
from legnext_mcp.core.errors import LedgerError, LegnextError, SubmissionUncertainError
from legnext_mcp.core.job import Job
from legnext_mcp.ledger import IntentSpec
from legnext_mcp.service import inputs
from legnext_mcp.service.caller import caller
from legnext_mcp.service.quote import DAY_S, BatchQuote, Quote, caps, inline_inputs
from legnext_mcp.service.runtime import Services

log = logging.getLogger("legnext_mcp.service")


class UnrecordedJobError(LegnextError):
    """The API made (and charges for) a job, but the ledger could not record it. ``job`` is that job."""

    code = "unrecorded"

    def __init__(self, job: Job, reason: str) -> None:
        super().__init__(f"Job {job.job_id} was submitted ({job.task_type}) but could not be written to the local "
                         f"history ({reason}); keep this id: {job.job_id}.", job_id=job.job_id)
        self.job = job


async def submit(svc: Services, quoted: Quote, *, user: str | None = None) -> Job:
    """Send ``quoted`` once and return the new job, recorded.

    Raises:
        BudgetExceededError / LedgerError: before sending (then nothing was sent, and the message says so).
        SubmissionUncertainError: sent, no answer: kept in the ledger as uncertain, never re-sent.
        LegnextError: the API refused it (nothing was made).
        UnrecordedJobError: made, but the ledger failed (the id is in the message).
    """
    prepared = quoted.prepared
    op = quoted.asked
    user = caller().user if user is None else user
    inline = inline_inputs(svc)
    shown = inputs.stand_ins(quoted.local, inline=inline)
    callback, token_hash = callback_for(svc.settings.public_url)
    try:
        intent = await svc.ledger.reserve(
            svc.dialect.name, task_type=prepared.task_type, prompt=op.text, parent_job_id=op.parent_id,
            request=inputs.recorded(prepared.body, shown), points=prepared.estimate.amount,
            unit=prepared.estimate.unit, caps=caps(svc.settings), since=time.time() - DAY_S, user=user,
            callback_hash=token_hash)
    except LedgerError as exc:
        raise LedgerError(f"{exc.message} Nothing was sent: a job is sent only once its intent is recorded.") from None
    return await send(svc, quoted, intent, callback)


async def send(svc: Services, quoted: Quote, intent: int, callback: str | None) -> Job:
    """Send a quoted job whose intent is recorded (``intent``), once, and record the answer (see ``submit``)."""
    prepared = quoted.prepared
    op = quoted.asked
    inline = inline_inputs(svc)
    shown = inputs.stand_ins(quoted.local, inline=inline)
    try:
        if quoted.local:  # the pictures are stored or uploaded only now, after the budget held and the user agreed
            shown = await inputs.deliver(svc.settings, quoted.local, inline=inline, uploader=svc.uploader)
            prepared = svc.dialect.prepare(inputs.substitute(op, shown), quoted.parent, quoted.parent_prompt)
        job = await svc.dialect.submit(prepared, callback=callback)
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
            await svc.ledger.submitted(intent, job, prompt=op.text, parent_job_id=op.parent_id,
                                       request=inputs.recorded(prepared.body, shown),
                                       estimate=prepared.estimate.amount)
        except LedgerError as exc:
            log.error("could not record job %s in the ledger: %s", job.job_id, exc.message)
            raise UnrecordedJobError(job, exc.message) from None
    log.info("recorded %s job %s", prepared.task_type, job.job_id)
    return job


@dataclass
class Sent:
    """What became of one job of a batch: the job (sent and recorded), or the error that stopped it. ``job`` is
    set whenever the job exists, even when recording it failed (``error`` then says so)."""

    index: int
    job: Job | None = None
    error: LegnextError | None = None


async def submit_batch(svc: Services, batch: BatchQuote, *, user: str | None = None) -> list[Sent]:
    """Send a quoted batch: every intent reserved in one transaction (the budget holds for all or none), then each
    request sent once, at most ``BATCH_CONCURRENCY`` at a time. A failure stops only its own job: every other job
    stands and each outcome is returned, in order.

    Raises:
        BudgetExceededError / LedgerError: before sending anything (then nothing was sent).
    """
    user = caller().user if user is None else user
    specs: list[IntentSpec] = []
    callbacks: list[str | None] = []
    inline = inline_inputs(svc)
    for quoted in batch.quotes:
        callback, hashed = callback_for(svc.settings.public_url)
        callbacks.append(callback)
        prepared = quoted.prepared
        specs.append(IntentSpec(prepared.task_type, quoted.asked.text, quoted.asked.parent_id,
                                inputs.recorded(prepared.body, inputs.stand_ins(quoted.local, inline=inline)),
                                prepared.estimate.amount, hashed))
    try:
        intents = await svc.ledger.reserve_many(svc.dialect.name, specs, unit=batch.unit, caps=caps(svc.settings),
                                                since=time.time() - DAY_S, user=user)
    except LedgerError as exc:
        raise LedgerError(f"{exc.message} Nothing was sent: jobs are sent only once their intents are recorded."
                          ) from None
    results = [Sent(index=n) for n in range(len(batch.quotes))]
    started: set[int] = set()
    limiter = anyio.CapacityLimiter(policy.BATCH_CONCURRENCY)

    async def one(n: int) -> None:
        async with limiter:
            started.add(n)
            try:
                results[n].job = await send(svc, batch.quotes[n], intents[n], callbacks[n])
            except UnrecordedJobError as exc:
                results[n].job, results[n].error = exc.job, exc
            except LegnextError as exc:
                results[n].error = exc
            except Exception as exc:  # a bug of ours must not hide the other jobs' ids: this one may exist
                log.error("batch job %d failed unexpectedly", n + 1, exc_info=exc)
                results[n].error = SubmissionUncertainError(
                    f"An unexpected {type(exc).__name__} while sending; the job may exist and was not re-sent. Check "
                    "list_jobs before submitting it again.")

    try:
        async with anyio.create_task_group() as group:
            for n in range(len(batch.quotes)):
                group.start_soon(one, n)
    finally:
        with anyio.CancelScope(shield=True):  # cancelled mid-batch: the jobs never sent give their budget back
            for n, intent in enumerate(intents):
                if n not in started:
                    await svc.ledger.release(intent)
    return results


def callback_for(public_url: str | None) -> tuple[str | None, str | None]:
    """A job's callback URL, carrying an unguessable capability good until the job ends, and the capability's
    hash (what the ledger keeps); (None, None) when the server has no public address."""
    if public_url is None:
        return None, None
    token, hashed = capabilities.mint()
    return f"{public_url}/callbacks/{token}", hashed


@dataclass
class Progress:
    """What a wait reports after every look: elapsed real seconds and each job's latest snapshot."""

    elapsed: float
    jobs: list[Job]


OnProgress = Callable[[Progress], Awaitable[None]]


@dataclass
class Waited:
    """How a wait ended: the latest snapshot of each job (in the order asked), the jobs that could not be read
    (by id), and what the caller should know (a snapshot the ledger could not record)."""

    jobs: list[Job]
    errors: dict[str, LegnextError] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


async def record(svc: Services, job: Job, notes: list[str]) -> None:
    """Record a snapshot; a ledger failure becomes a note (the job is what matters, and the API still has it)."""
    try:
        await svc.ledger.record(job, user=caller().user)  # a row already there keeps its owner
    except LedgerError as exc:
        log.error("could not record a snapshot of job %s: %s", job.job_id, exc.message)
        _note(notes, job.job_id, exc.message)
    await svc.poller.publish([job])  # a read outside the poller (get_job, a wait's first look) counts too


def _note(notes: list[str], job_id: str, reason: str) -> None:
    note = f"Job {job_id}: its latest state could not be written to the local history ({reason})."
    if note not in notes:
        notes.append(note)


async def wait(svc: Services, jobs: list[Job], *, timeout: float, on_progress: OnProgress | None = None) -> Waited:
    """Wait for jobs until all are done or ``timeout`` real seconds pass: they are registered with the process's
    poller (``service.poller``), which reads each on its own schedule and records what changed; this wait is
    woken with each new snapshot. Cancelling the caller stops at once (the poller forgets jobs nobody waits on).
    """
    prompts = {job.job_id: await _prompt(svc, job) for job in jobs}
    clock = svc.dialect.clock
    start = clock.monotonic()
    with svc.poller.watching(jobs, prompts) as watch:
        with anyio.move_on_after(timeout):
            while True:
                latest, errors = svc.poller.latest(watch)
                if all(job.is_terminal or job.job_id in errors for job in latest):
                    break
                await watch.changed.wait()
                watch.changed = anyio.Event()
                if on_progress is not None:
                    await on_progress(Progress(elapsed=clock.monotonic() - start, jobs=svc.poller.latest(watch)[0]))
        latest, errors = svc.poller.latest(watch)
    notes: list[str] = []
    for job in latest:
        if job.job_id in svc.unrecorded:
            _note(notes, job.job_id, svc.unrecorded[job.job_id])
    return Waited(jobs=latest, errors=errors, notes=notes)


def percent(svc: Services, job: Job) -> float:
    """How far along a job is, never going back across calls (``Poller.percent``)."""
    return svc.poller.percent(job)


async def _prompt(svc: Services, job: Job) -> str | None:
    try:
        entry = await svc.ledger.get(svc.dialect.name, job.job_id, user=caller().reads)
    except LedgerError:
        entry = None
    return (entry.prompt if entry else None) or job.prompt
