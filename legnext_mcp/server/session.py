"""What the server's lifespan holds for its requests, shared by the cold front and the warm back.

The front opens the ledger when the server starts (a bad data folder is a start-up failure, not a mid-job
one) and leaves ``warm`` empty; the back fills it on the first request that needs it (the dialect, the
services), under ``lock`` so concurrent first requests make it once, and ``stack`` closes it with the lifespan.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass, field

import anyio
from anyio.abc import TaskGroup

from legnext_mcp.ledger import Ledger
from legnext_mcp.settings import Settings


@dataclass
class Session:
    settings: Settings
    ledger: Ledger
    stack: AsyncExitStack
    #: Long-lived tasks of the lifespan (the poller): the services may be opened by a request, not run by it.
    group: TaskGroup
    lock: anyio.Lock = field(default_factory=anyio.Lock)
    #: The back's state for this lifespan (``tools.Warm``), once a request needed it.
    warm: object | None = None
