"""An MCP server wired to the in-process simulator, connected with mcp.Client (tests/conftest.py: the era)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support import Harness, server_harness


@pytest.fixture
async def harness(tmp_path: Path, mode: str) -> AsyncIterator[Harness]:
    async with server_harness(tmp_path, mode) as h:
        yield h
