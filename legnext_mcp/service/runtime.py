"""``Services``: one dialect, one ledger, the output store and the settings, opened and closed together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from legnext_mcp.ledger import Ledger
from legnext_mcp.settings import Settings

if TYPE_CHECKING:  # named here only: importing them is start-up time that a server's first call can pay instead
    from legnext_mcp.dialects.base import Dialect
    from legnext_mcp.service.outputs import Outputs


@dataclass
class Services:
    """What every call needs. Owned by the server's lifespan or a script's ``open_services``."""

    settings: Settings
    dialect: Dialect
    ledger: Ledger

    @cached_property
    def outputs(self) -> Outputs:
        """Files, the download cache and previews, set up by the first call that saves or shows an image."""
        from legnext_mcp.service.outputs import Outputs

        settings = self.settings
        return Outputs(self.dialect, cache_dir=settings.cache_dir / self.dialect.name, output_dir=settings.output_dir,
                       download_max_bytes=settings.download_max_bytes, preview_max_bytes=settings.preview_max_bytes)


@asynccontextmanager
async def open_services(settings: Settings, dialect: Dialect, *, own_dialect: bool = True) -> AsyncIterator[Services]:
    """Open the ledger (checked: a bad data folder fails here, not mid-job) around ``dialect``; close the
    ledger, and the dialect too when ``own_dialect``.

    Raises:
        LedgerError: the ledger cannot be used, with the fix.
    """
    ledger = Ledger(settings.ledger_path, normalizers={dialect.name: dialect.from_raw})
    await ledger.open()
    try:
        yield Services(settings=settings, dialect=dialect, ledger=ledger)
    finally:
        try:
            await ledger.close()
        finally:
            if own_dialect:
                await dialect.aclose()
