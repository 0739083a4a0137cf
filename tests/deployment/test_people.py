"""Many people on one team deployment, for real on loopback: PostgreSQL, the Legnext simulator, three replicas
behind a round-robin balancer (tests/team.py), and a test OAuth issuer (tests/issuer.py: its own keys, JWKS and
discovery documents). Through the balancer, with the official Python SDK's HTTP client:

* OAuth: tokens that are not for this server (wrong audience, another issuer, expired, unknown key, a forged
  signature, not a JWT, a missing scope, none) are refused with 401/403 and the spec's ``WWW-Authenticate``
  naming the Protected Resource Metadata, and nothing reaches the API; a valid token works.
* Isolation: two users each see only their own jobs in every tool, resource and completion; another user's job
  id gets exactly the answer of an unknown id, and the API is never asked about it.
* Budgets: per user and for the team, exact under concurrent calls spread over the replicas.
* Per-user keys (LEGNEXT_USER_KEYS=header): the simulator sees each user's key on that user's requests only, a
  request without a key is refused in one line, and the canary keys appear in no log, result, resource, ledger
  row or file, in any letter case or encoding.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import anyio
import httpx2
import jwt
import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp_types import ResourceTemplateReference
from starlette.types import Receive, Scope, Send

from legnext_mcp.ledger.postgres import PostgresLedger
from legnext_mcp.sandbox import DEFAULT_KEY, Engine, SandboxApp
from legnext_mcp.sandbox.serve import LoopbackSandbox
from tests.issuer import TestIssuer
from tests.support import text_of
from tests.team import balancer, free_port, replicas

pytestmark = pytest.mark.anyio
SPEED = 400.0
DAY_S = 24 * 3600
IMAGE = 80  # points of one image job
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                         "clientInfo": {"name": "probe", "version": "1"}}}


class KeySpy(SandboxApp):
    """The simulator, noting which key came with each request (the recorder keeps only that one came)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.seen: list[tuple[str, str, str]] = []  # (key, method, path)
        self.headers: list[bytes] = []  # every request's header values, to look for tokens that must not be there

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            key = next((v.decode() for k, v in scope.get("headers", []) if k.lower() == b"x-api-key"), "")
            self.seen.append((key, scope["method"], scope["path"]))
            self.headers.append(b"\n".join(v for _, v in scope.get("headers", [])))
        await super().__call__(scope, receive, send)


@dataclass
class Team:
    sim: LoopbackSandbox[KeySpy]
    front: int
    kind: str
    logs: Path

    @property
    def public(self) -> str:
        return f"http://127.0.0.1:{self.front}"

    @property
    def mcp(self) -> str:
        return f"{self.public}/mcp"


@contextmanager
def team(tmp: Path, url: str, keys: dict[str, int], extra: dict[str, str]) -> Iterator[Team]:
    with _team_on(tmp, url, free_port(), keys, extra) as deployed:
        yield deployed


@asynccontextmanager
async def connect(url: str, *, token: str | None = None, key: str | None = None,
                  mode: Literal["auto", "legacy"] = "auto") -> AsyncIterator[Client]:
    """The official Python SDK's Streamable HTTP client, sending a bearer token and/or a user's key."""
    headers = {}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    if key is not None:
        headers["x-legnext-api-key"] = key
    async with create_mcp_http_client(headers=headers) as http, \
            Client(streamable_http_client(url, http_client=http), mode=mode) as client:
        yield client


def _ok(result: Any, what: str) -> dict[str, Any]:
    assert not result.is_error, (what, text_of(result))
    structured: dict[str, Any] = result.structured_content
    return structured


async def _spent(url: str, user: str | None) -> int:
    ledger = PostgresLedger(url)
    await ledger.open()
    try:
        return await ledger.spent("legnext", time.time() - DAY_S, user=user)
    finally:
        await ledger.close()


def _forged(issuer: TestIssuer, aud: str) -> str:
    """A token naming the issuer and one of its key ids, signed with another key."""
    now = int(time.time())
    claims = {"iss": issuer.base_url, "sub": "mallory", "aud": aud, "iat": now, "exp": now + 300, "scope": "mcp"}
    stray = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, stray, algorithm="RS256", headers={"kid": issuer.current["RS256"]})


async def test_many_people_on_three_replicas_with_oauth(tmp_path: Path, pg_url: str) -> None:
    issuer, stranger = TestIssuer(), TestIssuer()
    issuer.start()
    stranger.start()
    front_port = free_port()  # chosen first: the public URL is part of every replica's settings
    public = f"http://127.0.0.1:{front_port}"
    aud = f"{public}/mcp"
    user_cap, team_cap = 3 * IMAGE + 5 * IMAGE, 6 * IMAGE + 5 * IMAGE + 3 * IMAGE
    settings = {"LEGNEXT_API_KEY": DEFAULT_KEY, "LEGNEXT_OAUTH_ISSUER": issuer.base_url,
                "LEGNEXT_PUBLIC_URL": public, "LEGNEXT_OAUTH_SCOPES": "mcp", "LEGNEXT_HTTP_STATELESS": "1",
                "LEGNEXT_MAX_POINTS_PER_USER_PER_DAY": str(user_cap), "LEGNEXT_MAX_POINTS_PER_DAY": str(team_cap)}
    try:
        with _team_on(tmp_path, pg_url, front_port, {DEFAULT_KEY: 10**7}, settings) as deployed:
            assert deployed.public == public
            await _tokens(deployed, issuer, stranger, aud)
            alice, bob = issuer.mint(sub="alice", aud=aud), issuer.mint(sub="bob", aud=aud)
            await _isolation(deployed, alice, bob)
            await _budgets(deployed, pg_url, issuer, alice, bob, user_cap=user_cap, team_cap=team_cap)
            sent = deployed.sim.app.headers
            assert sent and not any(token.encode() in values for token in (alice, bob) for values in sent)
            assert not any(values.lower().startswith(b"bearer ") or b"\nbearer " in values.lower() for values in sent)
    finally:
        issuer.stop()
        stranger.stop()


@contextmanager
def _team_on(tmp: Path, url: str, front: int, keys: dict[str, int], extra: dict[str, str]) -> Iterator[Team]:
    with ExitStack() as stack:
        sim = stack.enter_context(LoopbackSandbox(KeySpy(Engine(keys=keys, time_scale=SPEED))))
        base = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
        envs = [{**base, "LEGNEXT_BASE_URL": sim.base_url, "LEGNEXT_TIME_SCALE": str(SPEED),
                 "LEGNEXT_DATABASE_URL": url, "LEGNEXT_DATA_DIR": str(tmp / f"data{n}"),
                 "LEGNEXT_OUTPUT_DIR": str(tmp / "out"), "LEGNEXT_TRUSTED_PROXIES": "127.0.0.1",
                 "LEGNEXT_HTTP_ALLOWED_HOSTS": f"127.0.0.1:{front}", "LEGNEXT_WAIT_SOFT_DEADLINE_S": "60",
                 "LEGNEXT_REQUEST_STATE_KEYS": "k" * 32, "LEGNEXT_LOG_LEVEL": "DEBUG", **extra} for n in range(3)]
        _, ports = stack.enter_context(replicas(envs, logs=tmp / "logs"))
        kind = stack.enter_context(balancer(ports, front))
        yield Team(sim, front, kind, tmp / "logs")


async def _tokens(deployed: Team, issuer: TestIssuer, stranger: TestIssuer, aud: str) -> None:
    metadata_url = f"{deployed.public}/.well-known/oauth-protected-resource/mcp"
    refused = {
        "no token": None,
        "not a JWT": "not-a-jwt",
        "wrong audience": issuer.mint(sub="alice", aud="http://127.0.0.1:9/mcp"),
        "another issuer": stranger.mint(sub="alice", aud=aud),
        "expired": issuer.mint(sub="alice", aud=aud, ttl=-300),
        "unknown key": issuer.mint(sub="alice", aud=aud, kid="rs256-unknown"),
        "forged signature": _forged(issuer, aud),
        "missing scope": issuer.mint(sub="alice", aud=aud, scope="profile"),
    }
    before = deployed.sim.app.stats.count()
    tried = 0
    async with httpx2.AsyncClient(timeout=30) as http:
        prm = await http.get(metadata_url)
        assert prm.status_code == 200
        assert prm.json()["resource"].rstrip("/") == aud
        assert [s.rstrip("/") for s in prm.json()["authorization_servers"]] == [issuer.base_url]
        for case, token in refused.items():
            for _ in range(3):  # round robin: every replica refuses it
                headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
                if token is not None:
                    headers["authorization"] = f"Bearer {token}"
                answer = await http.post(deployed.mcp, json=INITIALIZE, headers=headers)
                tried += 1
                expected = 403 if case == "missing scope" else 401
                assert answer.status_code == expected, (case, answer.status_code, answer.text)
                challenge = answer.headers["www-authenticate"]
                assert challenge.startswith("Bearer "), (case, challenge)
                assert f'resource_metadata="{metadata_url}"' in challenge, (case, challenge)
                assert ('error="insufficient_scope"' if expected == 403 else 'error="invalid_token"') in challenge
        good = issuer.mint(sub="alice", aud=aud)
        for _ in range(3):
            headers = {"accept": "application/json, text/event-stream", "content-type": "application/json",
                       "authorization": f"Bearer {good}"}
            answer = await http.post(deployed.mcp, json=INITIALIZE, headers=headers)
            assert answer.status_code == 200, answer.text
    assert tried == 24
    assert deployed.sim.app.stats.count() == before  # nothing reached the API
    print(f"\ntokens: {tried} refused (8 kinds x 3 replicas), 3 accepted; balancer: {deployed.kind}")


async def _isolation(deployed: Team, alice: str, bob: str) -> None:
    mine: dict[str, list[str]] = {}
    for name, token in (("alice", alice), ("bob", bob)):
        async with connect(deployed.mcp, token=token) as client:
            made = [_ok(await client.call_tool("generate_and_wait", {"prompt": f"{name}'s lighthouse {n}"}),
                        "generate")["job_id"] for n in range(2)]
            made.append(_ok(await client.call_tool("imagine", {"prompt": f"{name}'s harbour"}), "imagine")["job_id"])
            mine[name] = made
    made_up = str(uuid.uuid4())
    stats = deployed.sim.app.stats
    async with connect(deployed.mcp, token=alice) as client:
        listed = _ok(await client.call_tool("list_jobs", {"limit": 100}), "list_jobs")
        assert {job["job_id"] for job in listed["jobs"]} == set(mine["alice"])
        assert all(run in mine["alice"] for run in listed.get("running_on_account", []))
        recent = json.loads((await client.read_resource("legnext://jobs")).contents[0].text)  # type: ignore[union-attr]
        assert {job["job_id"] for job in recent} == set(mine["alice"])
        completed = await client.complete(ResourceTemplateReference(type="ref/resource", uri="legnext://jobs/{job_id}"),
                                          {"name": "job_id", "value": ""})
        assert set(completed.completion.values) == set(mine["alice"])
        _ok(await client.call_tool("get_job", {"job_id": mine["alice"][0]}), "own job")
        asked_before = sum(1 for r in stats.requests if any(j in r.path for j in mine["bob"]))
        probes: dict[str, tuple[str, Callable[[str], dict[str, Any]]]] = {
            "get_job": ("get_job", lambda j: {"job_id": j}),
            "wait_for_job": ("wait_for_job", lambda j: {"job_ids": [j]}),
            "save_images": ("save_images", lambda j: {"job_id": j}),
            "upscale": ("upscale", lambda j: {"job_id": j, "image_no": 0}),
            "estimate_cost": ("estimate_cost",
                              lambda j: {"tool": "upscale", "arguments": {"job_id": j, "image_no": 0}}),
        }
        for what, (tool, arguments) in probes.items():
            theirs = await client.call_tool(tool, arguments(mine["bob"][0]))
            unknown = await client.call_tool(tool, arguments(made_up))
            assert theirs.is_error and unknown.is_error, what
            assert "not among your jobs" in text_of(unknown), (what, text_of(unknown))
            assert text_of(theirs).replace(mine["bob"][0], "<id>") == text_of(unknown).replace(made_up, "<id>"), what
        for uri in ("legnext://jobs/{}", "legnext://jobs/{}/images/0"):
            answers = []
            for job_id in (mine["bob"][0], made_up):
                try:
                    await client.read_resource(uri.format(job_id))
                except Exception as exc:  # the SDK raises the server's error
                    answers.append(str(exc).replace(job_id, "<id>"))
            assert len(answers) == 2 and answers[0] == answers[1], answers
        asked_after = sum(1 for r in stats.requests if any(j in r.path for j in mine["bob"]))
        asked = [f"{r.method} {r.path}" for r in stats.requests if any(j in r.path for j in mine["bob"])]
        assert asked_after == asked_before, asked  # the API was never asked about bob's jobs for alice
    async with connect(deployed.mcp, token=bob, mode="legacy") as client:  # a 2025-era client, signed in too
        listed = _ok(await client.call_tool("list_jobs", {"limit": 100}), "list_jobs")
        assert {job["job_id"] for job in listed["jobs"]} == set(mine["bob"])
    print(f"isolation: alice sees {len(mine['alice'])} of her jobs and 0 of bob's; bob {len(mine['bob'])} and 0")


async def _budgets(deployed: Team, url: str, issuer: TestIssuer, alice: str, bob: str, *, user_cap: int,
                   team_cap: int) -> None:
    users = {name: f"{issuer.base_url}#{name}" for name in ("alice", "bob")}
    spent = {name: await _spent(url, user) for name, user in users.items()}
    assert spent == {"alice": 3 * IMAGE, "bob": 3 * IMAGE}
    jobs_before = len(deployed.sim.app.engine.jobs)
    outcomes: dict[str, list[str]] = {"alice": [], "bob": []}

    async def one(name: str, token: str, n: int) -> None:
        async with connect(deployed.mcp, token=token) as client:
            result = await client.call_tool("imagine", {"prompt": f"{name}'s budget race {n}"})
            text = text_of(result)
            assert not result.is_error or "Refused by the daily budget" in text, text
            outcomes[name].append("ok" if not result.is_error else re.findall(r"\((LEGNEXT_\w+)\)", text)[0])

    async with anyio.create_task_group() as group:  # alice alone: her own limit binds (room for 5)
        for n in range(9):
            group.start_soon(one, "alice", alice, n)
    async with anyio.create_task_group() as group:  # then bob: the team's limit binds (room for 3)
        for n in range(9):
            group.start_soon(one, "bob", bob, n)
    assert outcomes["alice"].count("ok") == 5
    assert set(outcomes["alice"]) - {"ok"} == {"LEGNEXT_MAX_POINTS_PER_USER_PER_DAY"}
    assert outcomes["bob"].count("ok") == 3
    assert set(outcomes["bob"]) - {"ok"} == {"LEGNEXT_MAX_POINTS_PER_DAY"}
    assert await _spent(url, users["alice"]) == user_cap
    assert await _spent(url, users["bob"]) == 6 * IMAGE
    assert await _spent(url, None) == team_cap
    assert len(deployed.sim.app.engine.jobs) - jobs_before == 8
    print(f"budgets: alice {user_cap}/{user_cap} (5 of 9 through), bob {6 * IMAGE} (3 of 9 through), "
          f"team {team_cap}/{team_cap}")


def _forms(secret: str) -> list[bytes]:
    """The ways a key could be written down: as is (compared without case), URL-encoded, base64."""
    return [secret.lower().encode(), quote(secret, safe="").lower().encode(),
            base64.b64encode(secret.encode()).rstrip(b"=")]


async def test_each_user_brings_their_own_key_and_it_is_never_kept(tmp_path: Path, pg_url: str) -> None:
    key_a = "CanaryKeyA-" + secrets.token_hex(12).upper() + "xyz"
    key_b = "CanaryKeyB-" + secrets.token_hex(12).upper() + "xyz"
    settings = {"LEGNEXT_USER_KEYS": "header", "LEGNEXT_USER_KEY_SECRET": secrets.token_hex(32)}
    seen: list[str] = []  # every result, resource and error the clients read
    with team(tmp_path, pg_url, {key_a: 10**7, key_b: 10**7}, settings) as deployed:
        spy = deployed.sim.app
        made: dict[str, list[str]] = {key_a: [], key_b: []}
        for key in (key_a, key_b):
            async with connect(deployed.mcp, key=key) as client:
                grid = _ok(await client.call_tool("generate_and_wait", {"prompt": "a canary"}), "generate")
                up = _ok(await client.call_tool("upscale", {"job_id": grid["job_id"], "image_no": 0}), "upscale")
                made[key] += [grid["job_id"], up["job_id"]]
                results = [await client.call_tool("wait_for_job", {"job_ids": [up["job_id"]]}),
                           await client.call_tool("get_job", {"job_id": grid["job_id"]}),
                           await client.call_tool("list_jobs", {}),
                           await client.call_tool("save_images", {"job_id": up["job_id"]}),
                           await client.call_tool("get_balance", {}),
                           await client.call_tool("estimate_cost", {"tool": "upscale", "arguments": {
                               "job_id": grid["job_id"], "image_no": 1}})]
                for result in results:
                    _ok(result, "a call with the user's key")
                listed = results[2].structured_content
                assert {job["job_id"] for job in listed["jobs"]} == set(made[key])
                seen += [text_of(r) + json.dumps(r.structured_content) for r in results]
                seen.append((await client.read_resource("legnext://jobs")).model_dump_json())
                seen.append((await client.read_resource(f"legnext://jobs/{grid['job_id']}")).model_dump_json())
                seen.append(text_of(await client.call_tool("get_job", {"job_id": "no-such-job-1"})))
        # a request without a key: one line saying what to send, nothing sent
        before = spy.stats.count()
        async with connect(deployed.mcp) as client:
            refused = await client.call_tool("list_jobs", {})
        assert refused.is_error and "X-Legnext-Api-Key" in text_of(refused) and "\n" not in text_of(refused)
        assert spy.stats.count() == before
        # the simulator saw each user's key on that user's requests only
        owner = {job_id: key for key, ids in made.items() for job_id in ids}
        engine_jobs = spy.engine.jobs
        assert {job_id: engine_jobs[job_id].key for job_id in owner} == owner
        api_requests = [(k, m, p) for k, m, p in spy.seen if p.startswith("/api/")]
        assert api_requests and all(k in (key_a, key_b) for k, _, _ in api_requests)
        for key, _, path in api_requests:
            for job_id, its_key in owner.items():
                if job_id in path:
                    assert key == its_key, (path, "read with another user's key")
        counts = {name: sum(1 for k, _, _ in api_requests if k == key) for name, key in (("a", key_a), ("b", key_b))}
    # the canaries: in no log, result, resource, ledger row or file, in any case or encoding
    async with await psycopg.AsyncConnection.connect(pg_url) as conn:
        tables = [row[0] for row in await (await conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).fetchall()]
        rows = [json.dumps(row[0]) for table in tables for row in await (await conn.execute(
            f"SELECT row_to_json(t) FROM {table} t")).fetchall()]  # noqa: S608 - our own table names
    assert any("a canary" in row for row in rows)  # the rows are really there
    haystacks = {"results": "\n".join(seen).encode(), "ledger rows": "\n".join(rows).encode()}
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert any(path.suffix == ".png" for path in files) and any(path.name.endswith(".log") for path in files)
    haystacks |= {str(path.relative_to(tmp_path)): path.read_bytes() for path in files}
    leaks = [(where, form) for key in (key_a, key_b) for form in _forms(key) for where, data in haystacks.items()
             if form in (data.lower() if form.islower() else data)]
    assert leaks == []
    print(f"\nper-user keys: {counts['a']} API requests with key A, {counts['b']} with key B, each on its own "
          f"user's jobs; canary leaks: 0 across {len(files)} files, {len(rows)} ledger rows, {len(seen)} results")


async def test_per_user_keys_on_one_sqlite_server_isolate_and_budget_each_user(tmp_path: Path) -> None:
    # The embedded default store: one loopback server, no PostgreSQL, users told apart by a hash of their key.
    key_a, key_b, stranger = (f"Key{c}-" + secrets.token_hex(10) for c in "ABC")
    with LoopbackSandbox(SandboxApp(Engine(keys={key_a: 10**7, key_b: 10**7}, time_scale=SPEED))) as sim:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")},
               "LEGNEXT_BASE_URL": sim.base_url, "LEGNEXT_TIME_SCALE": str(SPEED), "LEGNEXT_DATA_DIR": str(tmp_path),
               "LEGNEXT_OUTPUT_DIR": str(tmp_path / "out"), "LEGNEXT_USER_KEYS": "header",
               "LEGNEXT_USER_KEY_SECRET": secrets.token_hex(32),
               "LEGNEXT_MAX_POINTS_PER_USER_PER_DAY": str(4 * IMAGE)}
        with replicas([env]) as (_, ports):
            url = f"http://127.0.0.1:{ports[0]}/mcp"
            outcomes: dict[str, list[bool]] = {key_a: [], key_b: []}

            async def one(key: str, n: int) -> None:
                async with connect(url, key=key) as client:
                    result = await client.call_tool("imagine", {"prompt": f"race {n}"})
                    assert not result.is_error or "LEGNEXT_MAX_POINTS_PER_USER_PER_DAY" in text_of(result)
                    outcomes[key].append(not result.is_error)

            async with anyio.create_task_group() as group:
                for n in range(7):
                    group.start_soon(one, key_a, n)
                    group.start_soon(one, key_b, n)
            assert outcomes[key_a].count(True) == outcomes[key_b].count(True) == 4  # each user's own room
            async with connect(url, key=key_a) as a, connect(url, key=key_b) as b:
                mine = {job["job_id"] for job in _ok(await a.call_tool("list_jobs", {}), "list")["jobs"]}
                theirs = {job["job_id"] for job in _ok(await b.call_tool("list_jobs", {}), "list")["jobs"]}
                assert len(mine) == len(theirs) == 4 and not mine & theirs
                other = await a.call_tool("get_job", {"job_id": next(iter(theirs))})
                assert other.is_error and "not among your jobs" in text_of(other)
            async with connect(url, key=stranger) as client:  # a key the API does not know: its own words
                refused = await client.call_tool("get_balance", {})
            assert refused.is_error and "X-Legnext-Api-Key" in text_of(refused)
            assert stranger not in text_of(refused) and stranger.lower() not in text_of(refused).lower()
    assert len(sim.app.engine.jobs) == 8


def test_per_user_keys_are_refused_on_stdio_in_one_line(tmp_path: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}, "LEGNEXT_USER_KEYS": "header",
           "LEGNEXT_USER_KEY_SECRET": secrets.token_hex(32), "LEGNEXT_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "legnext_mcp.cli"], env=env, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 2 and "LEGNEXT_USER_KEYS=header is for the HTTP transport" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
