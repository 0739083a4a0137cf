"""The midjourney-proxy protocol as tables (reference/midjourney-proxy.md): which submit endpoint runs each
operation, which relay task action is which operation, the task statuses, and one ``Button`` row per
follow-up, used both to read what a finished task offers and to press it.

Follow-ups press one of the parent task's ``buttons``; its ``customId`` is read from the parent as the relay
returned it (hashes and version-specific names vary per task), found by the stable prefix in its row.
"""

from __future__ import annotations

from dataclasses import dataclass

from legnext_mcp.core.job import JobStatus
from legnext_mcp.core.operations import (
    Blend,
    Describe,
    ExtendVideo,
    Imagine,
    Inpaint,
    Operation,
    Outpaint,
    Pan,
    Remix,
    Reroll,
    Retexture,
    Shorten,
    Upscale,
    Variation,
    VideoDiffusion,
)

#: Operation -> the ``/mj/submit/<endpoint>`` that runs it ("action": pressing one of the parent's buttons).
SUBMIT: dict[type[Operation], str] = {
    Imagine: "imagine", Describe: "describe", Shorten: "shorten", Blend: "blend", Retexture: "retexture",
    VideoDiffusion: "video", ExtendVideo: "video",
    Upscale: "action", Variation: "action", Remix: "action", Reroll: "action", Pan: "action", Outpaint: "action",
    Inpaint: "action",
}
#: Relay task action -> the operation that makes it (its task type, poll class and output are the operation's).
ACTIONS: dict[str, type[Operation]] = {
    "IMAGINE": Imagine, "VARIATION": Variation, "LOW_VARIATION": Variation, "HIGH_VARIATION": Variation,
    "REROLL": Reroll, "BLEND": Blend, "PAN": Pan, "ZOOM": Outpaint, "CUSTOM_ZOOM": Outpaint, "INPAINT": Inpaint,
    "UPSCALE": Upscale, "DESCRIBE": Describe, "SHORTEN": Shorten, "RETEXTURE": Retexture, "VIDEO": VideoDiffusion,
}
#: Operation -> the relay action its task carries (a remix is a variation pressed with a new prompt).
ACTION_OF: dict[type[Operation], str] = {**{op: name for name, op in reversed(ACTIONS.items())}, Remix: "VARIATION"}
STATUSES = {"NOT_START": JobStatus.PENDING, "SUBMITTED": JobStatus.PENDING, "IN_PROGRESS": JobStatus.PROCESSING,
            "SUCCESS": JobStatus.COMPLETED, "FAILURE": JobStatus.FAILED, "CANCEL": JobStatus.FAILED,
            "MODAL": JobStatus.FAILED}
#: Why the operations a relay does not serve are left out (README "Midjourney relays").
UNSUPPORTED = {
    "Edit": "the relay's /mj/submit/edits takes only a prompt and an image, with no canvas, position or mask",
    "UploadPaint": "the relay's /mj/submit/edits takes only a prompt and an image, with no canvas, position or mask",
    "VideoUpscale": "a relay upscales a video only through a button (video_virtual_upscale) that new-api relays "
                    "refuse as an unknown action",
}
VIDEO_TYPES = {"480p": "vid_1.1_i2v_480", "720p": "vid_1.1_i2v_720"}
BLEND_DIMENSIONS = {"2:3": "PORTRAIT", "1:1": "SQUARE", "3:2": "LANDSCAPE"}


@dataclass(frozen=True)
class Button:
    """A follow-up as the relay's buttons offer it.

    ``grid`` is the ``customId`` prefix on a grid task, ``{n}`` standing for the image (1-4: U1..U4, V1..V4),
    or the whole-job button when ``whole``; ``single`` the prefixes on one upscaled image's task (variants of
    the same follow-up: subtle/strong, the four pan directions, the zoom buttons). Whether a press opens a
    modal (code 21, confirmed through ``/mj/submit/modal``) depends on the call (a remix prompt, a custom zoom),
    so the plan says it (``mapping.plan``).
    """

    operation: type[Operation]
    grid: str | None = None
    single: tuple[str, ...] = ()
    whole: bool = False


UPSCALE = Button(Upscale, grid="MJ::JOB::upsample::{n}::", single=("MJ::JOB::upsample_",))
VARIATION = Button(Variation, grid="MJ::JOB::variation::{n}::",
                   single=("MJ::JOB::low_variation::", "MJ::JOB::high_variation::"))
#: A remix presses a variation button with ``enableRemix``; its modal takes the new prompt.
REMIX = Button(Remix, grid=VARIATION.grid, single=VARIATION.single)
REROLL = Button(Reroll, grid="MJ::JOB::reroll::", whole=True)
PAN = Button(Pan, single=("MJ::JOB::pan_",))
#: ``MJ::Outpaint::50`` zooms out 2x and ``::75`` 1.5x; any other scale, or a new prompt, is Custom Zoom (modal).
OUTPAINT = Button(Outpaint, single=("MJ::Outpaint::", "MJ::CustomZoom::"))
#: Vary (Region): its modal takes the prompt and the mask.
INPAINT = Button(Inpaint, single=("MJ::Inpaint::",))
BUTTONS: tuple[Button, ...] = (UPSCALE, VARIATION, REMIX, REROLL, PAN, OUTPAINT, INPAINT)
BY_OPERATION: dict[type[Operation], Button] = {row.operation: row for row in BUTTONS}
ZOOM_OUT = {2.0: "50::", 1.5: "75::"}
