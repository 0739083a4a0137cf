"""imagine_batch: one price, one budget check for all or none, one confirmation, every job id returned even when some
submissions fail, nothing sent twice; estimate_cost prices a batch. Through the MCP server on the simulators."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp_types import ElicitRequestParams, ElicitResult

from legnext_mcp.sandbox.core.faults import Fault
from tests.support import audit, relay_harness, server_harness, text_of

pytestmark = pytest.mark.anyio
PROMPTS = [f"a lighthouse number {n} at dusk --ar 3:2" for n in range(1, 6)]
DIFFUSION = "/api/v1/diffusion"


def intents(db_path: Path) -> int:
    db = sqlite3.connect(db_path)
    try:
        return int(db.execute("SELECT COUNT(*) FROM intents").fetchone()[0])
    finally:
        db.close()


def asking(answer: bool) -> tuple[Any, list[str]]:
    asked: list[str] = []

    async def elicit(_: Any, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"confirm": answer})

    return elicit, asked


async def test_a_batch_that_does_not_fit_the_budget_sends_none(tmp_path: Path) -> None:
    async with server_harness(tmp_path, max_points_per_day=3 * 80 + 40) as h:  # room for 3 of 5
        result = await h.call("imagine_batch", {"prompts": PROMPTS})
        assert result.is_error and "400 points for 5 jobs" in text_of(result), text_of(result)
        assert "LEGNEXT_MAX_POINTS_PER_DAY" in text_of(result)
        assert h.sandbox.stats.count("POST") == 0 and intents(h.settings.ledger_path) == 0
        estimate = await h.call("estimate_cost", {"tool": "imagine_batch", "arguments": {"prompts": PROMPTS[:3]}})
        assert not estimate.is_error and estimate.structured_content["points"] == 240, text_of(estimate)


@pytest.mark.eras
async def test_five_prompts_make_five_jobs_with_five_posts_and_one_confirmation(tmp_path: Path, mode: str) -> None:
    elicit, asked = asking(True)
    async with server_harness(tmp_path, mode, elicit, confirm_above_points=100, max_points_per_day=400) as h:
        estimate = await h.call("estimate_cost", {"tool": "imagine_batch", "arguments": {"prompts": PROMPTS}})
        assert estimate.structured_content["points"] == 400 and estimate.structured_content["would_ask_user"]
        result = await h.call("imagine_batch", {"prompts": PROMPTS})
        assert not result.is_error, text_of(result)
        out = result.structured_content
        assert out["submitted"] == 5 and out["failed"] == 0 and out["estimated_points"] == 400
        assert len(set(out["job_ids"])) == 5 and [j["prompt_no"] for j in out["jobs"]] == [1, 2, 3, 4, 5]
        assert len(asked) == 1 and "400 points" in asked[0] and "5 imagine jobs" in asked[0]
        assert h.sandbox.stats.count("POST", DIFFUSION) == 5
        with anyio.fail_after(30):
            waited = await h.call("wait_for_job", {"job_ids": out["job_ids"]})
        assert waited.structured_content["all_done"]
        assert [j["prompt"] for j in waited.structured_content["jobs"]] == PROMPTS  # each job is its own prompt
        checked = audit(h.sandbox, h.settings)
        assert (checked.created, checked.recorded, checked.lost, checked.max_identical) == (5, 5, 0, 1)
        again = await h.call("imagine", {"prompt": "one more"})  # the budget is spent: 400 of 400
        assert again.is_error and "daily budget" in text_of(again)


async def test_a_batch_the_user_declines_sends_nothing(tmp_path: Path) -> None:
    elicit, asked = asking(False)
    async with server_harness(tmp_path, "auto", elicit, confirm_above_points=100) as h:
        result = await h.call("imagine_batch", {"prompts": PROMPTS[:2]})
        assert result.is_error and "did not confirm" in text_of(result) and len(asked) == 1
        assert h.sandbox.stats.count("POST") == 0 and intents(h.settings.ledger_path) == 0


async def test_a_failure_in_the_middle_leaves_the_others_standing_and_named(tmp_path: Path) -> None:
    async with server_harness(tmp_path, max_points_per_day=1000) as h:
        h.sandbox.engine.faults.add(Fault("status", status=400, method="POST", path_prefix=DIFFUSION))
        h.sandbox.engine.faults.add(Fault("drop", method="POST", path_prefix=DIFFUSION, after_handling=True))
        result = await h.call("imagine_batch", {"prompts": PROMPTS})
        out = result.structured_content
        assert not result.is_error, text_of(result)
        statuses = sorted(j["status"] for j in out["jobs"])
        assert statuses == ["failed", "submitted", "submitted", "submitted", "uncertain"], out
        assert out["submitted"] == 3 and len(out["job_ids"]) == 3
        failed = next(j for j in out["jobs"] if j["status"] == "failed")
        assert "rejected the request" in failed["error"]
        uncertain = next(j for j in out["jobs"] if j["status"] == "uncertain")
        assert "may" in uncertain["error"] and "job_id" not in uncertain
        assert h.sandbox.stats.count("POST", DIFFUSION) == 5  # nothing re-sent
        checked = audit(h.sandbox, h.settings)
        # 4 jobs exist: 3 recorded with ids, the one whose answer was lost kept as uncertain; nothing lost or paid twice
        assert (checked.created, checked.recorded, checked.uncertain, checked.lost, checked.max_identical) == \
            (4, 3, 1, 0, 1)
        spent = await h.call("estimate_cost", {"tool": "imagine", "arguments": {"prompt": "x"}})
        # the refused job gave its 80 back; the uncertain one stays counted (it may be charged)
        assert "400 of 1000" in text_of(spent), text_of(spent)


async def test_a_relay_batch_sends_each_prompt_once(tmp_path: Path) -> None:
    async with relay_harness(tmp_path, relay_prices={"imagine": 3}) as relay:
        out = await relay.ok("imagine_batch", {"prompts": PROMPTS[:3]})
        assert out["submitted"] == 3 and out["estimated_points"] == 9 and out["unit"] == "credits"
        assert sorted(p["prompt"] for p in relay.posts("imagine")) == sorted(PROMPTS[:3])


async def test_a_batch_needs_2_to_10_prompts_each_checked(tmp_path: Path) -> None:
    async with server_harness(tmp_path) as h:
        one = await h.call("imagine_batch", {"prompts": ["a fox"]})
        eleven = await h.call("imagine_batch", {"prompts": ["a fox"] * 11})
        bad = await h.call("imagine_batch", {"prompts": ["a fox", "a cat --v 9"]})
        assert one.is_error and eleven.is_error and bad.is_error
        assert "prompt 2: " in text_of(bad) and "--v 9" in text_of(bad), text_of(bad)
        assert h.sandbox.stats.count("POST") == 0
