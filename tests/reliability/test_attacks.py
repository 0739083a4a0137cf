"""Issue 14: the attacks a hostile upstream, a hostile network, a second process or a dying host could make,
each reproduced (loopback only) and shown to hold. Named after the finding each proves."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import time
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client

from legnext_mcp.core.errors import LocalValidationError, NetworkError
from legnext_mcp.core.job import Job, JobStatus
from legnext_mcp.dialects.legnext.dialect import LegnextDialect
from legnext_mcp.http.download import Downloader
from legnext_mcp.ledger import SqliteLedger
from legnext_mcp.sandbox import HANG_WORD, Engine, Fault, SandboxApp
from legnext_mcp.sandbox.serve import LoopbackSandbox
from legnext_mcp.server import build_server
from legnext_mcp.server.run import ServeError, http_app
from legnext_mcp.service.outputs import shrink
from legnext_mcp.settings import Settings, SettingsError
from tests.support import (
    FAST,
    audit,
    harness_settings,
    loopback_harness,
    make_client,
    server_harness,
    stdio_server,
    text_of,
)

pytestmark = pytest.mark.anyio
KEY = "sk-attack-test-0123456789"


def post_answer(job: dict[str, Any], **extra: Any) -> Fault:
    """The next submission is taken (a job is made) but answered with ``job`` instead."""
    return Fault("json", status=200, method="POST", path_prefix="/api/v1/", after_handling=True,
                 payload=json.dumps(job), **extra)


def all_files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


# --- 1: the API's job id becomes a path ------------------------------------------------------------------

@pytest.mark.parametrize("evil", ["../../x/owned", "/etc/owned", "..", "a/b"])
async def test_a_job_id_from_the_api_never_names_a_file_or_row(tmp_path: Path, evil: str) -> None:
    async with loopback_harness(tmp_path) as h:
        victim = tmp_path / "x" / "settings.json"
        victim.parent.mkdir()
        victim.write_text("mine")
        h.sandbox.engine.faults.add(post_answer({"job_id": evil, "status": "pending", "task_type": "diffusion"}))
        result = await h.call("imagine", {"prompt": "a fox"})
        assert result.is_error and "malformed job id" in text_of(result) and "may have been created" in text_of(result)
        assert victim.read_text() == "mine"
        assert all(tmp_path in p.parents for p in all_files(tmp_path))
        db = sqlite3.connect(h.settings.ledger_path)
        assert [r[0] for r in db.execute("SELECT job_id FROM jobs")] == []
        assert db.execute("SELECT COUNT(*) FROM intents WHERE state = 'uncertain'").fetchone()[0] == 1
        db.close()


async def test_an_answer_about_another_job_is_not_believed_or_recorded(tmp_path: Path) -> None:
    async with loopback_harness(tmp_path) as h:
        first = (await h.call("generate_and_wait", {"prompt": "a fox"})).structured_content["job_id"]
        second = (await h.call("imagine", {"prompt": f"a cat {HANG_WORD}"})).structured_content["job_id"]
        h.sandbox.engine.faults.add(Fault("json", status=200, method="GET", path_prefix=f"/api/v1/job/{second}",
                                          payload=json.dumps({"job_id": first, "status": "completed"}), count=5))
        result = await h.call("get_job", {"job_id": second})
        assert result.is_error and f"about job {first} when asked for job {second}" in text_of(result)
        listed = (await h.call("list_jobs", {})).structured_content["jobs"]
        assert {j["job_id"]: j["status"] for j in listed}[second] != "completed"


# --- 2: an open HTTP transport -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
    return {**env, "LEGNEXT_DATA_DIR": str(tmp_path / "data"), "LEGNEXT_OUTPUT_DIR": str(tmp_path / "out"), **extra}


def test_an_open_bind_without_a_token_refuses_to_start(tmp_path: Path) -> None:
    # End to end once (exit code 2, one line naming the fix), then every kind of open address through the
    # same check the command runs before it binds.
    out = subprocess.run([sys.executable, "-m", "legnext_mcp.cli", "--sandbox", "--transport", "http", "--host",
                          "0.0.0.0", "--port", str(_free_port())], env=_env(tmp_path),  # noqa: S104
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "LEGNEXT_HTTP_TOKEN" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    settings = harness_settings(tmp_path)
    for host in ("0.0.0.0", "::", "192.0.2.10", "[::]"):  # noqa: S104 - what is refused
        with pytest.raises(ServeError, match="LEGNEXT_HTTP_TOKEN"):
            http_app(build_server(settings), settings, host=host, port=8000)
    for host in ("127.0.0.1", "localhost", "::1"):  # loopback needs no token
        assert http_app(build_server(settings), settings, host=host, port=8000) is not None


#: An MCP initialize over Streamable HTTP, as a 2025-11-25 client sends it.
HELLO = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


async def _until_listening(http: httpx2.AsyncClient, url: str) -> None:
    """Wait (bounded) until the server subprocess accepts connections."""
    with anyio.fail_after(30):
        while True:
            try:
                await http.get(url)
                return
            except httpx2.TransportError:
                await anyio.sleep(0.05)


async def test_http_checks_host_origin_and_the_token_on_every_request(tmp_path: Path) -> None:
    port, token = _free_port(), "t0ken-for-the-attack-test-123456"
    process = subprocess.Popen([sys.executable, "-m", "legnext_mcp.cli", "--sandbox", "--transport", "http",
                                "--port", str(port)], env=_env(tmp_path, LEGNEXT_HTTP_TOKEN=token,
                                                               LEGNEXT_HTTP_HEADER_TIMEOUT_S="1"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        async with httpx2.AsyncClient(timeout=10) as http:
            await _until_listening(http, url)
            no_token = await http.post(url, json=HELLO, headers=HEADERS)
            rebinding = await http.post(url, json=HELLO, headers={**HEADERS, "authorization": f"Bearer {token}",
                                                                  "host": "evil.example",
                                                                  "origin": "http://evil.example"})
            good = await http.post(url, json=HELLO, headers={**HEADERS, "authorization": f"Bearer {token}"})
        assert no_token.status_code == 401
        assert rebinding.status_code in (403, 421)
        assert good.status_code == 200
        # a connection that never finishes its headers (slowloris) is closed by the server
        with socket.create_connection(("127.0.0.1", port), timeout=5) as slow:
            slow.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            started = time.monotonic()
            assert slow.recv(1024) == b"" and time.monotonic() - started < 4
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert token.encode() not in err


async def test_abandoned_sessions_lock_nobody_out_for_long(tmp_path: Path) -> None:
    """Finding 9: sessions opened and abandoned fill the table only up to its cap, only with the token, and
    free up after the idle time (5 minutes by default; 4 s here, long enough to open them all on a busy
    machine), so real clients get in again."""
    port, token = _free_port(), "t0ken-for-the-session-test-1234"
    process = subprocess.Popen([sys.executable, "-m", "legnext_mcp.cli", "--sandbox", "--transport", "http",
                                "--port", str(port)], env=_env(tmp_path, LEGNEXT_HTTP_TOKEN=token,
                                                               LEGNEXT_HTTP_SESSION_IDLE_S="4",
                                                               LEGNEXT_HTTP_MAX_SESSIONS="20"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/mcp"
    signed = {**HEADERS, "authorization": f"Bearer {token}"}
    try:
        async with httpx2.AsyncClient(timeout=10) as http:
            await _until_listening(http, url)
            strangers = [(await http.post(url, json=HELLO, headers=HEADERS)).status_code for _ in range(20)]
            started = time.monotonic()
            opened = [(await http.post(url, json=HELLO, headers=signed)).status_code for _ in range(20)]
            full = await http.post(url, json=HELLO, headers=signed)
            filled_in = time.monotonic() - started
            with anyio.fail_after(30):  # idle sessions expire (checked by the SDK's timer), then room frees up
                while (again := await http.post(url, json=HELLO, headers=signed)).status_code == 503:  # noqa: ASYNC110
                    await anyio.sleep(0.25)
            freed_after = time.monotonic() - started
    finally:
        process.terminate()
        process.communicate(timeout=10)
    assert set(strangers) == {401}  # without the token nothing is opened
    assert filled_in < 4, "opening 21 sessions took longer than the idle time: the test proves nothing"
    assert set(opened) == {200} and full.status_code == 503
    assert again.status_code == 200 and again.headers.get("mcp-session-id") and freed_after >= 4


# --- 3: the budget races ----------------------------------------------------------------------------------

async def test_concurrent_calls_cannot_pass_the_daily_budget(tmp_path: Path, mode: str) -> None:
    async with server_harness(tmp_path, mode, max_points_per_day=100) as h:
        results: list[Any] = []

        async def one(n: int) -> None:
            results.append(await h.call("imagine", {"prompt": f"a fox number {n}"}))

        async with anyio.create_task_group() as group:
            for n in range(6):
                group.start_soon(one, n)
    assert len(h.sandbox.engine.jobs) == 1
    assert sum(1 for r in results if r.is_error and "daily budget" in text_of(r)) == 5


async def test_two_servers_sharing_a_ledger_cannot_pass_the_budget_together(tmp_path: Path) -> None:
    sandbox = SandboxApp(Engine(time_scale=FAST, seed=3))
    settings = harness_settings(tmp_path, max_points_per_day=100)
    async with make_client(sandbox) as api, Client(build_server(settings, dialect=LegnextDialect(api))) as a, \
            Client(build_server(settings, dialect=LegnextDialect(api))) as b:
            results: list[Any] = []

            async def one(client: Client, n: int) -> None:
                results.append(await client.call_tool("imagine", {"prompt": f"a cat {n}"}))

            async with anyio.create_task_group() as group:
                for n in range(4):
                    group.start_soon(one, a, n)
                    group.start_soon(one, b, n)
    assert len(sandbox.engine.jobs) == 1 and sum(1 for r in results if not r.is_error) == 1


# --- 4: SSRF on downloads ---------------------------------------------------------------------------------

async def test_every_download_hop_and_resolved_address_is_checked() -> None:
    asked: list[str] = []

    def host(request: httpx2.Request) -> httpx2.Response:
        asked.append(str(request.url))
        return httpx2.Response(302, headers={"location": "http://169.254.169.254/latest/meta-data"})

    async def resolve(name: str, port: int) -> list[str]:
        return {"cdn.example.com": ["93.184.216.34"], "inside.example.com": ["10.0.0.5"],
                "mixed.example.com": ["93.184.216.34", "127.0.0.1"]}[name]

    async with Downloader(transport=httpx2.MockTransport(host), resolve=resolve) as d:
        with pytest.raises(LocalValidationError, match=r"169\.254\.169\.254"):
            await d.fetch("https://cdn.example.com/a.png")  # the redirect is refused before it is followed
        assert asked == ["https://cdn.example.com/a.png"]
        for name in ("inside", "mixed"):
            with pytest.raises(LocalValidationError, match="resolves to a private"):
                await d.fetch(f"https://{name}.example.com/a.png")
    assert len(asked) == 1


async def test_a_download_that_trickles_in_is_stopped_at_its_deadline() -> None:
    app = SandboxApp(Engine(time_scale=FAST))
    app.engine.faults.add(Fault("body", path_prefix="/cdn/", content_type="image/png", size=400_000,
                                delay_s=0.3))
    with LoopbackSandbox(app) as loop:
        async with Downloader(local_origin=loop.origin, deadline_s=0.5) as d:
            started = time.monotonic()
            with pytest.raises(NetworkError, match=r"longer than 0\.5 s"):
                await d.fetch(f"{loop.origin}/cdn/mj/x_0.png")
            assert time.monotonic() - started < 3


# --- 5: a SIGTERM (or SIGKILL) mid-submit ---------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
async def test_a_host_that_kills_the_server_mid_submit_loses_nothing(tmp_path: Path, sig: signal.Signals) -> None:
    sandbox = SandboxApp(Engine(keys={KEY: 10_000}, time_scale=400, seed=31))
    sandbox.engine.faults.add(Fault("slow", delay_s=1.5, method="POST", after_handling=True))
    with LoopbackSandbox(sandbox) as loop:
        params = stdio_server(loop, tmp_path, key=KEY)
        process = subprocess.Popen([params.command, *params.args], env=params.env, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert process.stdin is not None and process.stdout is not None
        for message in ({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
                {"jsonrpc": "2.0", "method": "notifications/initialized"},
                {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                 "params": {"name": "imagine", "arguments": {"prompt": "a fox"}}}):
            process.stdin.write((json.dumps(message) + "\n").encode())
            process.stdin.flush()
        process.stdout.readline()
        with anyio.fail_after(10):
            while sandbox.stats.count("POST") == 0:  # noqa: ASYNC110 - another process's request
                await anyio.sleep(0.02)
        process.send_signal(sig)
        process.wait(timeout=10)
        for pipe in (process.stdin, process.stdout):
            pipe.close()
        with anyio.fail_after(10):
            while len(sandbox.engine.jobs) == 0:  # noqa: ASYNC110 - the simulator's thread makes it
                await anyio.sleep(0.02)
        async with Client(stdio_server(loop, tmp_path, key=KEY)) as client:  # the next process sees it
            listed = (await client.call_tool("list_jobs", {})).structured_content
    assert [u["state"] for u in listed["uncertain"]] == ["uncertain"]
    found = audit(sandbox, replace(harness_settings(tmp_path), sandbox=False))
    assert found.lost == 0 and found.uncertain == 1


# --- 6: spending while the ledger cannot record --------------------------------------------------------

def _start(tmp_path: Path, api: str) -> subprocess.CompletedProcess[str]:
    # with a key, nothing is sent at start: the stdio server opens its ledger in the lifespan, before reading
    sandbox = api == "sandbox"
    return subprocess.run([sys.executable, "-m", "legnext_mcp.cli", *(["--sandbox"] if sandbox else [])],
                          env=_env(tmp_path, **({} if sandbox else {"LEGNEXT_API_KEY": "key-that-is-never-sent"})),
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


# Every kind of damage with the sandbox (the ledger is probed before the simulator starts); two with a key,
# where the stdio server's lifespan opens it and its error is turned into the same one line.
@pytest.mark.parametrize(("damage", "api"), [*((d, "sandbox") for d in ("future schema", "corrupt pages",
                                                                         "data dir is a file", "read-only")),
                                             ("future schema", "real key"), ("data dir is a file", "real key")])
def test_a_ledger_that_cannot_record_stops_the_start_with_one_line(tmp_path: Path, damage: str, api: str) -> None:
    data = tmp_path / "data"
    ledger = data / ("sandbox-ledger.sqlite3" if api == "sandbox" else "ledger.sqlite3")
    if damage == "data dir is a file":
        data.write_text("not a folder")
    else:
        data.mkdir()
        db = sqlite3.connect(ledger)
        db.execute("CREATE TABLE t (x)")
        db.execute("INSERT INTO t VALUES (randomblob(200000))")
        db.commit()
        if damage == "future schema":
            db.execute("PRAGMA user_version = 99")
            db.execute("CREATE TABLE extra (needed TEXT NOT NULL)")
            db.commit()
        db.close()
        if damage == "corrupt pages":
            raw = bytearray(ledger.read_bytes())
            raw[8192:16384] = os.urandom(8192)  # behind an intact header
            ledger.write_bytes(bytes(raw))
        if damage == "read-only":
            ledger.chmod(0o444)
            data.chmod(0o555)
    try:
        out = _start(tmp_path, api)
    finally:
        data.chmod(0o755) if data.is_dir() else None
    if damage == "read-only" and os.geteuid() == 0:
        assert out.returncode in (0, 2)  # root writes anyway: nothing to prove here beyond no traceback
        assert "Traceback" not in out.stderr
        return
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "LEGNEXT_DATA_DIR" in out.stderr


async def test_a_locked_ledger_sends_nothing(tmp_path: Path) -> None:
    async with server_harness(tmp_path, "auto") as h:
        await h.call("list_jobs", {})
        holder = sqlite3.connect(h.settings.ledger_path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # another program holds the file
        try:
            result = await h.call("imagine", {"prompt": "a fox"})
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    assert result.is_error and "Nothing was sent" in text_of(result) and "locked" in text_of(result)
    assert h.sandbox.stats.count("POST") == 0


# --- 7, 8: answers without bounds --------------------------------------------------------------------------

async def test_an_endless_answer_is_cut_off_and_a_paid_one_kept_as_uncertain(tmp_path: Path) -> None:
    async with loopback_harness(tmp_path) as h:
        h.sandbox.engine.faults.add(Fault("body", method="POST", path_prefix="/api/v1/", after_handling=True,
                                          content_type="application/json", size=50_000_000, fill="["))
        result = await h.call("imagine", {"prompt": "a fox"})
        assert result.is_error and "may exist" in text_of(result) and "2097152 bytes" in text_of(result)
        assert audit(h.sandbox, h.settings).lost == 0


async def test_a_job_listing_three_hundred_outputs_keeps_four(tmp_path: Path) -> None:
    async with loopback_harness(tmp_path) as h:
        done = (await h.call("generate_and_wait", {"prompt": "a fox"})).structured_content
        answer = {**json.loads(json.dumps({"job_id": done["job_id"], "task_type": "diffusion", "status": "completed"})),
                  "output": {"image_url": done["grid_url"], "image_urls": [done["image_urls"][0]] * 300}}
        h.sandbox.engine.faults.add(Fault("json", status=200, method="GET", path_prefix="/api/v1/job/",
                                          payload=json.dumps(answer)))
        seen = (await h.call("get_job", {"job_id": done["job_id"]})).structured_content
        assert len(seen["image_urls"]) == 4


# --- 10: the key echoed by the upstream; keys with control characters -------------------------------------

async def test_a_key_echoed_by_the_api_is_redacted_everywhere(tmp_path: Path) -> None:
    async with loopback_harness(tmp_path, key=KEY) as h:
        echo = {"job_id": "0f8e7a1c-2b3d-4e5f-8a9b-1c2d3e4f5a6b", "task_type": "describe", "status": "failed",
                "error": {"code": 500, "message": f"upstream said {KEY}"},
                "output": {"description": f"key {KEY}", "prompts": [KEY]}}
        h.sandbox.engine.faults.add(Fault("json", status=200, method="GET", path_prefix="/api/v1/job/",
                                          payload=json.dumps(echo)))
        result = await h.call("get_job", {"job_id": echo["job_id"]})
    assert "***" in text_of(result) and KEY not in text_of(result) and KEY not in json.dumps(result.structured_content)
    assert KEY.encode() not in h.settings.ledger_path.read_bytes()


@pytest.mark.parametrize("key", ["sk-good\nX-Evil: 1", "sk\x1bbad-key-123", "sk bad key 12345"])
def test_a_key_with_control_characters_is_refused_at_start(key: str) -> None:
    with pytest.raises(SettingsError, match="control characters"):
        Settings.from_env({"LEGNEXT_API_KEY": key, "HOME": "/h"})


# --- 12, 13: dying saves, deep JSON, decompression bombs --------------------------------------------------

async def test_a_stale_part_file_from_a_killed_save_is_cleaned_up(tmp_path: Path) -> None:
    async with server_harness(tmp_path, "auto") as h:
        job = (await h.call("generate_and_wait", {"prompt": "a fox"})).structured_content["job_id"]
        stale = h.settings.output_dir / f".{job}_0.png.abcd1234.part"
        stale.parent.mkdir(parents=True)
        stale.write_bytes(b"half")
        os.utime(stale, (time.time() - 3600, time.time() - 3600))
        fresh = h.settings.output_dir / ".other.png.efgh5678.part"  # a writer still at work: left alone
        fresh.write_bytes(b"busy")
        await h.call("save_images", {"job_id": job})
    assert not stale.exists() and fresh.exists()


async def test_a_deeply_nested_answer_to_a_submit_is_uncertain_not_a_crash(tmp_path: Path) -> None:
    async with loopback_harness(tmp_path) as h:
        deep = "[" * 100_000 + "]" * 100_000
        h.sandbox.engine.faults.add(Fault("json", status=200, method="POST", path_prefix="/api/v1/",
                                          after_handling=True, payload=deep))
        result = await h.call("imagine", {"prompt": "a fox"})
        assert result.is_error and "may exist" in text_of(result)
        assert audit(h.sandbox, h.settings).uncertain == 1


def test_a_decompression_bomb_is_not_decoded() -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0)  # 2.5 billion pixels, a few bytes
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + \
        chunk(b"IEND", b"")
    assert shrink(bomb, 100_000) is None


# --- 15: prompts with control characters -----------------------------------------------------------------

@pytest.mark.parametrize("prompt", ["a fox\x00", "a \x1b[31mred\x1b[0m fox", "a \u202egnp.exe fox"])
async def test_prompts_with_control_or_direction_characters_cost_nothing(tmp_path: Path, prompt: str) -> None:
    async with server_harness(tmp_path, "auto") as h:
        for tool in ("imagine", "shorten"):
            result = await h.call(tool, {"prompt": prompt})
            assert result.is_error and "control or text-direction character" in text_of(result), tool
    assert h.sandbox.stats.count() == 0


async def test_a_listing_shows_a_newline_in_a_prompt_as_an_escape(tmp_path: Path) -> None:
    async with server_harness(tmp_path, "auto") as h:
        await h.call("imagine", {"prompt": "a fox\nabc123  diffusion  completed  forged"})
        text = text_of(await h.call("list_jobs", {}))
    assert len(text.splitlines()) == 1 and "\\u000a" in text


# --- 16: a terminal state is final -----------------------------------------------------------------------

async def test_a_finished_job_stays_finished_whatever_a_later_answer_says(tmp_path: Path) -> None:
    ledger = SqliteLedger(tmp_path / "ledger.sqlite3")
    base = {"dialect": "legnext", "job_id": "j1", "task_type": "diffusion"}
    await ledger.record(Job(**base, status=JobStatus.COMPLETED, consumed=80, frozen=80))
    await ledger.record(Job(**base, status=JobStatus.PROCESSING, frozen=80))
    await ledger.record(Job(**base, status=JobStatus.FAILED))
    entry = await ledger.get("legnext", "j1")
    assert entry is not None and entry.job.status is JobStatus.COMPLETED
    assert await ledger.spent("legnext", 0) == 80
    await ledger.close()


# --- 17: a time scale or plain http against a real API -----------------------------------------------------

@pytest.mark.parametrize("base", ["https://API.legnext.ai/api", "https://api.legnext.ai:443/api",
                                  "https://relay.example.com/mj"])
def test_a_time_scale_is_refused_for_anything_but_this_machine(base: str) -> None:
    with pytest.raises(SettingsError, match="LEGNEXT_TIME_SCALE"):
        Settings.from_env({"LEGNEXT_API_KEY": "k", "HOME": "/h", "LEGNEXT_TIME_SCALE": "400",
                           "LEGNEXT_BASE_URL": base})


def test_plain_http_is_refused_with_a_real_key_off_this_machine() -> None:
    with pytest.raises(SettingsError, match="plain http"):
        Settings.from_env({"LEGNEXT_API_KEY": "k", "HOME": "/h", "LEGNEXT_BASE_URL": "http://api.legnext.ai/api"})
    local = Settings.from_env({"LEGNEXT_API_KEY": "k", "HOME": "/h", "LEGNEXT_BASE_URL": "http://127.0.0.1:8765/api"})
    assert local.base_url == "http://127.0.0.1:8765/api"


# --- 18: confirmation can fail closed ---------------------------------------------------------------------

async def test_confirmation_can_be_required_of_clients_that_cannot_ask(tmp_path: Path) -> None:
    async with server_harness(tmp_path, "auto", None, confirm_above_points=100, confirm_required=True) as h:
        result = await h.call("imagine", {"prompt": "a fox", "speed": "turbo"})
        cheap = await h.call("imagine", {"prompt": "a fox"})
    assert result.is_error and "LEGNEXT_CONFIRM_REQUIRED" in text_of(result) and "Nothing was sent" in text_of(result)
    assert not cheap.is_error and len(h.sandbox.engine.jobs) == 1


# --- 19: plain reasons for odd folders and resource URIs -------------------------------------------------

async def test_odd_folders_and_resource_uris_get_their_real_reason(tmp_path: Path) -> None:
    async with server_harness(tmp_path, "auto") as h:
        job = (await h.call("generate_and_wait", {"prompt": "a fox"})).structured_content["job_id"]
        out = h.settings.output_dir
        out.mkdir(parents=True, exist_ok=True)
        (out / "afile").write_text("x")
        (out / "dangling").symlink_to(tmp_path / "nowhere")
        as_file = await h.call("save_images", {"job_id": job, "folder": "afile"})
        dangling = await h.call("save_images", {"job_id": job, "folder": "dangling"})
        reasons = []
        for uri in (f"legnext://jobs/{job}/images/9", "legnext://jobs/no-such-job", f"legnext://jobs/{job}/images/x"):
            try:
                await h.client.read_resource(uri)
            except Exception as exc:
                reasons.append(str(exc))
    assert "is a file, not a folder" in text_of(as_file)
    assert "link to a folder that does not exist" in text_of(dangling)
    assert "has no output 9" in reasons[0] and "Not found" in reasons[1] and "0-3 or 'grid'" in reasons[2]
