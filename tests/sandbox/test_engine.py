"""The simulator follows the docs: lifecycle, queueing, money, rules, files. Driven over HTTP (ASGI)."""

from __future__ import annotations

import io
import struct
from typing import Any

import httpx2
import pytest

from legnext_mcp.sandbox import DEFAULT_KEY, Engine, SandboxApp
from legnext_mcp.sandbox.legnext.flags import check_prompt

pytestmark = pytest.mark.anyio
KEY = {"x-api-key": DEFAULT_KEY}


def frozen_sim(**kwargs: Any) -> SandboxApp:
    """Time stands still unless a test advances it: every status is deterministic."""
    return SandboxApp(Engine(time_scale=0.0, **kwargs))


def http(app: SandboxApp) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app), base_url="http://sim.test")


async def _submit(api: httpx2.AsyncClient, path: str, body: dict[str, Any]) -> httpx2.Response:
    return await api.post(f"/api/v1/{path}", json=body, headers=KEY)


async def _status(api: httpx2.AsyncClient, job_id: str) -> str:
    response = await api.get(f"/api/v1/job/{job_id}", headers=KEY)
    status: str = response.json()["status"]
    return status


async def test_submit_answers_the_documented_pending_shape() -> None:
    async with http(frozen_sim()) as api:
        response = await _submit(api, "diffusion", {"text": "a fox", "callback": "https://hook.example/x"})
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"job_id", "model", "task_type", "status", "config", "input", "output", "meta", "detail",
                         "logs", "error"}
    assert body["status"] == "pending" and body["input"] is None and body["logs"] == []
    assert body["output"] == {"image_url": "", "image_urls": None, "seed": ""}
    assert body["meta"]["started_at"] == "0001-01-01T00:00:00Z"
    assert body["meta"]["usage"] == {"type": "point", "frozen": 80, "consume": 0}
    assert body["error"] == {"code": 0, "raw_message": "", "message": "", "detail": None}
    assert body["config"]["webhook_config"]["endpoint"] == "https://hook.example/x"


async def test_lifecycle_goes_pending_staged_processing_completed() -> None:
    app = frozen_sim()
    async with http(app) as api:
        job_id = (await _submit(api, "diffusion", {"text": "a fox"})).json()["job_id"]
        seen = [await _status(api, job_id)]
        for step in (0.5, 5, 100):
            app.engine.clock.advance(step)
            seen.append(await _status(api, job_id))
    assert seen == ["staged", "staged", "processing", "completed"]


async def test_at_most_six_jobs_process_per_key_and_the_rest_queue() -> None:
    app = frozen_sim()
    async with http(app) as api:
        ids = [(await _submit(api, "diffusion", {"text": f"fox {n}"})).json()["job_id"] for n in range(8)]
        app.engine.clock.advance(2)
        statuses = [await _status(api, i) for i in ids]
        assert statuses.count("processing") == 6 and statuses[6:] == ["pending", "pending"]
        app.engine.clock.advance(40)  # the first six finish; the two queued take their slots
        statuses = [await _status(api, i) for i in ids]
    assert statuses[:6] == ["completed"] * 6 and statuses[6:] == ["processing", "processing"]


async def test_queue_cap_answers_429_when_configured() -> None:
    async with http(frozen_sim(max_queued=1)) as api:
        codes = [(await _submit(api, "diffusion", {"text": f"fox {n}"})).status_code for n in range(8)]
    assert codes == [200] * 7 + [429]


async def test_points_are_frozen_at_submit_consumed_at_completion_and_refunded_on_failure() -> None:
    app = frozen_sim(keys={DEFAULT_KEY: 1000})
    async with http(app) as api:
        await _submit(api, "diffusion", {"text": "a fox"})
        await _submit(api, "diffusion", {"text": "a fox sandbox-fail"})
        balance = (await api.get("/api/account/balance", headers=KEY)).json()["data"]
        assert balance["available_credits"] + balance["available_points"] == 1000 - 160
        app.engine.clock.advance(100)
        balance = (await api.get("/api/account/balance", headers=KEY)).json()["data"]
    assert balance["available_credits"] + balance["available_points"] == 1000 - 80


async def test_insufficient_balance_is_a_flat_402() -> None:
    async with http(frozen_sim(keys={DEFAULT_KEY: 79})) as api:
        response = await _submit(api, "diffusion", {"text": "a fox"})
    assert response.status_code == 402
    assert set(response.json()) == {"code", "message", "raw_message", "detail"}


@pytest.mark.parametrize(("prompt", "cost"), [("a fox", 80), ("a fox --turbo", 160), ("a fox --v 8 --hd", 320),
                                              ("a fox --v 8.1", 80), ("a fox --v 8 --q 4", 320)])
async def test_diffusion_prices_follow_the_docs(prompt: str, cost: int) -> None:
    async with http(frozen_sim()) as api:
        body = (await _submit(api, "diffusion", {"text": prompt})).json()
    assert body["meta"]["usage"]["frozen"] == cost


@pytest.mark.parametrize(("resolution", "cost"), [("HD", 120), ("2K", 120), ("4K", 160), ("6K", 200), ("8K", 300),
                                                  ("12K", 540)])
async def test_topaz_prices_follow_the_resolution_table(resolution: str, cost: int) -> None:
    async with http(frozen_sim()) as api:
        body = (await _submit(api, "enhance-upscale", {"image_url": "https://e.com/a.png",
                                                       "target_resolution": resolution})).json()
    assert body["meta"]["usage"]["frozen"] == cost


async def test_wrong_or_missing_key_is_the_documented_flat_401() -> None:
    async with http(frozen_sim()) as api:
        wrong = await api.get("/api/account/balance", headers={"x-api-key": "nope"})
        missing = await api.post("/api/v1/diffusion", json={"text": "a fox"})
    for response in (wrong, missing):
        assert response.status_code == 401
        assert response.json() == {"code": 401, "message": "Failed to verify api key", "raw_message": "",
                                    "detail": None}


async def test_outputs_are_real_drawn_pngs_and_a_valid_mp4_with_30_day_signed_links() -> None:
    from PIL import Image

    app = frozen_sim()
    async with http(app) as api:
        job_id = (await _submit(api, "diffusion", {"text": "a fox --ar 16:9"})).json()["job_id"]
        app.engine.clock.advance(100)
        output = (await api.get(f"/api/v1/job/{job_id}", headers=KEY)).json()["output"]
        grid = await api.get(output["image_url"])
        first = await api.get(output["image_urls"][0])
        second = await api.get(output["image_urls"][1])
        video_job = (await _submit(api, "video-diffusion", {"jobId": job_id, "imageNo": 0})).json()["job_id"]
        app.engine.clock.advance(200)
        video = (await api.get(f"/api/v1/job/{video_job}", headers=KEY)).json()["output"]
        mp4 = await api.get(video["video_urls"][0])
        app.engine.clock.advance(31 * 24 * 3600)
        expired = await api.get(output["image_urls"][0])
    assert "Expires=" in output["image_urls"][0] and "Signature=" in output["image_urls"][0]
    picture = Image.open(io.BytesIO(first.content))
    assert picture.format == "PNG" and picture.width > picture.height  # 16:9
    assert len(picture.getcolors(maxcolors=1 << 16) or []) > 20  # drawn, not blank
    assert first.content != second.content
    assert Image.open(io.BytesIO(grid.content)).size == (picture.width * 2, picture.height * 2)
    assert mp4.headers["content-type"] == "video/mp4" and mp4.content[4:8] == b"ftyp"
    boxes, offset = [], 0
    while offset < len(mp4.content):
        size, kind = struct.unpack(">I4s", mp4.content[offset:offset + 8])
        boxes.append(kind)
        offset += size
    assert boxes == [b"ftyp", b"moov", b"mdat"] and offset == len(mp4.content)
    assert expired.status_code == 403


async def test_describe_and_shorten_produce_prompts() -> None:
    app = frozen_sim()
    async with http(app) as api:
        d = (await _submit(api, "describe", {"imgUrl": "https://e.com/red-fox.jpg"})).json()
        assert d["output"] == {"promptEn": "", "description": "", "finalPrompt": "", "prompts": []}
        s = (await _submit(api, "shorten", {"prompt": "a very very detailed majestic red fox in the snow"})).json()
        app.engine.clock.advance(60)
        described = (await api.get(f"/api/v1/job/{d['job_id']}", headers=KEY)).json()["output"]
        shortened = (await api.get(f"/api/v1/job/{s['job_id']}", headers=KEY)).json()["output"]
    assert len(described["prompts"]) == 4 and "red fox" in described["prompts"][0]
    assert shortened["prompts"] and len(shortened["prompts"][-1]) < len(shortened["prompts"][0])


async def test_follow_up_rules() -> None:
    app = frozen_sim()
    async with http(app) as api:
        parent = (await _submit(api, "diffusion", {"text": "a fox --v 7"})).json()["job_id"]
        not_done = await _submit(api, "upscale", {"jobId": parent, "imageNo": 0, "type": 0})
        app.engine.clock.advance(100)
        enhance = await _submit(api, "enhance", {"jobId": parent, "imageNo": 0})
        video_on_image = await _submit(api, "extend-video", {"jobId": parent, "videoNo": 0})
        legacy = await _submit(api, "upscale", {"jobId": parent, "imageNo": 0, "type": 2})
        unknown = await _submit(api, "variation", {"jobId": "nope", "imageNo": 0, "type": 0})
        bad_index = await _submit(api, "variation", {"jobId": parent, "imageNo": 7, "type": 0})
    assert not_done.status_code == 400 and "not completed" in not_done.json()["message"]
    assert enhance.status_code == 400 and "--draft" in enhance.json()["message"]
    assert video_on_image.status_code == 400 and "video" in video_on_image.json()["message"]
    assert legacy.status_code == 400 and "v5" in legacy.json()["message"]
    assert unknown.status_code == 404
    assert bad_index.status_code == 400


async def test_video_extensions_stop_at_four() -> None:
    app = frozen_sim()
    async with http(app) as api:
        current = (await _submit(api, "video-diffusion", {"prompt": "https://e.com/a.png waves"})).json()["job_id"]
        codes = []
        for _ in range(5):
            app.engine.clock.advance(200)
            response = await _submit(api, "extend-video", {"jobId": current, "videoNo": 0})
            codes.append(response.status_code)
            current = response.json().get("job_id", current)
    assert codes == [200, 200, 200, 200, 400]


async def test_v8_parents_offer_no_pan_inpaint_outpaint_or_upscale() -> None:
    app = frozen_sim()
    async with http(app) as api:
        job_id = (await _submit(api, "diffusion", {"text": "a fox --v 8.1"})).json()["job_id"]
        app.engine.clock.advance(100)
        actions = (await api.get(f"/api/v1/job/{job_id}", headers=KEY)).json()["output"]["available_actions"]
    assert sorted(actions) == ["edit", "remix", "reroll", "variation"]


FLAG_CASES = [
    ("a fox --v 8.1 --q 2", "--q"), ("a fox --v 8.1 --quality 2", "--q"), ("a fox --v 8.1 --cref https://e.com/a.png",
                                                                          "--cref"),
    ("a fox --v 8.1 --oref https://e.com/a.png", "--oref"), ("a fox --v 8.1 --no dogs", "--no"),
    ("a fox --v 8.1 --turbo", "--turbo"), ("a fox --v 6.1 --draft", "--draft"), ("a fox --v 8 --stop 50", "--stop"),
    ("a fox --repeat 3", "--repeat"), ("a fox --personalize", "--personalize"), ("a {red,blue} fox", "{}"),
    ("a fox --stealth", "--stealth"), ("a fox --ar 1.5:1", "--ar"), ("a fox --chaos 101", "--c"),
    ("a fox --v 5", "--v 5"), ("a fox --v 7 --niji 6", "--niji"), ("a fox --s 10 --s 20", "--s"),
    ("a fox --video", "--video"), ("a fox --q 4 --v 6", "--q"),
]


@pytest.mark.parametrize(("prompt", "named"), FLAG_CASES)
def test_flags_the_api_rejects_are_rejected_naming_the_flag(prompt: str, named: str) -> None:
    info, problem = check_prompt(prompt)
    assert info is None and problem is not None and named in problem


@pytest.mark.parametrize("prompt", [
    "a fox", "a fox --v 7 --draft", "a fox --v7 --draft", "a fox --ar 16:9 --s 250 --c 10 --w 100 --seed 42",
    "a fox --v 8 --hd --q 4", "a fox --v 8.1 --hd --sref https://e.com/s.png --sw 200 --exp",
    "a fox --niji 6 --q 0.5", "a fox --v 6.1 --no dogs --stop 50 --tile --raw", "a fox --turbo --iw 2",
])
def test_documented_flag_combinations_are_accepted(prompt: str) -> None:
    info, problem = check_prompt(prompt)
    assert problem is None and info is not None


async def test_rejected_flags_come_back_job_shaped_with_nothing_charged() -> None:
    async with http(frozen_sim(keys={DEFAULT_KEY: 1000})) as api:
        response = await _submit(api, "diffusion", {"text": "a fox --v 8.1 --no dogs"})
        balance = (await api.get("/api/account/balance", headers=KEY)).json()["data"]
    body = response.json()
    assert response.status_code == 400 and body["status"] == "failed"
    assert "--no" in body["error"]["message"] and body["meta"]["usage"]["frozen"] == 0
    assert balance["available_credits"] + balance["available_points"] == 1000


async def test_moderation_word_fails_the_job_with_a_403_error() -> None:
    app = frozen_sim()
    async with http(app) as api:
        job_id = (await _submit(api, "diffusion", {"text": "forbidden-content"})).json()["job_id"]
        app.engine.clock.advance(10)
        body = (await api.get(f"/api/v1/job/{job_id}", headers=KEY)).json()
    assert body["status"] == "failed" and body["error"]["code"] == 403
    assert body["meta"]["usage"]["consume"] == 0


async def test_faults_can_be_set_over_http_for_other_processes() -> None:
    app = frozen_sim()
    async with http(app) as api:
        await api.post("/_sandbox/faults", json={"kind": "status", "status": 503, "count": 2})
        codes = [(await api.get("/api/account/balance", headers=KEY)).status_code for _ in range(3)]
        await api.post("/_sandbox/faults", json={"hang_jobs": True})
        job_id = (await _submit(api, "diffusion", {"text": "a fox"})).json()["job_id"]
        await api.post("/_sandbox/advance", json={"seconds": 3600})
        hung = await _status(api, job_id)
        stats = (await api.get("/_sandbox/stats")).json()
    assert codes == [503, 503, 200]
    assert hung == "processing"
    assert stats["posts"] == 1 and stats["max_identical_submissions"] == 1
