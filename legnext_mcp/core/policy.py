"""Pure decisions: what to retry, how long to back off, when to poll, how much to accept. No I/O here.

Every tunable number of the HTTP layer and the waits lives in this module, named, so it can be read in
one place and benchmarked (see ``benchmarks/``). Delays are in API seconds; a ``Clock`` turns them into
real ones (``core.clock``).
"""

from __future__ import annotations

import email.utils
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

# --- HTTP limits -----------------------------------------------------------------------------------
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 30.0
WRITE_TIMEOUT_S = 30.0
POOL_TIMEOUT_S = 30.0
MAX_CONNECTIONS = 20
MAX_KEEPALIVE_CONNECTIONS = 10

# --- retries ---------------------------------------------------------------------------------------
#: Total tries of an idempotent request (GET) before giving up.
MAX_GET_ATTEMPTS = 5
#: Extra tries of a job-creating POST that certainly never reached the server (connect failed).
MAX_POST_CONNECT_RETRIES = 2
#: Extra tries of a job-creating POST refused with 429 (the API creates no job when it says 429).
MAX_POST_RATE_LIMIT_RETRIES = 3
BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 8.0
#: We honour Retry-After, but never sleep longer than this for one retry.
RETRY_AFTER_CAP_S = 30.0
RETRYABLE_GET_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

# --- answers -------------------------------------------------------------------------------------
#: Largest API answer read: a job is a few KB, a batch of ten a few tens; a bigger one is refused while
#: it streams in (never held whole in memory).
MAX_ANSWER_BYTES = 2 * 1024 * 1024
#: One API request, every read included: an answer that trickles in is cut off here.
API_REQUEST_DEADLINE_S = 90.0

# --- downloads -------------------------------------------------------------------------------------
DOWNLOAD_MAX_BYTES = 64 * 1024 * 1024
#: Per read; a file that trickles in is stopped by DOWNLOAD_DEADLINE_S.
DOWNLOAD_TIMEOUT_S = 30.0
#: Whole download of one file, every redirect included.
DOWNLOAD_DEADLINE_S = 120.0
DOWNLOAD_MAX_REDIRECTS = 5
DOWNLOAD_CONTENT_TYPES = ("image/", "video/", "application/octet-stream")
#: Largest picture (pixels) we decode for previews and grid cuts: above it, a decompression bomb.
MAX_IMAGE_PIXELS = 80_000_000
#: A batch's requests in flight at once: the Legnext API runs 6 jobs at a time per account (a 7th is a 429).
BATCH_CONCURRENCY = 6
#: How many prompts one imagine_batch takes.
BATCH_PROMPTS = (2, 10)

class RequestKind(Enum):
    """How safe a request is to repeat."""

    READ = "read"  # GET: repeat freely
    CREATE = "create"  # POST that creates (and pays for) a job: repeat only if it never arrived


class Outcome(Enum):
    """What happened to one attempt, as far as retrying is concerned."""

    OK = "ok"
    CONNECT_FAILED = "connect_failed"  # refused/DNS/connect timeout: the request was never sent
    SENT_NO_ANSWER = "sent_no_answer"  # read timeout, reset, truncated body: it may have arrived
    STATUS = "status"  # the server answered with an HTTP status


def should_retry(kind: RequestKind, outcome: Outcome, status: int | None, attempt: int) -> bool:
    """Whether attempt number ``attempt`` (1-based) may be followed by another.

    A job-creating POST is repeated only when it certainly created nothing: the connection was never
    made, or the API answered 429 (which it does instead of creating a job).
    """
    if outcome is Outcome.OK:
        return False
    if kind is RequestKind.READ:
        if attempt >= MAX_GET_ATTEMPTS:
            return False
        if outcome is Outcome.STATUS:
            return status in RETRYABLE_GET_STATUSES
        return True
    if outcome is Outcome.CONNECT_FAILED:
        return attempt <= MAX_POST_CONNECT_RETRIES
    if outcome is Outcome.STATUS and status == 429:
        return attempt <= MAX_POST_RATE_LIMIT_RETRIES
    return False


def backoff_delay(attempt: int, retry_after: float | None, rng: random.Random) -> float:
    """Seconds to wait before attempt ``attempt + 1``: full-jitter exponential, or Retry-After.

    An explicit Retry-After from the server wins (capped at ``RETRY_AFTER_CAP_S``); otherwise the delay
    is uniform in ``[0, min(cap, base * 2**(attempt-1))]`` so many clients do not retry in step.
    """
    if retry_after is not None:
        return min(max(retry_after, 0.0), RETRY_AFTER_CAP_S)
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * (2 ** max(attempt - 1, 0)))
    return rng.uniform(0.0, ceiling)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date); None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(seconds, 0.0)


# --- polling ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PollPlan:
    """When to look at a job of one class: first after ``first_s``, then every ``interval_s``,
    tightening to ``late_interval_s`` once ``late_after_s`` have passed (the job is due any moment)."""

    first_s: float
    interval_s: float
    late_after_s: float
    late_interval_s: float


#: Designed from the durations the docs give (40-skill-api-reference.md: images "typically 30-80 seconds";
#: 04-model-information.md: v8 "under 15 seconds"; 05-image-parameters.md: turbo "up to 4x faster",
#: draft "10x faster") and, where the docs are silent, the simulator's assumptions (describe/shorten
#: 3-10 s, upscales and single-image edits 10-30 s, video 60-120 s). Nothing can be done before the
#: shortest typical duration, so the first look waits for it; after that a look every ~3 s keeps the
#: detection lag at or under a fixed 3 s poll while sending fewer GETs (benchmarks/polling.py).
POLL_PLANS: dict[str, PollPlan] = {
    "text": PollPlan(first_s=3.0, interval_s=2.5, late_after_s=10.0, late_interval_s=3.0),
    "image": PollPlan(first_s=30.0, interval_s=2.95, late_after_s=80.0, late_interval_s=5.0),
    "image-fast": PollPlan(first_s=8.0, interval_s=2.8, late_after_s=20.0, late_interval_s=4.0),
    "single": PollPlan(first_s=10.0, interval_s=2.9, late_after_s=30.0, late_interval_s=4.0),
    "video": PollPlan(first_s=60.0, interval_s=2.9, late_after_s=120.0, late_interval_s=6.0),
}
#: After the first look, never wait longer than this between looks, so a stuck status is noticed.
MAX_POLL_INTERVAL_S = 10.0

def poll_plan(poll_class: str | None, *, fast: bool = False) -> PollPlan:
    """The polling plan of a class ("text", "image", "single", "video"); images by default, and the
    fast image plan when the job asked for turbo, draft or a v8 model."""
    kind = poll_class if poll_class in POLL_PLANS else "image"
    if kind == "image" and fast:
        kind = "image-fast"
    return POLL_PLANS[kind]


#: With callbacks, polling is only the fallback for a callback that never comes: the first look waits until a job
#: of the class is late (past its typical duration, with this margin), then looks this many times less often.
CALLBACK_MARGIN = 1.25
CALLBACK_SLOWDOWN = 4.0


def fallback_poll_delay(plan: PollPlan, elapsed_s: float, polls_done: int) -> float:
    """API seconds to sleep before the next look when the API will call back: a callback normally ends the wait
    with one read; these looks only bound how long a lost callback can hide a finished job."""
    if polls_done == 0:
        return max(plan.late_after_s * CALLBACK_MARGIN - elapsed_s, 0.0)
    return min(plan.late_interval_s, MAX_POLL_INTERVAL_S) * CALLBACK_SLOWDOWN


def next_poll_delay(plan: PollPlan, elapsed_s: float, polls_done: int) -> float:
    """API seconds to sleep before the next look at a job that has been waited on for ``elapsed_s``."""
    if polls_done == 0:
        delay = max(plan.first_s - elapsed_s, 0.0)  # the first look: when the fastest job could be done
    elif elapsed_s >= plan.late_after_s:
        delay = min(plan.late_interval_s, MAX_POLL_INTERVAL_S)
    else:
        delay = min(plan.interval_s, MAX_POLL_INTERVAL_S)
    return delay


#: list_jobs reads at most this many unfinished jobs again before listing (free GETs; the rest are shown with
#: when their status was recorded).
LIST_REFRESH_READS = 10
