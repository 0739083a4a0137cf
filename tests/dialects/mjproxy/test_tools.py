"""Every tool a midjourney-proxy relay can serve, through MCP (both protocol eras), against the relay
simulator in its new-api flavour behind a mode prefix; and what the protocol makes different: buttons read
from the parent, the modal flow, submit codes, grid-only results, unknown prices."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest
from PIL import Image

from legnext_mcp.sandbox.core.faults import Fault
from legnext_mcp.sandbox.mjproxy.app import MjProxyApp
from legnext_mcp.sandbox.mjproxy.engine import DEFAULT_KEY, MjProxyEngine
from tests.support import FAST, MJ_PROXY_BASE, Relay, made, relay_harness, upscaled

pytestmark = pytest.mark.anyio


@pytest.fixture
async def relay(tmp_path: Path, mode: str) -> AsyncIterator[Relay]:
    async with relay_harness(tmp_path, mode) as r:
        yield r


@pytest.mark.eras
async def test_the_tool_list_is_what_the_protocol_serves(relay: Relay) -> None:
    names = {tool.name for tool in (await relay.client.list_tools()).tools}
    paid = {"imagine", "generate_and_wait", "upscale", "variation", "reroll", "pan", "outpaint", "inpaint",
            "describe", "shorten", "blend", "remix", "retexture"}
    assert paid <= names
    assert not names & {"get_balance", "video_upscale", "edit", "upload_paint", "enhance", "remove_background"}
    result = await relay.call("estimate_cost", {"tool": "edit", "arguments": {"job_id": "x", "image_no": 0}})
    assert result.is_error and "relay" in result.content[0].text.lower()


async def test_generate_and_wait_returns_the_grid_and_its_four_quadrants(relay: Relay, tmp_path: Path) -> None:
    job = await made(relay, "a red kite over dunes --ar 3:2")
    assert job["grid_url"].startswith(f"{MJ_PROXY_BASE}/mj/image/")
    assert job.get("images_cut_from_grid") is True
    text = (await relay.call("get_job", {"job_id": job["job_id"]})).content[0].text
    assert "top-left of the grid" in text and "bottom-right of the grid" in text
    grid_request = next(r for r in relay.app.stats.requests if r.method == "POST")
    assert grid_request.path == "/mj-fast/mj/submit/imagine"  # the prefix from LEGNEXT_BASE_URL, not derived
    assert relay.app.engine.modes == ["/mj-fast"]
    saved = await relay.ok("save_images", {"job_id": job["job_id"]})
    pngs = sorted(f for f in saved["saved_files"] if f.endswith(".png"))
    assert len(pngs) == 4
    grid = Image.open(io.BytesIO(await _grid(relay, job["grid_url"])))
    with Image.open(pngs[3]) as quadrant:
        assert quadrant.size == (grid.width // 2, grid.height // 2)
        assert quadrant.tobytes() == grid.crop((grid.width // 2, grid.height // 2, grid.width, grid.height)).tobytes()


async def _grid(relay: Relay, url: str) -> bytes:
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(relay.app)) as http:
        return (await http.get(url)).content


async def test_follow_ups_press_the_parents_own_buttons(relay: Relay) -> None:
    grid = await made(relay)
    buttons = {b["customId"] for b in relay.app.engine.buttons(relay.app.engine.tasks[grid["job_id"]])}
    up = await relay.done("upscale", {"job_id": grid["job_id"], "image_no": 2})
    var = await relay.done("variation", {"job_id": grid["job_id"], "image_no": 3})
    rer = await relay.done("reroll", {"job_id": grid["job_id"]})
    pressed = [body["customId"] for body in relay.posts("action")]
    assert set(pressed) <= buttons
    assert pressed[0].startswith("MJ::JOB::upsample::3::") and pressed[1].startswith("MJ::JOB::variation::4::")
    assert pressed[2].startswith("MJ::JOB::reroll::0::")
    assert (up["task_type"], var["task_type"], rer["task_type"]) == ("upscale", "variation", "reroll")
    assert up["image_urls"] and not up.get("grid_url")


async def test_button_hashes_differ_per_run_and_are_never_built(tmp_path: Path, mode: str) -> None:
    seen: list[str] = []
    for run in range(2):
        async with relay_harness(tmp_path / str(run), mode) as relay:
            grid = await made(relay)
            await relay.ok("upscale", {"job_id": grid["job_id"], "image_no": 0})
            task = relay.app.engine.tasks[grid["job_id"]]
            seen.append(relay.posts("action")[0]["customId"])
            assert seen[-1] == f"MJ::JOB::upsample::1::{task.hash}"
    assert seen[0] != seen[1]


async def test_single_image_actions(relay: Relay) -> None:
    up = await upscaled(relay)
    jid = up["job_id"]
    strong = await relay.done("variation", {"job_id": jid, "image_no": 0, "type": "strong"})
    creative = await relay.done("upscale", {"job_id": jid, "image_no": 0, "type": "creative"})
    for direction in ("left", "right", "up", "down"):
        panned = await relay.done("pan", {"job_id": jid, "image_no": 0, "direction": direction})
        assert panned["status"] == "completed" and panned["task_type"] == "pan"
    zoomed = await relay.done("outpaint", {"job_id": jid, "image_no": 0, "scale": 2})
    pressed = [body["customId"] for body in relay.posts("action")][1:]
    assert pressed[0].startswith("MJ::JOB::high_variation::1::")
    assert "_creative::" in pressed[1]
    assert [p.split("::")[2] for p in pressed[2:6]] == ["pan_left", "pan_right", "pan_up", "pan_down"]
    assert pressed[6].startswith("MJ::Outpaint::50::")
    assert (strong["task_type"], creative["task_type"], zoomed["task_type"]) == ("variation", "upscale", "outpaint")
    assert relay.posts("modal") == []


async def test_pan_on_a_grid_says_to_upscale_first(relay: Relay) -> None:
    grid = await made(relay)
    result = await relay.call("pan", {"job_id": grid["job_id"], "image_no": 2, "direction": "up"})
    assert result.is_error
    assert f"upscale(job_id='{grid['job_id']}', image_no=2)" in result.content[0].text
    assert relay.posts("action") == []


async def test_inpaint_goes_through_the_modal_with_a_drawn_mask(relay: Relay) -> None:
    up = await upscaled(relay)
    area = {"width": 1000, "height": 1000, "points": [100, 100, 600, 100, 600, 600, 100, 600]}
    job = await relay.done("inpaint", {"job_id": up["job_id"], "image_no": 0, "areas": [area]})
    assert job["status"] == "completed" and job["task_type"] == "inpaint"
    action = relay.posts("action")[-1]
    assert action["customId"].startswith("MJ::Inpaint::")
    modal = relay.posts("modal")
    assert len(modal) == 1 and modal[0]["taskId"] == job["job_id"]
    mask = Image.open(io.BytesIO(base64.b64decode(modal[0]["maskBase64"].split(",", 1)[1])))
    assert mask.size == (1000, 1000)
    assert mask.getpixel((300, 300)) == 255 and mask.getpixel((800, 800)) == 0
    assert relay.app.stats.max_identical_submissions() == 1


async def test_custom_zoom_goes_through_the_modal_with_the_zoom_in_the_prompt(relay: Relay) -> None:
    up = await upscaled(relay)
    job = await relay.done("outpaint", {"job_id": up["job_id"], "image_no": 0, "scale": 1.8})
    assert job["status"] == "completed"
    assert relay.posts("action")[-1]["customId"].startswith("MJ::CustomZoom::")
    assert relay.posts("modal")[0]["prompt"].endswith("--zoom 1.8")


async def test_describe_shorten_and_blend(relay: Relay) -> None:
    described = await relay.ok("describe", {"image_url": "https://example.com/red-fox-in-snow.jpg"})
    assert len(described["prompts"]) == 4
    assert described["prompts"][0].startswith("red fox in snow")  # the keycap numbers are taken off
    shortened = await relay.ok("shorten", {"prompt": "a very detailed majestic lighthouse standing on rocky cliffs "
                                                     "during a dramatic thunderstorm"})
    assert shortened["prompts"] and "lighthouse" in shortened["prompts"][0]
    one, two = await made(relay, "one"), await made(relay, "two")
    blended = await relay.done("blend", {"image_urls": [one["grid_url"], two["grid_url"]], "aspect_ratio": "3:2"})
    assert blended["status"] == "completed" and blended["task_type"] == "blend"
    sent = relay.posts("blend")[0]
    assert sent["dimensions"] == "LANDSCAPE"
    assert [item[:22] for item in sent["base64Array"]] == ["data:image/png;base64,"] * 2
    assert relay.posts("describe")[0] == {"link": "https://example.com/red-fox-in-snow.jpg"}


async def test_queued_code_22_is_accepted_in_both_flavours(tmp_path: Path, mode: str) -> None:
    for flavor in ("new-api", "trueai"):
        async with relay_harness(tmp_path / flavor, mode, flavor=flavor) as relay:
            jobs = [await relay.ok("imagine", {"prompt": f"queued {n}"}) for n in range(5)]
            assert len({job["job_id"] for job in jobs}) == 5
            done = await relay.ok("wait_for_job", {"job_ids": [job["job_id"] for job in jobs]})
            assert [job["status"] for job in done["jobs"]] == ["completed"] * 5
            fetched = [r for r in relay.app.stats.requests if r.path.endswith("/list-by-condition")]
            assert fetched, "waiting for many reads them in one request"


async def test_code_23_queue_full_costs_nothing(relay: Relay) -> None:
    relay.app.engine.max_queued = 0
    result = await relay.call("imagine", {"prompt": "a busy day"})
    assert result.is_error and "queue is full" in result.content[0].text
    listed = await relay.ok("list_jobs", {})
    assert listed["jobs"] == [] and not listed.get("uncertain")


async def test_code_24_names_the_banned_word(relay: Relay) -> None:
    result = await relay.call("imagine", {"prompt": "a forbidden-content poster"})
    assert result.is_error
    assert "'forbidden-content'" in result.content[0].text and "nothing was charged" in result.content[0].text


async def test_codes_3_and_4_and_http_200_errors(relay: Relay) -> None:
    relay.app.engine.faults.add(Fault("json", status=200, method="POST", path_prefix="/mj-fast/mj/submit/imagine",
                                      payload=json.dumps({"code": 4, "description": "prompt is invalid",
                                                          "result": None})))
    result = await relay.call("imagine", {"prompt": "anything"})
    assert result.is_error and "code 4: prompt is invalid" in result.content[0].text
    grid = await made(relay)
    del relay.app.engine.tasks[grid["job_id"]]  # the relay forgot the parent: code 3 on the action
    result = await relay.call("upscale", {"job_id": grid["job_id"], "image_no": 0})
    assert result.is_error and "no longer has the task" in result.content[0].text
    assert (await relay.ok("list_jobs", {}))["jobs"][0]["job_id"] == grid["job_id"]  # nothing new recorded


async def test_code_21_on_an_upscale_already_made_returns_it(relay: Relay) -> None:
    first = await upscaled(relay)
    relay.app.engine.faults.add(Fault("json", status=200, method="POST", path_prefix="/mj-fast/mj/submit/action",
                                      payload=json.dumps({"code": 21, "description": "任务已存在",
                                                          "result": first["job_id"]})))
    parent = (await relay.ok("get_job", {"job_id": first["job_id"]}))["parent_job_id"]
    again = await relay.ok("upscale", {"job_id": parent, "image_no": 1})
    assert again["job_id"] == first["job_id"] and again["status"] == "completed"


async def test_a_lost_answer_is_uncertain_and_never_resent(relay: Relay) -> None:
    relay.app.engine.faults.add(Fault("drop", method="POST", path_prefix="/mj-fast/mj/submit/imagine",
                                      after_handling=True))
    result = await relay.call("imagine", {"prompt": "a paid request"})
    assert result.is_error and "not re-sent" in result.content[0].text
    assert len(relay.posts("imagine")) == 1 and len(relay.app.engine.tasks) == 1
    listed = await relay.ok("list_jobs", {})
    assert len(listed["uncertain"]) == 1


async def test_prices_are_the_users_table_or_unknown(tmp_path: Path, mode: str) -> None:
    async with relay_harness(tmp_path / "a", mode) as relay:
        text = (await relay.call("estimate_cost", {"tool": "imagine", "arguments": {"prompt": "x"}})).content[0].text
        assert "unknown price" in text and "points" not in text
    async with relay_harness(tmp_path / "b", mode, relay_prices={"imagine": 8}, relay_price_unit="quota",
                             max_points_per_day=20) as relay:
        text = (await relay.call("estimate_cost", {"tool": "imagine", "arguments": {"prompt": "x"}})).content[0].text
        assert "8 quota" in text
        await relay.ok("imagine", {"prompt": "one"})
        await relay.ok("imagine", {"prompt": "two"})
        refused = await relay.call("imagine", {"prompt": "three"})
        assert refused.is_error and len(relay.posts("imagine")) == 2


async def test_a_wrong_key_is_refused_without_echoing_it(tmp_path: Path, mode: str) -> None:
    async with relay_harness(tmp_path, mode, key="sk-wrong-relay-key-123") as relay:
        result = await relay.call("imagine", {"prompt": "x"})
        assert result.is_error and "sk-wrong-relay-key-123" not in result.content[0].text
        assert "relay" in result.content[0].text


async def test_the_simulator_takes_mj_api_secret_and_every_prefix() -> None:
    app = MjProxyApp(MjProxyEngine(time_scale=FAST))
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app), base_url="http://relay.test") as http:
        for prefix in ("", "/mj-fast", "/mj-relax", "/mj-turbo", "/fast"):
            answer = (await http.post(f"{prefix}/mj/submit/imagine", json={"prompt": "p"},
                                      headers={"mj-api-secret": DEFAULT_KEY})).json()
            assert answer["code"] == 1
            fetched = (await http.get(f"{prefix}/mj/task/{answer['result']}/fetch",
                                      headers={"mj-api-secret": DEFAULT_KEY})).json()
            assert fetched["id"] == answer["result"] and isinstance(fetched["submitTime"], int)
            assert fetched["progress"].endswith("%")
        assert (await http.post("/mj/submit/imagine", json={"prompt": "p"})).status_code == 401
        missing = (await http.get("/mj/task/123/fetch", headers={"authorization": f"Bearer {DEFAULT_KEY}"})).json()
        assert missing["code"] == 4


@pytest.mark.eras
async def test_progress_notifications_carry_the_relays_percent(tmp_path: Path, mode: str) -> None:
    seen: list[tuple[float, str]] = []

    async def progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, message or ""))

    async with relay_harness(tmp_path, mode, speed=20.0) as relay:  # a 40 s job runs 2 s: seen while running
        result = await relay.client.call_tool("generate_and_wait", {"prompt": "slow"}, progress_callback=progress)
        assert not result.is_error
    running = [(done, text) for done, text in seen if "processing" in text]
    assert running, seen
    for done, text in running:
        assert text.endswith(f"processing {int(done)}%")


async def test_budget_with_an_unknown_price_is_refused(tmp_path: Path, mode: str) -> None:
    async with relay_harness(tmp_path, mode, max_points_per_day=100) as relay:
        refused = await relay.call("imagine", {"prompt": "x"})
        assert refused.is_error and "LEGNEXT_RELAY_PRICES" in refused.content[0].text
        assert relay.posts("imagine") == []


async def test_remix_presses_with_enable_remix_and_confirms_the_new_prompt(relay: Relay) -> None:
    grid = await made(relay)
    job = await relay.done("remix", {"job_id": grid["job_id"], "image_no": 1, "remix_prompt": "a lighthouse in snow",
                                   "mode": "subtle"})
    assert job["status"] == "completed" and job["prompt"] == "a lighthouse in snow"
    action = relay.posts("action")[-1]
    assert action["customId"].startswith("MJ::JOB::variation::2::")
    assert action["enableRemix"] is True and action["strong"] is False
    assert relay.posts("modal") == [{"taskId": job["job_id"], "prompt": "a lighthouse in snow"}]
    up = await relay.done("upscale", {"job_id": grid["job_id"], "image_no": 0})
    panned = await relay.done("pan", {"job_id": up["job_id"], "image_no": 0, "direction": "left",
                                    "remix_prompt": "a lighthouse and a ship"})
    assert panned["prompt"] == "a lighthouse and a ship"
    assert relay.posts("action")[-1]["enableRemix"] is True and len(relay.posts("modal")) == 2
    assert relay.app.stats.max_identical_submissions() == 1


async def test_retexture_sends_the_image_and_prompt(relay: Relay) -> None:
    job = await relay.done("retexture", {"image_url": "https://example.com/chair.png",
                                       "remix_prompt": "made of glass"})
    assert job["status"] == "completed" and job["task_type"] == "retexture"
    assert relay.posts("retexture") == [{"prompt": "made of glass", "image": "https://example.com/chair.png"}]


async def test_video_from_an_upscaled_image_then_extended(relay: Relay, tmp_path: Path) -> None:
    up = await upscaled(relay)
    video = await relay.done("video_diffusion", {"job_id": up["job_id"], "image_no": 0,
                                                 "prompt": "waves rolling --motion high --bs 2", "video_type": "720p"})
    assert video["status"] == "completed" and len(video["video_urls"]) == 2
    sent = relay.posts("video")[0]
    assert sent == {"prompt": "waves rolling", "image": up["image_urls"][0], "videoType": "vid_1.1_i2v_720",
                    "motion": "high", "batchSize": 2}
    longer = await relay.done("extend_video", {"job_id": video["job_id"], "video_no": 1})
    assert longer["status"] == "completed"
    assert relay.posts("video")[1] == {"action": "extend", "taskId": video["job_id"], "index": 1, "prompt": ""}
    saved = await relay.ok("save_images", {"job_id": video["job_id"]})
    assert sorted(Path(f).suffix for f in saved["saved_files"]) == [".json", ".mp4", ".mp4"]
    grid = await made(relay)
    refused = await relay.call("video_diffusion", {"job_id": grid["job_id"], "image_no": 2})
    assert refused.is_error and f"upscale(job_id='{grid['job_id']}', image_no=2)" in refused.content[0].text


async def test_inpaint_with_a_mask_url_and_zoom_out_1_5(relay: Relay) -> None:
    up = await upscaled(relay)
    mask_source = await made(relay, "a mask")  # any image the relay serves stands in for the user's mask
    job = await relay.done("inpaint", {"job_id": up["job_id"], "image_no": 0, "mask_url": mask_source["grid_url"]})
    assert job["status"] == "completed"
    sent = relay.posts("modal")[-1]["maskBase64"]
    assert base64.b64decode(sent.split(",", 1)[1]) == await _grid(relay, mask_source["grid_url"])
    zoomed = await relay.done("outpaint", {"job_id": up["job_id"], "image_no": 0, "scale": 1.5})
    assert zoomed["status"] == "completed"
    assert relay.posts("action")[-1]["customId"].startswith("MJ::Outpaint::75::")


async def test_a_quadrant_is_a_resource(relay: Relay) -> None:
    job = await made(relay)
    read = await relay.client.read_resource(f"legnext://jobs/{job['job_id']}/images/2")
    data = base64.b64decode(read.contents[0].blob)  # type: ignore[union-attr]
    grid = Image.open(io.BytesIO(await _grid(relay, job["grid_url"])))
    with Image.open(io.BytesIO(data)) as quadrant:
        assert quadrant.tobytes() == grid.crop((0, grid.height // 2, grid.width // 2, grid.height)).tobytes()


@pytest.mark.parametrize(("flavor", "code"), [("new-api", 1), ("trueai", 22)])
async def test_the_simulator_queues_past_three_running_jobs(flavor: str, code: int) -> None:
    app = MjProxyApp(MjProxyEngine(time_scale=1.0, flavor=flavor))  # type: ignore[arg-type]
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app), base_url="http://relay.test") as http:
        answers = [(await http.post("/mj/submit/imagine", json={"prompt": f"p{n}"},
                                    headers={"authorization": f"Bearer {DEFAULT_KEY}"})).json() for n in range(4)]
    assert [a["code"] for a in answers] == [1, 1, 1, code]
    if code == 22:
        assert answers[3]["properties"]["numberOfQueues"] == 1


async def test_a_relay_without_an_endpoint_says_so(relay: Relay) -> None:
    relay.app.engine.faults.add(Fault("status", status=404, method="POST",
                                      path_prefix="/mj-fast/mj/submit/retexture"))
    result = await relay.call("retexture", {"image_url": "https://example.com/a.png", "remix_prompt": "glass"})
    assert result.is_error and "no /mj/submit/retexture" in result.content[0].text
    assert "nothing was made or charged" in result.content[0].text
    assert (await relay.ok("list_jobs", {}))["jobs"] == []
