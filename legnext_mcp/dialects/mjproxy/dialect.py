"""The midjourney-proxy protocol as a dialect: the tables (``rows``), the HTTP (``client``) and the mapping
(``mapping``) behind the same operations, jobs and guarantees as Legnext's.

Vary (Region), Custom Zoom and remixes answer code 21 with a MODAL child task, confirmed through
``/mj/submit/modal`` inside the same call. Prices are the user's table (LEGNEXT_RELAY_PRICES, by operation
name) or unknown; never Legnext's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx2

from legnext_mcp.core import policy
from legnext_mcp.core.clock import Clock
from legnext_mcp.core.errors import (
    BadRequestError,
    LegnextError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    SubmissionUncertainError,
)
from legnext_mcp.core.followups import FollowUp, offered
from legnext_mcp.core.ids import check_answer_id
from legnext_mcp.core.job import Job, JobStatus
from legnext_mcp.core.money import Estimate
from legnext_mcp.core.operations import Operation, Upscale, made_by
from legnext_mcp.core.policy import PollPlan
from legnext_mcp.core.text import cut
from legnext_mcp.dialects.base import AccountSummary, Prepared
from legnext_mcp.dialects.mjproxy import wire
from legnext_mcp.dialects.mjproxy.client import SERVICE, MjProxyClient
from legnext_mcp.dialects.mjproxy.mapping import Plan, plan, to_job
from legnext_mcp.dialects.mjproxy.rows import ACTION_OF, SUBMIT, UNSUPPORTED
from legnext_mcp.http.download import Download

log = logging.getLogger("legnext_mcp.mjproxy")


class MjProxyDialect:
    """The operations a midjourney-proxy relay serves."""

    name = "mj-proxy"
    service = SERVICE
    #: Local pictures go inline, as ``data:`` URLs (service.inputs).
    inline_inputs = True
    OPERATIONS: frozenset[type[Operation]] = frozenset(SUBMIT)

    def __init__(self, api_key: str, *, base_url: str, prices: Mapping[str, int] | None = None,
                 unit: str = "credits", transport: httpx2.AsyncBaseTransport | None = None,
                 download_transport: httpx2.AsyncBaseTransport | None = None, clock: Clock | None = None,
                 download_max_bytes: int = policy.DOWNLOAD_MAX_BYTES) -> None:
        self.client = MjProxyClient(api_key, base_url=base_url, transport=transport,
                                    download_transport=download_transport, clock=clock,
                                    download_max_bytes=download_max_bytes)
        self.base_url = self.client.base_url
        self.clock = self.client.clock
        self.unit = unit
        self.prices = dict(prices or {})

    def __repr__(self) -> str:
        return f"MjProxyDialect(base_url={self.base_url!r}, api_key='***')"

    @staticmethod
    def published_price(operation: type[Operation]) -> str | None:
        """None: each relay sets its own prices (LEGNEXT_RELAY_PRICES says them, when set)."""
        return None

    def supports(self, operation: type[Operation]) -> bool:
        return operation in self.OPERATIONS

    def unsupported_reason(self, operation: type[Operation]) -> str:
        if self.supports(operation):
            return ""
        why = UNSUPPORTED.get(operation.__name__, f"the midjourney-proxy protocol has no {operation.__name__} "
                                                  "endpoint or button")
        return f"{why}, so it is not offered on relays (the Legnext API has it)"

    def price(self, op: type[Operation]) -> Estimate:
        """The relay's price of an operation, from LEGNEXT_RELAY_PRICES (by the operation's name), or unknown."""
        amount = self.prices.get(op.key())
        if amount is None:
            return Estimate(None, "relays set their own prices; set LEGNEXT_RELAY_PRICES to know it", unit=self.unit)
        return Estimate(amount, "your relay's price, from LEGNEXT_RELAY_PRICES", unit=self.unit)

    def prepare(self, op: Operation, parent: Job | None, parent_prompt: str | None) -> Prepared[Plan]:
        """Build the request from the operation and (for follow-ups) the parent's buttons; price it.

        Raises:
            LocalValidationError: naming what to change; nothing was sent.
        """
        planned = plan(op, parent)
        return Prepared(operation=op, task_type=op.task_type, body=planned.shown, estimate=self.price(type(op)),
                        notes=planned.notes, plan=planned)

    async def submit(self, prepared: Prepared[Plan], *, callback: str | None = None) -> Job:
        """Send it once. A button that opens a modal (code 21, "Waiting for window confirm") is confirmed at
        once through ``/mj/submit/modal``; that confirmation is the paid request.

        Raises: LocalValidationError (an inline image could not be fetched: nothing sent), BadRequestError
        (codes 3, 4, 24 and others), RateLimitedError (23, queue full), SubmissionUncertainError, ...
        """
        planned = prepared.plan
        body = dict(planned.body)
        if callback is not None:  # the protocol's per-task webhook
            body["notifyHook"] = callback
        if planned.inline_urls:
            body["base64Array"] = [await self.client.inline(url) for url in planned.inline_urls]
        modal = dict(planned.modal) if planned.modal is not None else None
        if modal is not None and planned.mask is not None:
            modal["maskBase64"] = await self.client.mask(planned.mask)
        answer = await self.client.submit(planned.endpoint, body)
        if answer.code == wire.EXISTS_OR_MODAL and modal is not None and answer.task_id:
            child = check_answer_id(answer.task_id, None, service=SERVICE)
            answer = await self.client.submit("modal", {"taskId": child, **modal})
        return await self._accepted(answer, type(prepared.operation))

    async def _accepted(self, answer: wire.SubmitAnswer, op: type[Operation]) -> Job:
        code, text = answer.code, cut(answer.description)
        if code in (wire.ACCEPTED, wire.QUEUED) or (code == wire.EXISTS_OR_MODAL and wire.MODAL_WAITING not in text):
            if not answer.task_id:
                raise SubmissionUncertainError(f"The relay accepted the job (code {code}) but named no task id; it "
                                               "may exist. Check the relay before submitting again.")
            try:
                job_id = check_answer_id(answer.task_id, None, service=SERVICE)
            except ServerError as exc:
                raise SubmissionUncertainError(exc.message + " The job may have been created.") from None
            if code == wire.EXISTS_OR_MODAL:
                return await self._existing(job_id, op, text)
            if code == wire.QUEUED:
                log.info("relay queued %s (%s ahead)", job_id, answer.properties.get("numberOfQueues"))
            action = ACTION_OF.get(op, "IMAGINE")
            return Job(dialect=self.name, job_id=job_id, task_type=op.task_type, status=JobStatus.PENDING,
                       created_at=datetime.now(UTC), raw={"id": job_id, "status": "SUBMITTED", "action": action})
        if code == wire.QUEUE_FULL:
            raise RateLimitedError(f"The relay's queue is full (code 23: {text}); nothing was made or charged. "
                                   "Try again in a minute.", status=200)
        if code == wire.BANNED:
            word = str(answer.properties.get("bannedWord") or "")[:60]
            named = f" the word {word!r}" if word else " a word in it"
            raise BadRequestError(f"The relay refused the prompt because of{named} (code 24: banned prompt); "
                                  "nothing was charged. Rephrase without it.", status=200)
        raise BadRequestError(f"The relay refused the request (code {code}: {text or 'no description'}); "
                              "nothing was charged.", status=200)

    async def _existing(self, job_id: str, op: type[Operation], text: str) -> Job:
        """Code 21 "exists": the protocol's one such answer is an upscale already made (U pressed again on the
        same image), which is then this call's result. Any other task named so (an older imagine, another
        action) is not believed as the result of the job just asked for: the request is kept as uncertain (it
        may have been charged) and the message says what the relay answered.

        Raises:
            SubmissionUncertainError: the answer is not about this request, or the task could not be read.
        """
        try:
            job = await self.get(job_id)
        except LegnextError as exc:
            raise SubmissionUncertainError(f"The relay answered code 21 (exists: {text or 'no description'}) naming "
                                           f"task {job_id}, which could not be read ({exc.message}); the request "
                                           "may have been charged. Check the relay before submitting again.") from None
        if op is Upscale and job.task_type == Upscale.task_type:
            return job
        raise SubmissionUncertainError(
            f"The relay answered code 21 (exists: {text or 'no description'}) naming task {job_id}, a "
            f"{job.task_type} job made earlier, not a new {op.task_type} job for this request; it was not taken as "
            "this call's result. The relay may have charged the request: it is kept in the local history as "
            f"uncertain (list_jobs). Task {job_id} can be read with get_job.")

    async def get(self, job_id: str) -> Job:
        job = _task(await self.client.fetch(job_id))
        check_answer_id(job.job_id, job_id, service=SERVICE)
        return job

    async def get_many(self, job_ids: list[str]) -> list[Job | LegnextError]:
        found: dict[str, Job] = {}
        for item in await self.client.list_tasks(job_ids):
            try:
                job = _task(item)
            except ServerError:
                continue
            found.setdefault(job.job_id, job)
        return [found.get(job_id) or NotFoundError(f"The relay did not return task {job_id}.", job_id=job_id)
                for job_id in job_ids]

    async def account(self) -> AccountSummary:
        await self.client.list_tasks([])
        return AccountSummary(
            available=None, unit=self.unit,
            explanation="Relays do not report a balance through the midjourney-proxy protocol; see your relay's "
                        "dashboard.",
            verified_by="the relay accepted the key on POST /mj/task/list-by-condition (a free request)")

    async def active_jobs(self) -> list[Job] | None:
        return None

    def poll_plan(self, job: Job, prompt: str | None) -> PollPlan:
        made = made_by(job.task_type)
        return policy.poll_plan(made.poll if made else "image")

    def follow_ups(self, job: Job) -> list[FollowUp]:
        """What the task's buttons offer, among the operations a relay runs."""
        return [follow for follow in offered(job) if self.supports(follow.operation)]

    def from_raw(self, raw: dict[str, Any]) -> Job:
        return _task(raw)

    async def download(self, url: str, *, max_bytes: int | None = None) -> Download:
        return await self.client.download(url, max_bytes=max_bytes)

    async def aclose(self) -> None:
        await self.client.aclose()


def _task(raw: Any) -> Job:
    """A job from a task as the relay sent it.

    Raises:
        ServerError: the task could not be read (or its id is not a job id).
    """
    try:
        return to_job(wire.Task.model_validate(raw))
    except (ValueError, TypeError, ArithmeticError) as exc:  # ValidationError too: never a bare exception
        log.warning("a task the relay sent could not be read: %s", cut(str(exc), 200))
        raise ServerError("The relay sent a task in a shape we could not read. Try again; report it if it "
                          "persists.") from None
