"""The MCP Apps gallery in a real browser (Debian's Chromium, driven by Playwright).

A host page runs the official host half of the protocol (``AppBridge`` from ``@modelcontextprotocol/ext-apps``,
bundled by esbuild) with the view in a sandboxed iframe under the spec's default CSP for a view that declares
no domains. Tool calls and resource reads from the view go through the bridge to a real MCP session with
``legnext-mcp --sandbox`` (stdio), which advertised the Apps extension. ``.ci/run`` installs what this needs
(see tests/browser/conftest.py).
"""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from PIL import Image

from tests.browser.conftest import Host

pytestmark = pytest.mark.anyio


def expected_buttons(job: dict[str, Any]) -> set[tuple[str, str]]:
    """The follow-up buttons a job's result offers, worked out here from the result itself."""
    actions, steps, job_id = job.get("available_actions") or {}, job.get("next_steps") or [], job["job_id"]
    offers = {step.split("(", 1)[0] for step in steps}
    out: set[tuple[str, str]] = set()

    def add(tool: str, **arguments: Any) -> None:
        out.add((tool, json.dumps({"job_id": job_id, **arguments}, sort_keys=True)))

    for n in range(len(job.get("images") or [])):
        if n in actions.get("upscale", []):
            add("upscale", image_no=n)
            add("upscale", image_no=n, type="creative")
        if n in actions.get("variation", []):
            add("variation", image_no=n, type="subtle")
            add("variation", image_no=n, type="strong")
        if n in actions.get("pan", []):
            for direction in ("left", "up", "right", "down"):
                add("pan", image_no=n, direction=direction)
        if n in actions.get("outpaint", []):
            add("outpaint", image_no=n)
        if "video_diffusion" in offers:
            add("video_diffusion", image_no=n)
        if "enhance_upscale" in offers:
            add("enhance_upscale", image_no=n)
    if actions.get("reroll") is True:
        add("reroll")
    return out


async def shown_buttons(host: Host) -> set[tuple[str, str]]:
    found = await host.view.locator("button[data-tool]:not(.save)").evaluate_all(
        "nodes => nodes.map(n => [n.dataset.tool, n.dataset.arguments])")
    return {(tool, json.dumps(json.loads(arguments), sort_keys=True)) for tool, arguments in found}


async def wait_for(host: Host, script: str, timeout: float = 60, *, in_host: bool = False) -> Any:
    """Poll ``script`` (a JS expression in the view, or in the host page) until it is truthy."""
    scope = (host.page if in_host else host.view).locator("body")
    with anyio.fail_after(timeout):
        while True:
            value = await scope.evaluate(f"body => {script}")
            if value:
                return value
            await anyio.sleep(0.1)


async def test_gallery_renders_prices_and_runs_follow_ups(host: Host, tmp_path: Path) -> None:
    # imagine returns at once: the view must show the job running, poll get_job and update progress
    arguments = {"prompt": "a red fox in the snow --ar 3:2"}
    submitted = await host.client.call_tool("imagine", arguments)
    await host.start(arguments, submitted, {"theme": "dark"})
    await wait_for(host, "document.querySelector('progress') !== null", 10)
    progress: list[str] = []
    read = "body => { const line = document.getElementById('progress-text'); return line && line.textContent; }"
    with anyio.fail_after(90):  # one read per look: the line disappears when the job completes
        while (text := await host.view.locator("body").evaluate(read)) is not None:
            if not progress or progress[-1] != text:
                progress.append(text)
            await anyio.sleep(0.1)
    assert len(progress) >= 2 and any(p.startswith("processing") for p in progress), progress  # it moved
    polls = [c for c in await host.calls() if c["name"] == "get_job"]
    assert polls and all(c["arguments"] == {"job_id": submitted.structured_content["job_id"]} for c in polls)

    # finished: the grid and the four images, drawn from resources/read (data: URLs under the default CSP)
    done = (await host.client.call_tool("get_job", {"job_id": submitted.structured_content["job_id"]}))
    job = done.structured_content
    await wait_for(host, "[...document.images].filter(i => i.complete && i.naturalWidth > 0).length === 5")
    sources = await host.view.locator("img").evaluate_all("nodes => nodes.map(n => n.src.slice(0, 22))")
    assert sources == ["data:image/png;base64,"] * 5
    shapes = await host.view.locator("figure img").evaluate_all(
        "nodes => nodes.map(n => n.naturalWidth / n.naturalHeight)")
    assert all(abs(ratio - 1.5) < 0.05 for ratio in shapes), shapes  # --ar 3:2 as drawn by the simulator

    # buttons: exactly the follow-ups the result offers, each with the price estimate_cost gives
    assert await shown_buttons(host) == expected_buttons(job)
    await wait_for(host, "[...document.querySelectorAll('button[data-tool]')].every(b => !b.disabled)")
    estimate = await host.client.call_tool("estimate_cost", {"tool": "upscale", "arguments": {
        "job_id": job["job_id"], "image_no": 0}})
    u1 = host.view.get_by_role("button", name="Upscale image 0 (", exact=False).first
    assert await u1.text_content() == f"U1{estimate.structured_content['points']} points"

    # light and dark from the host context; one column at a narrow width
    assert await host.view.locator("html").get_attribute("data-theme") == "dark"
    background = await host.view.locator("body").evaluate("b => getComputedStyle(b).backgroundColor")
    assert background == "rgb(31, 31, 34)"
    shot = tmp_path / "gallery.png"
    await host.page.locator("#view").screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("LEGNEXT_SCREENSHOT"):  # how docs/gallery.png was made
        shutil.copy(shot, os.environ["LEGNEXT_SCREENSHOT"])
    await host.page.set_viewport_size({"width": 340, "height": 900})
    await host.page.locator("#view").evaluate("f => { f.style.width = '320px' }")
    columns = await host.view.locator(".images").evaluate(
        "g => getComputedStyle(g).gridTemplateColumns.split(' ').length")
    assert columns == 1

    # U1 from the keyboard: tools/call upscale {job_id, image_no: 0}, then the view follows the new job
    before = len(await host.calls())
    await u1.focus()
    await host.view.locator("body").press("Enter")
    await wait_for(host, "document.querySelector('h1') && document.querySelector('h1').textContent === 'upscale'")
    sent = (await host.calls())[before]
    assert sent == {"name": "upscale", "arguments": {"job_id": job["job_id"], "image_no": 0}}
    await wait_for(host, "document.querySelector('.status').textContent === 'completed'", 90)
    await wait_for(host, "[...document.images].filter(i => i.complete && i.naturalWidth > 0).length === 1")

    # save: the paths the server wrote, shown in the view
    await host.view.get_by_role("button", name="Save files").click()
    await wait_for(host, "document.querySelector('ul.saved') !== null")
    saved = await host.view.locator("ul.saved li").all_text_contents()
    assert saved and all(Path(p).is_file() for p in saved), saved

    # back to the grid job
    await host.view.get_by_role("button", name="← Back to diffusion").click()
    await wait_for(host, "document.querySelector('h1').textContent === 'diffusion'")


@pytest.mark.parametrize("host", [{"LEGNEXT_MAX_POINTS_PER_DAY": "100"}], indirect=True)
async def test_a_refused_call_is_shown_and_the_job_stays(host: Host) -> None:
    """A daily budget of 100 points: the 80-point grid fits, a 120-point variation does not. The server refuses
    it (nothing sent), the view says so and stays on the job."""
    arguments = {"prompt": "a lighthouse"}
    result = await host.client.call_tool("generate_and_wait", arguments)
    await host.start(arguments, result, {"theme": "light"})
    await wait_for(host, "[...document.querySelectorAll('button[data-tool]')].some(b => !b.disabled)")
    background = await host.view.locator("body").evaluate("b => getComputedStyle(b).backgroundColor")
    assert background == "rgb(255, 255, 255)"
    await host.view.get_by_role("button", name="Vary image 2, strong", exact=False).click()
    await wait_for(host, "document.querySelector('[role=alert]') !== null")
    alert = await host.view.locator("[role=alert]").text_content() or ""
    assert "Nothing was sent" in alert, alert
    assert (await host.calls())[-1] == {"name": "variation", "arguments": {
        "job_id": result.structured_content["job_id"], "image_no": 2, "type": "strong"}}
    assert await host.view.locator("h1").text_content() == "diffusion"  # still the same job


async def test_the_view_needs_no_network(host: Host, client_without_apps: Client) -> None:
    """Every request the page made went to the host page itself: no CDN, font or script from elsewhere."""
    arguments = {"prompt": "a harbour"}
    result = await host.client.call_tool("generate_and_wait", arguments)
    await host.start(arguments, result, {})
    await wait_for(host, "[...document.images].filter(i => i.complete && i.naturalWidth > 0).length === 5")
    assert host.requests == [host.page_url], host.requests
    plain = (await client_without_apps.list_tools()).tools
    assert not any(t.meta and "ui" in t.meta for t in plain)


@pytest.mark.parametrize("host", [{"LEGNEXT_DIALECT": "mj-proxy"}], indirect=True)
async def test_the_gallery_works_on_a_relay(host: Host) -> None:
    """The same view on the midjourney-proxy dialect (its buttons come from the relay's own)."""
    arguments = {"prompt": "a windmill"}
    result = await host.client.call_tool("generate_and_wait", arguments)
    job = result.structured_content
    assert job["api"] == "mj-proxy"
    await host.start(arguments, result, {})
    await wait_for(host, "[...document.images].filter(i => i.complete && i.naturalWidth > 0).length === 5")
    assert await shown_buttons(host) == expected_buttons(job)
    await wait_for(host, "[...document.querySelectorAll('button[data-tool]')].every(b => !b.disabled)")
    await host.view.get_by_role("button", name="Vary image 1, subtle", exact=False).click()
    await wait_for(host, "document.querySelector('h1').textContent === 'variation'")
    assert (await host.calls())[-1] == {"name": "variation", "arguments": {
        "job_id": job["job_id"], "image_no": 1, "type": "subtle"}}


async def test_a_video_job_shows_its_videos_and_their_follow_ups(host: Host) -> None:
    grid = await host.client.call_tool("generate_and_wait", {"prompt": "waves"})
    arguments = {"job_id": grid.structured_content["job_id"], "image_no": 3}
    submitted = await host.client.call_tool("video_diffusion", arguments)
    waited = await host.client.call_tool("wait_for_job", {"job_ids": [submitted.structured_content["job_id"]]})
    job = waited.structured_content["jobs"][0]
    result = await host.client.call_tool("get_job", {"job_id": job["job_id"]})
    assert job["status"] == "completed" and len(job["video_urls"]) == 4
    await host.start(arguments, result, {})
    # a poster for each video from resources/read; the video files themselves stay behind the default CSP
    await wait_for(host, "[...document.querySelectorAll('video')].filter(v => v.poster.startsWith('data:')).length"
                         " === 4")
    found = await host.view.locator("button[data-tool]:not(.save)").evaluate_all(
        "nodes => nodes.map(n => [n.dataset.tool, JSON.parse(n.dataset.arguments)])")
    offered = {step.split("(", 1)[0] for step in job["next_steps"]}
    expected = [[tool, {"job_id": job["job_id"], "video_no": n}] for n in range(4)
                for tool in ("extend_video", "video_upscale") if tool in offered]
    assert expected and found == expected
    await host.view.get_by_role("button", name="Open video").first.click()
    opened = await wait_for(host, "window.hostLog.filter(m => m.method === 'ui/open-link')", in_host=True)
    assert opened == [{"method": "ui/open-link", "params": {"url": job["video_urls"][0]}}]


async def test_describe_offers_each_suggested_prompt(host: Host) -> None:
    arguments = {"image_url": "https://example.com/fox.png"}
    result = await host.client.call_tool("describe", arguments)
    prompts = result.structured_content["prompts"]
    await host.start(arguments, result, {})
    await wait_for(host, "[...document.querySelectorAll('button[data-tool]')].every(b => !b.disabled)")
    shown = await host.view.locator("ol.prompts li").all_text_contents()
    assert len(shown) == len(prompts) == 4 and all(p in text for p, text in zip(prompts, shown, strict=True))
    estimate = await host.client.call_tool("estimate_cost", {"tool": "imagine", "arguments": {"prompt": prompts[1]}})
    second = host.view.get_by_role("button", name="Imagine prompt 2", exact=False)
    assert await second.text_content() == f"Imagine{estimate.structured_content['points']} points"
    await second.click()
    await wait_for(host, "document.querySelector('h1').textContent === 'diffusion'")
    assert (await host.calls())[-1] == {"name": "imagine", "arguments": {"prompt": prompts[1]}}
    await wait_for(host, "document.querySelector('progress') !== null || "
                         "document.querySelector('.status').textContent === 'completed'")


@pytest.mark.parametrize("host", [{"LEGNEXT_DIALECT": "mj-proxy"}], indirect=True)
async def test_a_picture_picked_in_the_view_is_kept_and_described(host: Host, tmp_path: Path) -> None:
    """"Use a picture": a file picked in the view goes to upload_picture (base64), is kept under the data folder,
    and the view offers it to the job tools; Describe sends it (inline on a relay)."""
    arguments = {"prompt": "a windmill"}
    result = await host.client.call_tool("generate_and_wait", arguments)
    await host.start(arguments, result, {})
    await wait_for(host, "[...document.images].filter(i => i.complete && i.naturalWidth > 0).length === 5")
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (250, 120, 0)).save(out, format="PNG")
    (tmp_path / "mine.png").write_bytes(out.getvalue())
    (tmp_path / "notes.txt").write_text("not a picture")

    picker = host.view.locator("section.picture input[type=file]")
    await picker.set_input_files(str(tmp_path / "notes.txt"))
    await wait_for(host, "document.querySelector('[role=alert]') !== null")
    assert "PNG, JPEG, WebP or GIF" in (await host.view.locator("[role=alert]").text_content() or "")
    assert not [c for c in await host.calls() if c["name"] == "upload_picture"]  # refused before sending

    await host.view.locator("section.picture input[type=file]").set_input_files(str(tmp_path / "mine.png"))
    await wait_for(host, "document.querySelector('section.picture img') !== null")
    [upload] = [c for c in await host.calls() if c["name"] == "upload_picture"]
    assert upload["arguments"]["data_base64"].startswith("data:image/png;base64,")
    kept = list((tmp_path / "data" / "sandbox-uploads").iterdir())
    assert len(kept) == 1 and kept[0].read_bytes() == out.getvalue()
    await wait_for(host, "[...document.querySelectorAll('section.picture button[data-tool]')].every(b => !b.disabled)")
    tools = await host.view.locator("section.picture button[data-tool]").evaluate_all(
        "nodes => nodes.map(n => n.dataset.tool)")
    assert tools == ["describe", "video_diffusion", "blend", "retexture"]
    await host.view.get_by_role("button", name="Describe the picture", exact=False).click()
    await wait_for(host, "document.querySelector('h1').textContent === 'describe'", 60)
    [sent] = [c for c in await host.calls() if c["name"] == "describe"]
    assert sent["arguments"] == {"image_url": kept[0].as_uri()}
