"""Issue 13: the simulator agrees with the clients Legnext and its users run, remembers its jobs across
restarts, delivers callbacks, and applies each rule the client applies."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from legnext_mcp.sandbox import DEFAULT_KEY, Engine, SandboxApp
from legnext_mcp.sandbox.serve import LoopbackSandbox

pytestmark = pytest.mark.anyio
KEY = {"x-api-key": DEFAULT_KEY}
IMG = "https://example.com/cat.png"


def http(app: SandboxApp) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app), base_url="http://sim.test")


async def _job(api: httpx2.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(f"/api/v1/{path}", json=body, headers=KEY)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def _done(app: SandboxApp, api: httpx2.AsyncClient, job_id: str) -> dict[str, Any]:
    app.engine.clock.advance(200)
    result: dict[str, Any] = (await api.get(f"/api/v1/job/{job_id}", headers=KEY)).json()
    return result


async def test_every_submit_answer_stamps_created_at_with_real_time() -> None:
    app = SandboxApp(Engine(time_scale=0.0))
    async with http(app) as api:
        parent = await _job(api, "diffusion", {"text": "a fox"})
        await _done(app, api, parent["job_id"])
        child = await _job(api, "upscale", {"jobId": parent["job_id"], "imageNo": 0, "type": 0})
    for answer in (parent, child):
        assert answer["meta"]["created_at"].startswith("20")  # a real timestamp, not "" or the Go zero time
        assert answer["meta"]["started_at"] == answer["meta"]["ended_at"] == "0001-01-01T00:00:00Z"


async def test_blank_optional_fields_mean_absent_as_n8n_sends_them() -> None:
    app = SandboxApp(Engine(time_scale=0.0))
    async with http(app) as api:
        parent = await _job(api, "diffusion", {"text": "a fox", "callback": ""})
        await _done(app, api, parent["job_id"])
        for path, body in [("variation", {"jobId": parent["job_id"], "imageNo": 0, "type": 0, "remixPrompt": ""}),
                           ("pan", {"jobId": parent["job_id"], "imageNo": 0, "direction": 0, "scale": 1.5,
                                    "remixPrompt": "", "callback": ""}),
                           ("extend-video", None)]:
            if body is None:
                continue
            assert (await _job(api, path, body))["status"] == "pending"


async def test_the_account_routes_answer_plan_wallet_and_running_jobs() -> None:
    app = SandboxApp(Engine(time_scale=0.0))
    async with http(app) as api:
        job = await _job(api, "diffusion", {"text": "a fox"})
        info = (await api.get("/api/account/info", headers=KEY)).json()["data"]
        active = (await api.get("/api/account/active_tasks", headers=KEY)).json()["data"]
        unknown = await api.get("/api/account/nothing", headers=KEY)
    assert info["plan"] == "developer" and info["max_concurrent_task_count"] == 6
    assert info["wallet"]["point_frozen"] == 80
    assert [t["job_id"] for t in active] == [job["job_id"]]
    assert unknown.status_code == 404 and set(unknown.json()) >= {"code", "message"}  # JSON, as every error


@pytest.mark.parametrize(("prompt", "cost"), [("a fox --oref https://e.com/a.png", 160),
                                              ("a fox --v 8 --hd --oref https://e.com/a.png", 640)])
async def test_oref_costs_twice_the_gpu_time(prompt: str, cost: int) -> None:
    async with http(SandboxApp(Engine(time_scale=0.0))) as api:
        assert (await _job(api, "diffusion", {"text": prompt}))["meta"]["usage"]["frozen"] == cost


async def test_a_reroll_costs_what_its_parent_cost_and_blend_results_offer_no_v8_actions() -> None:
    app = SandboxApp(Engine(time_scale=0.0))
    async with http(app) as api:
        hd = await _job(api, "diffusion", {"text": "a fox --v 8 --hd"})
        await _done(app, api, hd["job_id"])
        reroll = await _job(api, "reroll", {"jobId": hd["job_id"]})
        blend = await _job(api, "blend", {"imgUrls": [IMG, IMG], "aspect_ratio": "1:1"})
        blended = await _done(app, api, blend["job_id"])
    assert reroll["meta"]["usage"]["frozen"] == 320
    assert set(blended["output"]["available_actions"]) == {"edit", "remix", "reroll", "variation"}


async def test_a_refund_goes_back_to_the_bucket_it_came_from() -> None:
    app = SandboxApp(Engine(keys={DEFAULT_KEY: 1_050}, time_scale=0.0))  # 1000 credits + 50 bonus points
    async with http(app) as api:
        job = await _job(api, "diffusion", {"text": "a fox sandbox-fail"})
        await _done(app, api, job["job_id"])
        balance = (await api.get("/api/account/balance", headers=KEY)).json()["data"]
    assert (balance["available_credits"], balance["available_points"]) == (1000, 50)


@pytest.mark.parametrize(("path", "body", "words"), [
    ("diffusion", {"text": "a fox --sv 9"}, "--sv 9"),
    ("diffusion", {"text": "a fox --oref https://e.com/a.png --q 4"}, "--oref"),
    ("diffusion", {"text": "a fox --sharpness 3"}, "--sharpness"),
    ("enhance-upscale", {"image_url": IMG, "jobId": "x", "imageNo": 0}, "not both"),
    ("upload-paint", {"imgUrl": IMG, "canvas": {"width": 100, "height": 100},
                      "imgPos": {"width": 50, "height": 50, "x": 0, "y": 0}, "remixPrompt": "x",
                      "mask": {"areas": [{"width": 500, "height": 500, "points": [0, 0, 10, 0, 10, 10]}],
                               "url": IMG}}, "not both"),
])
async def test_what_the_docs_refuse_is_refused_here_too(path: str, body: dict[str, Any], words: str) -> None:
    async with http(SandboxApp(Engine(time_scale=0.0))) as api:
        response = await api.post(f"/api/v1/{path}", json=body, headers=KEY)
    assert response.status_code == 400 and words in response.text


async def test_shorten_takes_any_text_and_a_remix_prompt_follows_the_parents_model() -> None:
    app = SandboxApp(Engine(time_scale=0.0))
    async with http(app) as api:
        assert (await _job(api, "shorten", {"prompt": "a fox --v 5 --repeat 3"}))["status"] == "pending"
        v8 = await _job(api, "diffusion", {"text": "a fox --v 8.1"})
        await _done(app, api, v8["job_id"])
        refused = await api.post("/api/v1/variation", json={"jobId": v8["job_id"], "imageNo": 0, "type": 0,
                                                            "remixPrompt": "more foxes --q 2"}, headers=KEY)
    assert refused.status_code == 400 and "--q" in refused.text


@pytest.fixture
def receiver() -> Iterator[tuple[LoopbackSandbox[Any], list[dict[str, Any]]]]:
    got: list[dict[str, Any]] = []

    async def hook(request: Request) -> JSONResponse:
        got.append(json.loads(await request.body()))
        return JSONResponse({"success": True})

    class Receiver:  # a RecordingApp-like wrapper is not needed: LoopbackSandbox serves any ASGI app
        def __init__(self) -> None:
            self.app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await self.app(scope, receive, send)

    with LoopbackSandbox(Receiver(), base_path="/hook") as server:
        yield server, got


async def test_a_finished_job_is_posted_to_its_callback(
        receiver: tuple[LoopbackSandbox[Any], list[dict[str, Any]]]) -> None:
    server, got = receiver
    app = SandboxApp(Engine(time_scale=2000.0))
    async with http(app) as api:
        job = await _job(api, "diffusion", {"text": "a fox", "callback": server.base_url})
        with anyio.fail_after(10):
            # The receiver has it before the sender records the answer: wait for both.
            while not got or not app.engine.callbacks.sent:  # noqa: ASYNC110 - the timer thread delivers it
                await anyio.sleep(0.02)
    assert got[0]["data"]["job_id"] == job["job_id"] and got[0]["data"]["status"] == "completed"
    assert isinstance(got[0]["timestamp"], int)
    assert app.engine.callbacks.sent == [(server.base_url, 200)]


async def test_a_restarted_sandbox_remembers_its_jobs_balance_and_files(tmp_path: Path) -> None:
    first = SandboxApp(Engine(time_scale=0.0, state_dir=tmp_path))
    async with http(first) as api:
        job = await _job(api, "diffusion", {"text": "a fox"})
        done = await _done(first, api, job["job_id"])
    second = SandboxApp(Engine(time_scale=0.0, state_dir=tmp_path))
    async with http(second) as api:
        again = (await api.get(f"/api/v1/job/{job['job_id']}", headers=KEY)).json()
        balance = (await api.get("/api/account/balance", headers=KEY)).json()["data"]
        image = await api.get(done["output"]["image_urls"][0])
        upscale = await _job(api, "upscale", {"jobId": job["job_id"], "imageNo": 1, "type": 0})
    assert again["status"] == "completed" and again["output"]["seed"] == done["output"]["seed"]
    assert balance["available_credits"] + balance["available_points"] == 100_000 - 80 - 0
    assert image.status_code == 200 and image.content[:4] == b"\x89PNG"  # the old signed URL still opens
    assert upscale["status"] == "pending"
    assert SandboxApp(Engine(time_scale=0.0, state_dir=tmp_path / "other")).engine.jobs == {}  # a new account


async def test_two_sandbox_servers_in_turn_on_one_data_folder(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
    env.update(LEGNEXT_DATA_DIR=str(tmp_path / "data"), LEGNEXT_OUTPUT_DIR=str(tmp_path / "out"))
    params = StdioServerParameters(command=sys.executable, env=env,
                                   args=["-m", "legnext_mcp.cli", "--sandbox", "--time-scale", "400"])
    with anyio.fail_after(60):
        async with Client(params) as client:
            made = (await client.call_tool("generate_and_wait", {"prompt": "a fox"})).structured_content
        async with Client(params) as client:  # a host that restarts the server (or the Inspector CLI)
            submitted = await client.call_tool("upscale", {"job_id": made["job_id"], "image_no": 2})
            up = await client.call_tool("wait_for_job", {"job_ids": [submitted.structured_content["job_id"]]})
            saved = await client.call_tool("save_images", {"job_id": made["job_id"]})
    assert made["status"] == "completed"
    assert not up.is_error and up.structured_content["jobs"][0]["status"] == "completed", up.content
    assert not saved.is_error and len(saved.structured_content["saved_files"]) == 5


async def test_the_n8n_nodes_twelve_job_operations_at_their_defaults_are_accepted() -> None:
    # The bodies legnext-ai/n8n-nodes-legnext sends (resources/image/*.ts, resources/video/*.ts): every field it
    # declares, optional ones left at their default "" (callback, remixPrompt, prompt).
    app = SandboxApp(Engine(time_scale=0.0))
    async with http(app) as api:
        grid = await _job(api, "diffusion", {"text": "a fox", "callback": ""})
        await _done(app, api, grid["job_id"])
        clip = await _job(api, "video-diffusion", {"jobId": grid["job_id"], "imageNo": 0, "prompt": "", "videoType": 0,
                                                   "callback": ""})
        await _done(app, api, clip["job_id"])
        jid, vid = grid["job_id"], clip["job_id"]
        operations = {
            "blend": {"imgUrls": [IMG, IMG], "aspect_ratio": "1:1", "callback": ""},
            "describe": {"imgUrl": IMG, "callback": ""},
            "diffusion": {"text": "a lighthouse", "callback": ""},
            "outpaint": {"jobId": jid, "imageNo": 0, "scale": 1.5, "remixPrompt": "", "callback": ""},
            "pan": {"jobId": jid, "imageNo": 0, "direction": 1, "scale": 1.5, "remixPrompt": "", "callback": ""},
            "reroll": {"jobId": jid, "callback": ""},
            "shorten": {"prompt": "a long prompt about a lighthouse at dusk", "callback": ""},
            "upscale": {"jobId": jid, "imageNo": 0, "type": 0, "callback": ""},
            "variation": {"jobId": jid, "imageNo": 0, "type": 0, "remixPrompt": "", "callback": ""},
            "video-diffusion": {"prompt": f"{IMG} waves", "videoType": 0, "callback": ""},
            "extend-video": {"jobId": vid, "videoNo": 0, "prompt": "", "callback": ""},
            "video-upscale": {"jobId": vid, "videoNo": 0, "callback": ""},
        }
        statuses = {name: (await api.post(f"/api/v1/{name}", json=body, headers=KEY)).status_code
                    for name, body in operations.items()}
    assert statuses == dict.fromkeys(operations, 200)
