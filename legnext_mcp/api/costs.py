"""Documented point costs per job (1 point = $0.001). Failed jobs consume nothing.

Sources: the ``frozen`` values in each endpoint page's example, 03-important-information.md (turbo
doubles the GPU cost), 04-model-information.md (v8 ``--hd``/``--q 4``/``--sv 6`` cost 4x; v8.1 is a
flat 1x), 24-video-diffusion.md (``--bs`` scales the price) and the resolution table of
27-topaz-upscale-image.md. 720p video has no documented price: we assume twice 480p and say so.
"""

from __future__ import annotations

from dataclasses import dataclass

from legnext_mcp.api.models import DiffusionRequest, EnhanceUpscaleRequest, JobRequest, VideoDiffusionRequest, VideoType
from legnext_mcp.api.prompt import parse_prompt

BASE_POINTS: dict[str, int] = {
    "diffusion": 80, "variation": 120, "upscale": 120, "reroll": 80, "blend": 80, "describe": 20,
    "shorten": 20, "pan": 80, "outpaint": 80, "inpaint": 120, "remix": 120, "edit": 120, "upload-paint": 120,
    "retexture": 120, "remove-background": 80, "enhance": 80, "video-diffusion": 480, "extend-video": 480,
    "video-upscale": 480, "enhance-upscale": 120,
}
ENHANCE_UPSCALE_POINTS: dict[str, int] = {"HD": 120, "FHD": 120, "2K": 120, "4K": 160, "6K": 200, "8K": 300, "12K": 540}


@dataclass(frozen=True)
class Estimate:
    """The points a request will freeze (and consume if it succeeds), with how that was worked out."""

    points: int
    basis: str

    @property
    def usd(self) -> float:
        return self.points / 1000

    def __str__(self) -> str:
        return f"{self.points} points (${self.usd:.2f}; {self.basis})"


def base_points(task_type: str) -> int:
    """The documented price of one job of ``task_type`` (either spelling), before modifiers."""
    return BASE_POINTS[task_type.replace("_", "-")]


def cost_summary(task_type: str) -> str:
    """A short human price for tool descriptions: ``80 points ($0.08)``."""
    points = base_points(task_type)
    return f"{points} points (${points / 1000:.2f})"


def estimate(request: JobRequest) -> Estimate:
    """What ``request`` will cost, from the documented prices and the modifiers in its prompt."""
    base = base_points(request.task_type)
    if isinstance(request, DiffusionRequest):
        parsed = parse_prompt(request.text)
        if parsed.version == "8" and ({"hd"} & parsed.names or parsed.value("q") == "4" or parsed.value("sv") == "6"):
            return Estimate(base * 4, "v8 premium (--hd, --q 4 or --sv 6) is 4x")
        if "turbo" in parsed.names:
            return Estimate(base * 2, "turbo is 2x")
        return Estimate(base, "documented price")
    if isinstance(request, EnhanceUpscaleRequest):
        resolution = request.target_resolution or "2K"
        return Estimate(ENHANCE_UPSCALE_POINTS[resolution], f"Topaz {resolution}")
    if isinstance(request, VideoDiffusionRequest):
        batch = 4
        if request.prompt:
            bs = parse_prompt(request.prompt.split(maxsplit=1)[-1] if request.job_id is None else request.prompt,
                              video=True).value("bs")
            batch = int(bs) if bs else 4
        points = base * batch // 4
        if request.video_type == VideoType.HD_720P:
            return Estimate(points * 2, f"{batch} videos; 720p assumed 2x (undocumented)")
        return Estimate(points, f"{batch} videos at 480p")
    return Estimate(base, "documented price")
