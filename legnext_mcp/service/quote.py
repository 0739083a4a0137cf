"""Everything decided before a paid request is sent: the operation is supported, its URLs may be fetched,
its parent is known and allows it, the dialect can build it, its price, and the daily budget.

Nothing here sends a job; at most it reads the parent (free). The budget is checked here for the
estimate and again, atomically with recording the intent, when the job is sent (``service.jobs``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from legnext_mcp.core.errors import BudgetExceededError, LegnextError, LocalValidationError
from legnext_mcp.core.job import Job
from legnext_mcp.core.localref import is_local_ref
from legnext_mcp.core.operations import Operation, image_prompt_urls
from legnext_mcp.core.urls import is_public_url, on_origin
from legnext_mcp.dialects.base import Prepared
from legnext_mcp.ledger import Cap
from legnext_mcp.service import inputs
from legnext_mcp.service.caller import caller, unknown_job
from legnext_mcp.service.inputs import LocalImage
from legnext_mcp.service.runtime import Services
from legnext_mcp.settings import Settings

DAY_S = 24 * 3600


@dataclass(frozen=True)
class Quote:
    """A request that passed every local check, priced, with notes for the result."""

    prepared: Prepared[Any]
    notes: tuple[str, ...] = ()
    #: Local pictures, read and checked (``service.inputs``): the request above carries stand-ins for them until
    #: ``jobs.submit`` delivers them and builds it again, with the parent below.
    local: tuple[LocalImage, ...] = ()
    operation: Operation | None = None
    parent: Job | None = None
    parent_prompt: str | None = None

    @property
    def asked(self) -> Operation:
        """The operation as the caller wrote it (local references and all)."""
        return self.operation or self.prepared.operation


async def load_parent(svc: Services, job_id: str) -> tuple[Job, str | None]:
    """The parent job and the prompt it was made from: the ledger's finished snapshot when it has one,
    otherwise a fresh read (free), recorded so the next check needs no request.

    Raises:
        LegnextError: NotFoundError for an unknown id (on a shared server, one the caller does not own), or
            whatever the read raised.
    """
    who = caller()
    entry = await svc.ledger.get(svc.dialect.name, job_id, user=who.reads)
    if entry is None and who.scoped:  # someone else's, or unknown: the same answer, and nothing asked upstream
        raise unknown_job(job_id)
    if entry is not None and entry.job.is_terminal:
        return entry.job, entry.prompt or entry.job.prompt
    job = await svc.dialect.get(job_id)
    await svc.ledger.record(job, user=who.user)
    return job, (entry.prompt if entry else None) or job.prompt


def check_addresses(svc: Services, op: Operation) -> None:
    """Refuse image URLs that carry credentials (the API would pass them on to wherever it fetches), and
    URLs on private, loopback or link-local addresses: the API's servers cannot reach them, and the URL
    would leak an internal address. A local API (the sandbox, a relay on this machine) may be given URLs on its
    own origin (the sandbox serves its own images from 127.0.0.1), and no other private address.

    Raises:
        LocalValidationError: naming the URL and what to do instead.
    """
    base = svc.dialect.base_url
    for url in [*op.fetched_urls(), *image_prompt_urls(op)]:
        if is_local_ref(url):  # a picture on this machine: service.inputs decides
            continue
        if "@" in urlsplit(url).netloc:
            raise LocalValidationError(f"{url.split('@', 1)[-1][:80]!r}: an image URL must not carry a user name or "
                                       "password (user:pass@). Use a public URL without credentials.")
        if not is_public_url(url) and not on_origin(url, base):
            raise LocalValidationError(
                f"{url[:100]} is not a public address (localhost, a private network or link-local); "
                f"{svc.dialect.service} fetches images from the internet and cannot reach it. Put the image at a "
                "public https URL and pass that.")


async def quote(svc: Services, op: Operation, *, user: str | None = None) -> Quote:
    """Check, price and budget ``op`` without sending it.

    Raises:
        LegnextError: a LocalValidationError (or BudgetExceededError) saying what to change, or the
            parent lookup's error.
    """
    dialect = svc.dialect
    user = caller().user if user is None else user
    if not dialect.supports(type(op)):
        raise LocalValidationError(f"{dialect.unsupported_reason(type(op))}.")
    inline = inline_inputs(svc)
    local = await inputs.check(svc.settings, op, inline=inline)
    check_addresses(svc, op)
    parent: Job | None = None
    parent_prompt: str | None = None
    if op.parent_id is not None:
        parent, parent_prompt = await load_parent(svc, op.parent_id)
    prepared = dialect.prepare(inputs.substitute(op, inputs.stand_ins(local, inline=inline)), parent, parent_prompt)
    notes = list(prepared.notes)
    price = prepared.estimate
    for cap in caps(svc.settings):
        if price.amount is None:
            raise LocalValidationError(
                f"{cap.setting} is set but the price of this {prepared.task_type} job is unknown ({price.basis}), so "
                "the budget cannot be kept. Set LEGNEXT_RELAY_PRICES, or unset the limit.")
        used = await svc.ledger.spent(dialect.name, time.time() - DAY_S, user=user if cap.per_user else None)
        if used + price.amount > cap.limit:
            raise BudgetExceededError.refused(str(price), used=used, cap=cap.limit, unit=price.unit,
                                              setting=cap.setting)
        whose = "Your budget" if cap.per_user else "Budget"
        notes.append(f"{whose}: {used + price.amount} of {cap.limit} {price.unit} used in the last 24 hours with this "
                     "job.")
    if local:
        notes.append(f"{len(local)} local picture(s) checked: " + (
            "sent inline to the relay." if inline else
            "served to the API at a private URL that expires in 2 hours." if inputs.legnext_way(svc.settings) ==
            "capability" else "uploaded to LEGNEXT_UPLOAD_URL and shared by a presigned URL."))
    return Quote(prepared=prepared, notes=tuple(notes), local=local, operation=op, parent=parent,
                 parent_prompt=parent_prompt)


def inline_inputs(svc: Services) -> bool:
    """Whether the dialect takes local pictures inline (relays) rather than by URL (Legnext)."""
    return bool(getattr(svc.dialect, "inline_inputs", False))


def caps(settings: Settings) -> list[Cap]:
    """The budgets a job must fit: the user's own daily limit (named first when both refuse), and the team's."""
    found = []
    if settings.max_points_per_user_per_day is not None:
        found.append(Cap(settings.max_points_per_user_per_day, "LEGNEXT_MAX_POINTS_PER_USER_PER_DAY", per_user=True))
    if settings.max_points_per_day is not None:
        found.append(Cap(settings.max_points_per_day, "LEGNEXT_MAX_POINTS_PER_DAY"))
    return found


@dataclass(frozen=True)
class BatchQuote:
    """Several jobs checked and priced as one: ``total`` is their sum (None when any price is unknown)."""

    quotes: tuple[Quote, ...]
    total: int | None
    unit: str
    notes: tuple[str, ...] = ()


async def quote_batch(svc: Services, ops: list[Operation], *, user: str | None = None) -> BatchQuote:
    """Check and price every operation (each with all of ``quote``'s checks), then the budget against their sum:
    one price, one budget check, for all or none.

    Raises:
        LegnextError: the first operation's problem (named by its position), or BudgetExceededError for the sum.
    """
    user = caller().user if user is None else user
    quotes: list[Quote] = []
    for n, op in enumerate(ops, 1):
        try:
            quotes.append(await quote(svc, op, user=user))
        except LegnextError as exc:
            exc.message = f"prompt {n}: {exc.message}"
            raise
    unit = quotes[0].prepared.estimate.unit
    amounts = [q.prepared.estimate.amount for q in quotes]
    total = None if any(a is None for a in amounts) else sum(a or 0 for a in amounts)
    notes: list[str] = []
    for cap in caps(svc.settings):
        if total is None:
            raise LocalValidationError(f"{cap.setting} is set but the price of these jobs is unknown, so the budget "
                                       "cannot be kept. Set LEGNEXT_RELAY_PRICES, or unset the limit.")
        used = await svc.ledger.spent(svc.dialect.name, time.time() - DAY_S, user=user if cap.per_user else None)
        if used + total > cap.limit:
            raise BudgetExceededError.refused(f"{total} {unit} for {len(ops)} jobs", used=used, cap=cap.limit,
                                              unit=unit, setting=cap.setting)
        whose = "Your budget" if cap.per_user else "Budget"
        notes.append(f"{whose}: {used + total} of {cap.limit} {unit} used in the last 24 hours with these {len(ops)} "
                     "jobs.")
    return BatchQuote(quotes=tuple(quotes), total=total, unit=unit, notes=tuple(notes))
