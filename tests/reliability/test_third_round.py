"""The third hostile round (issue 26): the relay budget, relay answers, the gallery's data, the HTTP transport,
error paths. One test per finding, named after what it proves, through the real seams (the simulators, a
hostile relay that rewrites the simulator's answers, the MCP client in memory, real processes)."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import ResourceUpdated
from mcp_types import INVALID_PARAMS

from legnext_mcp.core.clock import Clock
from legnext_mcp.core.errors import LocalValidationError
from legnext_mcp.core.urls import is_public_address
from legnext_mcp.dialects.mjproxy.dialect import MjProxyDialect
from legnext_mcp.http.download import Downloader
from legnext_mcp.sandbox import HANG_WORD as LEGNEXT_HANG_WORD
from legnext_mcp.sandbox import Engine, SandboxApp
from legnext_mcp.sandbox.core.faults import Fault
from legnext_mcp.sandbox.mjproxy.app import MjProxyApp
from legnext_mcp.sandbox.mjproxy.engine import DEFAULT_KEY as MJ_PROXY_KEY
from legnext_mcp.sandbox.mjproxy.engine import HANG_WORD, MjProxyEngine
from legnext_mcp.sandbox.serve import LoopbackSandbox
from legnext_mcp.server import build_server
from legnext_mcp.settings import Settings
from tests.support import FAST, crashed, loopback_harness, relay_harness, server_harness, text_of

SKILL_SCRIPTS = Path(__file__).resolve().parents[2] / "skill" / "legnext-midjourney" / "scripts"

pytestmark = pytest.mark.anyio


# --- 1: relay jobs count toward the daily budget once finished -------------------------------------------


async def test_finished_relay_jobs_count_at_their_price_one_after_another(tmp_path: Path) -> None:
    async with relay_harness(tmp_path, relay_prices={"imagine": 50}, max_points_per_day=100) as relay:
        answers = [await relay.call("generate_and_wait", {"prompt": f"a fox {n}"}) for n in range(6)]
        made = [a for a in answers if not a.is_error]
        assert all(a.structured_content["status"] == "completed" for a in made)
        assert len(made) == 2 and len(relay.posts("imagine")) == 2  # 6 tried with room for 2: 2 made
        assert all("LEGNEXT_MAX_POINTS_PER_DAY" in text_of(a) for a in answers if a.is_error)


async def test_relay_jobs_sent_at_once_never_pass_the_daily_budget(tmp_path: Path) -> None:
    async with relay_harness(tmp_path, relay_prices={"imagine": 50}, max_points_per_day=100) as relay:
        answers: list[Any] = []

        async def one(n: int) -> None:
            answers.append(await relay.call("generate_and_wait", {"prompt": f"a fox {n}"}))

        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                for n in range(6):
                    group.start_soon(one, n)
        assert sum(not a.is_error for a in answers) == 2 and len(relay.posts("imagine")) == 2
        # and once they are finished, they still count
        assert (await relay.call("generate_and_wait", {"prompt": "one more"})).is_error
        assert len(relay.posts("imagine")) == 2


# --- 2: a relay value the parser does not expect ----------------------------------------------------------


def _progress(value: str) -> Any:
    def change(path: str, answer: Any) -> Any:
        tasks = answer if isinstance(answer, list) else [answer]
        for task in tasks:
            if isinstance(task, dict) and "progress" in task:
                task["progress"] = value
        return answer
    return change


@pytest.mark.parametrize("progress", ["\u00b2%", "9" * 5000 + "%", "-5%", "12.5%", "NaN"])
async def test_an_unreadable_relay_progress_is_ignored_and_the_paid_call_names_its_job(
        tmp_path: Path, progress: str) -> None:
    # A job that keeps running, so its progress is read (a finished one is 100 whatever the relay says).
    async with relay_harness(tmp_path, change=_progress(progress), soft_deadline_s=1) as relay:
        waited = await relay.call("generate_and_wait", {"prompt": f"a fox {HANG_WORD}"})
        assert not waited.is_error, text_of(waited)
        job_id = waited.structured_content["job_id"]
        assert re.fullmatch(r"\d+", job_id) and waited.structured_content["status"] in ("pending", "processing")
        read = await relay.call("get_job", {"job_id": job_id})
        assert not read.is_error, text_of(read)
        assert read.structured_content["job_id"] == job_id and "progress" not in read.structured_content
        other = (await relay.ok("imagine", {"prompt": f"a cat {HANG_WORD}"}))["job_id"]
        both = await relay.call("wait_for_job", {"job_ids": [job_id, other], "timeout_s": 1})
        assert not both.is_error, text_of(both)
        assert [j["job_id"] for j in both.structured_content["jobs"]] == [job_id, other]


# --- 3: a relay on a private address opens no other private address --------------------------------------


async def test_a_local_relay_fetches_inline_images_from_its_own_origin_only(tmp_path: Path) -> None:
    secret = SandboxApp(Engine(time_scale=FAST))  # another service on this machine, serving an image
    secret.engine.faults.add(Fault("body", count=100, path_prefix="/private/", content_type="image/png",
                                   size=2000, fill="\x89PNG\r\n\x1a\n"))
    relay_app = MjProxyApp(MjProxyEngine(time_scale=FAST))
    with LoopbackSandbox(secret) as other, LoopbackSandbox(relay_app) as relay:
        settings = Settings(api_key=MJ_PROXY_KEY, dialect="mj-proxy", base_url=f"{relay.origin}/mj-fast",
                            data_dir=tmp_path / "data", output_dir=tmp_path / "out", soft_deadline_s=10)
        dialect = MjProxyDialect(MJ_PROXY_KEY, base_url=settings.base_url, clock=Clock(FAST))
        try:
            async with Client(build_server(settings, dialect=dialect)) as client:
                grid = (await client.call_tool("generate_and_wait", {"prompt": "a fox"})).structured_content
                up = (await client.call_tool("upscale", {"job_id": grid["job_id"], "image_no": 0})).structured_content
                await client.call_tool("wait_for_job", {"job_ids": [up["job_id"]]})
                stolen = f"{other.origin}/private/db.png"
                blend = await client.call_tool("blend", {"image_urls": [stolen, stolen], "aspect_ratio": "1:1"})
                inpaint = await client.call_tool("inpaint", {"job_id": up["job_id"], "image_no": 0,
                                                             "mask_url": stolen})
                for refused in (blend, inpaint):
                    assert refused.is_error and "not a public address" in text_of(refused), text_of(refused)
                assert other.app.stats.count() == 0  # the other service was never asked
                # the relay's own images still go inline
                own = await client.call_tool("blend", {"image_urls": [grid["grid_url"]] * 2, "aspect_ratio": "1:1"})
                assert not own.is_error, text_of(own)
        finally:
            await dialect.aclose()


# --- 5: only http(s) output URLs, in every dialect -----------------------------------------------------------

HOSTILE_URLS = ["javascript:alert(document.domain)", "data:text/html;base64,PHNjcmlwdD4=", "file:///etc/passwd",
                "JAVASCRIPT:alert(1)", " javascript:alert(1)", "vbscript:msgbox(1)"]


def _only_http(found: Any) -> bool:
    text = json.dumps(found)
    return not any(scheme in text.lower() for scheme in ("javascript:", "data:text", "file:", "vbscript:"))


async def test_output_urls_that_are_not_http_never_reach_results_resources_or_the_ledger(tmp_path: Path) -> None:
    async with loopback_harness(tmp_path) as h:
        done = (await h.call("generate_and_wait", {"prompt": "a fox"})).structured_content
        answer = {"job_id": done["job_id"], "task_type": "video-diffusion", "status": "completed",
                  "output": {"image_url": HOSTILE_URLS[0], "image_urls": HOSTILE_URLS[:4],
                             "video_url": HOSTILE_URLS[2], "video_urls": [*HOSTILE_URLS, done["image_urls"][0]]}}
        h.sandbox.engine.faults.add(Fault("json", status=200, method="GET", path_prefix="/api/v1/job/",
                                          payload=json.dumps(answer)))
        seen = await h.call("get_job", {"job_id": done["job_id"]})
        assert _only_http(seen.structured_content) and _only_http(text_of(seen)), text_of(seen)
        assert seen.structured_content["video_urls"] == [done["image_urls"][0]]
        resource = await h.client.read_resource(f"legnext://jobs/{done['job_id']}")
        assert _only_http([c.model_dump() for c in resource.contents])
        db = sqlite3.connect(h.settings.ledger_path)
        rows = db.execute("SELECT job_json FROM jobs").fetchall()
        db.close()
        assert rows and _only_http([r[0] for r in rows])


async def test_a_relay_s_hostile_video_urls_are_dropped_too(tmp_path: Path) -> None:
    def change(path: str, answer: Any) -> Any:
        for task in answer if isinstance(answer, list) else [answer]:
            if isinstance(task, dict) and task.get("status") == "SUCCESS":
                task["action"], task["videoUrl"] = "VIDEO", HOSTILE_URLS[0]
                task["videoUrls"] = [{"url": url} for url in HOSTILE_URLS]
        return answer

    async with relay_harness(tmp_path, change=change) as relay:
        job = await relay.ok("generate_and_wait", {"prompt": "waves"})
        assert job["status"] == "completed" and job.get("video_urls", []) == [] and _only_http(job)


# --- 6: the key echoed in another case form --------------------------------------------------------------

KEY = "sk-Round3-Echo-0123456789abc"
ECHOES = [KEY.upper(), KEY.lower(), KEY.swapcase()]


def _leaks(text: str) -> list[str]:
    return [form for form in (KEY, *ECHOES) if form in text]


async def test_a_key_echoed_in_any_case_is_redacted_everywhere_by_the_legnext_dialect(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    engine = Engine(keys={KEY: 100_000}, time_scale=FAST, seed=5)
    async with loopback_harness(tmp_path, key=KEY, engine=engine, log_level="DEBUG") as h:
        echo = {"job_id": "0f8e7a1c-2b3d-4e5f-8a9b-1c2d3e4f5a6b", "task_type": "describe", "status": "failed",
                "error": {"code": 500, "message": f"upstream said {ECHOES[0]}"},
                "output": {"description": f"key {ECHOES[1]}", "prompts": [ECHOES[2]]}}
        h.sandbox.engine.faults.add(Fault("json", status=200, method="GET", path_prefix="/api/v1/job/", count=3,
                                          payload=json.dumps(echo)))
        result = await h.call("get_job", {"job_id": echo["job_id"]})
        resource = await h.client.read_resource(f"legnext://jobs/{echo['job_id']}")
    shown = text_of(result) + json.dumps(result.structured_content) + json.dumps(
        [c.model_dump() for c in resource.contents])
    assert "***" in shown and _leaks(shown) == []
    assert _leaks(h.settings.ledger_path.read_bytes().decode("latin-1")) == []
    assert _leaks(caplog.text) == []


async def test_a_key_echoed_in_any_case_is_redacted_everywhere_by_the_relay_dialect(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    def change(path: str, answer: Any) -> Any:
        for task in answer if isinstance(answer, list) else [answer]:
            if isinstance(task, dict) and "status" in task:
                task["status"], task["failReason"] = "FAILURE", f"bad key {ECHOES[0]}"
                task["prompt"] = task["promptEn"] = f"echo {ECHOES[1]}"
        return answer

    async with relay_harness(tmp_path, key=KEY, change=change, log_level="DEBUG") as relay:
        relay.app.engine.keys[KEY] = 100_000
        failed = await relay.call("generate_and_wait", {"prompt": "a fox"})
        job_id = failed.structured_content["job_id"]
        resource = await relay.client.read_resource(f"legnext://jobs/{job_id}")
        shown = text_of(failed) + json.dumps(failed.structured_content) + json.dumps(
            [c.model_dump() for c in resource.contents])
        assert failed.is_error and "***" in shown and _leaks(shown) == []
        assert _leaks(relay.settings.ledger_path.read_bytes().decode("latin-1")) == []
    assert _leaks(caplog.text) == []


# --- 7: private IPv4 addresses inside IPv6 forms ------------------------------------------------------------

#: 169.254.169.254 (cloud metadata), 10.0.0.5 and 127.0.0.1 as NAT64, 6to4 and IPv4-compatible IPv6 addresses.
EMBEDDED = ["64:ff9b::a9fe:a9fe", "64:ff9b::10.0.0.5", "2002:a9fe:a9fe::1", "2002:7f00:1::", "::169.254.169.254",
            "::10.0.0.5", "::ffff:169.254.169.254"]


@pytest.mark.parametrize("address", EMBEDDED)
async def test_a_private_ipv4_address_inside_an_ipv6_form_is_not_public(tmp_path: Path, address: str) -> None:
    asked: list[str] = []

    def host(request: httpx2.Request) -> httpx2.Response:
        asked.append(str(request.url))
        return httpx2.Response(200, headers={"content-type": "image/png"}, content=b"\x89PNG")

    async def resolve(name: str, port: int) -> list[str]:
        return [address]

    async with Downloader(transport=httpx2.MockTransport(host), resolve=resolve) as d:
        with pytest.raises(LocalValidationError, match="private"):
            await d.fetch("https://metadata.example.com/latest")
        with pytest.raises(LocalValidationError, match="private"):
            await d.fetch(f"http://[{address}]/latest")
    assert asked == []
    async with server_harness(tmp_path) as h:
        refused = await h.call("describe", {"image_url": f"http://[{address}]/latest/meta-data"})
        assert refused.is_error and "not a public address" in text_of(refused)
        assert h.sandbox.stats.count("POST") == 0


async def test_public_ipv4_addresses_inside_ipv6_forms_stay_public() -> None:
    for address in ("64:ff9b::808:808", "2002:808:808::1", "::8.8.8.8", "2606:4700::1111"):
        assert is_public_address(address), address


# --- 8: upstream text that reaches the model is capped, and says so -------------------------------------------


async def test_three_thousand_long_button_labels_reach_the_model_capped_and_counted(tmp_path: Path) -> None:
    def change(path: str, answer: Any) -> Any:
        for task in answer if isinstance(answer, list) else [answer]:
            if isinstance(task, dict) and task.get("status") == "SUCCESS":
                task["buttons"] = [{"customId": f"MJ::X::{n}::" + "y" * 300, "label": f"{n}" + "L" * 300}
                                   for n in range(3000)]
        return answer

    async with relay_harness(tmp_path, change=change) as relay:
        grid = await relay.ok("generate_and_wait", {"prompt": "a fox"})
        for tool, arguments in (("reroll", {"job_id": grid["job_id"]}),
                                ("upscale", {"job_id": grid["job_id"], "image_no": 0})):
            refused = await relay.call(tool, arguments)
            assert refused.is_error and len(text_of(refused)) < 1500, len(text_of(refused))
            assert "and 2980 more buttons not shown" in text_of(refused) and "characters cut" in text_of(refused)
        shown = await relay.call("get_job", {"job_id": grid["job_id"]})
        assert len(text_of(shown) + json.dumps(shown.structured_content)) < 5000
        resource = await relay.client.read_resource(f"legnext://jobs/{grid['job_id']}")
        assert len(json.dumps([c.model_dump() for c in resource.contents])) < 5000
        assert relay.posts("action") == []


# --- 9: code 21 "exists" naming an older task ---------------------------------------------------------------


async def test_code_21_naming_an_older_task_is_not_this_call_s_result_and_is_kept_as_uncertain(tmp_path: Path) -> None:
    async with relay_harness(tmp_path, relay_prices={"imagine": 50, "upscale": 30}) as relay:
        older = await relay.ok("generate_and_wait", {"prompt": "an older lighthouse"})
        for tool, endpoint, arguments in (("imagine", "imagine", {"prompt": "a new fox"}),
                                          ("upscale", "action", {"job_id": older["job_id"], "image_no": 2})):
            relay.app.engine.faults.add(Fault("json", status=200, method="POST",
                                              path_prefix=f"/mj-fast/mj/submit/{endpoint}",
                                              payload=json.dumps({"code": 21, "description": "任务已存在",
                                                                  "result": older["job_id"]})))
            answer = await relay.call(tool, arguments)
            assert answer.is_error and not (answer.structured_content or {}).get("job_id"), text_of(answer)
            assert f"naming task {older['job_id']}" in text_of(answer) and "uncertain" in text_of(answer)
        listed = await relay.ok("list_jobs", {})
        assert [j["job_id"] for j in listed["jobs"]] == [older["job_id"]]  # the older job, once; not re-labelled
        assert {u["task_type"] for u in listed["uncertain"]} == {"diffusion", "upscale"}
        assert sorted(u["estimated_points"] for u in listed["uncertain"]) == [30, 50]  # counted, as possibly paid


# --- 10, 12, 13: the HTTP transport --------------------------------------------------------------------------

HELLO = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@contextmanager
def http_server(tmp_path: Path, *args: str, **env: str) -> Iterator[None]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
    process = subprocess.Popen([sys.executable, "-m", "legnext_mcp.cli", "--sandbox", "--transport", "http", *args],
                               env={**base, "LEGNEXT_DATA_DIR": str(tmp_path / "data"),
                                    "LEGNEXT_OUTPUT_DIR": str(tmp_path / "out"), **env},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        process.terminate()
        process.communicate(timeout=10)


async def _listening(url: str) -> None:
    async with httpx2.AsyncClient(timeout=5) as http:
        with anyio.fail_after(30):
            while True:
                try:
                    await http.get(url)
                    return
                except httpx2.TransportError:
                    await anyio.sleep(0.05)


async def test_one_client_s_abandoned_sessions_leave_room_for_every_other_client(tmp_path: Path) -> None:
    port, token = _free_port(), "t0ken-for-the-per-client-test-1234"
    url = f"http://127.0.0.1:{port}/mcp"
    signed = {**HEADERS, "authorization": f"Bearer {token}"}
    with http_server(tmp_path, "--port", str(port), LEGNEXT_HTTP_TOKEN=token, LEGNEXT_HTTP_MAX_SESSIONS="20",
                     LEGNEXT_HTTP_MAX_SESSIONS_PER_CLIENT="5"):
        await _listening(url)
        other = httpx2.AsyncHTTPTransport(local_address="127.0.0.2")
        async with httpx2.AsyncClient(timeout=10) as greedy, httpx2.AsyncClient(timeout=10, transport=other) as fair:
            opened = [await greedy.post(url, json=HELLO, headers=signed) for _ in range(5)]
            refused = await greedy.post(url, json=HELLO, headers=signed)
            welcome = await fair.post(url, json=HELLO, headers=signed)
            await greedy.delete(url, headers={**signed, "mcp-session-id": opened[0].headers["mcp-session-id"]})
            again = await greedy.post(url, json=HELLO, headers=signed)
    assert [r.status_code for r in opened] == [200] * 5
    assert refused.status_code == 503 and "LEGNEXT_HTTP_MAX_SESSIONS_PER_CLIENT" in refused.text
    assert welcome.status_code == 200 and welcome.headers.get("mcp-session-id")
    assert again.status_code == 200  # closing one made room for it


async def test_bearer_in_any_case_and_a_wide_bind_answer_to_this_machine_s_names(tmp_path: Path) -> None:
    port, token = _free_port("0.0.0.0"), "t0ken-for-the-wide-bind-test-1234"  # noqa: S104
    url = f"http://127.0.0.1:{port}/mcp"
    with http_server(tmp_path, "--host", "0.0.0.0", "--port", str(port), LEGNEXT_HTTP_TOKEN=token):  # noqa: S104
        await _listening(url)
        async with httpx2.AsyncClient(timeout=10) as http:
            lower = await http.post(url, json=HELLO, headers={**HEADERS, "authorization": f"bearer {token}"})
            upper = await http.post(url, json=HELLO, headers={**HEADERS, "authorization": f"BEARER {token}"})
            wrong = await http.post(url, json=HELLO, headers={**HEADERS, "authorization": f"Basic {token}"})
            signed = {**HEADERS, "authorization": f"Bearer {token}"}
            by_name = await http.post(url, json=HELLO, headers={**signed, "host": f"{socket.gethostname()}:{port}"})
            stranger = await http.post(url, json=HELLO, headers={**signed, "host": f"evil.example:{port}"})
    assert (lower.status_code, upper.status_code, wrong.status_code) == (200, 200, 401)
    assert by_name.status_code == 200, by_name.text
    assert stranger.status_code == 421 and "LEGNEXT_HTTP_ALLOWED_HOSTS" in stranger.text


async def test_any_loopback_bind_answers_to_its_own_address_without_a_token(tmp_path: Path) -> None:
    port = _free_port("127.0.0.2")
    with http_server(tmp_path, "--host", "127.0.0.2", "--port", str(port)):
        await _listening(f"http://127.0.0.2:{port}/mcp")
        async with httpx2.AsyncClient(timeout=10) as http:
            named = await http.post(f"http://127.0.0.2:{port}/mcp", json=HELLO, headers=HEADERS)
            local = await http.post(f"http://127.0.0.2:{port}/mcp", json=HELLO,
                                    headers={**HEADERS, "host": f"127.0.0.1:{port}"})
            stranger = await http.post(f"http://127.0.0.2:{port}/mcp", json=HELLO,
                                       headers={**HEADERS, "host": f"evil.example:{port}"})
    assert named.status_code == 200 and local.status_code == 200
    assert stranger.status_code == 421 and "LEGNEXT_HTTP_ALLOWED_HOSTS" in stranger.text


# --- 11: a folder that cannot be written ---------------------------------------------------------------------


async def test_a_planted_link_or_an_unwritable_output_folder_is_one_line_naming_the_folder_and_the_fix(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    async with server_harness(tmp_path) as h:
        job = (await h.call("generate_and_wait", {"prompt": "a fox"})).structured_content
        planted = h.settings.output_dir / "trap"
        planted.mkdir(parents=True)
        outside = tmp_path / "outside.png"
        (planted / f"{job['job_id']}_0.png").symlink_to(outside)
        linked = await h.call("save_images", {"job_id": job["job_id"], "folder": "trap"})
    async with server_harness(tmp_path / "2", output_dir=blocker / "pictures") as h:
        job = (await h.call("generate_and_wait", {"prompt": "a fox"})).structured_content
        under_a_file = await h.call("save_images", {"job_id": job["job_id"]})
    for refused, folder in ((linked, planted), (under_a_file, blocker / "pictures")):
        text = text_of(refused)
        assert refused.is_error and not crashed(refused), text
        assert f"Could not save into {folder}" in text and "LEGNEXT_OUTPUT_DIR" in text and "\n" not in text.strip()
    assert not outside.exists() and blocker.read_text() == "not a folder"
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records if r.exc_info]


def test_the_skill_s_save_into_a_folder_under_a_file_is_one_line_with_the_job_id(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    key = "sk-skill-save-test-0123456789"
    with LoopbackSandbox(SandboxApp(Engine(keys={key: 100_000}, time_scale=FAST))) as api:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
        env.update(LEGNEXT_BASE_URL=api.base_url, LEGNEXT_TIME_SCALE=str(FAST), LEGNEXT_API_KEY=key,
                   LEGNEXT_DATA_DIR=str(tmp_path / "data"))
        out = subprocess.run([sys.executable, str(SKILL_SCRIPTS / "generate_and_wait.py"), "a fox", "--save",
                              str(blocker / "pictures")], env=env, text=True, capture_output=True, timeout=120)
    assert out.returncode != 0 and "Traceback" not in out.stderr + out.stdout, out.stderr
    errors = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"Could not save into {blocker / 'pictures'}" in errors[0]
    assert re.search(r"submitted job [0-9a-f-]{36}", out.stdout), out.stdout  # the paid job is named


def test_the_demo_with_an_output_folder_under_a_file_fails_in_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
    out = subprocess.run([sys.executable, "-m", "legnext_mcp.cli", "demo", "--time-scale", "2000", "--output-dir",
                          str(blocker / "demo")], env=env, text=True, capture_output=True, timeout=120)
    assert out.returncode == 1 and "Traceback" not in out.stdout + out.stderr, out.stdout + out.stderr
    assert "demo failed: save_images failed" in out.stdout
    assert f"Could not save into {blocker / 'demo'}" in out.stdout and "LEGNEXT_OUTPUT_DIR" in out.stdout


def test_ctrl_c_in_the_demo_prints_one_line_not_a_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
    process = subprocess.Popen([sys.executable, "-m", "legnext_mcp.cli", "demo", "--time-scale", "1",
                                "--output-dir", str(tmp_path / "demo")], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    for line in process.stdout:  # interrupted once the session is up and a call is running
        if line.startswith("> describe"):
            break
    process.send_signal(signal.SIGINT)
    rest, err = process.communicate(timeout=60)
    assert "Traceback" not in rest + err, rest + err
    assert process.returncode == 130 and "demo interrupted" in rest


# --- 14: small messages that misled -------------------------------------------------------------------------


async def test_a_job_id_refusal_names_the_service_once(tmp_path: Path) -> None:
    async with loopback_harness(tmp_path) as h:
        h.sandbox.engine.faults.add(Fault("json", status=200, method="POST", path_prefix="/api/v1/diffusion",
                                          payload=json.dumps({"job_id": "../x", "status": "pending"})))
        result = await h.call("imagine", {"prompt": "a fox"})
    assert result.is_error and "The Legnext API answered with a malformed job id" in text_of(result)
    assert not re.search(r"(?i)\bthe the\b", text_of(result))


async def test_a_prompt_without_its_required_argument_is_an_invalid_request_not_a_logged_traceback(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with server_harness(tmp_path) as h:
        with pytest.raises(MCPError) as refused:
            await h.client.get_prompt("craft_prompt", {})
    assert refused.value.code == INVALID_PARAMS and "subject" in refused.value.message
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.parametrize(("args", "words"), [
    (["--port", "99999"], "choose one from 1 to 65535 with --port"),
    (["--host", "no-such-host.invalid", "--port", "0"], "choose another with --host"),
    (["--host", "192.0.2.77", "--port", "0"], "choose another with --host"),  # an address of another machine
])
def test_a_bad_port_or_host_is_one_line_naming_the_option_to_change(tmp_path: Path, args: list[str],
                                                                     words: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
    out = subprocess.run([sys.executable, "-m", "legnext_mcp.cli", "--sandbox", "--transport", "http", *args],
                         env={**env, "LEGNEXT_HTTP_TOKEN": "a-token-for-the-bind-test-123456",
                              "LEGNEXT_DATA_DIR": str(tmp_path / "data")},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert words in out.stderr and "Traceback" not in out.stderr


# --- 19: every suggestion names tools and arguments the running server has ----------------------------------

ALL_TOOLS = {"generate_and_wait", "imagine", "upscale", "variation", "reroll", "describe", "shorten", "blend", "pan",
             "outpaint", "inpaint", "remix", "edit", "upload_paint", "retexture", "remove_background", "enhance",
             "enhance_upscale", "video_diffusion", "extend_video", "video_upscale", "wait_for_job", "get_job",
             "save_images", "list_jobs", "get_balance", "estimate_cost"}


def _named_tools(text: str) -> set[str]:
    return {word for word in re.findall(r"[a-z_]+", text) if word in ALL_TOOLS}


@pytest.mark.eras
async def test_with_the_core_toolset_every_suggestion_names_a_listed_tool(tmp_path: Path, mode: str) -> None:
    async with server_harness(tmp_path, mode, toolsets=frozenset({"core"})) as h:
        listed = {tool.name for tool in (await h.client.list_tools()).tools}
        assert "pan" not in listed and "imagine" not in listed  # the case: fewer tools than the flow knows
        said = [h.client.instructions or ""]
        grid = await h.call("generate_and_wait", {"prompt": "a fox"})
        upscaled = await h.finished("upscale", {"job_id": grid.structured_content["job_id"], "image_no": 0})
        described = await h.call("describe", {"image_url": "https://example.com/fox.png"})
        for result in (grid, described):
            said += [text_of(result), *result.structured_content.get("next_steps", [])]
        said += upscaled.get("next_steps", [])
        unlisted = {name for text in said for name in _named_tools(text)} - listed
        assert unlisted == set(), (unlisted, said)


async def test_a_wait_argument_to_a_tool_that_waits_is_answered_truthfully(tmp_path: Path) -> None:
    async with server_harness(tmp_path) as h:
        waits = await h.call("generate_and_wait", {"prompt": "a fox", "wait": True})
        returns = await h.call("imagine", {"prompt": "a fox", "wait": True})
    assert waits.is_error and "waits for its result itself" in text_of(waits)
    assert "returns the job_id at once" not in text_of(waits)
    assert returns.is_error and "imagine submits and returns the job_id at once" in text_of(returns)


async def test_the_relay_s_creative_upscale_note_names_the_real_argument(tmp_path: Path) -> None:
    async with relay_harness(tmp_path) as relay:
        grid = await relay.ok("generate_and_wait", {"prompt": "a fox"})
        job = await relay.ok("upscale", {"job_id": grid["job_id"], "image_no": 0, "type": "creative"})
    notes = " ".join(job.get("notes", []))
    assert "type='creative'" in notes and "mode=" not in notes


# --- 18: a capability one page of the docs states is not refused locally --------------------------------------


async def test_fast_and_turbo_in_a_video_prompt_reach_the_api_and_turbo_is_priced_higher(tmp_path: Path) -> None:
    async with server_harness(tmp_path) as h:
        grid = (await h.call("generate_and_wait", {"prompt": "waves"})).structured_content["job_id"]
        plain = await h.call("estimate_cost", {"tool": "video_diffusion", "arguments": {
            "job_id": grid, "image_no": 0, "prompt": "slow waves"}})
        turbo = await h.call("estimate_cost", {"tool": "video_diffusion", "arguments": {
            "job_id": grid, "image_no": 0, "prompt": "slow waves --turbo"}})
        assert turbo.structured_content["points"] == 2 * plain.structured_content["points"]
        for speed in ("--fast", "--turbo"):
            job = await h.finished("video_diffusion", {"job_id": grid, "image_no": 0, "prompt": f"waves {speed}"})
            assert job["status"] == "completed" and len(job["video_urls"]) == 4
        posts = h.sandbox.stats.count("POST", "/api/v1/video-diffusion")
        both = await h.call("video_diffusion", {"job_id": grid, "image_no": 0, "prompt": "waves --fast --turbo"})
        assert both.is_error and "--fast and --turbo" in text_of(both)
        assert h.sandbox.stats.count("POST", "/api/v1/video-diffusion") == posts == 2
        guide = (await h.client.read_resource("legnext://guide/parameters")).contents[0]
        assert "`--turbo`" in guide.text.split("Video prompts", 1)[1].split("\n")[0]  # type: ignore[union-attr]


# --- 16: list_jobs shows what a job is now, or says when its status was recorded -----------------------------


async def test_list_jobs_reads_unfinished_jobs_again_and_dates_what_it_could_not(tmp_path: Path) -> None:
    async with server_harness(tmp_path) as h:
        done_since = (await h.call("imagine", {"prompt": "a fox"})).structured_content["job_id"]
        running = (await h.call("imagine", {"prompt": f"a cat {LEGNEXT_HANG_WORD}"})).structured_content["job_id"]
        h.sandbox.engine.clock.advance(3600)  # an hour later the fox finished; nothing here looked at it
        listed = await h.call("list_jobs", {})
        status = {j["job_id"]: j for j in listed.structured_content["jobs"]}
        assert status[done_since]["status"] == "completed" and "status_as_of" not in status[done_since]
        pending = await h.call("list_jobs", {"status": "pending"})
        assert done_since not in {j["job_id"] for j in pending.structured_content["jobs"]}
        h.sandbox.engine.faults.add(Fault("status", status=503, count=50, method="GET"))
        unread = (await h.call("list_jobs", {})).structured_content["jobs"]
        stale = next(j for j in unread if j["job_id"] == running)
        assert stale["status"] != "completed" and stale.get("status_as_of"), stale
        gets = h.sandbox.stats.count("GET", "/api/v1/job/")
    assert gets <= 2 + 10  # bounded: at most LIST_REFRESH_READS reads per listing


# --- 17: resource subscriptions are sent, not only acknowledged ----------------------------------------------


async def test_a_listener_on_a_job_hears_of_its_changes_while_the_server_waits_on_it(tmp_path: Path) -> None:
    async with server_harness(tmp_path, speed=200) as h:  # a 40 s job: 0.2 s here, several looks
        job_id = (await h.call("imagine", {"prompt": "a fox"})).structured_content["job_id"]
        uri = f"legnext://jobs/{job_id}"
        heard: list[str] = []
        with anyio.fail_after(30):
            async with h.client.listen(resource_subscriptions=[uri]) as subscription:
                assert uri in (subscription.honored.resource_subscriptions or [])
                waited = await h.call("wait_for_job", {"job_ids": [job_id]})
                assert waited.structured_content["jobs"][0]["status"] == "completed"
                async for event in subscription:  # the change to completed was published as it was recorded
                    assert isinstance(event, ResourceUpdated)
                    heard.append(event.uri)
                    break
            read = await h.client.read_resource(uri)
        assert heard == [uri]
        assert "completed" in read.contents[0].text  # type: ignore[union-attr]


# --- 15: sandbox servers on one data folder share one simulated account --------------------------------------


def _sandbox_server(home: Path) -> StdioServerParameters:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
    env.update(LEGNEXT_DATA_DIR=str(home / "data"), LEGNEXT_OUTPUT_DIR=str(home / "out"))
    return StdioServerParameters(command=sys.executable, args=["-m", "legnext_mcp.cli", "--sandbox", "--time-scale",
                                                               "2000"], env=env)


async def test_sandbox_servers_on_one_data_folder_share_one_account_at_once_and_after_restarts(tmp_path: Path) -> None:
    with anyio.fail_after(120):
        # the second started uses the first's simulator; both exit, then a third starts alone
        async with Client(_sandbox_server(tmp_path)) as desktop, Client(_sandbox_server(tmp_path)) as code:
            made = (await desktop.call_tool("generate_and_wait", {"prompt": "a fox"})).structured_content
            seen = await code.call_tool("get_job", {"job_id": made["job_id"]})
            assert not seen.is_error, text_of(seen)
            assert seen.structured_content["status"] == "completed"
            balance = (await code.call_tool("get_balance", {})).structured_content["available"]
            assert balance == (await desktop.call_tool("get_balance", {})).structured_content["available"]
        async with Client(_sandbox_server(tmp_path)) as later:
            again = await later.call_tool("get_job", {"job_id": made["job_id"]})
            assert not again.is_error and again.structured_content["status"] == "completed"


async def test_when_the_server_running_the_simulator_exits_the_other_takes_over_with_every_job(tmp_path: Path) -> None:
    with anyio.fail_after(120):
        async with Client(_sandbox_server(tmp_path)) as code:
            async with Client(_sandbox_server(tmp_path)) as first:
                made = (await first.call_tool("generate_and_wait", {"prompt": "a fox"})).structured_content
            # `first` ran... or used `code`'s simulator; whichever stopped, `code` still reads and makes jobs
            seen = await code.call_tool("get_job", {"job_id": made["job_id"]})
            assert not seen.is_error and seen.structured_content["status"] == "completed", text_of(seen)
            more = await code.call_tool("generate_and_wait", {"prompt": "a cat"})
            assert not more.is_error, text_of(more)
        async with Client(_sandbox_server(tmp_path)) as desktop, Client(_sandbox_server(tmp_path)) as inspector:
            listed = (await desktop.call_tool("list_jobs", {})).structured_content["jobs"]
            assert {j["status"] for j in listed} == {"completed"} and len(listed) == 2
            for job in listed:  # every listed job can be read by any server on the folder
                read = await inspector.call_tool("get_job", {"job_id": job["job_id"]})
                assert not read.is_error, text_of(read)
