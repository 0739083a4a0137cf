"""The gallery against what issue 26's hostile round found: prices that belong to another job's call, and output
URLs that are not web addresses handed to the host's ``ui/open-link``. Same harness as test_gallery_view.py
(Chromium, the official AppBridge, ``legnext-mcp --sandbox`` over stdio)."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from tests.browser.conftest import Host

pytestmark = pytest.mark.anyio


async def until(host: Host, script: str, timeout: float = 60, *, in_host: bool = False) -> Any:
    """Poll ``script`` (a JS expression in the view, or in the host page) until it is truthy."""
    scope = (host.page if in_host else host.view).locator("body")
    with anyio.fail_after(timeout):
        while True:
            value = await scope.evaluate(f"body => {script}")
            if value:
                return value
            await anyio.sleep(0.1)


async def points(host: Host, tool: str, arguments: dict[str, Any]) -> int:
    estimate = await host.client.call_tool("estimate_cost", {"tool": tool, "arguments": arguments})
    value: int = estimate.structured_content["points"]
    return value


PRICED = "[...document.querySelectorAll('button[data-tool]')].every(b => !b.disabled)"


async def test_a_button_shows_the_price_of_its_own_call_not_of_the_tool(host: Host) -> None:
    """The view shows a grid, then follows its variation: both offer Reroll, at different prices (a reroll costs
    what its parent cost). The second Reroll must say its own price, not the first one's."""
    arguments = {"prompt": "a lighthouse"}
    first = await host.client.call_tool("generate_and_wait", arguments)
    await host.start(arguments, first, {})
    await until(host, PRICED)
    grid = first.structured_content["job_id"]
    reroll = host.view.get_by_role("button", name="Run the prompt again", exact=False)
    first_price = await points(host, "reroll", {"job_id": grid})
    assert await reroll.text_content() == f"Reroll{first_price} points"

    await host.view.get_by_role("button", name="Vary image 0, subtle", exact=False).click()
    await until(host, "document.querySelector('h1').textContent === 'variation'")
    await until(host, "document.querySelector('.status').textContent === 'completed'", 90)
    await until(host, PRICED + " && document.querySelector('[aria-label^=\"Run the prompt again (\"]') !== null")
    calls = await host.calls()
    assert [c["name"] for c in calls if c["name"] not in ("estimate_cost", "get_job")] == ["variation"]
    child = [c["arguments"]["job_id"] for c in calls if c["name"] == "get_job"][-1]  # the view follows it
    second_price = await points(host, "reroll", {"job_id": child})
    assert second_price != first_price, (first_price, second_price)  # the case the stale cache got wrong
    assert await reroll.text_content() == f"Reroll{second_price} points"


async def test_only_web_urls_of_videos_reach_the_host_s_open_link(host: Host) -> None:
    """A result whose video URLs are javascript:, data: and file: URLs (a hostile upstream, or a server that
    let one through): the view offers "Open video" for the http(s) one only, and opens nothing else."""
    grid = await host.client.call_tool("generate_and_wait", {"prompt": "waves"})
    arguments = {"job_id": grid.structured_content["job_id"], "image_no": 1}
    submitted = await host.client.call_tool("video_diffusion", arguments)
    waited = await host.client.call_tool("wait_for_job", {"job_ids": [submitted.structured_content["job_id"]]})
    job_id = waited.structured_content["jobs"][0]["job_id"]
    result = await host.client.call_tool("get_job", {"job_id": job_id})
    real = result.structured_content["video_urls"][0]
    hostile = ["javascript:alert(document.domain)", "data:text/html;base64,PHNjcmlwdD4=", "file:///etc/passwd",
               "JavaScript:alert(1)", real]
    forged = result.model_copy(update={"structured_content": {**result.structured_content, "video_urls": hostile}})
    await host.start(arguments, forged, {})
    await until(host, "document.querySelectorAll('video').length === 5")
    opens = host.view.get_by_role("button", name="Open video")
    assert await opens.count() == 1
    sources = await host.view.locator("video").evaluate_all("nodes => nodes.map(n => n.getAttribute('src'))")
    assert sources == [None, None, None, None, real]
    await opens.first.click()
    opened = await until(host, "window.hostLog.filter(m => m.method === 'ui/open-link')", in_host=True)
    assert opened == [{"method": "ui/open-link", "params": {"url": real}}]
