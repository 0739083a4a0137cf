"""Every error case maps to one exception with a stable code and a message that says what to do."""

from __future__ import annotations

import logging
import socket

import httpx2
import pytest

from legnext_mcp.api import (
    AuthenticationError,
    DiffusionRequest,
    EnhanceRequest,
    ForbiddenError,
    InsufficientCreditsError,
    InvalidRequestError,
    JobFailedError,
    LegnextClient,
    LegnextError,
    NetworkError,
    NotFoundError,
    PanDirection,
    PanRequest,
    RateLimitedError,
    ServerError,
    SubmissionUncertainError,
    UpscaleRequest,
    UpscaleType,
    WaitTimeoutError,
)
from legnext_mcp.sandbox import FAIL_WORD, HANG_WORD, MODERATION_WORD, Engine, Fault, SandboxApp
from tests.support import FAST, RecordingClock, finished, make_client

pytestmark = pytest.mark.anyio


async def test_wrong_key_is_an_auth_error_that_does_not_echo_the_key(sandbox: SandboxApp) -> None:
    async with make_client(sandbox, key="wrong-key-123") as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.balance()
    assert caught.value.code == "auth" and caught.value.status == 401
    assert "LEGNEXT_API_KEY" in str(caught.value)
    assert "wrong-key-123" not in str(caught.value) and "wrong-key-123" not in repr(caught.value)


async def test_a_balance_too_small_for_the_job_is_402_and_nothing_is_frozen() -> None:
    app = SandboxApp(Engine(keys={"poor": 50}, time_scale=FAST))
    async with make_client(app, key="poor") as client:
        with pytest.raises(InsufficientCreditsError) as caught:
            await client.submit(DiffusionRequest(text="a fox"))
        assert (await client.balance()).total_points == 50
    assert caught.value.code == "insufficient_credits" and "Top up" in str(caught.value)


async def test_a_feature_the_account_lacks_is_forbidden() -> None:
    app = SandboxApp(Engine(time_scale=FAST, pro=False))
    async with make_client(app) as client:
        with pytest.raises(ForbiddenError) as caught:
            await client.submit(DiffusionRequest(text="a fox --v 8.1"))
    assert caught.value.status == 403 and "not enabled" in str(caught.value)


async def test_moderation_fails_the_job_refunds_it_and_says_so(client: LegnextClient) -> None:
    before = (await client.balance()).total_points
    job = await client.submit(DiffusionRequest(text=f"a {MODERATION_WORD} scene"))
    with pytest.raises(JobFailedError) as caught:
        await finished(client, job)
    assert caught.value.moderated and caught.value.job_id == job.job_id
    assert "moderation" in str(caught.value) and "not charged" in str(caught.value)
    assert caught.value.job.meta.usage.consume == 0
    assert (await client.balance()).total_points == before


async def test_a_failed_job_raises_with_its_reason(client: LegnextClient) -> None:
    job = await client.submit(DiffusionRequest(text=f"a fox {FAIL_WORD}"))
    with pytest.raises(JobFailedError) as caught:
        await finished(client, job)
    assert not caught.value.moderated and "failed to process" in str(caught.value)


async def test_unknown_job_is_not_found(client: LegnextClient) -> None:
    with pytest.raises(NotFoundError):
        await client.get_job("00000000-0000-0000-0000-000000000000")
    with pytest.raises(NotFoundError):
        await client.submit(UpscaleRequest(job_id="no-such-job", image_no=0, type=UpscaleType.SUBTLE))


async def test_a_job_id_with_path_characters_is_refused_before_sending(client: LegnextClient,
                                                                       sandbox: SandboxApp) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        await client.get_job("../account/balance")
    assert caught.value.local and sandbox.stats.count() == 0


async def test_flat_400_for_a_rule_of_the_parent_job(client: LegnextClient) -> None:
    parent = await finished(client, await client.submit(DiffusionRequest(text="a fox --v 7")))
    with pytest.raises(InvalidRequestError) as caught:
        await client.submit(EnhanceRequest(job_id=parent.job_id, image_no=0))
    assert caught.value.status == 400 and "--draft" in str(caught.value)
    v8 = await finished(client, await client.submit(DiffusionRequest(text="a fox --v 8.1")))
    with pytest.raises(InvalidRequestError, match="pan is not available"):
        await client.submit(PanRequest(job_id=v8.job_id, image_no=0, direction=PanDirection.UP, scale=1.5))


async def test_job_shaped_400_names_the_rejected_flag_and_carries_no_job_id(client: LegnextClient) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        await client.submit(DiffusionRequest.model_construct(text="a fox --v 8.1 --no dogs"))  # as if unchecked
    assert "--no" in str(caught.value) and "8.1" in str(caught.value)
    assert caught.value.job_id is None  # the real body says "job_id": "": no job was made


async def test_follow_ups_on_jobs_older_than_three_days_are_refused(client: LegnextClient,
                                                                   sandbox: SandboxApp) -> None:
    parent = await finished(client, await client.submit(DiffusionRequest(text="a fox")))
    sandbox.engine.clock.advance(3 * 24 * 3600 + 1)
    with pytest.raises(InvalidRequestError, match="older than 3 days"):
        await client.submit(UpscaleRequest(job_id=parent.job_id, image_no=0, type=UpscaleType.SUBTLE))


@pytest.mark.parametrize("status", [413, 422])
async def test_other_validation_statuses_map_to_validation(sandbox: SandboxApp, status: int) -> None:
    sandbox.engine.faults.add(Fault("status", status=status, method="POST"))
    async with make_client(sandbox) as client:
        with pytest.raises(InvalidRequestError) as caught:
            await client.submit(DiffusionRequest(text="a fox"))
    assert caught.value.status == status and not caught.value.local


async def test_persistent_429_on_reads_becomes_rate_limited(sandbox: SandboxApp) -> None:
    sandbox.engine.faults.add(Fault("status", count=50, status=429, retry_after=1, method="GET"))
    clock = RecordingClock()
    async with make_client(sandbox, clock=clock) as client:
        with pytest.raises(RateLimitedError) as caught:
            await client.balance()
    assert caught.value.retry_after == 1 and clock.delays == [1.0] * 4
    assert sandbox.stats.count("GET") == 5


async def test_persistent_5xx_on_reads_becomes_a_server_error(sandbox: SandboxApp) -> None:
    sandbox.engine.faults.add(Fault("status", count=50, status=503, method="GET"))
    async with make_client(sandbox, clock=RecordingClock()) as client:
        with pytest.raises(ServerError) as caught:
            await client.balance()
    assert caught.value.code == "server" and "temporary" in str(caught.value)


async def test_an_unreachable_api_is_a_network_error_and_nothing_was_sent() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with LegnextClient("k", base_url=f"http://127.0.0.1:{port}/api", clock=RecordingClock()) as client:
        with pytest.raises(NetworkError) as caught:
            await client.submit(DiffusionRequest(text="a fox"))
    assert "nothing was sent" in str(caught.value)


async def test_a_5xx_answer_to_a_submit_is_uncertain_and_not_resent(sandbox: SandboxApp) -> None:
    sandbox.engine.faults.add(Fault("status", status=502, method="POST", after_handling=True))
    async with make_client(sandbox, clock=RecordingClock()) as client:
        with pytest.raises(SubmissionUncertainError) as caught:
            await client.submit(DiffusionRequest(text="a fox"))
    assert "not re-sent" in str(caught.value)
    assert sandbox.stats.count("POST") == 1 and len(sandbox.engine.jobs) == 1


async def test_an_unreadable_answer_to_a_submit_is_uncertain(sandbox: SandboxApp) -> None:
    sandbox.engine.faults.add(Fault("malformed", method="POST", after_handling=True))
    async with make_client(sandbox) as client:
        with pytest.raises(SubmissionUncertainError, match="may exist"):
            await client.submit(DiffusionRequest(text="a fox"))
    assert sandbox.stats.count("POST") == 1


async def test_an_unreadable_answer_to_a_read_is_retried(sandbox: SandboxApp) -> None:
    sandbox.engine.faults.add(Fault("malformed", count=2, method="GET"))
    async with make_client(sandbox, clock=RecordingClock()) as client:
        balance = await client.balance()
    assert balance.total_points > 0 and sandbox.stats.count("GET") == 3


async def test_a_job_that_never_finishes_times_out_with_its_last_status(client: LegnextClient) -> None:
    job = await client.submit(DiffusionRequest(text=f"a fox {HANG_WORD}"))
    with pytest.raises(WaitTimeoutError) as caught:
        await client.wait(job.job_id, timeout=0.2, known=job)
    assert caught.value.last is not None and caught.value.last.status.value == "processing"
    assert job.job_id in str(caught.value) and "still processing" in str(caught.value)


async def test_the_key_never_appears_in_reprs_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    canary = "CANARY-KEY-7f3a9"
    app = SandboxApp(Engine(keys={canary: 100}, time_scale=FAST))
    caplog.set_level(logging.DEBUG)
    messages: list[str] = []
    async with make_client(app, key=canary, clock=RecordingClock()) as client:
        messages.append(repr(client))
        app.engine.faults.add(Fault("status", count=2, status=500, method="GET"))
        await client.balance()
        for call in (client.get_job("nope"),
                     client.submit(DiffusionRequest.model_construct(text="a fox --v 8.1 --turbo")),
                     client.submit(DiffusionRequest(text="x " * 10 + "--v 7")),
                     client.submit(DiffusionRequest(text="y --v 7"))):
            try:
                await call
            except LegnextError as exc:
                messages += [str(exc), repr(exc)]
    assert len(messages) >= 6
    assert not any(canary in m for m in messages)
    assert canary not in caplog.text


async def test_the_key_is_sent_to_the_api_but_not_to_download_hosts(client: LegnextClient,
                                                                     sandbox: SandboxApp) -> None:
    job = await finished(client, await client.submit(DiffusionRequest(text="a fox")))
    await client.download(job.output.image_urls[0])
    api = [r for r in sandbox.stats.requests if r.path.startswith("/api/")]
    files = [r for r in sandbox.stats.requests if r.path.startswith("/cdn/")]
    assert api and all(r.had_api_key for r in api)
    assert files and not any(r.had_api_key for r in files)


async def test_downloads_refuse_non_media_and_oversized_files(client: LegnextClient) -> None:
    job = await finished(client, await client.submit(DiffusionRequest(text="a fox")))
    with pytest.raises(ServerError, match="larger than"):
        await client.download(job.output.image_urls[0], max_bytes=100)
    with pytest.raises(ServerError):
        await client.download(job.output.image_urls[0].replace("Signature=", "Signature=0"))
    with pytest.raises(InvalidRequestError):
        await client.download("file:///etc/passwd")


async def test_redirects_are_not_followed_by_the_api_client() -> None:
    def redirect(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(302, headers={"location": "https://elsewhere.example/steal"})

    async with LegnextClient("k", base_url="http://sandbox.test/api",
                             transport=httpx2.MockTransport(redirect)) as client:
        with pytest.raises(ServerError, match="redirect"):
            await client.balance()
