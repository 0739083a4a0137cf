"""Everything decided before a paid request is sent: the parent job's checks (ledger first, then the
API), the price, the daily budget and whether to ask the user. Nothing here sends a job."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from mcp.server.mcpserver.resolve import Elicit
from pydantic import BaseModel, Field

from legnext_mcp.api import Job, JobRequest
from legnext_mcp.api.costs import Estimate, estimate
from legnext_mcp.api.errors import InvalidRequestError
from legnext_mcp.api.followups import check_parent, parent_id
from legnext_mcp.api.models import is_public_url, urls_in
from legnext_mcp.server.runtime import Runtime
from legnext_mcp.settings import Settings

DAY_S = 24 * 3600


@dataclass(frozen=True)
class Plan:
    """A request that passed every local check, its price and notes for the result."""

    request: JobRequest
    estimate: Estimate
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class NoQuestion:
    """The confirmation was not asked: below the threshold, not configured, or the client cannot ask."""

    note: str | None = None


class ConfirmSpend(BaseModel):
    """What the user answers when a job costs more than LEGNEXT_CONFIRM_ABOVE_POINTS."""

    confirm: bool = Field(description="Submit the job and spend the points")


async def load_parent(rt: Runtime, job_id: str) -> tuple[Job, str | None]:
    """The parent job and the prompt it was made from: the ledger's finished snapshot when it has one,
    otherwise a fresh GET (free), recorded so the next check needs no request.

    Raises:
        LegnextError: NotFoundError for an unknown id, or whatever the GET raised.
    """
    entry = await rt.ledger.get(job_id)
    if entry is not None and entry.job.is_terminal:
        return entry.job, entry.prompt
    job = await rt.client.get_job(job_id)
    await rt.ledger.record(job)
    return job, entry.prompt if entry else None


def check_addresses(rt: Runtime, request: JobRequest) -> None:
    """Refuse image URLs that carry credentials (the API would pass them on to wherever it fetches), and
    URLs on private, loopback or link-local addresses: the API's servers cannot reach them, and the URL
    would leak an internal address. Local addresses are allowed when the API itself is local (the
    sandbox serves its own images from 127.0.0.1).

    Raises:
        InvalidRequestError: naming the URL and what to do instead.
    """
    local_api = not is_public_url(rt.client.base_url)
    for url in urls_in(request):
        if "@" in urlsplit(url).netloc:
            raise InvalidRequestError(
                f"{url.split('@', 1)[-1][:80]!r}: an image URL must not carry a user name or password (user:pass@). "
                "Use a public URL without credentials. Nothing was sent.", local=True)
        if not local_api and not is_public_url(url):
            raise InvalidRequestError(
                f"{url[:100]} is not a public address (localhost, a private network or link-local); the "
                "Legnext servers fetch images from the internet and cannot reach it. Put the image at a public "
                "https URL and pass that. Nothing was sent.", local=True)


async def preflight(rt: Runtime, request: JobRequest) -> Plan:
    """Check the parent, price the request and apply the daily budget.

    Raises:
        LegnextError: a local InvalidRequestError saying what to change, or the parent lookup's error.
    """
    check_addresses(rt, request)
    parent = parent_id(request)
    if parent is not None:
        job, prompt = await load_parent(rt, parent)
        check_parent(request, job, parent_prompt=prompt, now=datetime.now(UTC))
    price = estimate(request)
    notes: list[str] = []
    cap = rt.settings.max_points_per_day
    if cap is not None:
        used = await rt.ledger.points_since(time.time() - DAY_S)
        if used + price.points > cap:
            raise InvalidRequestError(
                f"Refused by the daily budget: this job costs {price}, {used} of the {cap} points allowed in 24 "
                f"hours (LEGNEXT_MAX_POINTS_PER_DAY) are used. Nothing was sent. Raise the limit or wait.",
                local=True)
        notes.append(f"Budget: {used + price.points} of {cap} points used in the last 24 hours with this job.")
    return Plan(request=request, estimate=price, notes=tuple(notes))


def confirmation(settings: Settings, plan: Plan, *, can_ask: bool) -> NoQuestion | Elicit[ConfirmSpend]:
    """Ask the user when the price is above LEGNEXT_CONFIRM_ABOVE_POINTS and the client can be asked.

    A client without elicitation is not asked and not pretended to have answered: the job goes ahead
    and its result says the confirmation was skipped.
    """
    limit = settings.confirm_above_points
    if limit is None or plan.estimate.points <= limit:
        return NoQuestion()
    if not can_ask:
        return NoQuestion(f"Not confirmed: this job costs {plan.estimate.points} points, above "
                          f"LEGNEXT_CONFIRM_ABOVE_POINTS={limit}, but this MCP client cannot ask the user "
                          "(no elicitation support), so the question was skipped.")
    return Elicit(f"Submit this {plan.request.task_type} job for {plan.estimate}? "
                  f"(asked because it is above {limit} points)", ConfirmSpend)
