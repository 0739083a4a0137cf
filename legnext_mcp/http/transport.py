"""The one request loop every dialect's client goes through (DESIGN.md section 5).

* A job-creating POST is re-sent only when it certainly never reached the server (the connection was
  refused) or was refused with 429; any other doubt raises :class:`SubmissionUncertainError`.
* GETs retry on 408/429/5xx and network errors with capped, jittered backoff honouring Retry-After, a
  bounded number of times.
* The key goes only to the API's origin, as a per-request header of a dialect's auth (never a default
  header), redirects are errors, and every string of every answer is redacted of the key before anyone
  reads it.
* Answers are untrusted: read while streaming up to ``MAX_ANSWER_BYTES`` (never held whole beyond that),
  parsed with nesting bounded by the interpreter's recursion limit, and refused when malformed. For a paid
  request any of those means the job may exist: uncertain, never re-sent.
"""

from __future__ import annotations

import json
import logging
import random
import re
from base64 import b64encode
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import anyio
import httpx2

from legnext_mcp import __version__
from legnext_mcp.core import policy
from legnext_mcp.core.clock import Clock
from legnext_mcp.core.errors import (
    AuthenticationError,
    BadRequestError,
    ForbiddenError,
    InsufficientCreditsError,
    LegnextError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    SubmissionUncertainError,
)
from legnext_mcp.core.policy import Outcome, RequestKind
from legnext_mcp.http.request_key import NO_SERVER_KEY, REQUEST_KEY
from legnext_mcp.http.tls import tls_context

log = logging.getLogger("legnext_mcp.http")

#: Reads the error message (and the job id, if any) out of an error answer's JSON body.
ErrorReader = Callable[[Any], tuple[str | None, str | None]]


@dataclass(frozen=True)
class ApiProfile:
    """What the transport needs to know of a dialect to write its messages."""

    #: How messages name the service: "the Legnext API", "the relay".
    service: str
    #: Where keys come from, for 401 messages.
    key_help: str
    #: What the API allows at once, for 429 messages.
    concurrency_help: str
    read_error: ErrorReader


class HeaderAuth(httpx2.Auth):
    """Adds the key's headers to each request, so the key is in no default header, repr or log line.

    With ``key`` given, the caller's own key (``REQUEST_KEY``, LEGNEXT_USER_KEYS=header) replaces it in those
    headers for the requests made for that caller; a server without a key of its own (``NO_SERVER_KEY``) sends
    nothing without one."""

    def __init__(self, headers: Mapping[str, str], *, key: str | None = None) -> None:
        self._headers = dict(headers)
        self._key = key

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        own = REQUEST_KEY.get()
        if self._key is not None and own is not None:
            request.headers.update({name: value.replace(self._key, own) for name, value in self._headers.items()})
        elif self._key == NO_SERVER_KEY:
            raise AuthenticationError("No API key for this request: this server uses each caller's own key; send it "
                                      "in the X-Legnext-Api-Key header.")
        else:
            request.headers.update(self._headers)
        yield request

    def __repr__(self) -> str:
        return f"<HeaderAuth {', '.join(self._headers)}: ***>"


class Redactor:
    """Removes a secret (plain, URL-encoded or base64) from text and from every string of parsed JSON. The plain
    and URL-encoded forms in any case (an upstream may echo the key upper-cased), base64 of the key as given and
    of its upper- and lower-case forms (base64 itself is case-sensitive)."""

    def __init__(self, secret: str) -> None:
        self._any_case, self._forms = _patterns(secret)

    def text(self, value: str) -> str:
        own = REQUEST_KEY.get()  # the caller's own key, on a server where each request brings one
        for any_case, forms in ((self._any_case, self._forms), *([_patterns(own)] if own else [])):
            if any_case is not None:
                value = any_case.sub("***", value)
            for form in forms:
                if form in value:
                    value = value.replace(form, "***")
        return value

    def tree(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.tree(item) for item in value]
        if isinstance(value, dict):
            return {self.text(str(k)): self.tree(v) for k, v in value.items()}
        return value


def _patterns(secret: str) -> tuple[re.Pattern[str] | None, list[str]]:
    """How a secret may be written in an answer: as is or URL-encoded, in any letter case (one pattern); base64 of
    it as given, upper- and lower-cased (base64 itself is case-sensitive), longest first."""
    texts = {f for f in (secret, quote(secret, safe="")) if len(f) >= 4}
    encoded = {b64encode(form.encode()).decode().rstrip("=") for form in (secret, secret.upper(), secret.lower())}
    any_case = (re.compile("|".join(re.escape(f) for f in sorted(texts, key=len, reverse=True)), re.IGNORECASE)
                if texts else None)
    return any_case, sorted((f for f in encoded if len(f) >= 4), key=len, reverse=True)


def error_for_status(profile: ApiProfile, status: int, message: str, *, job_id: str | None = None,
                     detail: Any = None, retry_after: float | None = None) -> LegnextError:
    """Our exception for an error status from the API, with a next step in the message."""
    api = profile.service
    if status == 401:
        which = "the key you send in X-Legnext-Api-Key" if REQUEST_KEY.get() is not None else "LEGNEXT_API_KEY"
        return AuthenticationError(f"{api[0].upper()}{api[1:]} refused the API key ({message}). Check "
                                   f"{which}; {profile.key_help}.", status=status, detail=detail)
    if status == 402:
        return InsufficientCreditsError(
            f"Not enough credits for this job ({message}). Top up the balance, or pick a cheaper operation; "
            "failed jobs are not charged.", status=status, job_id=job_id, detail=detail)
    if status == 403:
        return ForbiddenError(
            f"{api[0].upper()}{api[1:]} refused this request ({message}). Either the content was flagged by "
            "moderation (rephrase the prompt or use another image) or the feature is not enabled for this "
            "account.", status=status, job_id=job_id, detail=detail)
    if status == 404:
        return NotFoundError(f"Not found ({message}). Check the job id; jobs can only be read with the key that "
                             "created them.", status=status, job_id=job_id, detail=detail)
    if status in (400, 413, 422):
        hint = "make the file smaller" if status == 413 else "fix what it names"
        return BadRequestError(f"{api[0].upper()}{api[1:]} rejected the request ({message}); {hint} and try "
                               "again.", status=status, job_id=job_id, detail=detail)
    if status == 429:
        return RateLimitedError(f"Rate limited by {api} ({message}). {profile.concurrency_help}; wait for "
                                "running jobs to finish and try again.", status=status, retry_after=retry_after,
                                detail=detail)
    return ServerError(f"{api[0].upper()}{api[1:]} answered HTTP {status} ({message}). This is usually temporary; "
                       "try again shortly.", status=status, job_id=job_id, detail=detail)


class _TooLarge(Exception):
    pass


class ApiTransport:
    """One ``httpx2.AsyncClient`` for one API origin, with the rules above.

    ``transport`` replaces the network (tests pass ``httpx2.ASGITransport(simulator)``).
    """

    def __init__(self, base_url: str, *, auth: httpx2.Auth, secret: str, profile: ApiProfile,
                 transport: httpx2.AsyncBaseTransport | None = None, timeout: httpx2.Timeout | None = None,
                 clock: Clock | None = None, rng: random.Random | None = None,
                 max_answer_bytes: int = policy.MAX_ANSWER_BYTES) -> None:
        self.base_url = base_url.rstrip("/")
        self.profile = profile
        self.clock = clock or Clock()
        self.redactor = Redactor(secret)
        self._auth = auth
        self._transport = transport
        self._timeout = timeout
        self._rng = rng or random.Random()
        self._max_answer_bytes = max_answer_bytes
        # Built on first use (its TLS context is shared with the download client, http/tls.py), so a server
        # that only answers tools/list does not pay for loading the CA bundle at start-up.
        self._client: httpx2.AsyncClient | None = None

    @property
    def _http(self) -> httpx2.AsyncClient:
        if self._client is None:
            self._client = httpx2.AsyncClient(
                base_url=self.base_url + "/", auth=self._auth, transport=self._transport,
                timeout=self._timeout or httpx2.Timeout(
                    connect=policy.CONNECT_TIMEOUT_S, read=policy.READ_TIMEOUT_S, write=policy.WRITE_TIMEOUT_S,
                    pool=policy.POOL_TIMEOUT_S),
                limits=httpx2.Limits(max_connections=policy.MAX_CONNECTIONS,
                                     max_keepalive_connections=policy.MAX_KEEPALIVE_CONNECTIONS),
                follow_redirects=False, verify=tls_context() if self._transport is None else True,
                headers={"user-agent": f"legnext-mcp/{__version__}", "accept": "application/json"},
            )
        return self._client

    def __repr__(self) -> str:
        return f"ApiTransport(base_url={self.base_url!r}, key='***')"

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def request(self, kind: RequestKind, method: str, path: str, *,
                      json_body: Mapping[str, Any] | None = None) -> Any:
        """Send one request under the retry rules and return its parsed, redacted JSON answer.

        Raises: the ``APIStatusError`` family for error statuses, NetworkError (nothing happened),
        SubmissionUncertainError (a CREATE that may have arrived), ServerError (unreadable answers).
        """
        attempt = 0
        while True:
            attempt += 1
            outcome, status, answer, retry_after, failure = await self._attempt(kind, method, path, json_body)
            if outcome is Outcome.OK:
                return answer
            if policy.should_retry(kind, outcome, status, attempt):
                delay = policy.backoff_delay(attempt, retry_after, self._rng)
                log.info("%s %s: %s, retry %d in %.2fs (API time)", method, path,
                         status if outcome is Outcome.STATUS else outcome.value, attempt, delay)
                await self.clock.sleep(delay)
                continue
            if outcome is Outcome.STATUS:
                assert isinstance(answer, LegnextError)
                if kind is RequestKind.CREATE and (status or 0) >= 500:
                    raise SubmissionUncertainError(
                        f"{self.profile.service[0].upper()}{self.profile.service[1:]} failed with HTTP {status} "
                        "after receiving the job request, so it may or may not have created the job. It was not "
                        "re-sent (that could pay twice); check recent jobs before submitting again.",
                        status=status, job_id=answer.job_id)
                raise answer
            if outcome is Outcome.CONNECT_FAILED:
                raise NetworkError(f"Could not connect to {self.profile.service} after several tries; nothing "
                                   "was sent. Check the network and LEGNEXT_BASE_URL, then try again.")
            if kind is RequestKind.CREATE:
                raise SubmissionUncertainError(
                    f"The job request was sent but no readable answer came back ({failure}). The job may exist "
                    "and was not re-sent (that could pay twice); check recent jobs before submitting again.")
            raise NetworkError(f"{self.profile.service[0].upper()}{self.profile.service[1:]} did not answer "
                               f"properly after {attempt} tries ({failure}). Try again shortly.")

    async def _attempt(self, kind: RequestKind, method: str, path: str, json_body: Mapping[str, Any] | None,
                       ) -> tuple[Outcome, int | None, Any, float | None, str]:
        """One try: (outcome, status, parsed answer or our error, retry-after, what went wrong)."""
        try:
            with anyio.fail_after(policy.API_REQUEST_DEADLINE_S):
                request = self._http.build_request(method, path, json=json_body)
                response = await self._http.send(request, stream=True)
                try:
                    status = response.status_code
                    if response.has_redirect_location or 300 <= status < 400:
                        raise ServerError(f"{self.profile.service[0].upper()}{self.profile.service[1:]} answered "
                                          f"with a redirect (HTTP {status}); redirects are not followed so the key "
                                          "never leaves the API origin. Check LEGNEXT_BASE_URL.", status=status)
                    retry_after = policy.parse_retry_after(response.headers.get("retry-after"))
                    raw = await self._read_capped(response)
                finally:
                    await response.aclose()
        except (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout):
            return Outcome.CONNECT_FAILED, None, None, None, "connection refused"
        except (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError, TimeoutError) as exc:
            return Outcome.SENT_NO_ANSWER, None, None, None, type(exc).__name__
        except _TooLarge:
            return Outcome.SENT_NO_ANSWER, None, None, None, f"an answer over {self._max_answer_bytes} bytes"
        except httpx2.TransportError as exc:
            raise NetworkError(f"Could not talk to {self.profile.service} ({type(exc).__name__}). Check "
                               "LEGNEXT_BASE_URL.") from None
        parsed, readable = self._parse(raw)
        if 200 <= status < 300:
            if not readable:
                return Outcome.SENT_NO_ANSWER, status, None, None, "an unreadable answer"
            return Outcome.OK, status, parsed, None, ""
        message, job_id = self.profile.read_error(parsed) if readable else (None, None)
        text = self.redactor.text(str(message or response.reason_phrase or "no message"))[:500]
        error = error_for_status(self.profile, status, text, job_id=job_id, retry_after=retry_after)
        return Outcome.STATUS, status, error, retry_after, f"HTTP {status}"

    async def _read_capped(self, response: httpx2.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_answer_bytes:
            raise _TooLarge
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self._max_answer_bytes:
                raise _TooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    def _parse(self, raw: bytes) -> tuple[Any, bool]:
        """(redacted JSON, True), or (None, False) for anything that is not JSON, including nesting so deep
        that parsing it would exhaust the stack."""
        try:
            return self.redactor.tree(json.loads(raw)), True
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError, ValueError):
            return None, False
