"""What a dialect is: one Midjourney API behind the same operations, jobs and guarantees.

The service layer talks to a :class:`Dialect` only; adding an API is one folder next to ``legnext/``
that implements this protocol (see ARCHITECTURE.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from legnext_mcp.core.clock import Clock
from legnext_mcp.core.errors import LegnextError
from legnext_mcp.core.followups import FollowUp
from legnext_mcp.core.job import Job
from legnext_mcp.core.money import Estimate
from legnext_mcp.core.operations import Operation
from legnext_mcp.core.policy import PollPlan
from legnext_mcp.http.download import Download

#: A dialect's own plan of requests for one operation (Legnext: the wire request; mj-proxy: the button press).
P = TypeVar("P")


@dataclass(frozen=True)
class Prepared(Generic[P]):
    """An operation turned into this dialect's request, priced; nothing sent yet."""

    operation: Operation
    task_type: str
    #: What will be sent, for the ledger (no key; large inline data abbreviated).
    body: dict[str, Any]
    estimate: Estimate
    plan: P
    #: Things the caller should know (e.g. how a relay maps the operation onto its buttons).
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class AccountSummary:
    """What an account can spend, in the API's unit, and what that means."""

    #: What jobs can spend, or None when the API does not say (relays).
    available: int | None
    unit: str
    usd: float | None = None
    #: The parts of ``available`` by kind (Legnext: credits, points).
    parts: dict[str, int] = field(default_factory=dict)
    #: One sentence on what the unit and the parts are, and which one jobs draw from.
    explanation: str = ""
    plan: str | None = None
    max_concurrent: int | None = None
    low_balance: bool = False
    #: How the key was verified, when there is no balance to read (relays).
    verified_by: str | None = None


class Dialect(Protocol[P]):
    """One API. Implementations: ``dialects.legnext.LegnextDialect``, ``dialects.mjproxy.MjProxyDialect``."""

    #: ``legnext`` or ``mj-proxy``: the LEGNEXT_DIALECT value, and the ledger's key with the job id.
    name: str

    @property
    def service(self) -> str:
        """How messages name the service ("the Legnext API", "the relay")."""

    @property
    def base_url(self) -> str: ...

    @property
    def unit(self) -> str:
        """The unit prices and budgets are in."""

    @property
    def clock(self) -> Clock:
        """The API's clock (a simulator may run faster than real time)."""

    def supports(self, operation: type[Operation]) -> bool:
        """Whether this API can run the operation at all."""

    def unsupported_reason(self, operation: type[Operation]) -> str:
        """Why it cannot (for estimate_cost and the docs)."""

    def prepare(self, op: Operation, parent: Job | None, parent_prompt: str | None) -> Prepared[P]:
        """Check what only this API knows (its follow-up rules, the parent's buttons), build and price the request.
        Sends nothing.

        Raises:
            LocalValidationError: naming what to change.
        """

    async def submit(self, prepared: Prepared[P], *, callback: str | None = None) -> Job:
        """Send it (once) and return the new job; ``callback``: a URL the API should call when the job ends.
        Raises the ``core.errors`` tree."""

    async def get(self, job_id: str) -> Job:
        """One job now. Raises NotFoundError, NetworkError, ServerError, ..."""

    async def get_many(self, job_ids: list[str]) -> list[Job | LegnextError]:
        """Several jobs now, in the order asked (one request where the API allows); a job that could not be
        read is its error."""

    async def account(self) -> AccountSummary:
        """The balance (and plan) where the API has them; otherwise how the key was verified."""

    async def active_jobs(self) -> list[Job] | None:
        """The account's running jobs as the API sees them, or None when it cannot say."""

    def poll_plan(self, job: Job, prompt: str | None) -> PollPlan:
        """How often to look at this job."""

    def follow_ups(self, job: Job) -> list[FollowUp]:
        """The calls that make sense on this job now, by this API's rules (what it lists, and what it can run
        on any finished image)."""

    def from_raw(self, raw: dict[str, Any]) -> Job:
        """A job again from a stored answer (the ledger keeps answers as they came)."""

    async def download(self, url: str, *, max_bytes: int | None = None) -> Download:
        """An output file, without credentials, every address checked."""

    async def aclose(self) -> None: ...
