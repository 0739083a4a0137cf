"""The Legnext API as a dialect: operation -> request (one row per endpoint), wire job -> ``core.Job``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import anyio

from legnext_mcp.core.errors import LegnextError, LocalValidationError, NotFoundError, PromptError
from legnext_mcp.core.followups import FollowUp, check_parent, is_video, model_of, offered
from legnext_mcp.core.job import Job, JobStatus, output_url
from legnext_mcp.core.limits import MAX_OUTPUTS
from legnext_mcp.core.operations import Enhance, EnhanceUpscale, Operation, VideoDiffusion, made_by
from legnext_mcp.core.policy import PollPlan
from legnext_mcp.core.prompt import parse_prompt
from legnext_mcp.dialects.base import AccountSummary, Prepared
from legnext_mcp.dialects.legnext import wire
from legnext_mcp.dialects.legnext.client import SERVICE, LegnextClient, poll_plan
from legnext_mcp.dialects.legnext.endpoints import BY_OPERATION
from legnext_mcp.http.download import Download

log = logging.getLogger("legnext_mcp.legnext")

BALANCE_EXPLANATION = ("Jobs are priced in points (1000 = $1) and can spend both kinds: credits (bought) and "
                       "points (bonus or promotional); which one a job draws first is not documented.")


def to_job(job: wire.LegnextJob) -> Job:
    """The normalized job of a Legnext answer (outputs capped at what the task type can have)."""
    made = made_by(job.task_type)
    output_kind = made.output if made else ("video" if job.output.video_urls else "grid")
    out = job.output
    # Only http(s) URLs count (and are capped): a javascript: or file: URL is dropped before it takes a place.
    images = _http(out.image_urls) or _http([out.image_url] if output_kind == "single" else [])
    videos = _http(out.video_urls) or _http([out.video_url])
    cap = MAX_OUTPUTS[output_kind]
    if len(images) > cap or len(videos) > cap:
        log.warning("job %s listed %d images and %d videos; %s jobs have at most %d: the rest are ignored",
                    job.job_id, len(images), len(videos), job.task_type, cap)
    failed = job.status is JobStatus.FAILED
    return Job(
        dialect="legnext", job_id=job.job_id, task_type=job.task_type, status=job.status, prompt=out.prompt_en,
        grid_url=out.image_url if output_kind == "grid" else None, image_urls=images[:cap], video_urls=videos[:cap],
        seed=out.seed, description=out.description, prompts=out.prompts[:10],
        actions=dict(out.available_actions) if output_kind == "grid" else {},
        error=(job.error.message or job.error.raw_message or "failed without a reason") if failed else None,
        error_code=job.error.code if failed else None, moderated=failed and job.error.code == 403,
        frozen=job.meta.usage.frozen, consumed=job.meta.usage.consume, created_at=job.meta.created_at,
        started_at=job.meta.started_at, ended_at=job.meta.ended_at,
        raw=job.model_dump(mode="json", by_alias=True))


def _http(urls: Sequence[str | None]) -> list[str]:
    return [url for url in map(output_url, urls) if url]


class LegnextDialect:
    """Every operation, on the Legnext API (``https://api.legnext.ai/api`` or the sandbox)."""

    name = "legnext"
    service = SERVICE
    unit = "points"
    OPERATIONS: frozenset[type[Operation]] = frozenset(BY_OPERATION)

    def __init__(self, client: LegnextClient) -> None:
        self.client = client
        self.base_url = client.base_url
        self.clock = client.clock

    @staticmethod
    def published_price(operation: type[Operation]) -> str | None:
        """The price of an operation in words, from its endpoint's rule (what tool descriptions say)."""
        row = BY_OPERATION.get(operation)
        return row.price.text if row else None

    def supports(self, operation: type[Operation]) -> bool:
        return operation in self.OPERATIONS

    def unsupported_reason(self, operation: type[Operation]) -> str:
        return "" if self.supports(operation) else f"the Legnext API has no {operation.__name__} endpoint"

    def prepare(self, op: Operation, parent: Job | None, parent_prompt: str | None) -> Prepared[wire.JobRequest]:
        """Check the parent (available actions, window, draft for enhance), build the request, price it.

        Raises:
            LocalValidationError: naming what to change; nothing was sent.
        """
        row = BY_OPERATION[type(op)]
        if parent is not None:
            check_parent(op, parent, action=row.follow_up, now=datetime.now(UTC), parent_prompt=parent_prompt)
            if isinstance(op, Enhance):
                _check_draft(parent, parent_prompt)
        request = wire.build_request(row.request, **{k: v for k, v in row.build(op).items() if v is not None})
        return Prepared(operation=op, task_type=row.task_type, body=request.to_wire(),
                        estimate=row.price(op, parent, parent_prompt), plan=request)

    async def submit(self, prepared: Prepared[wire.JobRequest], *, callback: str | None = None) -> Job:
        request = prepared.plan if callback is None else prepared.plan.model_copy(update={"callback": callback})
        return to_job(await self.client.submit(request))

    async def get(self, job_id: str) -> Job:
        return to_job(await self.client.get_job(job_id))

    async def get_many(self, job_ids: list[str]) -> list[Job | LegnextError]:
        found: dict[str, Job | LegnextError] = {}

        async def one(job_id: str) -> None:
            try:
                found[job_id] = await self.get(job_id)
            except LegnextError as exc:
                found[job_id] = exc

        async with anyio.create_task_group() as group:
            for job_id in job_ids:
                group.start_soon(one, job_id)
        return [found[job_id] for job_id in job_ids]

    async def account(self) -> AccountSummary:
        balance = await self.client.balance()
        plan = concurrent = None
        try:
            info = await self.client.account_info()
            plan, concurrent = info.plan or None, info.max_concurrent_task_count
        except LegnextError as exc:  # older deployments lack /account/info: the balance is what matters
            log.info("account info unavailable: %s", exc.code)
        return AccountSummary(
            available=balance.total_points, unit="points", usd=balance.balance_usd,
            parts={"credits": balance.available_credits, "points": balance.available_points},
            explanation=BALANCE_EXPLANATION, plan=plan, max_concurrent=concurrent,
            low_balance=balance.low_balance_alert)

    async def active_jobs(self) -> list[Job] | None:
        try:
            return [to_job(job) for job in await self.client.active_tasks()]
        except NotFoundError:
            return None

    def poll_plan(self, job: Job, prompt: str | None) -> PollPlan:
        return poll_plan(job.task_type, prompt)

    def follow_ups(self, job: Job) -> list[FollowUp]:
        """What the job lists, and for any finished image job, animating it and the Topaz upscale (both take
        any image of a finished job)."""
        found = offered(job)
        if job.status is JobStatus.COMPLETED and job.image_count and not is_video(job):
            images = tuple(range(job.image_count))
            found += [FollowUp(VideoDiffusion, images, "animates an image"),
                      FollowUp(EnhanceUpscale, images, "up to 12K")]
        return found

    def from_raw(self, raw: dict[str, Any]) -> Job:
        return to_job(wire.LegnextJob.model_validate(raw))

    async def download(self, url: str, *, max_bytes: int | None = None) -> Download:
        return await self.client.download(url, max_bytes=max_bytes)

    async def aclose(self) -> None:
        await self.client.aclose()


def _check_draft(parent: Job, parent_prompt: str | None) -> None:
    """Legnext's enhance re-renders a draft: its parent must be a ``--v 7 --draft`` job (23-enhance.md)."""
    if parent_prompt is None:
        return  # cannot be told: the API will say
    try:
        parsed = parse_prompt(parent_prompt)
    except PromptError:
        return
    if not parsed.draft:
        version = model_of(parent_prompt) or "unknown"
        label = version if version.startswith("niji") else f"v{version}"
        raise LocalValidationError(f"enhance needs a parent made with --v 7 --draft; job {parent.job_id} was made on "
                                   f"{label} without draft. Upscale it instead, or make a new job with --v 7 --draft.")
