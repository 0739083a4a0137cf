"""Checks on the parent of a follow-up (upscale, variation, pan, video extend...), made before anything is
sent: the parent finished, is the right kind, is inside the 3-day window, offers the action for that
image, and a remix prompt suits the parent's model; and the other way round, what a finished job offers
(``offered``), which each dialect completes with its own rules (``Dialect.follow_ups``).

Pure: the caller fetches the parent (ledger first, then the API). Dialect-specific rules (Legnext's
enhance needs a ``--v 7 --draft`` parent) live with the dialect.

Sources: 07-output-storage.md (3-day window), 28-get-task.md (``available_actions``), 25-extend-video.md
and 26-video-upscale.md (``videoNo``), 04-model-information.md (flags per model).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from legnext_mcp.core.errors import LocalValidationError, PromptError
from legnext_mcp.core.job import Job, JobStatus
from legnext_mcp.core.limits import OPERATION_WINDOW
from legnext_mcp.core.operations import (
    VIDEO_TASKS,
    Edit,
    ExtendVideo,
    Inpaint,
    Operation,
    Outpaint,
    Pan,
    Remix,
    Reroll,
    Upscale,
    Variation,
    VideoUpscale,
)
from legnext_mcp.core.prompt import parse_prompt

#: Operations whose ``prompt`` runs on the parent's model (a remix prompt).
REMIX_PROMPTS = (Variation, Pan, Outpaint, Inpaint, Remix, Edit)
#: Follow-ups an image job lists in its actions, by image number, in the order they are suggested.
ON_IMAGES: tuple[type[Operation], ...] = (Upscale, Variation, Remix, Pan, Outpaint, Inpaint, Edit)


def is_video(job: Job) -> bool:
    return job.task_type in VIDEO_TASKS or bool(job.video_urls)


@dataclass(frozen=True)
class FollowUp:
    """A call that makes sense on a finished job: the operation, and the image (or video) numbers it accepts
    (none for an operation on the whole job), with what it does when that is not plain from its name."""

    operation: type[Operation]
    numbers: tuple[int, ...] = ()
    note: str = ""


def offered(job: Job) -> list[FollowUp]:
    """What a finished job offers by the API's own account: its listed actions, or its videos' follow-ups.
    Nothing for a running or failed job, or for text (describe, shorten)."""
    if job.status is not JobStatus.COMPLETED:
        return []
    if is_video(job):
        videos = tuple(range(len(job.video_urls)))
        if not videos:
            return []
        return [FollowUp(ExtendVideo, videos, "adds 4 seconds"), FollowUp(VideoUpscale, videos)]
    found = [FollowUp(op, tuple(sorted(allowed))) for op in ON_IMAGES
             if isinstance(allowed := job.actions.get(op.key()), list) and allowed]
    if job.actions.get(Reroll.key()) is True:
        found.append(FollowUp(Reroll))
    return found


def model_of(prompt: str | None) -> str | None:
    """The model a prompt ran on (v7 when it names none), or None when the prompt is unknown or unreadable."""
    if not prompt:
        return None
    try:
        return parse_prompt(prompt).version
    except PromptError:
        return None


def check_parent(op: Operation, parent: Job, *, action: str | None, now: datetime,
                 parent_prompt: str | None = None) -> None:
    """Raise if ``op`` cannot work on ``parent``; return quietly when it can (or cannot be told).

    ``action`` is the follow-up the parent must offer for ``op`` (a key of its actions), as the dialect
    names it; None when any image of the parent will do.

    Raises:
        LocalValidationError: naming the parent, what is wrong and what to do instead.
    """
    jid = parent.job_id
    what = op.task_type
    if parent.status is JobStatus.FAILED:
        raise LocalValidationError(f"Job {jid} failed, so it has nothing to {what}; start from a finished job.")
    if parent.status is not JobStatus.COMPLETED:
        raise LocalValidationError(f"Job {jid} is still {parent.status.value}; wait for it to finish, then {what}.")
    created = parent.created_at
    if created is not None:
        created = created if created.tzinfo else created.replace(tzinfo=UTC)
        if now - created > OPERATION_WINDOW:
            raise LocalValidationError(
                f"Job {jid} was created {created:%Y-%m-%d %H:%M} UTC; follow-ups are only possible for 3 days. "
                "Start a new job (or work on its saved image by URL).")
    index = op.image_no
    if op.parent_kind == "video":
        if not is_video(parent):
            raise LocalValidationError(f"Job {jid} is a {parent.task_type} job, not a video; {what} needs a video "
                                       "job.")
        count = len(parent.video_urls)
        if count and index is not None and index >= count:
            raise LocalValidationError(f"Job {jid} has {count} video(s); video_no must be "
                                       f"{'0' if count == 1 else f'0-{count - 1}'}.")
        return
    if is_video(parent):
        raise LocalValidationError(f"Job {jid} is a video job; {what} needs an image job.")
    count = parent.image_count
    if count == 0:
        raise LocalValidationError(f"Job {jid} ({parent.task_type}) produced no images to {what}.")
    if action is not None and parent.actions:
        if not parent.offers(action, index):
            offered = ", ".join(sorted(parent.actions)) or "nothing"
            where = f"image {index} of job {jid}" if index is not None else f"job {jid}"
            raise LocalValidationError(f"{action} is not available for {where}; it offers: {offered}.")
    elif index is not None and index >= count:
        raise LocalValidationError(f"Job {jid} has {count} image(s); image_no must be "
                                   f"{'0' if count == 1 else f'0-{count - 1}'}.")
    check_remix_prompt(op, parent_prompt)


def check_remix_prompt(op: Operation, parent_prompt: str | None) -> None:
    """A remix prompt runs on the parent's model: check its flags against that model (or, when the parent's
    prompt is unknown, against what any model accepts).

    Raises:
        PromptError: a flag the parent's model refuses, naming it.
    """
    text = op.text
    if not isinstance(op, REMIX_PROMPTS) or not text:
        return
    parse_prompt(text, default_version=model_of(parent_prompt))
