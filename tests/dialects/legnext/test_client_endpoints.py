"""Every job endpoint through the real client against the simulator: submit -> wait -> parsed result."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from legnext_mcp.api import (
    BlendRequest,
    Canvas,
    CanvasImage,
    DescribeRequest,
    DiffusionRequest,
    EditRequest,
    EnhanceRequest,
    EnhanceUpscaleRequest,
    ExtendVideoRequest,
    InpaintRequest,
    Job,
    JobRequest,
    JobStatus,
    LegnextClient,
    Mask,
    OutpaintRequest,
    PanDirection,
    PanRequest,
    Polygon,
    RemixMode,
    RemixRequest,
    RemoveBackgroundRequest,
    RerollRequest,
    RetextureRequest,
    ShortenRequest,
    UploadPaintRequest,
    UpscaleRequest,
    UpscaleType,
    VariationRequest,
    VariationType,
    VideoDiffusionRequest,
    VideoType,
    VideoUpscaleRequest,
)
from legnext_mcp.sandbox import SandboxApp
from tests.support import finished

pytestmark = pytest.mark.anyio
IMG = "https://example.com/cat.png"
SQUARE = Polygon(width=1024, height=1024, points=[10, 10, 10, 500, 500, 500, 500, 10])

Build = Callable[[str, str], JobRequest]  # (draft image parent id, video parent id) -> request
CASES: dict[str, tuple[Build, str]] = {
    "diffusion": (lambda p, v: DiffusionRequest(text="a red fox --ar 3:2"), "grid"),
    "variation": (lambda p, v: VariationRequest(job_id=p, image_no=1, type=VariationType.STRONG,
                                                remix_prompt="in autumn"), "grid"),
    "upscale": (lambda p, v: UpscaleRequest(job_id=p, image_no=2, type=UpscaleType.SUBTLE), "single"),
    "reroll": (lambda p, v: RerollRequest(job_id=p), "grid"),
    "blend": (lambda p, v: BlendRequest(image_urls=[IMG, "https://example.com/dog.png"], aspect_ratio="3:2"),
              "grid"),
    "describe": (lambda p, v: DescribeRequest(image_url=IMG), "text"),
    "shorten": (lambda p, v: ShortenRequest(prompt="a very long and rather wordy prompt about a majestic fox"),
                "text"),
    "pan": (lambda p, v: PanRequest(job_id=p, image_no=0, direction=PanDirection.RIGHT, scale=1.5), "grid"),
    "outpaint": (lambda p, v: OutpaintRequest(job_id=p, image_no=3, scale=1.3), "grid"),
    "inpaint": (lambda p, v: InpaintRequest(job_id=p, image_no=0, mask=Mask(areas=[SQUARE]),
                                            remix_prompt="a hat"), "grid"),
    "remix": (lambda p, v: RemixRequest(job_id=p, image_no=0, remix_prompt="as a statue", mode=RemixMode.SUBTLE),
              "grid"),
    "edit": (lambda p, v: EditRequest(job_id=p, image_no=0, canvas=Canvas(width=1024, height=1024),
                                      image_position=CanvasImage(width=512, height=512, x=256, y=256),
                                      remix_prompt="on a beach"), "grid"),
    "upload-paint": (lambda p, v: UploadPaintRequest(image_url=IMG, canvas=Canvas(width=1024, height=1024),
                                                     image_position=CanvasImage(width=512, height=512, x=0, y=0),
                                                     remix_prompt="a garden", mask=Mask(url=IMG)), "grid"),
    "retexture": (lambda p, v: RetextureRequest(image_url=IMG, remix_prompt="made of glass"), "grid"),
    "remove-background": (lambda p, v: RemoveBackgroundRequest(image_url=IMG), "single"),
    "enhance": (lambda p, v: EnhanceRequest(job_id=p, image_no=1), "single"),
    "video-diffusion": (lambda p, v: VideoDiffusionRequest(job_id=p, image_no=0, video_type=VideoType.SD_480P),
                        "video"),
    "extend-video": (lambda p, v: ExtendVideoRequest(job_id=v, video_no=1, prompt="keep going"), "video"),
    "video-upscale": (lambda p, v: VideoUpscaleRequest(job_id=v, video_no=0), "video"),
    "enhance-upscale": (lambda p, v: EnhanceUpscaleRequest(job_id=p, image_no=0, target_resolution="4K"), "single"),
}


async def _parents(client: LegnextClient) -> tuple[str, str]:
    draft = await finished(client, await client.submit(DiffusionRequest(text="a fox --v 7 --draft")))
    video = await finished(client, await client.submit(VideoDiffusionRequest(prompt=f"{IMG} waves --bs 2")))
    return draft.job_id, video.job_id


def test_the_cases_cover_every_endpoint() -> None:
    from legnext_mcp.dialects.legnext.endpoints import ENDPOINTS

    assert sorted(CASES) == sorted(row.task_type for row in ENDPOINTS)


@pytest.mark.parametrize("endpoint", sorted(CASES))
async def test_endpoint_submits_waits_and_parses_its_result(client: LegnextClient, sandbox: SandboxApp,
                                                            endpoint: str) -> None:
    parent, video = await _parents(client)
    build, kind = CASES[endpoint]
    request = build(parent, video)
    submitted = await client.submit(request)
    assert submitted.status is JobStatus.PENDING
    assert submitted.task_type == endpoint
    assert submitted.meta.usage.frozen > 0 and submitted.meta.usage.consume == 0
    job: Job = await finished(client, submitted)
    assert job.status is JobStatus.COMPLETED
    assert job.meta.usage.consume == job.meta.usage.frozen
    assert job.meta.ended_at is not None and job.meta.created_at is not None
    if kind == "grid":
        assert len(job.output.image_urls) == 4 and job.output.image_url and job.output.seed
        assert job.output.allows("reroll") and job.output.allows("variation", 0)
        # blend runs natively on V8: no upscale, pan, inpaint or outpaint (04-model-information.md)
        assert job.output.allows("upscale", 0) == (endpoint != "blend")
    elif kind == "single":
        assert len(job.output.image_urls) == 1
    elif kind == "video":
        assert job.output.video_urls and all(".mp4" in u for u in job.output.video_urls)
    else:
        assert job.output.prompts and job.output.description
    for url in (job.output.image_urls[:1] or job.output.video_urls[:1]):
        download = await client.download(url)
        assert download.content_type in ("image/png", "video/mp4")
        assert len(download.content) > 500
    posts = [r for r in sandbox.stats.requests if r.method == "POST" and r.path == f"/api/v1/{endpoint}"]
    assert len(posts) == (2 if endpoint in ("diffusion", "video-diffusion") else 1)  # parents too


async def test_video_prompt_mode_uses_batch_size_for_count_and_price(client: LegnextClient) -> None:
    job = await finished(client, await client.submit(VideoDiffusionRequest(prompt=f"{IMG} a wave --bs 1",
                                                                           video_type=VideoType.HD_720P)))
    assert len(job.output.video_urls) == 1
    assert job.meta.usage.consume == 480 // 4 * 2


async def test_balance_reports_credits_and_points_and_drops_by_what_jobs_consume(client: LegnextClient) -> None:
    before = await client.balance()
    await finished(client, await client.submit(DiffusionRequest(text="a fox")))
    after = await client.balance()
    assert before.total_points - after.total_points == 80
    assert after.balance_usd == pytest.approx(after.total_points / 1000)


async def test_wait_reports_every_poll_and_returns_the_completed_job(client: LegnextClient,
                                                                    sandbox: SandboxApp) -> None:
    seen: list[str] = []

    async def on_poll(job: Job) -> None:
        seen.append(job.status.value)

    job = await client.submit(DiffusionRequest(text="a fox"))
    gets_before = sandbox.stats.count("GET", "/api/v1/job/")
    done = await client.wait(job.job_id, timeout=10, on_poll=on_poll, known=job)
    assert done.status is JobStatus.COMPLETED
    # One report per GET (how many GETs depends on the machine's speed), the last one completed.
    assert len(seen) == sandbox.stats.count("GET", "/api/v1/job/") - gets_before >= 1
    assert seen[-1] == "completed" and all(status != "completed" for status in seen[:-1])


async def test_wait_without_a_snapshot_looks_at_once(client: LegnextClient, sandbox: SandboxApp) -> None:
    job = await finished(client, await client.submit(DiffusionRequest(text="a fox")))
    gets_before = sandbox.stats.count("GET", "/api/v1/job/")
    again = await client.wait(job.job_id, timeout=10)
    assert again.job_id == job.job_id
    assert sandbox.stats.count("GET", "/api/v1/job/") == gets_before + 1
