"""``Services``: one dialect, one ledger, the poller, the output store and the settings, opened and closed
together."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import anyio
from anyio.abc import TaskGroup

from legnext_mcp.core.errors import LedgerError
from legnext_mcp.core.job import Job
from legnext_mcp.dialects.base import Dialect
from legnext_mcp.ledger import Ledger, open_ledger
from legnext_mcp.service.inputs import LocalImage
from legnext_mcp.service.outputs import Outputs
from legnext_mcp.service.poller import Poller
from legnext_mcp.service.upload import uploader_for
from legnext_mcp.settings import Settings

log = logging.getLogger("legnext_mcp.service")
#: How many jobs' last ledger failure are kept to tell the calls waiting on them.
KEPT_FAILURES = 1000
#: After the ledger's listener fails, how long until it tries again.
FOLLOW_RETRY_S = 5.0


@dataclass
class Services:
    """What every call needs. Owned by the server's lifespan or a script's ``open_services``."""

    settings: Settings
    dialect: Dialect[Any]
    ledger: Ledger
    poller: Poller
    #: Job id -> why its latest snapshot could not be recorded (told to the calls that wait on it).
    unrecorded: dict[str, str] = field(default_factory=dict)

    @cached_property
    def outputs(self) -> Outputs:
        """Files, the download cache and previews (nothing is created on disk before the first call that saves or
        shows an image)."""
        settings = self.settings
        return Outputs(self.dialect, cache_dir=settings.cache_dir / self.dialect.name, output_dir=settings.output_dir,
                       download_max_bytes=settings.download_max_bytes, preview_max_bytes=settings.preview_max_bytes)


    #: Uploads a local picture to LEGNEXT_UPLOAD_URL and returns a presigned GET URL (None: not configured).
    uploader: Callable[[LocalImage], Awaitable[str]] | None = None


@asynccontextmanager
async def open_services(settings: Settings, dialect: Dialect[Any], *, ledger: Ledger | None = None,
                        own_dialect: bool = True, group: TaskGroup | None = None) -> AsyncIterator[Services]:
    """The services around ``dialect``: with ``ledger`` (opened by the caller, who closes it), or a ledger opened
    here (checked: a bad data folder fails here, not mid-job) and closed on the way out; the dialect is closed too
    when ``own_dialect``. The poller runs in ``group`` (a server's lifespan owns one, since the services may be
    opened by a request), or in a task group of its own.

    Raises:
        LedgerError: the ledger cannot be used, with the fix.
    """
    try:
        async with _opened(settings, dialect, ledger=ledger, own_dialect=own_dialect, group=group) as services:
            yield services
    except BaseExceptionGroup as failed:  # our own task group wraps what the body raised: hand it back as it was
        if len(failed.exceptions) == 1:
            raise failed.exceptions[0] from None
        raise


async def follow(ledger: Ledger, poller: Poller) -> None:
    """News of jobs another process had (a callback reached another replica): the poller reads them."""
    while True:
        try:
            async for dialect, job_id in ledger.listen():
                if dialect == poller.dialect.name:
                    poller.heard(job_id)
        except LedgerError as exc:
            log.warning("not hearing of other replicas' callbacks (%s); trying again", exc.message)
        except Exception as exc:
            log.warning("not hearing of other replicas' callbacks (%s); trying again", type(exc).__name__)
        await anyio.sleep(FOLLOW_RETRY_S)


@asynccontextmanager
async def _opened(settings: Settings, dialect: Dialect[Any], *, ledger: Ledger | None, own_dialect: bool,
                  group: TaskGroup | None) -> AsyncIterator[Services]:
    async with AsyncExitStack() as stack:
        if own_dialect:
            stack.push_async_callback(dialect.aclose)
        if ledger is None:
            ledger = open_ledger(settings)
            await ledger.open()
            stack.push_async_callback(ledger.close)
        ledger.normalizers[dialect.name] = dialect.from_raw  # rows from before jobs were stored normalized
        unrecorded: dict[str, str] = {}
        store = ledger

        async def record(jobs: list[Job]) -> None:
            try:
                await store.record_many(jobs)
            except LedgerError as exc:  # the job matters more than its history: tell the waits, go on
                log.error("could not record %d snapshot(s): %s", len(jobs), exc.message)
                for job in jobs:
                    unrecorded[job.job_id] = exc.message
                while len(unrecorded) > KEPT_FAILURES:
                    unrecorded.pop(next(iter(unrecorded)))
            else:
                for job in jobs:
                    unrecorded.pop(job.job_id, None)

        async def recall(job_ids: list[str]) -> list[Job]:
            found = [await store.get(dialect.name, job_id) for job_id in job_ids]
            return [entry.job for entry in found if entry is not None]

        async def announce(job_ids: list[str]) -> None:
            for job_id in job_ids:
                await store.announce(dialect.name, job_id)

        poller = Poller(dialect, record, callbacks=settings.public_url is not None, recall=recall, announce=announce)
        if group is None:
            group = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(group.cancel_scope.cancel)
        cancel = anyio.CancelScope()

        async def run() -> None:
            with cancel:
                async with anyio.create_task_group() as inner:
                    inner.start_soon(poller.run)
                    inner.start_soon(follow, store, poller)

        group.start_soon(run)
        stack.callback(cancel.cancel)
        uploader = uploader_for(settings.upload_url)
        if uploader is not None:
            stack.push_async_callback(uploader.aclose)
        yield Services(settings=settings, dialect=dialect, ledger=ledger, poller=poller, unrecorded=unrecorded,
                       uploader=uploader)
