"""``LegnextClient``: submit, read, wait for and download Legnext jobs over one ``httpx2.AsyncClient``.

The client knows HTTP and the wire format and nothing of MCP. Its rules (DESIGN.md section 5):

* a job-creating POST is re-sent only when it certainly never reached the server (connect failed) or
  was refused with 429; any other doubt raises :class:`SubmissionUncertainError`;
* GETs are retried on 408/429/5xx and network errors with capped, jittered backoff honouring
  Retry-After, a bounded number of times;
* the key is sent only to the API origin, never follows a redirect, and never appears in a message;
  downloads use a second client that carries no credentials.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self, TypeVar

import anyio
import httpx2
from pydantic import ValidationError

from legnext_mcp import __version__
from legnext_mcp.api import policy
from legnext_mcp.api.errors import (
    InvalidRequestError,
    JobFailedError,
    LegnextError,
    NetworkError,
    ServerError,
    SubmissionUncertainError,
    WaitTimeoutError,
    error_for_status,
)
from legnext_mcp.api.models import ApiErrorBody, Balance, Job, JobRequest, JobStatus, is_public_url
from legnext_mcp.api.policy import Outcome, RequestKind

DEFAULT_BASE_URL = "https://api.legnext.ai/api"

log = logging.getLogger("legnext_mcp.api")

_Model = TypeVar("_Model", Job, Balance)

OnPoll = Callable[[Job], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]


class _ApiKeyAuth(httpx2.Auth):
    """Adds ``x-api-key`` per request, so the key is in no default header, repr or log line."""

    def __init__(self, key: str) -> None:
        self._key = key

    def auth_flow(self, request: httpx2.Request):  # type: ignore[no-untyped-def]  # generator per httpx API
        request.headers["x-api-key"] = self._key
        yield request

    def __repr__(self) -> str:
        return "<ApiKeyAuth ***>"


@dataclass(frozen=True, slots=True)
class Download:
    """Bytes fetched from an output URL, with the server's content type."""

    content: bytes
    content_type: str
    url: str


def _job_failed_message(job: Job) -> str:
    reason = job.error.message or job.error.raw_message or "no reason given"
    text = f"Job {job.job_id} ({job.task_type}) failed: {reason} (error code {job.error.code})."
    if job.error.code == 403:
        text += " The content was refused by moderation; rephrase the prompt or use another image."
    return text + f" Failed jobs are not charged (consumed {job.meta.usage.consume} points)."


class LegnextClient:
    """Async client for the Legnext Midjourney API.

    ``transport`` replaces the network (tests pass ``httpx2.ASGITransport(simulator)``);
    ``download_transport`` does the same for :meth:`download`. ``time_scale`` > 1 shortens every
    poll and backoff delay, for a simulator that runs faster than real time.
    """

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        transport: httpx2.AsyncBaseTransport | None = None,
        download_transport: httpx2.AsyncBaseTransport | None = None,
        timeout: httpx2.Timeout | None = None,
        time_scale: float = 1.0,
        rng: random.Random | None = None,
        sleep: Sleep = anyio.sleep,
    ) -> None:
        if not api_key or not api_key.strip():
            raise LegnextError("No API key given. Set LEGNEXT_API_KEY, or use the sandbox.")
        self._key = api_key.strip()
        self.base_url = base_url.rstrip("/")
        self.time_scale = time_scale
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._transports = (transport, download_transport)
        self._timeout = timeout
        # Built on first use: each AsyncClient loads the CA bundle (~25 ms), which a server that only
        # answers tools/list should not pay at start-up.
        self._api_http: httpx2.AsyncClient | None = None
        self._download_http: httpx2.AsyncClient | None = None

    @property
    def _http(self) -> httpx2.AsyncClient:
        if self._api_http is None:
            self._api_http = httpx2.AsyncClient(
                base_url=self.base_url + "/",
                auth=_ApiKeyAuth(self._key),
                transport=self._transports[0],
                timeout=self._timeout or httpx2.Timeout(
                    connect=policy.CONNECT_TIMEOUT_S, read=policy.READ_TIMEOUT_S,
                    write=policy.WRITE_TIMEOUT_S, pool=policy.POOL_TIMEOUT_S,
                ),
                limits=httpx2.Limits(
                    max_connections=policy.MAX_CONNECTIONS,
                    max_keepalive_connections=policy.MAX_KEEPALIVE_CONNECTIONS,
                ),
                follow_redirects=False,
                headers={"user-agent": f"legnext-mcp/{__version__}", "accept": "application/json"},
            )
        return self._api_http

    @property
    def _downloads(self) -> httpx2.AsyncClient:
        if self._download_http is None:
            self._download_http = httpx2.AsyncClient(
                transport=self._transports[1],
                timeout=httpx2.Timeout(policy.DOWNLOAD_TIMEOUT_S, connect=policy.CONNECT_TIMEOUT_S),
                follow_redirects=True,
                max_redirects=5,
                headers={"user-agent": f"legnext-mcp/{__version__}"},
            )
        return self._download_http

    def __repr__(self) -> str:
        return f"LegnextClient(base_url={self.base_url!r}, api_key='***')"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close both HTTP clients."""
        for http in (self._api_http, self._download_http):
            if http is not None:
                await http.aclose()

    # --- endpoints --------------------------------------------------------------------------------

    async def submit(self, request: JobRequest) -> Job:
        """Create a job (POST ``request.endpoint``) and return it, usually still ``pending``.

        Raises: InvalidRequestError, AuthenticationError, InsufficientCreditsError, ForbiddenError,
        RateLimitedError, NetworkError (never sent), SubmissionUncertainError (may have been created),
        ServerError.
        """
        body = await self._request(RequestKind.CREATE, "POST", request.endpoint.lstrip("/"),
                                   json_body=request.to_wire())
        job = self._parse(Job, body, what=f"the answer to {request.endpoint}", creating=True)
        log.info("submitted %s job %s (%s)", request.task_type, job.job_id, job.status.value)
        return job

    async def get_job(self, job_id: str) -> Job:
        """The current state of a job (GET /v1/job/{job_id}).

        Raises: NotFoundError, AuthenticationError, NetworkError, ServerError, InvalidRequestError.
        """
        if not job_id or "/" in job_id or not job_id.replace("-", "").replace("_", "").isalnum():
            raise InvalidRequestError(f"{job_id!r} is not a job id (letters, digits, '-' and '_').",
                                      local=True)
        body = await self._request(RequestKind.READ, "GET", f"v1/job/{job_id}")
        return self._parse(Job, body, what="the job")

    async def balance(self) -> Balance:
        """The account balance (GET /account/balance). Raises like :meth:`get_job`."""
        body = await self._request(RequestKind.READ, "GET", "account/balance")
        data = body.get("data", body) if isinstance(body, Mapping) else body
        return self._parse(Balance, data, what="the balance")

    async def wait(
        self,
        job_id: str,
        *,
        timeout: float,
        on_poll: OnPoll | None = None,
        known: Job | None = None,
        prompt: str | None = None,
    ) -> Job:
        """Poll until the job completes, and return it.

        ``known`` is a snapshot we already have (e.g. the submit answer): the first GET then waits for
        the task type's first poll time instead of going out at once. ``on_poll`` is awaited after every
        GET. ``prompt`` (the job's prompt, when known) picks the faster schedule for turbo, draft and v8
        jobs. The wait is bounded by a monotonic deadline; cancelling the caller stops it at once.

        Raises: JobFailedError (status failed), WaitTimeoutError (deadline passed; ``last`` holds the
        latest snapshot), and whatever :meth:`get_job` raises.
        """
        start = time.monotonic()
        deadline = start + timeout
        # A job submitted earlier (a second wait) is already that old: count it toward the schedule.
        # Only against the real API: the simulator's clock runs at another speed than ours.
        age = 0.0
        if known is not None and known.meta.created_at is not None and self.time_scale == 1.0:
            age = max((datetime.now(UTC) - known.meta.created_at).total_seconds(), 0.0)
        last = known
        polls = 0
        while True:
            if last is not None and last.status is JobStatus.COMPLETED:
                return last
            if last is not None and last.status is JobStatus.FAILED:
                raise JobFailedError(_job_failed_message(last), job=last)
            now = time.monotonic()
            remaining = deadline - now
            if remaining <= 0:
                break
            delay = 0.0
            if last is not None:
                plan = policy.poll_plan(last.task_type, prompt)
                elapsed = (now - start) * self.time_scale + age
                delay = policy.next_poll_delay(plan, elapsed, polls, self.time_scale)
            # The last sleep is cut to the deadline and followed by one final look.
            await self._sleep(min(delay, remaining))
            last = await self.get_job(job_id)
            polls += 1
            if on_poll is not None:
                await on_poll(last)
        status = last.status.value if last else "unknown"
        raise WaitTimeoutError(
            f"Job {job_id} is still {status} after waiting {timeout:.0f} s. It keeps running on the "
            "server; wait again or read it later with its id.",
            job_id=job_id, last=last,
        )

    async def download(self, url: str, *, max_bytes: int = policy.DOWNLOAD_MAX_BYTES) -> Download:
        """Fetch an output file without credentials, refusing non-media types and files over ``max_bytes``.

        Raises: InvalidRequestError (not http(s), wrong type, too large), NetworkError, ServerError.
        """
        if not url.startswith(("http://", "https://")):
            raise InvalidRequestError("Only http(s) URLs can be downloaded.", local=True)
        if is_public_url(self.base_url) and not is_public_url(url):
            # Output URLs of the real API are public; anything else is not ours to fetch.
            raise InvalidRequestError(f"Refusing to download {url[:100]}: a private or local address.", local=True)
        try:
            async with self._downloads.stream("GET", url) as response:
                if response.status_code != 200:
                    raise ServerError(f"Downloading an output file failed with HTTP {response.status_code}; "
                                      "the file may have expired (outputs are kept 30 days).",
                                      status=response.status_code)
                content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if not content_type.startswith(policy.DOWNLOAD_CONTENT_TYPES):
                    raise InvalidRequestError(
                        f"The URL served {content_type or 'no content type'}, not an image or video.")
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise InvalidRequestError(f"The file is larger than the {max_bytes} byte limit.")
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise InvalidRequestError(f"The file is larger than the {max_bytes} byte limit.")
                    chunks.append(chunk)
        except httpx2.TransportError as exc:
            raise NetworkError(f"Downloading an output file failed ({type(exc).__name__}); "
                               "check the connection and try again.") from None
        return Download(content=b"".join(chunks), content_type=content_type, url=url)

    # --- plumbing ---------------------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key in text else text

    def _parse(self, model: type[_Model], body: Any, *, what: str, creating: bool = False) -> _Model:
        try:
            return model.model_validate(body)
        except ValidationError:
            message = f"The API sent {what} in a shape we could not read."
            if creating:
                raise SubmissionUncertainError(
                    message + " The job may have been created; check your recent jobs before retrying."
                ) from None
            raise ServerError(message + " Try again; report it if it persists.") from None

    async def _request(self, kind: RequestKind, method: str, path: str, *,
                       json_body: dict[str, Any] | None = None) -> Any:
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            status: int | None = None
            response: httpx2.Response | None = None
            failure = "no answer"
            try:
                response = await self._http.request(method, path, json=json_body)
                outcome = Outcome.OK if response.is_success else Outcome.STATUS
                status = response.status_code
                if response.has_redirect_location or 300 <= status < 400:
                    raise ServerError(f"The API answered with a redirect (HTTP {status}); redirects are not "
                                      "followed so the key never leaves the API origin. Check LEGNEXT_BASE_URL.",
                                      status=status)
                retry_after = policy.parse_retry_after(response.headers.get("retry-after"))
            except (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout):
                outcome = Outcome.CONNECT_FAILED
            except (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError) as exc:
                outcome = Outcome.SENT_NO_ANSWER
                failure = type(exc).__name__
            except httpx2.TransportError as exc:
                raise NetworkError(f"Could not talk to the Legnext API ({type(exc).__name__}). "
                                   "Check LEGNEXT_BASE_URL.") from None

            if outcome is Outcome.OK and response is not None:
                try:
                    return response.json()
                except (json.JSONDecodeError, UnicodeDecodeError):
                    if kind is RequestKind.CREATE:
                        raise SubmissionUncertainError(
                            "The API accepted the request but its answer was unreadable, so the job id is "
                            "unknown. The job may exist; check recent jobs before submitting again.",
                            status=status) from None
                    outcome = Outcome.SENT_NO_ANSWER
                    failure = "malformed JSON"

            if policy.should_retry(kind, outcome, status, attempt):
                delay = policy.backoff_delay(attempt, retry_after, self._rng) / max(self.time_scale, 1e-9)
                log.info("%s %s: %s, retry %d in %.2fs", method, path,
                         status if outcome is Outcome.STATUS else outcome.value, attempt, delay)
                await self._sleep(delay)
                continue

            if outcome is Outcome.STATUS and response is not None:
                error = self._error_from(response, retry_after)
                if kind is RequestKind.CREATE and (status or 0) >= 500:
                    raise SubmissionUncertainError(
                        f"The API failed with HTTP {status} after receiving the job request, so it may or may "
                        "not have created the job. It was not re-sent (that could pay twice); check recent "
                        "jobs before submitting again.", status=status, job_id=error.job_id) from None
                raise error
            if outcome is Outcome.CONNECT_FAILED:
                raise NetworkError("Could not connect to the Legnext API after several tries; nothing was "
                                   "sent. Check the network and LEGNEXT_BASE_URL, then try again.")
            if kind is RequestKind.CREATE:
                raise SubmissionUncertainError(
                    f"The job request was sent but no answer came back ({failure}). The job may exist and "
                    "was not re-sent (that could pay twice); check recent jobs before submitting again.")
            raise NetworkError(f"The Legnext API did not answer properly after {attempt} tries ({failure}). "
                               "Try again shortly.")

    def _error_from(self, response: httpx2.Response, retry_after: float | None) -> LegnextError:
        """Our exception for an error response, whichever of the three documented shapes it has."""
        message = response.reason_phrase or "no message"
        job_id: str | None = None
        detail: Any = None
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if isinstance(body, Mapping):
            nested = body.get("error")
            if isinstance(nested, Mapping) and (nested.get("message") or nested.get("raw_message")):
                flat = ApiErrorBody.model_validate(nested)  # job-shaped or {"error": {...}}
                job_id = body.get("job_id") if isinstance(body.get("job_id"), str) else None
            else:
                flat = ApiErrorBody.model_validate(body)
            message = flat.message or flat.raw_message or message
            detail = flat.detail
        message = self._redact(str(message))[:500]
        return error_for_status(response.status_code, message, job_id=job_id, detail=detail,
                                retry_after=retry_after)
