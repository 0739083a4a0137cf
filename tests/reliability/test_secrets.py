"""Scenario 5: a canary key planted in the settings never shows up anywhere: tool results (text and
structure), resources, prompts, error messages, DEBUG logs of every logger (ours, the SDK's, the HTTP
stack's), the stderr of a real stdio server at DEBUG, the ledger and every file under the data and
output folders. Downloads go without the key; the API client follows no redirect.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import stdio_client
from mcp_types import BlobResourceContents, TextResourceContents

from legnext_mcp.dialects.legnext.dialect import LegnextDialect
from legnext_mcp.sandbox import FAIL_WORD, MODERATION_WORD, Engine, Fault, SandboxApp
from legnext_mcp.sandbox.serve import LoopbackSandbox
from legnext_mcp.server import build_server
from tests.cases import CALLS, IMG
from tests.support import FAST, harness_settings, loopback_harness, make_client, stdio_server, text_of

pytestmark = pytest.mark.anyio
CANARY = "lnx-CANARY-5e1f0c9d2b7a44"


def forms(secret: str) -> list[str]:
    """The key as it could leak: plain, URL-encoded, base64 and its distinctive tail."""
    return [secret, quote(secret, safe=""), base64.b64encode(secret.encode()).decode()[:20], secret[-12:]]


class Surfaces:
    """Everything a user, a host or a log reader could see, gathered for one scan."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, where: str, value: Any) -> None:
        self.items.append((where, value if isinstance(value, str) else json.dumps(value, default=str)))

    def result(self, where: str, result: Any) -> None:
        self.add(where, text_of(result))
        self.add(where + " (structured)", result.structured_content)

    def files(self, root: Path) -> None:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                self.add(str(path), path.read_bytes().decode("latin-1"))  # bytes as text, SQLite pages too
            self.add(f"name of {path}", str(path))

    def leaks(self, secret: str) -> list[str]:
        return [where for where, text in self.items for form in forms(secret) if form in text]


async def exercise_everything(client: Client, seen: Surfaces) -> None:
    """Every tool (each job tool with real parents), resource and prompt, and the error paths."""
    grid = await client.call_tool("generate_and_wait", {"prompt": "a fox --v 7 --draft"})
    seen.result("generate_and_wait", grid)
    parent = grid.structured_content["job_id"]
    video = await client.call_tool("video_diffusion", {"image_url": IMG, "prompt": "waves --bs 2"})
    seen.result("video_diffusion", video)
    clip = video.structured_content["job_id"]
    seen.result("wait_for_job", await client.call_tool("wait_for_job", {"job_ids": [clip]}))
    for tool, arguments in CALLS.items():
        result = await client.call_tool(tool, arguments(parent, clip))
        seen.result(tool, result)
        if result.structured_content and not result.structured_content.get("done"):
            waited = await client.call_tool("wait_for_job", {"job_ids": [result.structured_content["job_id"]],
                                                             "include_preview": True})
            seen.result(f"wait_for_job after {tool}", waited)
    for tool, arguments in [
        ("wait_for_job", {"job_ids": [parent]}), ("get_job", {"job_id": parent}),
        ("save_images", {"job_id": parent, "folder": "canary"}), ("list_jobs", {"limit": 100}),
        ("get_balance", {}), ("estimate_cost", {"tool": "upscale", "arguments": {"job_id": parent, "image_no": 1}}),
        ("generate_and_wait", {"prompt": "a fox", "include_preview": True}),
        # error paths
        ("get_job", {"job_id": "no-such-job"}), ("generate_and_wait", {"prompt": f"a fox {FAIL_WORD}"}),
        ("generate_and_wait", {"prompt": f"a fox {MODERATION_WORD}"}), ("imagine", {"prompt": "a fox --v 99"}),
        ("upscale", {"job_id": parent, "image_no": 9}), ("save_images", {"job_id": parent, "folder": "../x"}),
        ("describe", {"image_url": "http://127.0.0.1/a.png"}), ("imagine", {"prompt": "a fox", "colour": "red"}),
        ("no_such_tool", {}),
    ]:
        seen.result(f"{tool}({arguments})", await client.call_tool(tool, arguments))
    for resource in (await client.list_resources()).resources:
        seen.add(f"list {resource.uri}", resource.model_dump())
    for uri in ("legnext://jobs", f"legnext://jobs/{parent}", f"legnext://jobs/{parent}/images/0",
                "legnext://guide/parameters"):
        for content in (await client.read_resource(uri)).contents:
            if isinstance(content, TextResourceContents):
                seen.add(uri, content.text)
            elif isinstance(content, BlobResourceContents):
                seen.add(uri, base64.b64decode(content.blob).decode("latin-1"))
    for uri in ("legnext://jobs/no-such-job", "legnext://jobs/../../etc"):
        try:
            await client.read_resource(uri)
        except Exception as exc:  # the error a host shows for a bad resource
            seen.add(f"error reading {uri}", str(exc))
    prompt = await client.get_prompt("craft_prompt", {"subject": "a fox", "model": "8.1"})
    seen.add("craft_prompt", prompt.model_dump())
    seen.add("tools/list", [t.model_dump() for t in (await client.list_tools()).tools])


async def test_the_key_appears_in_no_result_resource_prompt_log_or_file(
        tmp_path: Path, mode: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, mcp, httpx2, httpcore
    sandbox = SandboxApp(Engine(keys={CANARY: 10_000_000}, time_scale=FAST, seed=23))
    settings = harness_settings(tmp_path, api_key=CANARY, log_level="DEBUG")
    seen = Surfaces()
    async with make_client(sandbox, key=CANARY) as api:
        seen.add("repr(client)", repr(api))
        seen.add("repr(settings)", repr(settings))
        async with Client(build_server(settings, dialect=LegnextDialect(api)), mode=mode) as client:
            await exercise_everything(client, seen)
            sandbox.engine.faults.add(Fault("status", status=500, method="POST"))
            seen.result("uncertain submission", await client.call_tool("imagine", {"prompt": "a cat"}))
            sandbox.engine.faults.add(Fault("status", status=503, count=5, method="GET"))
            seen.result("reads failing", await client.call_tool("get_balance", {}))
    seen.add("logs", caplog.text)
    seen.files(tmp_path)
    assert len(seen.items) > 100 and caplog.text.count("\n") > 100  # the scan really covered something
    assert seen.leaks(CANARY) == []
    api_calls = [r for r in sandbox.stats.requests if r.path.startswith("/api/")]
    downloads = [r for r in sandbox.stats.requests if r.path.startswith("/cdn/")]
    assert api_calls and all(r.had_api_key for r in api_calls)
    assert downloads and not any(r.had_api_key for r in downloads)


async def test_a_wrong_key_is_refused_without_being_echoed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sandbox = SandboxApp(Engine(time_scale=FAST))  # does not know the canary
    seen = Surfaces()
    settings = harness_settings(tmp_path, api_key=CANARY)
    async with make_client(sandbox, key=CANARY) as api, \
            Client(build_server(settings, dialect=LegnextDialect(api))) as client:
        for tool, arguments in [("get_balance", {}), ("generate_and_wait", {"prompt": "a fox"}),
                                ("get_job", {"job_id": "abc"})]:
            result = await client.call_tool(tool, arguments)
            assert result.is_error and "api key" in text_of(result).lower()
            seen.result(tool, result)
    seen.add("logs", caplog.text)
    seen.files(tmp_path)
    assert seen.leaks(CANARY) == []


async def test_a_stdio_server_at_debug_level_never_writes_the_key(tmp_path: Path) -> None:
    sandbox = SandboxApp(Engine(keys={CANARY: 1_000_000}, time_scale=400.0, seed=29))
    stderr = tmp_path / "stderr.log"
    seen = Surfaces()
    with LoopbackSandbox(sandbox) as loop, stderr.open("w") as errlog:
        params = stdio_server(loop, tmp_path, key=CANARY, LEGNEXT_LOG_LEVEL="DEBUG")
        with anyio.fail_after(60):
            async with Client(stdio_client(params, errlog=errlog)) as client:
                await exercise_everything(client, seen)
                sandbox.engine.faults.add(Fault("drop", method="POST"))
                seen.result("dropped submission", await client.call_tool("imagine", {"prompt": "a cat"}))
    log = stderr.read_text()
    assert "DEBUG" in log and "POST" in log  # the server really logged at DEBUG, HTTP included
    seen.files(tmp_path)
    assert seen.leaks(CANARY) == []


async def test_the_api_client_follows_no_redirect_so_the_key_stays_at_the_api(tmp_path: Path) -> None:
    elsewhere = SandboxApp(Engine(time_scale=FAST))
    with LoopbackSandbox(elsewhere) as trap:
        async with loopback_harness(tmp_path, key=CANARY) as h:
            for status in (301, 302, 307, 308):
                h.sandbox.engine.faults.add(Fault("status", status=status, location=f"{trap.base_url}/steal"))
                result = await h.call("get_balance", {})
                assert result.is_error and "redirect" in text_of(result), text_of(result)
            h.sandbox.engine.faults.add(Fault("status", status=307, method="POST",
                                              location=f"{trap.base_url}/v1/diffusion"))
            result = await h.call("imagine", {"prompt": "a fox"})
            assert result.is_error and "redirect" in text_of(result)
    assert elsewhere.stats.count() == 0
