"""Checks on the parent of a follow-up request (upscale, variation, pan, video extend, ...), made before
anything is sent: the parent is finished, offers the action for that index, is younger than the 3-day
operation window, ``enhance`` has a ``--v 7 --draft`` parent, video follow-ups have a video parent.

Sources: 03-important-information.md (3-day window, enhance needs --v 7 --draft), 28-get-task.md
(``output.available_actions``), 25-extend-video.md and 26-video-upscale.md (``videoNo``). Pure: the
caller fetches the parent (ledger first, then the API).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from legnext_mcp.api.errors import InvalidRequestError
from legnext_mcp.api.models import (
    EditRequest,
    EnhanceRequest,
    ExtendVideoRequest,
    InpaintRequest,
    Job,
    JobRequest,
    JobStatus,
    OutpaintRequest,
    PanRequest,
    RemixRequest,
    RerollRequest,
    UpscaleRequest,
    VariationRequest,
    VideoUpscaleRequest,
)
from legnext_mcp.api.prompt import PromptError, parse_prompt

OPERATION_WINDOW = timedelta(days=3)
#: Request type -> the key its parent lists in ``available_actions``.
ACTIONS: dict[type[JobRequest], str] = {
    VariationRequest: "variation", UpscaleRequest: "upscale", RerollRequest: "reroll", PanRequest: "pan",
    OutpaintRequest: "outpaint", InpaintRequest: "inpaint", RemixRequest: "remix", EditRequest: "edit",
}
VIDEO_TASKS = {"video-diffusion", "extend-video", "video-upscale"}


def parent_id(request: JobRequest) -> str | None:
    """The job a request builds on, if any."""
    value = getattr(request, "job_id", None)
    return value if isinstance(value, str) else None


def _refuse(message: str) -> InvalidRequestError:
    return InvalidRequestError(message + " Nothing was sent.", local=True)


def check_parent(request: JobRequest, parent: Job, *, parent_prompt: str | None, now: datetime) -> None:
    """Raise if ``request`` cannot work on ``parent``; return quietly when it can (or cannot be told).

    Raises:
        InvalidRequestError: (local) naming the parent, what is wrong and what to do instead.
    """
    jid = parent.job_id
    tool = request.task_type.replace("-", "_")
    if parent.status is JobStatus.FAILED:
        raise _refuse(f"Job {jid} failed, so it has no images to {tool}; start from a finished job.")
    if parent.status is not JobStatus.COMPLETED:
        raise _refuse(f"Job {jid} is still {parent.status.value}; call wait_for_job with it first, then {tool}.")
    created = parent.meta.created_at
    if created is not None:
        created = created if created.tzinfo else created.replace(tzinfo=UTC)
        if now - created > OPERATION_WINDOW:
            raise _refuse(f"Job {jid} was created {created:%Y-%m-%d}; follow-ups are only possible for 3 days. "
                          "Run imagine again (or upload_paint / enhance_upscale with its image URL).")
    is_video = parent.task_type in VIDEO_TASKS or bool(parent.output.video_urls)
    if isinstance(request, ExtendVideoRequest | VideoUpscaleRequest):
        if not is_video:
            raise _refuse(f"Job {jid} is a {parent.task_type} job, not a video; {tool} needs a video job.")
        count = len(parent.output.video_urls)
        if count and request.video_no >= count:
            raise _refuse(f"Job {jid} has {count} videos; video_no must be 0-{count - 1}.")
        return
    if is_video:
        raise _refuse(f"Job {jid} is a video job; {tool} needs an image job (video follow-ups: extend_video, "
                      "video_upscale).")
    index = getattr(request, "image_no", None)
    count = parent.image_count or (1 if parent.output.image_url else 0)
    if count == 0:
        raise _refuse(f"Job {jid} ({parent.task_type}) produced no images to {tool}.")
    action = ACTIONS.get(type(request))
    if action is not None and parent.output.available_actions:
        if not parent.output.allows(action, index):
            offered = ", ".join(sorted(parent.output.available_actions)) or "nothing"
            where = f"image {index} of job {jid}" if index is not None else f"job {jid}"
            raise _refuse(f"{action} is not available for {where}; it offers: {offered}.")
    elif isinstance(index, int) and index >= count:
        raise _refuse(f"Job {jid} has {count} image(s); image_no must be 0-{count - 1}.")
    if isinstance(request, EnhanceRequest) and parent_prompt is not None:
        try:
            parsed = parse_prompt(parent_prompt)
        except PromptError:
            return
        if not parsed.draft:
            raise _refuse(f"enhance needs a parent made with --v 7 --draft; job {jid} was made on "
                          f"{'v' if parsed.version[0].isdigit() else ''}{parsed.version} without draft. "
                          "Use upscale instead, or imagine again with --v 7 --draft.")

