"""Relay answers -> jobs: every status, both flavours' image fields, and hostile values refused."""

from __future__ import annotations

from typing import Any

import pytest

from legnext_mcp.core.errors import ServerError
from legnext_mcp.core.job import JobStatus
from legnext_mcp.dialects.mjproxy import wire
from legnext_mcp.dialects.mjproxy.mapping import to_job

GRID = {"id": "1712345678901001", "action": "IMAGINE", "prompt": "a cat", "submitTime": 1712345678901,
        "buttons": [{"customId": "MJ::JOB::upsample::1::abc", "label": "U1"},
                    {"customId": "MJ::JOB::variation::2::abc", "label": "V2"},
                    {"customId": "MJ::JOB::reroll::0::abc::SOLO", "label": ""}]}


def task(**fields: Any) -> wire.Task:
    return wire.Task.model_validate({**GRID, **fields})


@pytest.mark.parametrize(("status", "expected"), [
    ("NOT_START", JobStatus.PENDING), ("SUBMITTED", JobStatus.PENDING), ("IN_PROGRESS", JobStatus.PROCESSING),
    ("SUCCESS", JobStatus.COMPLETED), ("FAILURE", JobStatus.FAILED), ("CANCEL", JobStatus.FAILED),
    ("MODAL", JobStatus.FAILED)])
def test_every_status_maps(status: str, expected: JobStatus) -> None:
    job = to_job(task(status=status, progress="42%", failReason="banned"))
    assert job.status is expected
    if status == "IN_PROGRESS":
        assert job.progress == 42
    if status == "CANCEL":
        assert job.error == "cancelled on the relay"
    if status == "FAILURE":
        assert job.error == "banned"


def test_new_api_grid_only_and_trueai_four_images() -> None:
    grid_only = to_job(task(status="SUCCESS", imageUrl="https://relay.example/mj/image/1712345678901001"))
    assert grid_only.grid_only and grid_only.image_count == 4 and grid_only.image_urls == []
    assert grid_only.actions == {"upscale": [0], "variation": [1], "remix": [1], "reroll": True}
    four = to_job(task(status="SUCCESS", imageUrl="https://cdn.example/g.png",
                       imageUrls=[{"url": f"https://cdn.example/{n}.png"} for n in range(6)]))
    assert not four.grid_only and len(four.image_urls) == 4  # capped at what a grid has


def test_hostile_ids_and_shapes_are_refused() -> None:
    with pytest.raises(ServerError):
        to_job(task(id="../../etc/passwd"))
    assert to_job(task(progress="not a number", status="IN_PROGRESS")).progress is None
    assert to_job(task(buttons=None, properties=None, imageUrls=None)).actions == {}


def test_output_urls_that_are_not_http_are_dropped() -> None:
    job = to_job(task(status="SUCCESS", imageUrl="file:///etc/passwd",
                      imageUrls=[{"url": "javascript:alert(1)"}, {"url": "https://cdn.example/1.png"}]))
    assert job.grid_url is None and job.image_urls == ["https://cdn.example/1.png"]
    video = to_job(task(status="SUCCESS", action="VIDEO", videoUrl="https://cdn.example/v.mp4", videoUrls=None))
    assert video.video_urls == ["https://cdn.example/v.mp4"] and video.task_type == "video-diffusion"
