"""The HTTP edge: health endpoints a balancer can use without a token, and a client's address believed from a
trusted proxy only."""

from __future__ import annotations

from pathlib import Path

import httpx2
import psycopg
import pytest
from starlette.types import Receive, Scope, Send

from legnext_mcp.inputs_store import InputStore
from legnext_mcp.server import build_server
from legnext_mcp.server.edge import Edge, forwarded
from legnext_mcp.server.run import http_app
from tests.support import harness_settings

pytestmark = pytest.mark.anyio


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    body = f"{scope['client'][0]} {scope['scheme']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


async def ready() -> None:
    return None


async def test_forwarded_headers_are_believed_only_from_a_trusted_proxy() -> None:
    claims = {"x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https"}
    trusted = httpx2.AsyncClient(transport=httpx2.ASGITransport(Edge(echo, ready=ready, trusted=["127.0.0.0/8"]),
                                                                 client=("127.0.0.1", 5000)), base_url="http://t")
    stranger = httpx2.AsyncClient(transport=httpx2.ASGITransport(Edge(echo, ready=ready, trusted=["10.0.0.0/8"]),
                                                                  client=("127.0.0.1", 5000)), base_url="http://t")
    async with trusted, stranger:
        assert (await trusted.get("/mcp", headers=claims)).text == "203.0.113.7 https"
        assert (await stranger.get("/mcp", headers=claims)).text == "127.0.0.1 http"


def test_forwarded_takes_the_last_hop_of_either_header() -> None:
    assert forwarded('for=198.51.100.1, for="[2001:db8::1]:4711";proto=https', None, None) == ("2001:db8::1",
                                                                                              "https")
    assert forwarded(None, "198.51.100.1, 192.0.2.60", "https") == ("192.0.2.60", "https")
    assert forwarded("for=unknown", None, None) == (None, None)


async def test_health_answers_without_a_token_and_ready_follows_the_ledger(tmp_path: Path, pg_url: str) -> None:
    settings = harness_settings(tmp_path, sandbox=False, api_key="k", database_url=pg_url,
                                http_token="a-team-token-long-enough")
    server = build_server(settings)
    app = http_app(server, settings, host="127.0.0.1", port=8000)
    async with server._lifespan(server), httpx2.AsyncClient(transport=httpx2.ASGITransport(app),
                                                           base_url="http://127.0.0.1:8000") as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        assert (await client.get("/readyz")).status_code == 200
        assert (await client.post("/mcp", json={})).status_code == 401  # everything else still needs the token
        database = pg_url.rsplit("/", 1)[1]
        admin = pg_url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
        answer = await client.get("/readyz")
        assert answer.status_code == 503 and answer.json() == {"status": "not ready"}
        assert (await client.get("/healthz")).status_code == 200


async def test_the_http_app_serves_capability_urls_only_with_a_public_url(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    for public, served in (("http://127.0.0.1:8000", True), (None, False)):
        settings = harness_settings(tmp_path / str(served), sandbox=False, api_key="k", public_url=public,
                                    http_token="a-team-token-long-enough")
        token, _ = InputStore(settings.inputs_dir).put(png, "image/png")
        server = build_server(settings)
        app = http_app(server, settings, host="127.0.0.1", port=8000)
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app), base_url="http://127.0.0.1:8000") as client:
            answer = await client.get(f"/inputs/{token}")  # no bearer token: the URL is the capability
            if served:
                assert answer.status_code == 200 and answer.content == png
                assert answer.headers["content-type"] == "image/png" and "set-cookie" not in answer.headers
            else:  # without LEGNEXT_PUBLIC_URL nothing is served there: the request meets the token check
                assert answer.status_code == 401
