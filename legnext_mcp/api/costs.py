"""Documented point costs per job (1 point = $0.001). Failed jobs consume nothing.

Sources: the ``frozen`` values in each endpoint page's example, 03-important-information.md (turbo
doubles the GPU cost), 04-model-information.md (v8 ``--hd``/``--q 4``/``--sv 6`` cost 4x) and the
resolution table of 27-topaz-upscale-image.md.
"""

from __future__ import annotations

BASE_POINTS: dict[str, int] = {
    "diffusion": 80, "variation": 120, "upscale": 120, "reroll": 80, "blend": 80, "describe": 20,
    "shorten": 20, "pan": 80, "outpaint": 80, "inpaint": 120, "remix": 120, "edit": 120, "upload-paint": 120,
    "retexture": 120, "remove-background": 80, "enhance": 80, "video-diffusion": 480, "extend-video": 480,
    "video-upscale": 480, "enhance-upscale": 120,
}
ENHANCE_UPSCALE_POINTS: dict[str, int] = {"HD": 120, "FHD": 120, "2K": 120, "4K": 160, "6K": 200, "8K": 300, "12K": 540}


def base_points(task_type: str) -> int:
    """The documented price of one job of ``task_type`` (either spelling), before modifiers."""
    return BASE_POINTS[task_type.replace("_", "-")]


def cost_summary(task_type: str) -> str:
    """A short human price for tool descriptions: ``80 points ($0.08)``."""
    points = base_points(task_type)
    return f"{points} points (${points / 1000:.2f})"
