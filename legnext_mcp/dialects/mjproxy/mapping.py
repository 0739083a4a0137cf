"""Relay tasks -> ``core.Job``, and operations -> the requests that run them (``Plan``), both read off the
tables in ``rows.py``. Pure: no I/O.

A new-api relay returns only the grid (``imageUrl``): such a job is ``grid_only`` and its four images are cut
from the grid locally. Everything a relay sends is untrusted: ids pass the job-id rule, only http(s) URLs of a
sane length are kept, text is cut.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from legnext_mcp.core.errors import LocalValidationError
from legnext_mcp.core.ids import check_answer_id
from legnext_mcp.core.job import Job, JobStatus
from legnext_mcp.core.limits import MAX_PROMPT_CHARS
from legnext_mcp.core.operations import (
    Blend,
    Describe,
    ExtendVideo,
    Imagine,
    Inpaint,
    Mask,
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
from legnext_mcp.core.text import cut
from legnext_mcp.dialects.mjproxy import wire
from legnext_mcp.dialects.mjproxy.client import SERVICE
from legnext_mcp.dialects.mjproxy.rows import (
    ACTIONS,
    BLEND_DIMENSIONS,
    BUTTONS,
    BY_OPERATION,
    INPAINT,
    OUTPAINT,
    PAN,
    REROLL,
    STATUSES,
    SUBMIT,
    UPSCALE,
    VARIATION,
    VIDEO_TYPES,
    ZOOM_OUT,
)

log = logging.getLogger("legnext_mcp.mjproxy")
_NUMBERED = re.compile(r"^\s*\d[\ufe0f\u20e3]+\s*")
#: ``--motion`` and ``--bs`` in a video prompt are separate fields of ``/mj/submit/video``.
_VIDEO_FLAGS = re.compile(r"\s--(motion)\s+(low|high)\b|\s--(bs)\s+([124])\b")
#: Output URLs are often signed, so longer than the 1024 characters of an input URL; past this, refused.
MAX_OUTPUT_URL = 4096
#: Button labels named in a refusal (a relay may send thousands).
MAX_LABELS_SHOWN = 20
_UPSCALED_FIRST = ("on a relay, {what} works on an upscaled image: run upscale(job_id='{parent}', image_no={index}) "
                   "first, then {what} that job with image_no=0.")


@dataclass(frozen=True)
class Plan:
    """The requests an operation becomes: one submit, or a button press and (for a modal) its confirmation."""

    endpoint: str
    body: dict[str, Any]
    #: The modal confirmation (Vary Region, Custom Zoom, a remix): fields added to ``{"taskId": <child>}``.
    modal: dict[str, Any] | None = None
    #: Images to fetch and send inline (blend), or the mask image (inpaint with mask.url).
    inline_urls: tuple[str, ...] = ()
    mask: Mask | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def shown(self) -> dict[str, Any]:
        """The request as the ledger keeps it (inline images are added at send time and never stored)."""
        return {"endpoint": self.endpoint, **{k: _abridged(v) for k, v in self.body.items() if k != "base64Array" or v}}


def _abridged(value: Any) -> Any:
    """A ``data:`` URL (a local picture sent inline) as its type and size: the ledger keeps no pictures."""
    if isinstance(value, str) and value.startswith("data:"):
        return f"{value.split(',', 1)[0]},... ({len(value)} characters)"
    return value


def _inline_prompt(prompt: str) -> tuple[str, tuple[str, ...]]:
    """An imagine prompt's leading ``data:`` image prompts (local pictures) moved out to ``base64Array``."""
    words = prompt.split(" ")
    images: list[str] = []
    while words and words[0].startswith("data:image/"):
        images.append(words.pop(0).split("::", 1)[0])
    return " ".join(words).strip(), tuple(images)


# --- reading --------------------------------------------------------------------------------------------


def made_by(task: wire.Task) -> type[Operation]:
    return ACTIONS.get((task.action or "IMAGINE").upper(), Imagine)


def to_job(task: wire.Task) -> Job:
    """The normalized job of a relay task.

    Raises:
        ServerError: the task's id is not a job id.
    """
    job_id = check_answer_id(str(task.id), None, service=SERVICE)
    op = made_by(task)
    kind = op.output
    status = STATUSES.get((task.status or "").upper(), JobStatus.PENDING)
    done = status is JobStatus.COMPLETED
    image_url = _url(task.image_url)
    grid_url = image_url if done and kind == "grid" else None
    images = _urls([u.url for u in task.image_urls]) if done and kind == "grid" else []
    if done and kind == "single" and image_url:
        images = [image_url]
    videos = (_urls([u.url for u in task.video_urls]) or _urls([task.video_url])) if done and kind == "video" else []
    error = None
    if status is JobStatus.FAILED:
        state = (task.status or "").upper()
        error = ("cancelled on the relay" if state == "CANCEL" else
                 "the relay is waiting for a confirmation (modal) that was never sent; nothing was made"
                 if state == "MODAL" else task.fail_reason or "failed without a reason")
    prompts: list[str] = []
    description = None
    final = task.properties.get("finalPrompt")
    if done and kind == "text" and isinstance(final, str):
        prompts = [_strip_number(p) for p in final.replace("\r", "").split("\n") if p.strip()][:10]
        description = final[:4000]
    return Job(
        dialect="mj-proxy", job_id=job_id, task_type=op.task_type, status=status,
        progress=100 if done else task.percent, prompt=(task.prompt_en or task.prompt or "")[:MAX_PROMPT_CHARS] or None,
        grid_url=grid_url, image_urls=images, video_urls=videos[:4], grid_only=bool(grid_url) and not images,
        description=description, prompts=prompts, actions=offers(task.buttons, kind) if done else {},
        error=cut(error, 1000) if error else None, moderated=False,
        created_at=_time(task.submit_time), started_at=_time(task.start_time), ended_at=_time(task.finish_time),
        raw=task.model_dump(mode="json", by_alias=True))


def _url(value: str | None) -> str | None:
    if value and len(value) <= MAX_OUTPUT_URL and value.startswith(("https://", "http://")):
        return value
    if value:
        log.warning("ignored an output URL the relay sent that is not http(s) or too long: %r", value[:80])
    return None


def _urls(values: list[str | None]) -> list[str]:
    """The valid URLs, at most the four a grid or a video batch has."""
    return [url for url in map(_url, values) if url][:4]


def _strip_number(line: str) -> str:
    """``1️⃣ a cat`` -> ``a cat`` (describe and shorten number their suggestions with keycap emoji)."""
    return _NUMBERED.sub("", line).strip()


def _time(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, UTC) if isinstance(ms, int) and 0 < ms < 10**14 else None


def offers(buttons: list[wire.Button], kind: str) -> dict[str, list[int] | bool]:
    """What a finished task's buttons offer, in the operations' names and image numbers (0-3)."""
    ids = [b.custom_id for b in buttons]
    found: dict[str, list[int] | bool] = {}
    for row in BUTTONS:
        name = row.operation.key()
        if kind == "grid" and row.grid is not None:
            if row.whole:
                if any(i.startswith(row.grid) for i in ids):
                    found[name] = True
                continue
            numbers = [n for n in range(4) if any(i.startswith(row.grid.format(n=n + 1)) for i in ids)]
            if numbers:
                found[name] = numbers
        elif kind == "single" and row.single and any(i.startswith(row.single) for i in ids):
            found[name] = [0]
    return found


# --- pressing -------------------------------------------------------------------------------------------


def _task(parent: Job) -> wire.Task | None:
    try:
        return wire.Task.model_validate(parent.raw)
    except ValidationError:
        return None


def press(parent: Job, prefix: str, what: str, *, contains: str = "", notes: tuple[str, ...] = (),
          modal: dict[str, Any] | None = None) -> Plan:
    """Press the parent's button that starts with ``prefix`` (and holds ``contains``), as the relay named it.

    Raises:
        LocalValidationError: the parent has no such button (naming the buttons it has).
    """
    task = _task(parent)
    buttons = task.buttons if task else []
    custom_id = next((b.custom_id for b in buttons if b.custom_id.startswith(prefix) and contains in b.custom_id),
                     None)
    if custom_id is None:
        every = sorted({cut(b.label, 40) for b in buttons if b.label})
        labels = cut(", ".join(every[:MAX_LABELS_SHOWN]), 600)
        if len(every) > MAX_LABELS_SHOWN:  # what reaches the model is capped, and says so
            labels += f", and {len(every) - MAX_LABELS_SHOWN} more buttons not shown"
        raise LocalValidationError(f"job {parent.job_id} does not offer {what} on this relay (its buttons: "
                                   f"{labels or 'none'}).")
    return Plan("action", {"taskId": parent.job_id, "customId": custom_id}, modal=modal, notes=notes)


def plan(op: Operation, parent: Job | None) -> Plan:
    """The requests that run ``op`` (for a follow-up, on ``parent``'s own buttons).

    Raises:
        LocalValidationError: naming what to change; nothing was sent.
    """
    endpoint = SUBMIT[type(op)]
    if isinstance(op, Imagine):
        prompt, images = _inline_prompt(op.prompt)
        return Plan(endpoint, {"prompt": prompt, "base64Array": []}, inline_urls=images)
    if isinstance(op, Describe):
        if op.image_url.startswith("data:"):  # the protocol's inline form: base64 or link
            return Plan(endpoint, {"base64": op.image_url})
        return Plan(endpoint, {"link": op.image_url})
    if isinstance(op, Shorten):
        return Plan(endpoint, {"prompt": op.prompt})
    if isinstance(op, Blend):
        return Plan(endpoint, {"dimensions": BLEND_DIMENSIONS[op.aspect]}, inline_urls=tuple(op.image_urls))
    if isinstance(op, Retexture):
        return Plan(endpoint, {"prompt": op.prompt, "image": op.image_url})
    if isinstance(op, VideoDiffusion | ExtendVideo):
        return _video(op, parent)
    assert parent is not None, "follow-ups are quoted with their parent"
    if parent.status is not JobStatus.COMPLETED:
        raise LocalValidationError(f"job {parent.job_id} is {parent.status.value}; follow-ups need a completed "
                                   "job. Wait for it first.")
    task = _task(parent)
    grid = (made_by(task).output if task else "grid") == "grid"
    if isinstance(op, Reroll):
        assert REROLL.grid is not None
        return press(parent, REROLL.grid, "reroll")
    assert isinstance(op, Upscale | Variation | Remix | Pan | Outpaint | Inpaint)
    row = BY_OPERATION[type(op)]
    index = op.index
    if not grid and index != 0:
        raise LocalValidationError(f"job {parent.job_id} is one upscaled image: {op.key()} it with image_no=0.")
    if grid and row.grid is None:
        raise LocalValidationError(_UPSCALED_FIRST.format(what=op.key(), parent=parent.job_id, index=index))
    if isinstance(op, Upscale):
        if grid:
            assert UPSCALE.grid is not None
            notes = () if op.mode == "subtle" else (
                "a grid's U buttons make the standard upscale; creative upscaling is offered on the upscaled "
                "image (upscale it again with type='creative').",)
            return press(parent, UPSCALE.grid.format(n=index + 1), f"U{index + 1}", notes=notes)
        # upsample_v7_2x_subtle / upsample_v6_2x_creative: the version part varies
        return press(parent, UPSCALE.single[0], f"Upscale ({op.mode.title()})", contains=f"_{op.mode}::")
    if isinstance(op, Variation | Remix):
        strength = op.strength if isinstance(op, Variation) else op.mode
        remix = op.prompt
        modal = {"prompt": remix} if remix is not None else None
        if grid:
            assert VARIATION.grid is not None
            pressed = press(parent, VARIATION.grid.format(n=index + 1), f"V{index + 1}", modal=modal)
            body = {**pressed.body, "strong": strength == "strong"}
        else:
            prefix = VARIATION.single[0 if strength == "subtle" else 1]
            pressed = press(parent, prefix, f"Vary ({strength.title()})", modal=modal)
            body = dict(pressed.body)
        if remix is not None:
            body["enableRemix"] = True
        return Plan("action", body, modal=modal)
    if isinstance(op, Pan):
        notes = () if op.scale == 1.5 else ("the relay's pan buttons extend by their fixed amount; scale is not sent.",)
        modal = {"prompt": op.prompt} if op.prompt is not None else None
        pressed = press(parent, f"{PAN.single[0]}{op.direction}::", f"pan {op.direction}", notes=notes,
                        modal=modal)
        return pressed if modal is None else Plan("action", {**pressed.body, "enableRemix": True}, modal=modal,
                                                  notes=notes)
    base_prompt = op.prompt or parent.prompt or ""
    if isinstance(op, Outpaint):
        zoom_out = ZOOM_OUT.get(float(op.scale))
        if zoom_out is not None and op.prompt is None:
            return press(parent, OUTPAINT.single[0] + zoom_out, f"Zoom Out {op.scale:g}x")
        zoom = f"{base_prompt.split(' --zoom')[0]} --zoom {op.scale:g}".strip()
        return press(parent, OUTPAINT.single[1], "Custom Zoom", modal={"prompt": zoom})
    assert isinstance(op, Inpaint)
    pressed = press(parent, INPAINT.single[0], "Vary (Region)", modal={"prompt": base_prompt})
    return Plan(pressed.endpoint, pressed.body, modal=pressed.modal, mask=op.mask)


def _video(op: VideoDiffusion | ExtendVideo, parent: Job | None) -> Plan:
    """``/mj/submit/video``: the first frame as a URL (an image URL, an upscaled image, or one of the four
    images when the relay listed them), or ``action: "extend"`` on a video task."""
    text = f" {op.prompt or ''}"
    fields: dict[str, Any] = {}
    for found in _VIDEO_FLAGS.finditer(text):
        name, value = (found.group(1), found.group(2)) if found.group(1) else (found.group(3), found.group(4))
        fields["motion" if name == "motion" else "batchSize"] = value if name == "motion" else int(value)
    prompt = _VIDEO_FLAGS.sub("", text).strip()
    if isinstance(op, ExtendVideo):
        assert parent is not None
        if parent.task_type != VideoDiffusion.task_type or op.index >= len(parent.video_urls):
            raise LocalValidationError(f"job {parent.job_id} has no video {op.index} to extend (it has "
                                       f"{len(parent.video_urls)} videos).")
        return Plan("video", {"action": "extend", "taskId": parent.job_id, "index": op.index, "prompt": prompt,
                              **fields})
    image = op.image_url
    if parent is not None:
        assert op.index is not None
        if parent.status is not JobStatus.COMPLETED:
            raise LocalValidationError(f"job {parent.job_id} is {parent.status.value}; wait for it first.")
        if parent.task_type == Upscale.task_type and op.index != 0:
            raise LocalValidationError(f"job {parent.job_id} is one upscaled image: video_diffusion it with "
                                       "image_no=0.")
        if op.index < len(parent.image_urls):
            image = parent.image_urls[op.index]
        else:
            raise LocalValidationError(_UPSCALED_FIRST.format(what="video_diffusion", parent=parent.job_id,
                                                              index=op.index))
    return Plan("video", {"prompt": prompt, "image": image, "videoType": VIDEO_TYPES[op.resolution], **fields})
