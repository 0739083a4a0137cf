"""The simulated API's endpoints: price, typical duration, output kind and body checks, from the docs.

Each ``check_*`` returns the 400 message the API would give, or ``None`` when the body is acceptable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Body = dict[str, Any]
Check = Callable[[Body], str | None]
Output = Literal["grid", "single", "text", "video"]


def _int_in(body: Body, name: str, allowed: set[int], required: bool = True) -> str | None:
    if name not in body or body[name] is None:
        return f"{name} is required" if required else None
    value = body[name]
    if not isinstance(value, int) or isinstance(value, bool) or value not in allowed:
        return f"{name} must be one of {sorted(allowed)}"
    return None


def _text(body: Body, name: str, required: bool = True) -> str | None:
    if name not in body or body[name] is None:
        return f"{name} is required" if required else None
    value = body[name]
    if not isinstance(value, str) or not 1 <= len(value) <= 8192:
        return f"{name} must be a string of 1-8192 characters"
    return None


def _url(value: Any, name: str) -> str | None:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")) or len(value) > 1024:
        return f"{name} must be an http(s) URL of at most 1024 characters"
    return None


def _number(body: Body, name: str, low: float, high: float) -> str | None:
    value = body.get(name)
    if not isinstance(value, int | float) or isinstance(value, bool):
        return f"{name} is required and must be a number"
    if not low <= value <= high:
        return f"{name} must be between {low} and {high}"
    return None


def _polygon(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "polygon must be an object"
    for side in ("width", "height"):
        size = value.get(side)
        if not isinstance(size, int) or not 500 <= size <= 4096:
            return f"polygon {side} must be an integer 500-4096"
    points = value.get("points")
    if not isinstance(points, list) or len(points) < 6 or len(points) % 2 or \
            not all(isinstance(p, int) and not isinstance(p, bool) and p >= 0 for p in points):
        return "polygon points must be at least 3 x,y pairs of non-negative integers"
    return None


def _mask(body: Body, required: bool) -> str | None:
    mask = body.get("mask")
    if mask is None:
        return "mask is required" if required else None
    if not isinstance(mask, dict) or (not mask.get("areas") and not mask.get("url")):
        return "mask needs areas or url"
    if mask.get("areas") and mask.get("url"):
        return "mask takes areas or url, not both"
    if mask.get("url") is not None and (problem := _url(mask["url"], "mask.url")):
        return problem
    for area in mask.get("areas") or []:
        if problem := _polygon(area):
            return problem
    return None


def _box(body: Body, name: str, fields: tuple[str, ...]) -> str | None:
    value = body.get(name)
    if not isinstance(value, dict):
        return f"{name} is required"
    for field in fields:
        number = value.get(field)
        if not isinstance(number, int) or isinstance(number, bool):
            return f"{name}.{field} must be an integer"
        if field in ("width", "height") and number <= 0:
            return f"{name}.{field} must be positive"
    return None


def _first(*problems: str | None) -> str | None:
    return next((p for p in problems if p), None)


def _on_image(body: Body) -> str | None:
    if not isinstance(body.get("jobId"), str) or not body["jobId"]:
        return "jobId is required"
    return _int_in(body, "imageNo", {0, 1, 2, 3})


def _on_video(body: Body) -> str | None:
    if not isinstance(body.get("jobId"), str) or not body["jobId"]:
        return "jobId is required"
    return _int_in(body, "videoNo", {0, 1, 2, 3})


def _blend(body: Body) -> str | None:
    urls = body.get("imgUrls")
    if not isinstance(urls, list) or not 2 <= len(urls) <= 5:
        return "imgUrls must hold 2-5 image URLs"
    if problem := next((p for p in (_url(u, "imgUrls") for u in urls) if p), None):
        return problem
    if body.get("aspect_ratio") not in ("2:3", "1:1", "3:2"):
        return "aspect_ratio must be 2:3, 1:1 or 3:2"
    return None


def _video(body: Body) -> str | None:
    if "jobId" in body:
        return _first(_on_image(body), _text(body, "prompt", required=False),
                      _int_in(body, "videoType", {0, 1}, required=False))
    if problem := _text(body, "prompt"):
        return problem
    first = str(body["prompt"]).split(maxsplit=1)[0]
    if _url(first, "prompt"):
        return "prompt must start with an image URL: '[image_url] your prompt'"
    return _int_in(body, "videoType", {0, 1}, required=False)


_RESOLUTION_COST = {"HD": 120, "FHD": 120, "2K": 120, "4K": 160, "6K": 200, "8K": 300, "12K": 540}
_TOPAZ_ENUMS = {
    "target_resolution": set(_RESOLUTION_COST),
    "content_type": {"standard", "photo", "illustration", "text", "low_res"},
    "aspect_ratio": {"keep", "1:1", "16:9", "9:16", "4:5", "5:4", "3:2", "2:3", "4:3", "3:4"},
    "crop_mode": {"letterbox", "crop", "stretch"},
    "output_format": {"jpeg", "jpg", "png", "tiff", "tif"},
    "face_enhancement_level": {"off", "none", "subtle", "moderate", "strong"},
}


def _topaz(body: Body) -> str | None:
    if "image_url" in body and ("jobId" in body or "imageNo" in body):
        return "give image_url, or jobId with imageNo, not both"
    if "image_url" in body:
        if problem := _url(body["image_url"], "image_url"):
            return problem
    elif problem := _on_image(body):
        return f"give image_url, or jobId with imageNo ({problem})"
    for name, allowed in _TOPAZ_ENUMS.items():
        if name in body and body[name] not in allowed:
            return f"{name} must be one of {', '.join(sorted(allowed))}"
    return None


def topaz_cost(body: Body) -> int:
    return _RESOLUTION_COST.get(str(body.get("target_resolution", "2K")), 120)


@dataclass(frozen=True)
class Endpoint:
    """One job endpoint. ``parent``: what ``jobId`` must name; ``action``: the key of the parent's
    ``available_actions`` that must list the index (None: the index must just exist)."""

    name: str
    task_type: str
    cost: int
    duration_s: float
    output: Output
    check: Check
    parent: Literal["image", "video", "optional-image"] | None = None
    action: str | None = None
    prompt_field: str | None = None


ENDPOINTS: dict[str, Endpoint] = {e.name: e for e in (
    Endpoint("diffusion", "diffusion", 80, 40, "grid", lambda b: _text(b, "text"), prompt_field="text"),
    Endpoint("variation", "variation", 120, 40, "grid",
             lambda b: _first(_on_image(b), _int_in(b, "type", {0, 1}), _text(b, "remixPrompt", False)),
             parent="image", action="variation", prompt_field="remixPrompt"),
    Endpoint("upscale", "upscale", 120, 20, "single",
             lambda b: _first(_on_image(b), _int_in(b, "type", {0, 1, 2, 3})), parent="image", action="upscale"),
    Endpoint("reroll", "reroll", 80, 40, "grid",
             lambda b: None if isinstance(b.get("jobId"), str) and b["jobId"] else "jobId is required",
             parent="image", action="reroll"),
    Endpoint("blend", "blend", 80, 40, "grid", _blend),
    Endpoint("describe", "describe", 20, 8, "text", lambda b: _url(b.get("imgUrl"), "imgUrl")),
    Endpoint("shorten", "shorten", 20, 6, "text", lambda b: _text(b, "prompt"), prompt_field="prompt"),
    Endpoint("pan", "pan", 80, 40, "grid",
             lambda b: _first(_on_image(b), _int_in(b, "direction", {0, 1, 2, 3}), _number(b, "scale", 1.1, 3.0),
                              _text(b, "remixPrompt", False)),
             parent="image", action="pan", prompt_field="remixPrompt"),
    Endpoint("outpaint", "outpaint", 80, 40, "grid",
             lambda b: _first(_on_image(b), _number(b, "scale", 1.1, 2.0), _text(b, "remixPrompt", False)),
             parent="image", action="outpaint", prompt_field="remixPrompt"),
    Endpoint("inpaint", "inpaint", 120, 40, "grid",
             lambda b: _first(_on_image(b), _mask(b, required=True), _text(b, "remixPrompt", False)),
             parent="image", action="inpaint", prompt_field="remixPrompt"),
    Endpoint("remix", "remix", 120, 40, "grid",
             lambda b: _first(_on_image(b), _text(b, "remixPrompt"), _int_in(b, "mode", {0, 1}, False)),
             parent="image", action="remix", prompt_field="remixPrompt"),
    Endpoint("edit", "edit", 120, 40, "grid",
             lambda b: _first(_on_image(b), _box(b, "canvas", ("width", "height")),
                              _box(b, "imgPos", ("width", "height", "x", "y")), _text(b, "remixPrompt"),
                              _mask(b, required=False)),
             parent="image", action="edit", prompt_field="remixPrompt"),
    Endpoint("upload-paint", "upload_paint", 120, 40, "grid",
             lambda b: _first(_url(b.get("imgUrl"), "imgUrl"), _box(b, "canvas", ("width", "height")),
                              _box(b, "imgPos", ("width", "height", "x", "y")), _text(b, "remixPrompt"),
                              _mask(b, required=True)),
             prompt_field="remixPrompt"),
    Endpoint("retexture", "retexture", 120, 40, "grid",
             lambda b: _first(_url(b.get("imgUrl"), "imgUrl"), _text(b, "remixPrompt")), prompt_field="remixPrompt"),
    Endpoint("remove-background", "remove_background", 80, 15, "single", lambda b: _url(b.get("imgUrl"), "imgUrl")),
    Endpoint("enhance", "enhance", 80, 30, "single", _on_image, parent="image"),
    Endpoint("video-diffusion", "video_diffusion", 480, 90, "video", _video, parent="optional-image",
             prompt_field="prompt"),
    Endpoint("extend-video", "extend_video", 480, 90, "video",
             lambda b: _first(_on_video(b), _text(b, "prompt", False)), parent="video", prompt_field="prompt"),
    Endpoint("video-upscale", "video_upscale", 480, 60, "video", _on_video, parent="video"),
    Endpoint("enhance-upscale", "enhance_upscale", 120, 30, "single", _topaz, parent="optional-image"),
)}
