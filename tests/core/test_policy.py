"""The pure retry and polling decisions."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from legnext_mcp.core import policy
from legnext_mcp.core.clock import Clock
from legnext_mcp.core.policy import Outcome, RequestKind
from legnext_mcp.dialects.legnext.client import poll_plan as legnext_poll_plan

pytestmark = pytest.mark.anyio


def test_a_job_creating_post_is_never_repeated_once_it_may_have_arrived() -> None:
    for status in (500, 502, 503, 504, 408):
        assert not policy.should_retry(RequestKind.CREATE, Outcome.STATUS, status, 1)
    assert not policy.should_retry(RequestKind.CREATE, Outcome.SENT_NO_ANSWER, None, 1)


def test_a_post_that_never_connected_or_got_429_is_retried_a_bounded_number_of_times() -> None:
    assert policy.should_retry(RequestKind.CREATE, Outcome.CONNECT_FAILED, None, 1)
    assert not policy.should_retry(RequestKind.CREATE, Outcome.CONNECT_FAILED, None,
                                   policy.MAX_POST_CONNECT_RETRIES + 1)
    assert policy.should_retry(RequestKind.CREATE, Outcome.STATUS, 429, 1)
    assert not policy.should_retry(RequestKind.CREATE, Outcome.STATUS, 429, policy.MAX_POST_RATE_LIMIT_RETRIES + 1)


@pytest.mark.parametrize("status", sorted(policy.RETRYABLE_GET_STATUSES))
def test_gets_retry_transient_statuses_until_the_attempt_limit(status: int) -> None:
    assert policy.should_retry(RequestKind.READ, Outcome.STATUS, status, 1)
    assert not policy.should_retry(RequestKind.READ, Outcome.STATUS, status, policy.MAX_GET_ATTEMPTS)


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 422])
def test_gets_do_not_retry_client_errors(status: int) -> None:
    assert not policy.should_retry(RequestKind.READ, Outcome.STATUS, status, 1)


def test_backoff_is_jittered_capped_and_grows() -> None:
    rng = random.Random(1)
    samples = [[policy.backoff_delay(a, None, rng) for _ in range(200)] for a in (1, 2, 3, 10)]
    assert all(0 <= d <= policy.BACKOFF_BASE_S for d in samples[0])
    assert max(samples[2]) > policy.BACKOFF_BASE_S  # grows with the attempt
    assert all(d <= policy.BACKOFF_CAP_S for d in samples[3])
    assert len(set(samples[3])) > 150  # jittered, not in lock-step


def test_retry_after_wins_over_backoff_but_is_capped() -> None:
    rng = random.Random(1)
    assert policy.backoff_delay(1, 2.5, rng) == 2.5
    assert policy.backoff_delay(1, 10_000, rng) == policy.RETRY_AFTER_CAP_S


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
    assert policy.parse_retry_after("3") == 3.0
    assert policy.parse_retry_after("Sun, 22 Nov 2026 12:00:07 GMT", now) == 7.0
    assert policy.parse_retry_after("Sun, 22 Nov 2026 11:00:00 GMT", now) == 0.0
    assert policy.parse_retry_after("soon") is None
    assert policy.parse_retry_after(None) is None
    assert policy.parse_retry_after("nan") is None


def test_poll_plans_differ_by_task_class_and_accept_both_spellings() -> None:
    poll_plan = legnext_poll_plan
    assert poll_plan("describe").first_s < poll_plan("diffusion").first_s
    assert poll_plan("video_diffusion") is poll_plan("video-diffusion")
    assert poll_plan("video-diffusion").first_s > poll_plan("diffusion").first_s
    assert poll_plan(None) is poll_plan("diffusion")


def test_poll_delay_waits_for_the_fastest_job_then_looks_often_and_scales_with_the_simulator() -> None:
    plan = legnext_poll_plan("diffusion")
    assert policy.next_poll_delay(plan, 0, 0) == plan.first_s == 30.0  # images take 30-80 s
    assert policy.next_poll_delay(plan, 12, 0) == 18.0  # a job already 12 s old: look at 30 s
    assert policy.next_poll_delay(plan, 31, 1) == plan.interval_s < 3.0
    assert policy.next_poll_delay(plan, plan.late_after_s + 1, 20) == plan.late_interval_s
    fast = Clock(scale=100)  # a simulator a hundred times faster than real time: its clock sleeps a hundredth
    assert fast.real_seconds(plan.first_s) == pytest.approx(plan.first_s / 100)
    assert fast.api_seconds(fast.real_seconds(plan.first_s)) == pytest.approx(plan.first_s)
    assert fast.real_seconds(-5) == 0.0 and Clock().real_seconds(3) == 3
    assert all(policy.next_poll_delay(p, e, n) <= policy.MAX_POLL_INTERVAL_S
               for p in policy.POLL_PLANS.values() for e in (0, 100, 500) for n in (1, 3))


def test_turbo_draft_and_v8_prompts_get_the_fast_image_schedule() -> None:
    slow = legnext_poll_plan("diffusion", "a fox --v 7")
    for prompt in ("a fox --turbo", "a fox --v 7 --draft", "a fox --v 8.1", "a fox --v 8 --hd"):
        assert legnext_poll_plan("diffusion", prompt) is policy.POLL_PLANS["image-fast"] is not slow
    assert legnext_poll_plan("upscale", "a fox --turbo") is legnext_poll_plan("upscale")
    assert legnext_poll_plan("diffusion", "a fox --v 6.1") is slow


def test_with_callbacks_the_first_fallback_look_waits_until_a_job_of_the_class_is_late() -> None:
    plan = legnext_poll_plan("diffusion", "a fox --v 7")
    first = policy.fallback_poll_delay(plan, 0.0, 0)
    assert first == plan.late_after_s * policy.CALLBACK_MARGIN > policy.next_poll_delay(plan, 0.0, 0)
    assert policy.fallback_poll_delay(plan, 30.0, 0) == first - 30.0  # counted from the job's age
    later = policy.fallback_poll_delay(plan, first, 1)
    assert later == plan.late_interval_s * policy.CALLBACK_SLOWDOWN > policy.next_poll_delay(plan, first, 1)
