"""The browser harness: Chromium from the system (Playwright's own download is not reachable here), the
official AppBridge bundled from tests/compat/node, and ``legnext-mcp --sandbox`` over stdio.

Needs, as ``.ci/run`` installs them: ``pip install playwright``, Debian's ``chromium``, and ``npm ci`` in
tests/compat/node. The README's test command leaves this folder out (tests/conftest.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.extension import advertise
from mcp.client.stdio import StdioServerParameters
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID

from legnext_mcp.server.gallery import gallery_html

NODE = Path(__file__).resolve().parents[1] / "compat" / "node"
CHROMIUM = os.environ.get("LEGNEXT_CHROMIUM", "/usr/bin/chromium")
PAGE_URL = "http://host.test/"
#: What a host applies to a view that declares no CSP domains (spec 2026-01-26, "Default CSP").
DEFAULT_CSP = ("default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
               "img-src 'self' data:; media-src 'self' data:; connect-src 'none'")
#: The flags a closed network needs (no background connections, no first-run, no sandbox as root).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def host_script(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The official AppBridge and our host glue (tests/compat/node/host.mjs) as one browser script."""
    esbuild = NODE / "node_modules" / ".bin" / "esbuild"
    if not esbuild.exists() or not Path(CHROMIUM).exists():
        pytest.fail(f"needs `npm ci` in {NODE} and Chromium at {CHROMIUM} (see .ci/run)")
    out = tmp_path_factory.mktemp("host") / "host.js"
    subprocess.run([str(esbuild), "host.mjs", "--bundle", "--format=iife", "--log-level=warning", f"--outfile={out}"],
                   cwd=NODE, check=True)
    return out.read_text()


def server_params(tmp_path: Path, **env: str) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable,
                                 args=["-m", "legnext_mcp.cli", "--sandbox", "--time-scale", "6"],
                                 env={**os.environ, "LEGNEXT_DATA_DIR": str(tmp_path / "data"),
                                      "LEGNEXT_OUTPUT_DIR": str(tmp_path / "out"), **env})


APPS = [advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})]


@dataclass
class Host:
    """A host page with the view loaded, and the MCP session behind it."""

    page: Any
    client: Client
    sent: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    page_url: str = PAGE_URL

    @property
    def view(self) -> Any:
        return self.page.frame_locator("#view")

    async def calls(self) -> list[dict[str, Any]]:
        """The tools/call requests the view sent through the bridge, in order."""
        return list(self.sent)

    async def start(self, tool_input: dict[str, Any], result: Any, host_context: dict[str, Any]) -> None:
        html = gallery_html().replace("<head>", f'<head><meta http-equiv="Content-Security-Policy" '
                                                f'content="{DEFAULT_CSP}">', 1)
        payload = result.model_dump(by_alias=True, exclude_none=True, mode="json")
        await self.page.evaluate("([h, i, r, c]) => window.startHost(h, i, r, c)",
                                 [html, tool_input, payload, host_context])


@pytest.fixture
async def host(tmp_path: Path, host_script: str, request: pytest.FixtureRequest) -> AsyncIterator[Host]:
    from playwright.async_api import Route, async_playwright

    env = getattr(request, "param", {})
    async with Client(server_params(tmp_path, **env), extensions=APPS) as client, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 760, "height": 1500})
        harness = Host(page, client)
        page_html = ('<!doctype html><html><body style="margin:0">'
                     '<iframe id="view" sandbox="allow-scripts" style="width:720px;height:1400px;border:0"></iframe>'
                     f"<script>{host_script}</script></body></html>")

        async def route(route: Route) -> None:  # every request the page makes; only the host page is served
            harness.requests.append(route.request.url)
            if route.request.url == PAGE_URL:
                await route.fulfill(status=200, content_type="text/html", body=page_html)
            else:
                await route.abort()

        async def call_tool(params: dict[str, Any]) -> dict[str, Any]:
            harness.sent.append({"name": params["name"], "arguments": params.get("arguments") or {}})
            result = await client.call_tool(params["name"], params.get("arguments") or {})
            dumped: dict[str, Any] = result.model_dump(by_alias=True, exclude_none=True, mode="json")
            return dumped

        async def read_resource(params: dict[str, Any]) -> dict[str, Any]:
            result = await client.read_resource(params["uri"])
            dumped: dict[str, Any] = result.model_dump(by_alias=True, exclude_none=True, mode="json")
            return dumped

        await page.route("**/*", route)
        await page.expose_function("hostCallTool", call_tool)
        await page.expose_function("hostReadResource", read_resource)
        await page.goto(PAGE_URL)
        try:
            yield harness
        finally:
            await browser.close()


@pytest.fixture
async def client_without_apps(tmp_path: Path) -> AsyncIterator[Client]:
    async with Client(server_params(tmp_path / "plain")) as client:
        yield client
