"""The one poll loop: look at a job on a schedule until it ends or a deadline passes.

Used by the typed Legnext client (``LegnextClient.wait``) and by the service layer's waits, so the
schedule, the deadline and cancellation behave the same everywhere. The caller supplies how to read the
job and which plan applies; the clock turns API seconds into real ones.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol, TypeVar

from legnext_mcp.core import policy
from legnext_mcp.core.clock import Clock
from legnext_mcp.core.job import JobStatus


class Observed(Protocol):
    @property
    def status(self) -> JobStatus: ...


J = TypeVar("J", bound=Observed)


async def poll_until_done(read: Callable[[], Awaitable[J]], *, plan: Callable[[J], policy.PollPlan], clock: Clock,
                          timeout: float, known: J | None = None, on_poll: Callable[[J], Awaitable[None]] | None = None,
                          created_at: datetime | None = None) -> tuple[J | None, bool]:
    """Poll until the job is completed or failed, or ``timeout`` real seconds pass.

    ``known`` is a snapshot we already have (the submit answer): the first look then waits for the plan's
    first poll time. ``created_at`` (the job's creation, on the real API's clock) counts the job's age
    toward the schedule, for a job submitted earlier. Returns (last snapshot, finished?). Cancelling
    the caller stops it at once.
    """
    start = clock.monotonic()
    deadline = start + timeout
    age = 0.0
    if created_at is not None and clock.scale == 1.0:  # a simulator's timestamps run at another speed
        age = max((clock.now() - created_at).total_seconds(), 0.0)
    last = known
    polls = 0
    while True:
        if last is not None and last.status.is_terminal:
            return last, True
        now = clock.monotonic()
        remaining = deadline - now
        if remaining <= 0:
            return last, False
        delay = 0.0
        if last is not None:
            delay = policy.next_poll_delay(plan(last), clock.api_seconds(now - start) + age, polls)
        # The last sleep is cut to the deadline and followed by one final look.
        await clock.sleep(min(delay, clock.api_seconds(remaining)))
        last = await read()
        polls += 1
        if on_poll is not None:
            await on_poll(last)
