"""The MCP Apps gallery as the protocol sees it (the view itself is tested in a browser: tests/browser)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.extension import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID

from legnext_mcp.server.gallery import GALLERY_URI
from legnext_mcp.server.rows import PAID_BY_NAME
from tests.support import server_harness

pytestmark = pytest.mark.anyio
APPS = [advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})]


def _ids_out(value: Any) -> Any:
    """A result with its job ids, URLs and times masked, to compare two runs of the same call."""
    text = str(value)
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<id>", text)
    text = re.sub(r"Expires=\d+&Signature=[0-9a-f]+", "<sig>", text)
    text = re.sub(r"'seed': '\d+'|Seed: \d+", "<seed>", text)
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<time>", text)


@pytest.mark.eras
async def test_apps_clients_get_the_view_linked_from_every_job_tool_and_get_job(tmp_path: Path, mode: str) -> None:
    async with server_harness(tmp_path, mode) as h, Client(h.server, mode=mode, extensions=APPS) as apps:
        tools = {t.name: t for t in (await apps.list_tools()).tools}
        linked = {name for name, t in tools.items() if (t.meta or {}).get("ui", {}).get("resourceUri") == GALLERY_URI}
        assert linked == set(PAID_BY_NAME) | {"get_job"}
        resources = [r.uri for r in (await apps.list_resources()).resources]
        assert GALLERY_URI in resources
        read = (await apps.read_resource(GALLERY_URI)).contents[0]
        assert read.mime_type == APP_MIME_TYPE
        html = getattr(read, "text", "")
        assert html.startswith("<!doctype html>") and "ui/initialize" in html and "tools/call" in html
        # self-contained: nothing is loaded from elsewhere (no src/href to a URL, no @import, no fonts)
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
        assert "@import" not in html and "@font-face" not in html and "<link" not in html


@pytest.mark.eras
async def test_other_clients_see_exactly_what_they_saw_before(tmp_path: Path, mode: str) -> None:
    async with server_harness(tmp_path, mode) as h, Client(h.server, mode=mode, extensions=APPS) as apps:
        plain_tools = (await h.client.list_tools()).tools
        assert not any(t.meta and "ui" in t.meta for t in plain_tools)
        assert not any(r.uri.startswith("ui://") for r in (await h.client.list_resources()).resources)
        app_tools = {t.name: t for t in (await apps.list_tools()).tools}
        for tool in plain_tools:  # apart from the link, the same tool
            other = app_tools[tool.name]
            assert (tool.description, tool.input_schema, tool.output_schema) == \
                (other.description, other.input_schema, other.output_schema)
        plain = await h.call("generate_and_wait", {"prompt": "a fox --seed 5"})
        shown = await apps.call_tool("generate_and_wait", {"prompt": "a fox --seed 5"})
    assert _ids_out(plain.content) == _ids_out(shown.content)
    assert _ids_out(plain.structured_content) == _ids_out(shown.structured_content)
    assert plain.meta == shown.meta
