"""Shared fixtures: the simulator in-process (ASGI) and clients wired to it. No mocks of the HTTP client.

The MCP protocol era: mcp.Client speaks the 2026-07-28 stateless era ("auto") unless a test is marked
``eras``, which runs it in both eras ("auto" and the 2025-11-25 "legacy" handshake). Only what the era
changes is marked: elicitation, progress, cancellation, a session's first request, completion and the
listing's shape.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from legnext_mcp.api import LegnextClient
from legnext_mcp.sandbox import Engine, SandboxApp
from tests.support import FAST, make_client

#: A PostgreSQL server for the tests that need one, brought or found (tests/pg.py).
pytest_plugins = ["tests.pg"]
#: Run by .ci/run on their own: the compat suite in an environment of its own with the frameworks
#: (tests/compat/conftest.py), the browser test with Chromium and Playwright (tests/browser/conftest.py), the
#: release suite with the built artifacts, uv and node (tests/release/conftest.py).
collect_ignore = ["compat", "browser", "release"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "mode" in metafunc.fixturenames:
        eras = ["auto", "legacy"] if metafunc.definition.get_closest_marker("eras") else ["auto"]
        metafunc.parametrize("mode", eras)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sandbox() -> SandboxApp:
    return SandboxApp(Engine(time_scale=FAST, seed=7))


@pytest.fixture
async def client(sandbox: SandboxApp) -> AsyncIterator[LegnextClient]:
    async with make_client(sandbox) as c:
        yield c
