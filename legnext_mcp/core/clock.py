"""Time, injected: the one place where an API's clock speed differs from ours.

The client and the waits think in *API seconds* (a job "takes 40 s"); a ``Clock`` sleeps them. The
real API runs at speed 1; a simulator may run faster (``time_scale``), so its clock sleeps
``seconds / time_scale``. Tests inject a clock that records delays instead of sleeping.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import anyio


class Clock:
    """Real time, at the API's speed ``scale`` (simulated seconds per real second; 1 for real APIs)."""

    def __init__(self, scale: float = 1.0) -> None:
        if scale <= 0:
            raise ValueError("a clock's scale must be positive")
        self.scale = scale

    def monotonic(self) -> float:
        """Real seconds from an arbitrary start (deadlines)."""
        return time.monotonic()

    def now(self) -> datetime:
        """The wall clock, UTC."""
        return datetime.now(UTC)

    def api_seconds(self, real_seconds: float) -> float:
        """How many API seconds pass in ``real_seconds``."""
        return real_seconds * self.scale

    def real_seconds(self, api_seconds: float) -> float:
        """How many real seconds ``api_seconds`` of the API's time take (never negative)."""
        return max(api_seconds, 0.0) / self.scale

    async def sleep(self, api_seconds: float) -> None:
        """Sleep for ``api_seconds`` of the API's time. Cancelling the caller interrupts it."""
        await anyio.sleep(self.real_seconds(api_seconds))

    def __repr__(self) -> str:
        return f"Clock(scale={self.scale:g})"
