"""The one rule for job ids, applied to what a user or model sends and to what an API answers.

Ids become file names, URIs and ledger keys, so they are letters, digits, ``-`` and ``_`` only, start
with a letter or digit and are at most 128 characters (Legnext uses UUIDs, midjourney-proxy numbers).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

from legnext_mcp.core.errors import LocalValidationError, ServerError

_JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")  # [A-Za-z0-9], not \w: no other scripts' letters


def is_job_id(value: object) -> bool:
    """Whether ``value`` is a well-formed job id (fullmatch: a trailing newline is not let through)."""
    return isinstance(value, str) and _JOB_ID.fullmatch(value) is not None


def check_job_id(value: str, what: str = "job id") -> str:
    """``value`` if it is a job id; otherwise raise LocalValidationError naming it.

    Raises:
        LocalValidationError: the value is not a job id.
    """
    if not is_job_id(value):
        raise LocalValidationError(f"{value[:80]!r} is not a {what}: use the job_id from an earlier result "
                                   "(letters, digits, '-' and '_').")
    return value


def check_answer_id(answered: object, asked: str | None, *, service: str) -> str:
    """The job id in an API answer, checked like user input and, when we asked for one job, equal to it.

    An answer is untrusted input: its id names files and ledger rows, so a malformed id (``../x``) or
    the id of another job is refused instead of being recorded.

    Raises:
        ServerError: the answer's id is malformed or is not the job asked for.
    """
    who = service[:1].upper() + service[1:]  # "the Legnext API" -> "The Legnext API" (never "The the")
    if not is_job_id(answered):
        raise ServerError(f"{who} answered with a malformed job id ({str(answered)[:60]!r}); "
                          "the answer was not used.")
    assert isinstance(answered, str)
    if asked is not None and answered != asked:
        raise ServerError(f"{who} answered about job {answered} when asked for job {asked}; the answer "
                          "was not used.")
    return answered


def _validate(value: str) -> str:
    if not is_job_id(value):
        raise ValueError("not a job id; use the job_id from an earlier result (letters, digits, '-' and '_')")
    return value


JobId = Annotated[str, AfterValidator(_validate)]
"""A job id as a pydantic field type (the pattern holds the length limit: no maxLength restated in schemas)."""
