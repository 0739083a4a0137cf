"""Delivering a finished job to its ``callback`` URL, as the API does (08-text-to-image.md: "Callback URL for
task completion notifications").

The payload wrapper is not documented; Legnext's own web app reads ``{"timestamp": <ms>, "data": <job>}``
(its ``WebhookCallbackPayload``), so that is what is sent: once, when the job completes or fails, from a
background thread, with a short timeout. Every attempt is recorded for tests.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx2

log = logging.getLogger("legnext_mcp.sandbox")


@dataclass
class Callbacks:
    sent: list[tuple[str, int]] = field(default_factory=list)  # (url, status or 0 for no answer)
    started: dict[str, float] = field(default_factory=dict)  # url -> time.monotonic() when its sending began
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def deliver(self, url: str, job: dict[str, Any]) -> None:
        with self._lock:
            self.started[url] = time.monotonic()
        payload = {"timestamp": int(time.time() * 1000), "data": job}
        threading.Thread(target=self._post, args=(url, payload), name="sandbox-callback", daemon=True).start()

    def _post(self, url: str, payload: dict[str, Any]) -> None:
        try:
            status = httpx2.post(url, json=payload, timeout=5.0, follow_redirects=False).status_code
        except httpx2.HTTPError as exc:
            log.info("callback to %s failed: %s", url[:80], type(exc).__name__)
            status = 0
        with self._lock:
            self.sent.append((url, status))
