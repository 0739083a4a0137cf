"""The ledger: every job sent or seen, every intent before its request, every point spent, so nothing paid
for is ever lost and no budget is passed. One protocol (``base.Ledger``), two stores with the same guarantees:
SQLite in the data folder (the default) and PostgreSQL for replicas (``LEGNEXT_DATABASE_URL``)."""

from __future__ import annotations

from legnext_mcp.ledger.base import NOBODY, SCHEMA_VERSION, Cap, Intent, IntentSpec, Ledger, LedgerEntry
from legnext_mcp.ledger.sqlite import SqliteLedger
from legnext_mcp.settings import Settings

__all__ = ["NOBODY", "SCHEMA_VERSION", "Cap", "Intent", "IntentSpec", "Ledger", "LedgerEntry", "SqliteLedger",
           "open_ledger"]


def open_ledger(settings: Settings) -> Ledger:
    """The store the settings name (not opened yet). PostgreSQL is imported only here, only when configured:
    a server on SQLite never loads psycopg (one of the package's lazy seams, ARCHITECTURE.md)."""
    if settings.database_url is not None and not settings.sandbox:
        from legnext_mcp.ledger.postgres import PostgresLedger  # optional backend: the postgres extra

        return PostgresLedger(settings.database_url)
    return SqliteLedger(settings.ledger_path)
