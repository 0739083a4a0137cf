"""One exception tree for everything the client, the dialects and the service layer can raise.

Grouped the way openai-python groups its errors, so a caller branches on what happened:

    LegnextError
    ├── InvalidRequestError           the request is wrong (ours to fix)
    │   ├── LocalValidationError      found before sending: nothing was sent
    │   │   └── PromptError           a prompt's --flags
    │   └── BadRequestError           the API said 400/413/422 (also an APIStatusError)
    ├── APIStatusError                the API answered with an error status (or an error code)
    │   ├── AuthenticationError 401 · InsufficientCreditsError 402 · ForbiddenError 403
    │   ├── NotFoundError 404 · RateLimitedError 429 · ServerError 5xx / unreadable answers
    ├── LedgerError                   the local history (ledger) could not be read or written
    ├── APIConnectionError            no (usable) answer came back
    │   ├── NetworkError              nothing happened: safe to try again
    │   └── SubmissionUncertainError  a paid request may have arrived: do not re-send blindly
    └── JobOutcomeError               the job itself
        ├── JobFailedError            it ended in status failed
        └── WaitTimeoutError          it is still running when the wait ran out

Every class carries a stable ``code`` and a message written for whoever acts on it: what happened and
what to do next, in words that fit a command line as well as an MCP tool (no tool names here; the
MCP layer adds its own hints). Messages never contain the API key: anything that came from the server
is redacted before it reaches a message.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

_NOTHING_SENT = "Nothing was sent."


class LegnextError(Exception):
    """Base of every error raised by ``legnext_mcp``."""

    code: ClassVar[str] = "error"
    #: True when the problem was found before any request left the machine.
    local: ClassVar[bool] = False

    def __init__(self, message: str, *, status: int | None = None, job_id: str | None = None,
                 detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.job_id = job_id
        self.detail = detail

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, message={self.message!r})"


# --- the request is wrong ---------------------------------------------------------------------------


class InvalidRequestError(LegnextError):
    """The request itself is wrong: found locally (:class:`LocalValidationError`) or by the API
    (:class:`BadRequestError`)."""

    code = "validation"


class LocalValidationError(InvalidRequestError):
    """A check made before sending refused the request. The message ends with "Nothing was sent."."""

    local = True

    def __init__(self, message: str, **kwargs: Any) -> None:
        if _NOTHING_SENT.lower() not in message.lower():
            message = f"{message.rstrip()} {_NOTHING_SENT}"
        super().__init__(message, **kwargs)


class PromptError(LocalValidationError):
    """A prompt the API would refuse (or silently misread)."""


class BudgetExceededError(LocalValidationError):
    """A daily spending limit (LEGNEXT_MAX_POINTS_PER_DAY) would be passed."""

    code = "budget"

    @classmethod
    def refused(cls, cost: str, *, used: int, cap: int, unit: str,
                setting: str = "LEGNEXT_MAX_POINTS_PER_DAY") -> BudgetExceededError:
        """The one wording of a budget refusal: what the job costs, what is used of what is allowed."""
        return cls(f"Refused by the daily budget: this job costs {cost}; {used} of the {cap} {unit} allowed in 24 "
                   f"hours ({setting}) are used. Raise the limit or wait.")


class NotConfirmedError(LocalValidationError):
    """The user did not confirm spending."""

    code = "not_confirmed"


# --- the API answered with an error -------------------------------------------------------------------


class APIStatusError(LegnextError):
    """The API answered with an error status (HTTP, or a relay's error code in a 200 answer)."""

    code = "api_error"


class BadRequestError(APIStatusError, InvalidRequestError):
    """400/413/422: the API refused the request's content."""

    code = "validation"


class AuthenticationError(APIStatusError):
    """401: the key was missing or refused."""

    code = "auth"


class InsufficientCreditsError(APIStatusError):
    """402: the balance cannot cover the job."""

    code = "insufficient_credits"


class ForbiddenError(APIStatusError):
    """403: content moderation, or a feature the account does not have (e.g. v8 without Pro)."""

    code = "forbidden"


class NotFoundError(APIStatusError):
    """404: no such job (or endpoint)."""

    code = "not_found"


class RateLimitedError(APIStatusError):
    """429 (or a relay's full queue) that outlived the bounded retries."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(APIStatusError):
    """5xx, an unexpected status, or an answer we could not read."""

    code = "server"


# --- the local history ----------------------------------------------------------------------------


class LedgerError(LegnextError):
    """The ledger (the local history of jobs and spending) cannot be opened, read or written.

    Not a "nothing was sent" error: it can happen after a job was sent (while a wait records what it saw), so
    whoever raises or reports it says whether a request went out.
    """

    code = "ledger"


# --- no usable answer ---------------------------------------------------------------------------------


class APIConnectionError(LegnextError):
    """No usable answer came back."""

    code = "connection"


class NetworkError(APIConnectionError):
    """The API could not be reached, or a read failed after the bounded retries. Nothing was created."""

    code = "network"


class SubmissionUncertainError(APIConnectionError):
    """A job-creating request may have reached the server but no readable answer came back.

    Deliberately not retried: re-sending could pay for the same job twice.
    """

    code = "submission_uncertain"


# --- the job ------------------------------------------------------------------------------------------

J = TypeVar("J")


class JobOutcomeError(LegnextError):
    """The job exists; this is about how it ended (or did not yet)."""

    code = "job"


class JobFailedError(JobOutcomeError, Generic[J]):
    """The job reached status ``failed``. ``job`` is its final snapshot."""

    code = "job_failed"

    def __init__(self, message: str, *, job: J, job_id: str, moderated: bool = False, **kwargs: Any) -> None:
        super().__init__(message, job_id=job_id, **kwargs)
        self.job = job
        #: True when the API refused the content (moderation).
        self.moderated = moderated


class WaitTimeoutError(JobOutcomeError, Generic[J]):
    """The wait ran out before the job finished. ``last`` is the last snapshot seen, if any."""

    code = "wait_timed_out"

    def __init__(self, message: str, *, job_id: str, last: J | None = None, **kwargs: Any) -> None:
        super().__init__(message, job_id=job_id, **kwargs)
        self.last = last
