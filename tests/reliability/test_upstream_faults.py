"""Scenario 1: upstream faults at the MCP tool level, over a real loopback socket.

For every fault: what the tool returns, that the same server then serves another call, that every job
the simulator created is in the ledger (by id, or as an uncertain submission when its id never reached
us), and that no request body created two jobs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest

from legnext_mcp.core.policy import MAX_GET_ATTEMPTS, MAX_POST_CONNECT_RETRIES, MAX_POST_RATE_LIMIT_RETRIES
from legnext_mcp.sandbox import FAIL_WORD, HANG_WORD, Fault
from tests.support import FlakyConnect, Harness, audit, crashed, loopback_harness, text_of

pytestmark = pytest.mark.anyio
JOBS = "/api/v1/job/"


def post(kind: str, **kwargs: object) -> Fault:
    return Fault(kind, method="POST", path_prefix="/api/v1/diffusion", **kwargs)  # type: ignore[arg-type]


def get(kind: str, **kwargs: object) -> Fault:
    return Fault(kind, method="GET", path_prefix=JOBS, **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Case:
    """A fault, the call it hits and what must come of it."""

    faults: list[Fault]
    outcome: str  # "completed", "error: <words the message must contain>", "processing", "failed"
    created: int  # jobs the simulator creates
    posts: int  # POSTs that reach the simulator
    tool: str = "generate_and_wait"
    prompt: str = "a lighthouse at dusk"
    uncertain: int = 0
    refused_connections: int = 0
    settings: dict[str, Any] = field(default_factory=dict)


UNCERTAIN = "error: may or may not|may exist"
CASES = {
    # job-creating POSTs: never re-sent unless certainly not received
    "POST 500 before the job is made": Case([post("status", status=500)], UNCERTAIN, 0, 1, uncertain=1),
    "POST 502 before the job is made": Case([post("status", status=502)], UNCERTAIN, 0, 1, uncertain=1),
    "POST 503 after the job is made": Case([post("status", status=503, after_handling=True)], UNCERTAIN, 1, 1,
                                           uncertain=1),
    "POST 429 x2 with Retry-After": Case([post("status", status=429, retry_after=2, count=2)], "completed", 1, 3),
    "POST 429 x2 without Retry-After": Case([post("status", status=429, count=2)], "completed", 1, 3),
    "POST 429 persisting": Case([post("status", status=429, count=1 + MAX_POST_RATE_LIMIT_RETRIES)],
                                "error: too many|rate", 0, 1 + MAX_POST_RATE_LIMIT_RETRIES),
    "POST slower than the read timeout": Case([post("slow", delay_s=1.0, after_handling=True)], UNCERTAIN, 1, 1,
                                              uncertain=1),
    "POST dropped before the job is made": Case([post("drop")], UNCERTAIN, 0, 1, uncertain=1),
    "POST dropped after the job is made": Case([post("drop", after_handling=True)], UNCERTAIN, 1, 1, uncertain=1),
    "POST answer malformed after the job is made": Case([post("malformed", after_handling=True)], UNCERTAIN, 1, 1,
                                                        uncertain=1),
    "POST connection refused twice": Case([], "completed", 1, 1, refused_connections=2),
    "POST connection refused every time": Case([], "error: nothing was sent", 0, 0,
                                               refused_connections=1 + MAX_POST_CONNECT_RETRIES),
    # reads while waiting: retried, the wait goes on
    "GET 500/502/503 burst while waiting": Case([get("status", status=s) for s in (500, 502, 503)], "completed",
                                                1, 1),
    "GET 429 with Retry-After while waiting": Case([get("status", status=429, retry_after=1, count=2)],
                                                   "completed", 1, 1),
    "GET slower than the read timeout": Case([get("slow", delay_s=1.0)], "completed", 1, 1),
    "GET dropped mid-answer": Case([get("drop", count=2)], "completed", 1, 1),
    "GET answer malformed": Case([get("malformed", count=2)], "completed", 1, 1),
    "GET failing every retry": Case([get("status", status=500, count=MAX_GET_ATTEMPTS)],
                                    "error: did not answer|keeps running", 1, 1),
    # jobs that go wrong on the server
    "a job that never leaves processing": Case([], "processing", 1, 1, prompt=f"a fox {HANG_WORD}",
                                               settings={"soft_deadline_s": 0.5}),
    "a job that fails": Case([], "failed", 1, 1, prompt=f"a fox {FAIL_WORD}"),
}


def check_outcome(result: object, expected: str) -> None:
    text = text_of(result)
    data = getattr(result, "structured_content", None) or {}
    if expected.startswith("error: "):
        assert getattr(result, "is_error", False), text
        assert any(words in text for words in expected.removeprefix("error: ").split("|")), text
        assert not crashed(result)  # a message the model can act on
    elif expected == "failed":
        assert getattr(result, "is_error", False) and data["status"] == "failed", text
        assert "not charged" in text
    else:
        assert not getattr(result, "is_error", False), text
        assert data["status"] == expected, text
        if expected == "processing":
            assert "wait_for_job" in text  # says how to pick the job up again


async def still_serving(h: Harness) -> None:
    result = await h.call("generate_and_wait", {"prompt": "a second call on the same server"})
    assert not result.is_error and result.structured_content["status"] == "completed", text_of(result)


@pytest.mark.parametrize("name", list(CASES))
async def test_a_fault_gives_a_clear_result_loses_nothing_and_pays_once(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    flaky = FlakyConnect(case.refused_connections) if case.refused_connections else None
    async with loopback_harness(tmp_path, transport=flaky, **case.settings) as h:
        for fault in case.faults:
            h.sandbox.engine.faults.add(fault)
        with anyio.fail_after(30):
            result = await h.call(case.tool, {"prompt": case.prompt})
        check_outcome(result, case.outcome)
        assert h.sandbox.stats.count("POST", "/api/v1/") == case.posts
        assert len(h.sandbox.engine.jobs) == case.created
        if flaky is not None:
            assert flaky.refused == case.refused_connections
        found = audit(h.sandbox, h.settings)
        assert found.lost == 0 and found.recorded + found.uncertain == case.created
        assert found.max_identical == min(case.created, 1)
        listed = (await h.call("list_jobs", {})).structured_content
        assert len(listed.get("uncertain", [])) == case.uncertain  # empty lists are left out
        with anyio.fail_after(30):
            await still_serving(h)
        after = audit(h.sandbox, h.settings)
        assert after.lost == 0 and after.max_identical <= 1


async def test_a_hung_job_does_not_hold_up_other_calls(tmp_path: Path, mode: str) -> None:
    async with loopback_harness(tmp_path, mode=mode, soft_deadline_s=3) as h:
        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                hung: dict[str, object] = {}

                async def wait_for_the_hung_job() -> None:
                    hung["result"] = await h.call("generate_and_wait", {"prompt": f"a fox {HANG_WORD}"})

                group.start_soon(wait_for_the_hung_job)
                for n in range(3):  # served while the other call is still waiting
                    result = await h.call("generate_and_wait", {"prompt": f"a cat number {n}"})
                    assert result.structured_content["status"] == "completed"
                    assert "result" not in hung
                balance = await h.call("get_balance", {})
                assert not balance.is_error
        assert hung["result"].structured_content["status"] == "processing"  # type: ignore[attr-defined]
        assert audit(h.sandbox, h.settings).recorded == 4


async def test_an_uncertain_submission_counts_toward_the_daily_budget(tmp_path: Path) -> None:
    async with loopback_harness(tmp_path, max_points_per_day=100) as h:
        h.sandbox.engine.faults.add(post("drop", after_handling=True))
        first = await h.call("generate_and_wait", {"prompt": "a fox"})
        second = await h.call("generate_and_wait", {"prompt": "a cat"})
    assert first.is_error and "uncertain" in text_of(first)
    assert second.is_error and "daily budget" in text_of(second) and "80 of the 100" in text_of(second)
    assert len(h.sandbox.engine.jobs) == 1
