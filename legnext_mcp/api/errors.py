"""One exception tree for everything the Legnext client can raise.

Every class carries a stable ``code`` (what a program branches on) and a message written for the
person or model that has to act on it: what happened and what to do next. Messages are built by us,
never copied from transport exceptions, and never contain the API key (the client redacts anything
that came back from the server before it reaches a message).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from legnext_mcp.api.models import Job


class LegnextError(Exception):
    """Base of every error raised by :mod:`legnext_mcp.api`."""

    code: ClassVar[str] = "error"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        job_id: str | None = None,
        detail: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.job_id = job_id
        self.detail = detail

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, message={self.message!r})"


class AuthenticationError(LegnextError):
    """401: the key was missing or refused."""

    code = "auth"


class InsufficientCreditsError(LegnextError):
    """402: the balance cannot cover the job."""

    code = "insufficient_credits"


class ForbiddenError(LegnextError):
    """403: content moderation, or a feature the account does not have (e.g. v8 without Pro)."""

    code = "forbidden"


class NotFoundError(LegnextError):
    """404: no such job (or endpoint)."""

    code = "not_found"


class InvalidRequestError(LegnextError):
    """400/413/422 from the API, or a request our own checks refused before sending."""

    code = "validation"

    def __init__(self, message: str, *, local: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.local = local


class RateLimitedError(LegnextError):
    """429 that outlived the bounded retries."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(LegnextError):
    """5xx, an unexpected status, or a body we could not read."""

    code = "server"


class NetworkError(LegnextError):
    """The API could not be reached (DNS, refused, reset) after the bounded retries."""

    code = "network"


class SubmissionUncertainError(LegnextError):
    """A job-creating POST may have reached the server but we saw no answer.

    It is deliberately not retried: re-sending could pay for the same job twice.
    """

    code = "submission_uncertain"


class JobFailedError(LegnextError):
    """The job reached status ``failed``. ``job`` holds the final job object."""

    code = "job_failed"

    def __init__(self, message: str, *, job: Job, **kwargs: Any) -> None:
        super().__init__(message, job_id=job.job_id, **kwargs)
        self.job = job

    @property
    def moderated(self) -> bool:
        """True when the API refused the content (error code 403)."""
        return self.job.error.code == 403


class WaitTimeoutError(LegnextError):
    """The wait ran out before the job finished. ``last`` is the last snapshot seen, if any."""

    code = "wait_timed_out"

    def __init__(self, message: str, *, job_id: str, last: Job | None = None, **kwargs: Any) -> None:
        super().__init__(message, job_id=job_id, **kwargs)
        self.last = last


def error_for_status(status: int, message: str, *, job_id: str | None = None, detail: Any = None,
                     retry_after: float | None = None) -> LegnextError:
    """Map an HTTP status from the API to our exception, with a next step in the message."""
    if status == 401:
        return AuthenticationError(
            f"The Legnext API refused the API key ({message}). Check LEGNEXT_API_KEY; "
            "keys are managed at https://legnext.ai/app/api-keys.",
            status=status, detail=detail,
        )
    if status == 402:
        return InsufficientCreditsError(
            f"Not enough credits for this job ({message}). Top up the balance, or pick a cheaper "
            "operation; failed jobs are not charged.",
            status=status, job_id=job_id, detail=detail,
        )
    if status == 403:
        return ForbiddenError(
            f"The API refused this request ({message}). Either the content was flagged by moderation "
            "(rephrase the prompt or use another image) or the feature is not enabled for this account.",
            status=status, job_id=job_id, detail=detail,
        )
    if status == 404:
        return NotFoundError(
            f"Not found ({message}). Check the job id; jobs can only be read with the key that created them.",
            status=status, job_id=job_id, detail=detail,
        )
    if status in (400, 413, 422):
        hint = "make the file smaller" if status == 413 else "fix the parameters named above"
        return InvalidRequestError(
            f"The API rejected the request ({message}); {hint} and try again.",
            status=status, job_id=job_id, detail=detail,
        )
    if status == 429:
        return RateLimitedError(
            f"Rate limited by the API ({message}). At most 6 jobs run at once per key; wait for running "
            "jobs to finish and try again.",
            status=status, retry_after=retry_after, detail=detail,
        )
    return ServerError(
        f"The Legnext API answered HTTP {status} ({message}). This is usually temporary; try again shortly.",
        status=status, job_id=job_id, detail=detail,
    )
