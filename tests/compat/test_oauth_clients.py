"""Clients nobody here wrote, signed in: the official TypeScript SDK and the Python SDK 1.x call a legnext-mcp that
is an OAuth resource server (LEGNEXT_OAUTH_ISSUER) with a bearer token minted by the test issuer
(tests/issuer.py); without a token they are refused."""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client

_SPEC = importlib.util.spec_from_file_location("issuer", Path(__file__).resolve().parents[1] / "issuer.py")
assert _SPEC is not None and _SPEC.loader is not None
issuer_module: Any = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(issuer_module)


@dataclass
class Signed:
    url: str
    token: str


@pytest.fixture
def signed_in_server(server_bin: str, server_env: dict[str, str]) -> Iterator[Signed]:
    """``legnext-mcp --sandbox --transport http`` as an OAuth resource server of a test issuer on loopback."""
    issuer = issuer_module.TestIssuer()
    issuer.start()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    public = f"http://127.0.0.1:{port}"
    env = {**server_env, "LEGNEXT_OAUTH_ISSUER": issuer.base_url, "LEGNEXT_PUBLIC_URL": public,
           "LEGNEXT_OAUTH_SCOPES": "mcp"}
    process = subprocess.Popen([server_bin, "--sandbox", "--time-scale", "200", "--transport", "http", "--port",
                                str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("the HTTP server did not start")
                time.sleep(0.05)
        yield Signed(f"{public}/mcp", issuer.mint(sub="compat-user", aud=f"{public}/mcp", scope="mcp"))
    finally:
        process.terminate()
        process.wait(10)
        issuer.stop()


def test_typescript_sdk_calls_with_a_bearer_token(signed_in_server: Signed, node_dir: Path) -> None:
    done = subprocess.run(["node", str(node_dir / "ts_bearer.mjs"), signed_in_server.url],
                          env={"PATH": "/usr/bin:/usr/local/bin:/bin", "LEGNEXT_TEST_BEARER": signed_in_server.token},
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    refused = summary["refusedWithoutToken"]
    assert refused and refused["code"] == 401 and "invalid_token" in refused["message"], refused
    assert summary["tools"] > 20
    made = summary["calls"]["generate_and_wait"]
    assert not made["isError"] and made["structured"]["status"] == "completed"
    listed = summary["calls"]["list_jobs"]["structured"]
    assert [job["job_id"] for job in listed["jobs"]] == [made["structured"]["job_id"]]


@pytest.mark.anyio
async def test_python_sdk_1_calls_with_a_bearer_token(signed_in_server: Signed) -> None:
    async with httpx.AsyncClient() as http:
        refused = await http.post(signed_in_server.url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
                                  headers={"accept": "application/json, text/event-stream"})
    assert refused.status_code == 401 and "resource_metadata=" in refused.headers["www-authenticate"]
    headers = {"Authorization": f"Bearer {signed_in_server.token}"}
    async with streamablehttp_client(signed_in_server.url, headers=headers) as (read, write, _), \
            ClientSession(read, write) as session:
        await session.initialize()
        made = await session.call_tool("generate_and_wait", {"prompt": "a harbour, signed in"})
        assert not made.isError and made.structuredContent is not None
        listed = await session.call_tool("list_jobs", {})
        assert listed.structuredContent is not None
        assert [job["job_id"] for job in listed.structuredContent["jobs"]] == [made.structuredContent["job_id"]]
