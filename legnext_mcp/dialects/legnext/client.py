"""``LegnextClient``: the typed async client of the Legnext API (submit, read, wait for, download jobs).

It speaks the wire format (``wire.py``) and nothing of MCP; the request loop's rules (never pay twice,
retries, the key only to the API origin, capped and redacted answers) are ``legnext_mcp.http``'s.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Self, TypeVar

import httpx2
from pydantic import BaseModel, ValidationError

from legnext_mcp.core import policy
from legnext_mcp.core.clock import Clock
from legnext_mcp.core.errors import (
    JobFailedError,
    LegnextError,
    PromptError,
    ServerError,
    SubmissionUncertainError,
    WaitTimeoutError,
)
from legnext_mcp.core.ids import check_answer_id, check_job_id
from legnext_mcp.core.keys import check_key
from legnext_mcp.core.operations import made_by
from legnext_mcp.core.policy import RequestKind
from legnext_mcp.core.prompt import parse_prompt
from legnext_mcp.core.urls import is_public_url
from legnext_mcp.core.waiting import poll_jobs
from legnext_mcp.dialects.legnext import DEFAULT_BASE_URL, wire
from legnext_mcp.dialects.legnext.endpoints import endpoint_of
from legnext_mcp.http.download import Download, Downloader
from legnext_mcp.http.transport import ApiProfile, ApiTransport, HeaderAuth

SERVICE = "the Legnext API"

log = logging.getLogger("legnext_mcp.legnext")

_Model = TypeVar("_Model", bound=BaseModel)
OnPoll = Callable[[wire.LegnextJob], Awaitable[None]]


def read_error(body: Any) -> tuple[str | None, str | None]:
    """The message (and job id) of an error answer, in any of the documented shapes: flat
    ``{code, message, raw_message}``, job-shaped with a filled ``error``, or ``{"error": {...}}``."""
    if not isinstance(body, Mapping):
        return None, None
    nested = body.get("error")
    job_id = body.get("job_id") if isinstance(body.get("job_id"), str) and body.get("job_id") else None
    source = nested if isinstance(nested, Mapping) and (nested.get("message") or nested.get("raw_message")) else body
    flat = wire.ApiErrorBody.model_validate(source)
    return (flat.message or flat.raw_message or None), job_id


PROFILE = ApiProfile(service=SERVICE, key_help="keys are managed at https://legnext.ai/app/api-keys",
                     concurrency_help="At most 6 jobs run at once per key", read_error=read_error)


def job_failed_message(job: wire.LegnextJob) -> str:
    reason = job.error.message or job.error.raw_message or "no reason given"
    text = f"Job {job.job_id} ({job.task_type}) failed: {reason} (error code {job.error.code})."
    if job.error.code == 403:
        text += " The content was refused by moderation; rephrase the prompt or use another image."
    return text + f" Failed jobs are not charged (consumed {job.meta.usage.consume} points)."


def is_fast(prompt: str | None) -> bool:
    """Turbo, draft and the v8 family make an image job several times faster (the fast poll plan)."""
    if not prompt:
        return False
    try:
        parsed = parse_prompt(prompt)
    except PromptError:
        return False
    return parsed.version in ("8", "8.1") or bool({"turbo", "draft"} & parsed.names)


def poll_plan(task_type: str | None, prompt: str | None = None) -> policy.PollPlan:
    """The poll plan of a Legnext task type (either spelling), fast for turbo/draft/v8 prompts."""
    made = made_by(task_type)
    return policy.poll_plan(made.poll if made else "image", fast=is_fast(prompt))


class LegnextClient:
    """Async client for the Legnext Midjourney API.

    ``transport`` replaces the network (tests pass ``httpx2.ASGITransport(simulator)``);
    ``download_transport`` does the same for :meth:`download`. ``clock`` sets the API's speed (a
    simulator may run faster than real time) and is what every wait and backoff sleeps on.
    """

    def __init__(self, api_key: str, *, base_url: str = DEFAULT_BASE_URL,
                 transport: httpx2.AsyncBaseTransport | None = None,
                 download_transport: httpx2.AsyncBaseTransport | None = None, timeout: httpx2.Timeout | None = None,
                 clock: Clock | None = None, rng: random.Random | None = None,
                 download_max_bytes: int = policy.DOWNLOAD_MAX_BYTES) -> None:
        key = check_key(api_key, dialect="legnext")
        self.base_url = base_url.rstrip("/")
        self.clock = clock or Clock()
        self.http = ApiTransport(self.base_url, auth=HeaderAuth({"x-api-key": key}, key=key), secret=key,
                                 profile=PROFILE, transport=transport, timeout=timeout, clock=self.clock, rng=rng)
        # Output URLs of the real API are public; the sandbox serves its files from loopback.
        self.downloader = Downloader(local_origin=None if is_public_url(self.base_url) else self.base_url,
                                     transport=download_transport,
                                     max_bytes=download_max_bytes)

    def __repr__(self) -> str:
        return f"LegnextClient(base_url={self.base_url!r}, api_key='***')"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close both HTTP clients."""
        await self.http.aclose()
        await self.downloader.aclose()

    # --- endpoints --------------------------------------------------------------------------------

    async def submit(self, request: wire.JobRequest) -> wire.LegnextJob:
        """Create a job (POST to the request's endpoint) and return it, usually still ``pending``.

        Raises: LocalValidationError, BadRequestError, AuthenticationError, InsufficientCreditsError,
        ForbiddenError, RateLimitedError, NetworkError (never sent), SubmissionUncertainError (may have been
        created), ServerError.
        """
        row = endpoint_of(request)
        body = await self.http.request(RequestKind.CREATE, "POST", row.path.lstrip("/"), json_body=request.to_wire())
        job = self._parse(wire.LegnextJob, body, what=f"the answer to {row.path}", creating=True)
        try:
            check_answer_id(job.job_id, None, service=SERVICE)
        except ServerError as exc:  # the job may exist, but this answer cannot name it
            raise SubmissionUncertainError(exc.message + " The job may have been created; check recent jobs "
                                           "before submitting again.") from None
        log.info("submitted %s job %s (%s)", row.task_type, job.job_id, job.status.value)
        return job

    async def get_job(self, job_id: str) -> wire.LegnextJob:
        """The current state of a job (GET /v1/job/{job_id}).

        Raises: LocalValidationError (not a job id: nothing sent), NotFoundError, AuthenticationError,
        NetworkError, ServerError (including an answer about another job).
        """
        check_job_id(job_id)
        body = await self.http.request(RequestKind.READ, "GET", f"v1/job/{job_id}")
        job = self._parse(wire.LegnextJob, body, what="the job")
        check_answer_id(job.job_id, job_id, service=SERVICE)
        return job

    async def balance(self) -> wire.Balance:
        """The account balance (GET /account/balance). Raises like :meth:`get_job`."""
        return self._parse(wire.Balance, self._data(await self.http.request(RequestKind.READ, "GET",
            "account/balance")),
                           what="the balance")

    async def account_info(self) -> wire.AccountInfo:
        """The account: plan, concurrency, wallet and credit packs (GET /account/info). Raises like :meth:`get_job`."""
        return self._parse(wire.AccountInfo,
                           self._data(await self.http.request(RequestKind.READ, "GET", "account/info")),
                           what="the account information")

    async def active_tasks(self) -> list[wire.LegnextJob]:
        """The account's jobs still pending or running (GET /account/active_tasks). Raises like :meth:`get_job`."""
        data = self._data(await self.http.request(RequestKind.READ, "GET", "account/active_tasks"))
        items = data if isinstance(data, list) else []
        return [self._parse(wire.LegnextJob, item, what="an active task") for item in items[:200]]

    async def wait(self, job_id: str, *, timeout: float, on_poll: OnPoll | None = None,
                   known: wire.LegnextJob | None = None, prompt: str | None = None) -> wire.LegnextJob:
        """Poll until the job completes, and return it.

        ``known`` is a snapshot we already have (e.g. the submit answer): the first GET then waits for the
        task type's first poll time. ``on_poll`` is awaited after every GET. ``prompt`` (the job's prompt,
        when known) picks the faster schedule for turbo, draft and v8 jobs. Bounded by a monotonic
        deadline; cancelling the caller stops it at once.

        Raises: JobFailedError (status failed), WaitTimeoutError (deadline passed; ``last`` holds the latest
        snapshot), and whatever :meth:`get_job` raises.
        """
        if known is None:  # nothing seen yet: look at once
            known = await self.get_job(job_id)
            if on_poll is not None:
                await on_poll(known)
            looked = True
        else:
            looked = False

        async def read(ids: list[str]) -> list[wire.LegnextJob | LegnextError]:
            job = await self.get_job(ids[0])
            if on_poll is not None:
                await on_poll(job)
            return [job]

        (last,), _ = await poll_jobs([known], read=read, plan=lambda job: poll_plan(job.task_type, prompt),
                                     clock=self.clock, timeout=timeout, created_at=lambda job: job.meta.created_at,
                                     looked=looked)
        if last.status.value == "failed":
            raise JobFailedError(job_failed_message(last), job=last, job_id=last.job_id,
                                 moderated=last.error.code == 403)
        if last.is_terminal:
            return last
        raise WaitTimeoutError(f"Job {job_id} is still {last.status.value} after waiting {timeout:.0f} s. It keeps "
                               "running on the server; wait again or read it later with its id.", job_id=job_id,
                               last=last)

    async def download(self, url: str, *, max_bytes: int | None = None) -> Download:
        """Fetch an output file without credentials (see ``legnext_mcp.http.download``).

        Raises: LocalValidationError (a URL we may not fetch), ServerError (status, type, size), NetworkError.
        """
        return await self.downloader.fetch(url, max_bytes=max_bytes)

    # --- plumbing ---------------------------------------------------------------------------------

    @staticmethod
    def _data(body: Any) -> Any:
        return body.get("data", body) if isinstance(body, Mapping) else body

    def _parse(self, model: type[_Model], body: Any, *, what: str, creating: bool = False) -> _Model:
        try:
            return model.model_validate(body)
        except ValidationError:
            message = f"{SERVICE[0].upper()}{SERVICE[1:]} sent {what} in a shape we could not read."
            if creating:
                raise SubmissionUncertainError(message + " The job may have been created; check recent jobs "
                                               "before submitting again.") from None
            raise ServerError(message + " Try again; report it if it persists.") from None
