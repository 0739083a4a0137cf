"""The third hostile round (issue 26): the relay budget, relay answers, the gallery's data, the HTTP transport,
error paths. One test per finding, named after what it proves, through the real seams (the simulators, a
hostile relay that rewrites the simulator's answers, the MCP client in memory, real processes)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import anyio
import pytest

from legnext_mcp.sandbox.mjproxy.engine import HANG_WORD
from tests.support import relay_harness, text_of

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
