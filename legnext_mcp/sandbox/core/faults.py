"""Fault knobs of the simulator, for tests: set them in-process or with ``POST /_sandbox/faults``."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Literal

FaultKind = Literal["status", "slow", "drop", "malformed", "body", "json"]


@dataclass
class Fault:
    """Misbehave on the next ``count`` requests that match ``method`` and ``path_prefix``.

    * ``status``: answer ``status`` (5xx, 429 with ``retry_after``, 3xx to ``location``...) with a flat
      error body;
    * ``slow``: wait ``delay_s`` real seconds before answering (past the client's read timeout);
    * ``drop``: start a response (``content_type``) and cut the connection mid-body;
    * ``malformed``: answer 200 with a body that is not JSON;
    * ``body``: answer 200 with ``size`` bytes of ``content_type`` (``fill`` repeated), streamed without a
      length, pausing ``delay_s`` between 64 KiB chunks (a web page instead of an image, an endless or
      trickling file);
    * ``json``: answer ``status`` with ``payload`` as the JSON body (a hostile or broken upstream's answer).

    With ``after_handling`` the request takes effect first (a job is created and paid for) and only the
    answer misbehaves: the case where a client cannot know whether its POST worked.
    """

    kind: FaultKind
    count: int = 1
    method: str | None = None
    path_prefix: str | None = None
    status: int = 500
    retry_after: float | None = None
    delay_s: float = 0.0
    after_handling: bool = False
    content_type: str = "application/json"
    size: int = 0
    location: str | None = None
    payload: str = ""
    fill: str = ""

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path_prefix is None or path.startswith(self.path_prefix))


class Faults:
    """A thread-safe list of pending faults (the loopback server runs in another thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Fault] = []
        #: Jobs submitted while this is set never leave ``processing``.
        self.hang_jobs = False
        #: The next N submitted jobs fail while processing (error code 500, nothing consumed).
        self.fail_jobs = 0

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._pending.append(fault)

    def add_from_json(self, data: dict[str, Any]) -> None:
        """Apply ``{"hang_jobs": bool}``, ``{"fail_jobs": n}`` or the fields of a :class:`Fault`."""
        with self._lock:
            if "hang_jobs" in data:
                self.hang_jobs = bool(data["hang_jobs"])
            if "fail_jobs" in data:
                self.fail_jobs = int(data["fail_jobs"])
        if "kind" in data:
            self.add(Fault(**{k: v for k, v in data.items() if k in Fault.__dataclass_fields__}))

    def take(self, method: str, path: str) -> Fault | None:
        """The first pending fault matching this request, consuming one of its uses."""
        with self._lock:
            for fault in self._pending:
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._pending.remove(fault)
                    return fault
        return None

    def take_job_failure(self) -> bool:
        with self._lock:
            if self.fail_jobs > 0:
                self.fail_jobs -= 1
                return True
            return False

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
            self.hang_jobs = False
            self.fail_jobs = 0
