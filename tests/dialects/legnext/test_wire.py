"""Request models validate every documented field and range; response models read every documented shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from legnext_mcp.api import (
    ALL_REQUESTS,
    Balance,
    InvalidRequestError,
    Job,
    JobRequest,
    JobStatus,
    build_request,
)
from legnext_mcp.core.operations import Blend, Imagine, image_prompt_urls
from legnext_mcp.core.urls import is_public_url
from legnext_mcp.dialects.legnext.endpoints import ENDPOINTS
from legnext_mcp.dialects.legnext.wire import ApiErrorBody, PanDirection

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
BY_ENDPOINT = {row.task_type: row.request for row in ENDPOINTS}


def test_there_is_one_request_model_per_documented_job_endpoint() -> None:
    assert sorted(BY_ENDPOINT) == sorted([
        "diffusion", "variation", "upscale", "reroll", "blend", "describe", "shorten", "pan", "outpaint",
        "inpaint", "remix", "edit", "upload-paint", "retexture", "remove-background", "enhance",
        "video-diffusion", "extend-video", "video-upscale", "enhance-upscale"])


@pytest.mark.parametrize("path", sorted((FIXTURES / "doc_requests").glob("*.json")), ids=lambda p: p.stem)
def test_documented_request_examples_validate_and_serialise_back_unchanged(path: Path) -> None:
    body = json.loads(path.read_text())
    model = BY_ENDPOINT[path.stem.split("__")[0]]
    request = build_request(model, **body)
    assert request.to_wire() == body


@pytest.mark.parametrize("path", sorted((FIXTURES / "doc_examples").glob("*.json")), ids=lambda p: p.stem)
def test_documented_response_examples_parse(path: Path) -> None:
    body = json.loads(path.read_text())
    if "job_id" in body:
        job = Job.model_validate(body)
        assert job.job_id == body["job_id"]
        assert job.status.value == body["status"]
        if body.get("meta", {}).get("started_at") in ("", "0001-01-01T00:00:00Z"):
            assert job.meta.started_at is None
    elif "data" in body:
        balance = Balance.model_validate(body["data"])
        assert balance.total_points == body["data"]["available_credits"] + body["data"]["available_points"]
    else:
        error = ApiErrorBody.model_validate(body.get("error", body))
        assert error.code in (400, 401)


def test_completed_job_exposes_urls_seed_and_actions() -> None:
    job = Job.model_validate(json.loads((FIXTURES / "doc_examples" / "28-get-task__0.json").read_text()))
    assert job.status is JobStatus.COMPLETED
    assert len(job.output.image_urls) == 4
    assert job.output.seed == "1904983176"
    assert job.output.allows("upscale", 3) and job.output.allows("reroll")
    assert not job.output.allows("enhance", 0)
    assert job.meta.usage.consume == 80


def test_tolerant_parsing_of_observed_quirks() -> None:
    job = Job.model_validate({
        "job_id": "j1", "task_type": "remove_background", "status": "brand-new-status",
        "output": {"image_urls": None, "seed": 12345, "video_urls": None, "extra": 1},
        "meta": {"created_at": "", "started_at": "0001-01-01T00:00:00Z", "ended_at": None},
        "error": None, "logs": None, "unknown_top_level": {"a": 1},
    })
    assert job.task_type == "remove-background"
    assert job.status is JobStatus.UNKNOWN
    assert job.output.seed == "12345"
    assert job.output.image_urls == [] and job.output.video_urls == []
    assert job.meta.created_at is None and job.meta.started_at is None
    assert not job.error.is_error


def test_describe_and_shorten_outputs_are_read() -> None:
    job = Job.model_validate({"job_id": "d", "task_type": "describe", "status": "completed",
                              "output": {"promptEn": "a fox", "description": "A fox.", "finalPrompt": "fox",
                                         "prompts": ["p1", "p2"]}})
    assert job.output.prompts == ["p1", "p2"]
    assert job.output.prompt_en == "a fox" and job.output.final_prompt == "fox"


REJECTED: list[tuple[str, dict[str, Any], str]] = [
    ("diffusion", {"text": ""}, "text"),
    ("diffusion", {"text": "x" * 8193}, "text"),
    ("variation", {"jobId": "j", "imageNo": 4, "type": 0}, "imageNo"),
    ("variation", {"jobId": "j", "imageNo": 0, "type": 2}, "type"),
    ("upscale", {"jobId": "../etc", "imageNo": 0, "type": 0}, "jobId"),
    ("blend", {"imgUrls": ["https://a.com/1.png"], "aspect_ratio": "1:1"}, "imgUrls"),
    ("blend", {"imgUrls": ["https://a.com/1.png"] * 6, "aspect_ratio": "1:1"}, "imgUrls"),
    ("blend", {"imgUrls": ["https://a.com/1.png"] * 2, "aspect_ratio": "16:9"}, "aspect_ratio"),
    ("describe", {"imgUrl": "javascript:alert(1)"}, "imgUrl"),
    ("describe", {"imgUrl": "file:///etc/passwd"}, "imgUrl"),
    ("describe", {"imgUrl": "https://a.com/" + "x" * 1020}, "imgUrl"),
    ("describe", {"imgUrl": "https://user:pw@a.com/x.png"}, "imgUrl"),
    ("pan", {"jobId": "j", "imageNo": 0, "direction": 4, "scale": 1.5}, "direction"),
    ("pan", {"jobId": "j", "imageNo": 0, "direction": 0, "scale": 3.5}, "scale"),
    ("pan", {"jobId": "j", "imageNo": 0, "direction": 0, "scale": 1.0}, "scale"),
    ("outpaint", {"jobId": "j", "imageNo": 0, "scale": 2.5}, "scale"),
    ("inpaint", {"jobId": "j", "imageNo": 0, "mask": {}}, "mask"),
    ("inpaint", {"jobId": "j", "imageNo": 0, "mask": {"areas": [{"width": 100, "height": 600,
                                                                 "points": [1, 1, 2, 2, 3, 3]}]}}, "width"),
    ("inpaint", {"jobId": "j", "imageNo": 0, "mask": {"areas": [{"width": 600, "height": 600,
                                                                 "points": [1, 1, 2, 2, 3]}]}}, "points"),
    ("remix", {"jobId": "j", "imageNo": 0, "remixPrompt": "x", "mode": 3}, "mode"),
    ("remix", {"jobId": "j", "imageNo": 0}, "remixPrompt"),
    ("edit", {"jobId": "j", "imageNo": 0, "canvas": {"width": 100, "height": 100},
              "imgPos": {"width": 10, "height": 10, "x": 500, "y": 0}, "remixPrompt": "x"}, "outside"),
    ("upload-paint", {"imgUrl": "https://a.com/x.png", "canvas": {"width": 100, "height": 100},
                      "imgPos": {"width": 10, "height": 10, "x": 0, "y": 0}, "remixPrompt": "x"}, "mask"),
    ("retexture", {"imgUrl": "https://a.com/x.png"}, "remixPrompt"),
    ("enhance", {"jobId": "j"}, "imageNo"),
    ("video-diffusion", {"prompt": "no url here"}, "image URL"),
    ("video-diffusion", {"jobId": "j"}, "image_no"),
    ("video-diffusion", {"jobId": "j", "imageNo": 0, "videoType": 2}, "videoType"),
    ("extend-video", {"jobId": "j", "videoNo": 5}, "videoNo"),
    ("video-upscale", {"videoNo": 0}, "jobId"),
    ("enhance-upscale", {"jobId": "j", "imageNo": 0, "image_url": "https://a.com/x.png"}, "exactly one"),
    ("enhance-upscale", {"image_url": "https://a.com/x.png", "target_resolution": "16K"}, "target_resolution"),
    ("diffusion", {"text": "ok", "callback": "ftp://x"}, "callback"),
    ("diffusion", {"text": "ok", "unknown_field": 1}, "unknown_field"),
]


@pytest.mark.parametrize(("endpoint", "fields", "named"), REJECTED, ids=[f"{e}-{n}" for e, _, n in REJECTED])
def test_invalid_requests_are_refused_locally_with_the_field_named(endpoint: str, fields: dict[str, Any],
                                                                  named: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        build_request(BY_ENDPOINT[endpoint], **fields)
    assert caught.value.local
    assert named in caught.value.message
    assert caught.value.message.startswith("Invalid request: ") and caught.value.message.count("Nothing was sent") == 1


def test_python_names_serialise_to_the_api_mix_of_camel_and_snake_case() -> None:
    from legnext_mcp.api import EnhanceUpscaleRequest, PanRequest

    pan = PanRequest(job_id="j", image_no=1, direction=PanDirection.LEFT, scale=1.2, remix_prompt="sky")
    assert pan.to_wire() == {"jobId": "j", "imageNo": 1, "direction": 3, "scale": 1.2, "remixPrompt": "sky"}
    topaz = EnhanceUpscaleRequest(job_id="j", image_no=0, target_resolution="4K")
    assert topaz.to_wire() == {"jobId": "j", "imageNo": 0, "target_resolution": "4K"}


def test_pan_directions_follow_the_docs_not_the_official_sdk() -> None:
    assert [d.value for d in (PanDirection.DOWN, PanDirection.RIGHT, PanDirection.UP, PanDirection.LEFT)] == \
        [0, 1, 2, 3]


@pytest.mark.parametrize(("url", "public"), [
    ("https://cdn.example.com/a.png", True), ("http://127.0.0.1/a.png", False), ("http://10.1.2.3/x", False),
    ("http://localhost:8000/x", False), ("http://169.254.169.254/latest", False), ("http://[::1]/x", False),
    # numeric forms a resolver reads as 127.0.0.1, and other spellings of local names
    ("http://2130706433/x", False), ("http://0x7f.1/x", False), ("http://127.1/x", False),
    ("http://localhost./x", False),
    ("http://[::ffff:127.0.0.1]/x", False), ("http://printer.local/x", False), ("http://8.8.8.8/x", True),
])
def test_public_url_check(url: str, public: bool) -> None:
    assert is_public_url(url) is public


def test_the_urls_an_operation_hands_the_api_are_found_in_fields_and_image_prompts() -> None:
    imagine = Imagine(prompt="https://a.example/x.png a fox --sref https://b.example/y.png")
    assert image_prompt_urls(imagine) == ["https://a.example/x.png", "https://b.example/y.png"]
    blend = Blend(image_urls=["https://a.example/1.png", "https://a.example/2.png"], aspect="3:2")
    assert blend.fetched_urls() == ["https://a.example/1.png", "https://a.example/2.png"]


def test_every_request_model_has_one_row_with_its_path_and_task_type() -> None:
    rows = {row.request: row for row in ENDPOINTS}
    assert set(rows) == set(ALL_REQUESTS) and len(ENDPOINTS) == len(ALL_REQUESTS) == 20
    for model, row in rows.items():
        assert issubclass(model, JobRequest)
        assert row.path == f"/v1/{row.task_type}" and row.task_type == row.operation.task_type
