"""Spend nothing on a bad request (issue 4), through mcp.Client in both protocol modes: prompt rules and
typed parameters, follow-up checks, cost estimates, the daily budget and the confirmation question.
Every refusal is proven to have sent no job-creating request (the simulator counts them)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from mcp_types import ElicitRequestParams, ElicitResult

from legnext_mcp.api import DiffusionRequest
from legnext_mcp.sandbox import FAIL_WORD, HANG_WORD
from tests.cases import RULES
from tests.support import Harness, make_client
from tests.support import server_harness as shared_server_harness

pytestmark = pytest.mark.anyio
URL = "https://example.com/ref.png"


server_harness = partial(shared_server_harness, seed=11)


def posts(h: Harness) -> int:
    return h.sandbox.stats.count("POST", "/api/v1/")


async def finished_job(h: Harness, prompt: str = "a red fox") -> dict[str, Any]:
    result = await h.call("generate_and_wait", {"prompt": prompt})
    assert not result.is_error, result.content[0].text
    return dict(result.structured_content or {})


# --- prompt rules: refused locally, nothing sent -----------------------------------------------------

async def test_a_prompt_breaking_a_rule_is_refused_without_any_request(harness: Harness) -> None:
    # Every rule through one server per protocol mode: the refusal names the words, sends nothing; the
    # accepted prompt of the same rule is sent (exactly one POST more).
    for rule, accepted, rejected, words in RULES:
        before = harness.sandbox.stats.count()
        refused = await harness.call("imagine", {"prompt": rejected})
        assert refused.is_error, rule
        assert harness.sandbox.stats.count() == before, f"{rule}: a request was sent"
        text = refused.content[0].text
        assert all(w in text for w in words) or (len(rejected) > 8192 and "8192" in text), (rule, text)
        posts_before = posts(harness)
        ok = await harness.call("imagine", {"prompt": accepted})
        assert not ok.is_error, (rule, ok.content[0].text)
        assert posts(harness) == posts_before + 1, rule


async def test_typed_parameters_become_flags_and_clashes_cost_nothing(harness: Harness) -> None:
    result = await harness.call("imagine", {"prompt": "a lighthouse", "aspect_ratio": "3:2", "stylize": 250,
                                            "version": "7", "raw": True, "seed": 7})
    assert not result.is_error
    assert result.structured_content["prompt"] == "a lighthouse --ar 3:2 --s 250 --v 7 --raw --seed 7"
    before = harness.sandbox.stats.count()
    for arguments in ({"prompt": "a lighthouse --ar 1:1", "aspect_ratio": "3:2"},
                      {"prompt": "a lighthouse", "version": "8.1", "quality": 2},
                      {"prompt": "a lighthouse", "version": "8", "speed": "turbo"},
                      {"prompt": "a lighthouse", "stylize": 5000},
                      {"prompt": "a lighthouse", "no": "x" * 9000}):  # the prompt's length limit, flags included
        refused = await harness.call("imagine", arguments)
        assert refused.is_error, arguments
    assert harness.sandbox.stats.count() == before


# --- follow-up checks ---------------------------------------------------------------------------------

async def test_follow_ups_are_checked_against_the_parent_before_spending(harness: Harness) -> None:
    v7 = await finished_job(harness, "a fox --v 7")
    v8 = await finished_job(harness, "a fox --v 8.1")
    pending = (await harness.call("imagine", {"prompt": f"a fox {HANG_WORD}"})).structured_content
    failed = (await harness.call("generate_and_wait", {"prompt": f"a fox {FAIL_WORD}"})).structured_content
    video = await harness.finished("video_diffusion", {"job_id": v7["job_id"], "image_no": 0, "prompt": "--bs 1"})
    assert video["status"] == "completed"
    sent = posts(harness)
    cases = [
        ("pan", {"job_id": v8["job_id"], "image_no": 0, "direction": "up"}, "pan is not available"),
        ("upscale", {"job_id": pending["job_id"], "image_no": 0}, "still"),
        ("upscale", {"job_id": failed["job_id"], "image_no": 0}, "failed"),
        ("variation", {"job_id": "0f0f0f0f-unknown", "image_no": 0}, "not found"),
        ("enhance", {"job_id": v7["job_id"], "image_no": 0}, "--v 7 --draft"),
        ("extend_video", {"job_id": v7["job_id"], "video_no": 0}, "not a video"),
        ("extend_video", {"job_id": video["job_id"], "video_no": 2}, "video_no must be 0."),
        ("upscale", {"job_id": video["job_id"], "image_no": 0}, "video job"),
    ]
    for tool, arguments, words in cases:
        refused = await harness.call(tool, arguments)
        assert refused.is_error, (tool, arguments)
        assert words in refused.content[0].text, refused.content[0].text
    assert posts(harness) == sent, "a refused follow-up was sent"
    draft = await finished_job(harness, "a fox --v 7 --draft")
    for tool, arguments in [("enhance", {"job_id": draft["job_id"], "image_no": 1}),
                            ("extend_video", {"job_id": video["job_id"], "video_no": 0}),
                            ("upscale", {"job_id": v7["job_id"], "image_no": 3}),
                            ("pan", {"job_id": v7["job_id"], "image_no": 0, "direction": "left"})]:
        ok = await harness.call(tool, arguments)
        assert not ok.is_error, (tool, ok.content[0].text)


async def test_a_parent_older_than_three_days_is_refused_from_the_ledger(harness: Harness) -> None:
    parent = await finished_job(harness)
    import sqlite3

    db = sqlite3.connect(harness.settings.ledger_path)  # the row as three days and five minutes ago
    (job_json,) = db.execute("SELECT job_json FROM jobs WHERE job_id = ?", (parent["job_id"],)).fetchone()
    old = json.loads(job_json) | {"created_at": (datetime.now(UTC) - timedelta(days=3, minutes=5)).isoformat()}
    db.execute("UPDATE jobs SET job_json = ? WHERE job_id = ?", (json.dumps(old), parent["job_id"]))
    db.commit()
    db.close()
    sent = posts(harness)
    refused = await harness.call("upscale", {"job_id": parent["job_id"], "image_no": 0})
    assert refused.is_error and "only possible for 3 days" in refused.content[0].text
    assert posts(harness) == sent


async def test_a_parent_unknown_to_the_ledger_is_fetched_from_the_api(harness: Harness) -> None:
    async with make_client(harness.sandbox) as outside:  # made elsewhere: this server never saw it
        job = await outside.submit(DiffusionRequest(text="a cat"))
        await outside.wait(job.job_id, timeout=10, known=job)
    gets = harness.sandbox.stats.count("GET", "/api/v1/job/")
    ok = await harness.call("upscale", {"job_id": job.job_id, "image_no": 2})
    assert not ok.is_error, ok.content[0].text
    assert harness.sandbox.stats.count("GET", "/api/v1/job/") == gets + 1


# --- money --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("tool", "arguments", "points"), [
    ("generate_and_wait", {"prompt": "a fox"}, 80),
    ("imagine", {"prompt": "a fox", "speed": "turbo"}, 160),
    ("imagine", {"prompt": "a fox --v 8 --hd"}, 320),
    ("imagine", {"prompt": "a fox --v 8.1"}, 80),
    ("describe", {"image_url": URL}, 20),
    ("blend", {"image_urls": [URL, URL]}, 80),
    ("enhance_upscale", {"image_url": URL, "target_resolution": "8K"}, 300),
    ("enhance_upscale", {"image_url": URL, "target_resolution": "12K"}, 540),
    ("video_diffusion", {"image_url": URL, "prompt": "waves --bs 2"}, 240),
    ("video_diffusion", {"image_url": URL, "video_type": "720p"}, 960),
])
async def test_estimate_cost_prices_a_call_and_sends_nothing(harness: Harness, tool: str, arguments: dict[str, Any],
                                                             points: int) -> None:
    result = await harness.call("estimate_cost", {"tool": tool, "arguments": arguments})
    assert not result.is_error, result.content[0].text
    assert result.structured_content["points"] == points
    assert f"{points} points" in result.content[0].text
    assert harness.sandbox.stats.count() == 0


async def test_estimate_cost_applies_the_tools_checks(harness: Harness) -> None:
    for arguments, words in [({"tool": "imagine", "arguments": {"prompt": "a fox --v 8.1 --no cars"}}, "--no"),
                             ({"tool": "upscale", "arguments": {"job_id": "nope", "image_no": 9}}, "image_no"),
                             ({"tool": "pan", "arguments": {"job_id": "x", "image_no": 0, "direction": "north"}},
                              "direction"),
                             ({"tool": "upscale", "arguments": {"job_id": "x", "image_no": 0, "bogus": 1}}, "bogus"),
                             ({"tool": "get_job", "arguments": {}}, "not a job tool")]:
        result = await harness.call("estimate_cost", arguments)
        assert result.is_error and words in result.content[0].text, result.content[0].text
    assert harness.sandbox.stats.count("POST") == 0


async def test_every_job_result_carries_its_estimate(harness: Harness) -> None:
    result = await harness.call("imagine", {"prompt": "a fox", "speed": "turbo"})
    assert result.structured_content["estimated_points"] == 160
    assert result.structured_content["points_frozen"] == 160  # the simulator agrees


async def test_the_daily_budget_refuses_the_job_that_would_exceed_it(tmp_path: Path, mode: str) -> None:
    async with server_harness(tmp_path, mode, max_points_per_day=200) as h:
        first = await h.call("generate_and_wait", {"prompt": "a fox"})
        assert "Budget: 80 of 200" in first.content[0].text
        failed = await h.call("generate_and_wait", {"prompt": f"a fox {FAIL_WORD}"})
        assert failed.is_error  # failed jobs consume nothing and do not count
        second = await h.call("imagine", {"prompt": "a fox"})
        assert "Budget: 160 of 200" in second.content[0].text
        sent = posts(h)
        refused = await h.call("imagine", {"prompt": "a fox"})
        assert refused.is_error
        assert "daily budget" in refused.content[0].text and "160 of the 200" in refused.content[0].text
        estimate = await h.call("estimate_cost", {"tool": "describe", "arguments": {"image_url": URL}})
        assert not estimate.is_error  # 20 more still fits
        assert posts(h) == sent


def answering(action: str, confirm: bool | None = None) -> tuple[Callable[..., Any], list[str]]:
    asked: list[str] = []

    async def elicit(_: Any, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        content = None if confirm is None else {"confirm": confirm}
        return ElicitResult(action=action, content=content)

    return elicit, asked


@pytest.mark.eras
async def test_a_job_above_the_threshold_is_submitted_only_after_the_user_confirms(tmp_path: Path,
                                                                                  mode: str) -> None:
    elicit, asked = answering("accept", True)
    async with server_harness(tmp_path, mode, elicit, confirm_above_points=100) as h:
        cheap = await h.call("imagine", {"prompt": "a fox"})
        assert not cheap.is_error and asked == []  # 80 points: not asked
        dear = await h.call("imagine", {"prompt": "a fox", "speed": "turbo"})
        assert not dear.is_error, dear.content[0].text
        assert len(asked) == 1 and "160 points" in asked[0]
        assert "Confirmed by the user" in dear.content[0].text
        assert posts(h) == 2


@pytest.mark.parametrize(("action", "confirm"), [("decline", None), ("cancel", None), ("accept", False)])
@pytest.mark.eras
async def test_a_job_the_user_does_not_confirm_is_not_sent(tmp_path: Path, mode: str, action: str,
                                                           confirm: bool | None) -> None:
    elicit, asked = answering(action, confirm)
    async with server_harness(tmp_path, mode, elicit, confirm_above_points=100) as h:
        result = await h.call("enhance_upscale", {"image_url": URL, "target_resolution": "4K"})
        assert result.is_error and "did not confirm" in result.content[0].text
        assert len(asked) == 1 and posts(h) == 0


@pytest.mark.eras
async def test_a_client_that_cannot_ask_gets_the_job_with_a_note_not_a_fake_answer(tmp_path: Path,
                                                                                   mode: str) -> None:
    async with server_harness(tmp_path, mode, None, confirm_above_points=100) as h:
        result = await h.call("upscale", {"job_id": (await finished_job(h))["job_id"], "image_no": 0})
        assert not result.is_error
        assert "Not confirmed" in result.content[0].text and "cannot ask" in result.content[0].text
        assert "Confirmed by the user" not in result.content[0].text


# --- prompt help --------------------------------------------------------------------------------------

async def test_craft_prompt_gives_structure_and_the_generated_guide(harness: Harness) -> None:
    prompts = (await harness.client.list_prompts()).prompts
    assert [p.name for p in prompts] == ["craft_prompt"]
    got = await harness.client.get_prompt("craft_prompt", {"subject": "a lighthouse", "use": "phone wallpaper",
                                                           "model": "8.1"})
    text = got.messages[0].content.text  # type: ignore[union-attr]
    assert "a lighthouse" in text and "Model: 8.1" in text and "9:16" in text
    guide = (await harness.client.read_resource("legnext://guide/parameters")).contents[0]
    assert guide.text in text  # type: ignore[union-attr]
