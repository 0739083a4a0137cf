"""``Services``: one dialect, one ledger, the output store and the settings, opened and closed together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from legnext_mcp.dialects.base import Dialect
from legnext_mcp.ledger import Ledger, open_ledger
from legnext_mcp.service.outputs import Outputs
from legnext_mcp.settings import Settings


@dataclass
class Services:
    """What every call needs. Owned by the server's lifespan or a script's ``open_services``."""

    settings: Settings
    dialect: Dialect[Any]
    ledger: Ledger

    @cached_property
    def outputs(self) -> Outputs:
        """Files, the download cache and previews (nothing is created on disk before the first call that saves or
        shows an image)."""
        settings = self.settings
        return Outputs(self.dialect, cache_dir=settings.cache_dir / self.dialect.name, output_dir=settings.output_dir,
                       download_max_bytes=settings.download_max_bytes, preview_max_bytes=settings.preview_max_bytes)


@asynccontextmanager
async def open_services(settings: Settings, dialect: Dialect[Any], *, ledger: Ledger | None = None,
                        own_dialect: bool = True) -> AsyncIterator[Services]:
    """The services around ``dialect``: with ``ledger`` (opened by the caller, who closes it), or a ledger opened
    here (checked: a bad data folder fails here, not mid-job) and closed on the way out; the dialect is closed too
    when ``own_dialect``.

    Raises:
        LedgerError: the ledger cannot be used, with the fix.
    """
    own_ledger = ledger is None
    if ledger is None:
        ledger = open_ledger(settings)
        await ledger.open()
    ledger.normalizers[dialect.name] = dialect.from_raw  # rows from before jobs were stored normalized
    try:
        yield Services(settings=settings, dialect=dialect, ledger=ledger)
    finally:
        try:
            if own_ledger:
                await ledger.close()
        finally:
            if own_dialect:
                await dialect.aclose()
