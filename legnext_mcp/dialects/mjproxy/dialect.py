"""The midjourney-proxy protocol as a dialect: operations -> ``/mj/submit/*`` requests, relay tasks ->
``core.Job``.

Every follow-up presses one of the parent task's ``buttons``: its ``customId`` is read from the parent as the
relay returned it (hashes and version-specific names vary per task), found by the stable part of the id
(``BUTTON_FAMILIES``). Vary (Region) and Custom Zoom answer code 21 with a MODAL child task, confirmed
through ``/mj/submit/modal`` inside the same tool call. Prices are the user's table (LEGNEXT_RELAY_PRICES)
or unknown; never Legnext's.
"""

from __future__ import annotations

import base64
import io
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from legnext_mcp.core import policy
from legnext_mcp.core.clock import Clock
from legnext_mcp.core.errors import (
    BadRequestError,
    LegnextError,
    LocalValidationError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    SubmissionUncertainError,
)
from legnext_mcp.core.ids import check_answer_id, check_job_id
from legnext_mcp.core.job import Job, JobStatus
from legnext_mcp.core.limits import MAX_PROMPT_CHARS
from legnext_mcp.core.media import sniff
from legnext_mcp.core.money import Estimate
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
    Video,
)
from legnext_mcp.core.policy import PollPlan, RequestKind
from legnext_mcp.core.urls import is_public_url
from legnext_mcp.dialects.base import AccountSummary, Prepared
from legnext_mcp.dialects.mjproxy import wire
from legnext_mcp.http.download import Download, Downloader
from legnext_mcp.http.transport import ApiProfile, ApiTransport, HeaderAuth, check_key

SERVICE = "the relay"
_NUMBERED = re.compile(r"^\s*\d[\ufe0f\u20e3]+\s*")
log = logging.getLogger("legnext_mcp.mjproxy")

#: Operation -> (tool whose price it is, the submit endpoint: "action" means pressing a parent's button).
ROWS: dict[type[Operation], tuple[str, str]] = {
    Imagine: ("imagine", "imagine"), Describe: ("describe", "describe"), Shorten: ("shorten", "shorten"),
    Blend: ("blend", "blend"), Upscale: ("upscale", "action"), Variation: ("variation", "action"),
    Reroll: ("reroll", "action"), Pan: ("pan", "action"), Outpaint: ("outpaint", "action"),
    Inpaint: ("inpaint", "action"), Remix: ("remix", "action"), Retexture: ("retexture", "retexture"),
    Video: ("video_diffusion", "video"), ExtendVideo: ("extend_video", "video"),
}
#: Relay task action -> (the neutral task type, its poll class, what it makes).
ACTIONS: dict[str, tuple[str, str, str]] = {
    "IMAGINE": ("diffusion", "image", "grid"), "VARIATION": ("variation", "image", "grid"),
    "LOW_VARIATION": ("variation", "image", "grid"), "HIGH_VARIATION": ("variation", "image", "grid"),
    "REROLL": ("reroll", "image", "grid"), "BLEND": ("blend", "image", "grid"), "PAN": ("pan", "image", "grid"),
    "ZOOM": ("outpaint", "image", "grid"), "CUSTOM_ZOOM": ("outpaint", "image", "grid"),
    "INPAINT": ("inpaint", "image", "grid"), "UPSCALE": ("upscale", "single", "single"),
    "DESCRIBE": ("describe", "text", "text"), "SHORTEN": ("shorten", "text", "text"),
    "RETEXTURE": ("retexture", "image", "grid"), "VIDEO": ("video-diffusion", "video", "video"),
}
VIDEO_TYPES = {"480p": "vid_1.1_i2v_480", "720p": "vid_1.1_i2v_720"}
#: ``--motion`` and ``--bs`` in a video prompt are separate fields of ``/mj/submit/video``.
_VIDEO_FLAGS = re.compile(r"\s--(motion)\s+(low|high)\b|\s--(bs)\s+([124])\b")
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
#: Output URLs are often signed, so longer than the 1024 characters of an input URL; past this, refused.
MAX_OUTPUT_URL = 4096
BLEND_DIMENSIONS = {"2:3": "PORTRAIT", "1:1": "SQUARE", "3:2": "LANDSCAPE"}
#: Outpaint scale -> the Zoom Out button (Outpaint::50 is 2x, ::75 is 1.5x); other scales use Custom Zoom.
ZOOM_BUTTONS = {2.0: "MJ::Outpaint::50::", 1.5: "MJ::Outpaint::75::"}
_UPSCALED_FIRST = ("on a relay, {what} works on an upscaled image: run upscale(job_id='{parent}', image_no={index}) "
                   "first, then {what} that job with image_no=0.")


def read_error(body: Any) -> tuple[str | None, str | None]:
    """The message of a relay error: new-api's ``{"error": {"message"}}``, the proxy's ``{description}`` or a
    bare ``{message}``."""
    if not isinstance(body, Mapping):
        return None, None
    nested = body.get("error")
    if isinstance(nested, Mapping) and isinstance(nested.get("message"), str):
        return nested["message"], None
    for name in ("description", "message"):
        if isinstance(body.get(name), str) and body[name]:
            return body[name], None
    return None, None


PROFILE = ApiProfile(service=SERVICE, key_help="the key is the one your relay gave you",
                     concurrency_help="The relay limits how many jobs run at once", read_error=read_error)


@dataclass(frozen=True)
class Plan:
    """The requests an operation becomes: one submit, or a button press and (for a modal) its confirmation."""

    endpoint: str
    body: dict[str, Any]
    #: The modal confirmation (Vary Region, Custom Zoom): fields added to ``{"taskId": <child>}``.
    modal: dict[str, Any] | None = None
    #: Images to fetch and send inline (blend), or the mask image (inpaint with mask.url).
    inline_urls: tuple[str, ...] = ()
    mask: Mask | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def to_job(task: wire.Task) -> Job:
    """The normalized job of a relay task. A new-api relay returns only the grid (``imageUrl``): the job is
    ``grid_only`` and the four images are cut from it locally."""
    job_id = check_answer_id(str(task.id), None, service=SERVICE)
    action = (task.action or "IMAGINE").upper()
    task_type, _, kind = ACTIONS.get(action, ("diffusion", "image", "grid"))
    status = STATUSES.get((task.status or "").upper(), JobStatus.PENDING)
    done = status is JobStatus.COMPLETED
    # URLs from the relay are untrusted: only http(s) of a sane length reach a result or a download.
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
        dialect="mj-proxy", job_id=job_id, task_type=task_type, status=status,
        progress=100 if done else task.percent, prompt=(task.prompt_en or task.prompt or "")[:MAX_PROMPT_CHARS] or None,
        grid_url=grid_url, image_urls=images, video_urls=videos[:4], grid_only=bool(grid_url) and not images,
        description=description, prompts=prompts, actions=_actions(task, kind) if done else {},
        error=error[:1000] if error else None, moderated=False,
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


def _actions(task: wire.Task, kind: str) -> dict[str, list[int] | bool]:
    """What the buttons offer, in the tools' terms (image numbers 0-3)."""
    ids = [b.custom_id for b in task.buttons]
    found: dict[str, list[int] | bool] = {}
    if kind == "grid":
        for action, family in (("upscale", "MJ::JOB::upsample::"), ("variation", "MJ::JOB::variation::")):
            # MJ::JOB::upsample::3::<hash> is U3, image_no 2
            digits = {i[len(family)] for i in ids if i.startswith(family) and len(i) > len(family)}
            numbers = sorted(int(d) - 1 for d in digits & {"1", "2", "3", "4"})
            if numbers:
                found[action] = numbers
        if "variation" in found:  # a V button pressed with enableRemix
            found["remix"] = found["variation"]
        if any(i.startswith("MJ::JOB::reroll::") for i in ids):
            found["reroll"] = True
    elif kind == "single":
        for action, families in (("upscale", ("MJ::JOB::upsample_",)),
                                 ("variation", ("MJ::JOB::low_variation::", "MJ::JOB::high_variation::")),
                                 ("pan", ("MJ::JOB::pan_",)), ("outpaint", ("MJ::Outpaint::", "MJ::CustomZoom::")),
                                 ("inpaint", ("MJ::Inpaint::",))):
            if any(i.startswith(families) for i in ids):
                found[action] = [0]
    return found


def button(parent: Job, family: str, what: str) -> str:
    """The parent's ``customId`` that starts with ``family``, as the relay gave it.

    Raises:
        LocalValidationError: the parent has no such button (naming what it does offer).
    """
    try:
        task = wire.Task.model_validate(parent.raw)
    except ValidationError:
        task = None
    ids = [b.custom_id for b in task.buttons] if task else []
    for custom_id in ids:
        if custom_id.startswith(family):
            return custom_id
    offered = ", ".join(sorted({b.label for b in task.buttons if b.label})) if task else ""
    raise LocalValidationError(f"job {parent.job_id} does not offer {what} on this relay (its buttons: "
                               f"{offered or 'none'}).")


class MjProxyDialect:
    """The operations a midjourney-proxy relay serves, with the same guarantees as Legnext's."""

    name = "mj-proxy"
    service = SERVICE
    OPERATIONS: frozenset[type[Operation]] = frozenset(ROWS)

    def __init__(self, api_key: str, *, base_url: str, prices: Mapping[str, int] | None = None,
                 unit: str = "credits", transport: Any = None, download_transport: Any = None,
                 clock: Clock | None = None, download_max_bytes: int = policy.DOWNLOAD_MAX_BYTES) -> None:
        key = check_key(api_key)
        self.base_url = base_url.rstrip("/")
        self.clock = clock or Clock()
        self.unit = unit
        self.prices = dict(prices or {})
        # Bearer for new-api relays, mj-api-secret for a bare proxy: both to the relay's origin only.
        self.http = ApiTransport(self.base_url, auth=HeaderAuth({"authorization": f"Bearer {key}",
                                                                 "mj-api-secret": key}),
                                 secret=key, profile=PROFILE, transport=transport, clock=self.clock)
        self.downloader = Downloader(allow_local=not is_public_url(self.base_url), transport=download_transport,
                                     max_bytes=download_max_bytes)

    def __repr__(self) -> str:
        return f"MjProxyDialect(base_url={self.base_url!r}, api_key='***')"

    def supports(self, operation: type[Operation]) -> bool:
        return operation in self.OPERATIONS

    def unsupported_reason(self, operation: type[Operation]) -> str:
        if self.supports(operation):
            return ""
        why = UNSUPPORTED.get(operation.__name__, f"the midjourney-proxy protocol has no {operation.__name__} "
                                                  "endpoint or button")
        return f"{why}, so it is not offered on relays (the Legnext API has it)"

    # --- preparing ------------------------------------------------------------------------------------

    def prepare(self, op: Operation, parent: Job | None, parent_prompt: str | None) -> Prepared:
        """Build the request from the operation and (for follow-ups) the parent's buttons; price it.

        Raises:
            LocalValidationError: naming what to change; nothing was sent.
        """
        tool, _ = ROWS[type(op)]
        plan = self._plan(op, parent)
        amount = self.prices.get(tool)
        estimate = Estimate(amount, "your relay's price, from LEGNEXT_RELAY_PRICES", unit=self.unit) \
            if amount is not None else Estimate(None, "relays set their own prices; set LEGNEXT_RELAY_PRICES to "
                                                      "know it", unit=self.unit)
        return Prepared(operation=op, task_type=op.task_type, body={"endpoint": plan.endpoint, **_shown(plan.body)},
                        estimate=estimate, notes=plan.notes, plan=plan)

    def _plan(self, op: Operation, parent: Job | None) -> Plan:
        if isinstance(op, Imagine):
            return Plan("imagine", {"prompt": op.prompt, "base64Array": []})
        if isinstance(op, Describe):
            return Plan("describe", {"link": op.image_url})
        if isinstance(op, Shorten):
            return Plan("shorten", {"prompt": op.prompt})
        if isinstance(op, Blend):
            return Plan("blend", {"dimensions": BLEND_DIMENSIONS[op.aspect]}, inline_urls=tuple(op.image_urls))
        if isinstance(op, Retexture):
            return Plan("retexture", {"prompt": op.prompt, "image": op.image_url})
        if isinstance(op, Video | ExtendVideo):
            return self._video(op, parent)
        assert parent is not None, "follow-ups are quoted with their parent"
        if not parent.is_terminal or parent.status is not JobStatus.COMPLETED:
            raise LocalValidationError(f"job {parent.job_id} is {parent.status.value}; follow-ups need a completed "
                                       "job. Wait for it first.")
        grid = ACTIONS.get(str(parent.raw.get("action") or "").upper(), ("", "", "grid"))[2] == "grid"
        press = self._press
        if isinstance(op, Reroll):
            return press(parent, "MJ::JOB::reroll::", "reroll")
        assert isinstance(op, Upscale | Variation | Remix | Pan | Outpaint | Inpaint)
        index = op.index
        if isinstance(op, Remix):  # a variation whose modal takes the new prompt
            op = Variation(parent=op.parent, index=op.index, strength=op.mode, prompt=op.prompt)
        remix = op.prompt if isinstance(op, Variation | Pan) else None
        if isinstance(op, Upscale):
            if grid:
                notes = () if op.mode == "subtle" else (
                    "a grid's U buttons make the standard upscale; creative upscaling is offered on the upscaled "
                    "image (upscale it again with mode='creative').",)
                return press(parent, f"MJ::JOB::upsample::{index + 1}::", f"U{index + 1}", notes)
            self._single(parent, index, "upscale")
            return press(parent, "MJ::JOB::upsample_", f"Upscale ({op.mode.title()})", mode=op.mode)
        if isinstance(op, Variation):
            if grid:
                plan = press(parent, f"MJ::JOB::variation::{index + 1}::", f"V{index + 1}", remix=remix)
                return replace(plan, body={**plan.body, "strong": op.strength == "strong"})
            self._single(parent, index, "variation")
            family = "MJ::JOB::low_variation::" if op.strength == "subtle" else "MJ::JOB::high_variation::"
            return press(parent, family, f"Vary ({op.strength.title()})", remix=remix)
        if grid:
            what = type(op).__name__.lower()
            raise LocalValidationError(_UPSCALED_FIRST.format(what=what, parent=parent.job_id, index=index))
        self._single(parent, index, type(op).__name__.lower())
        if isinstance(op, Pan):
            notes = () if op.scale == 1.5 else ("the relay's pan buttons extend by their fixed amount; scale is "
                                                "not sent.",)
            return press(parent, f"MJ::JOB::pan_{op.direction}::", f"pan {op.direction}", notes, remix=remix)
        base_prompt = op.prompt or parent.prompt or ""
        if isinstance(op, Outpaint):
            zoom_out = ZOOM_BUTTONS.get(float(op.scale))
            if zoom_out is not None and op.prompt is None:
                return press(parent, zoom_out, f"Zoom Out {op.scale:g}x")
            zoom = f"{base_prompt.split(' --zoom')[0]} --zoom {op.scale:g}".strip()
            return press(parent, "MJ::CustomZoom::", "Custom Zoom", modal={"prompt": zoom})
        assert isinstance(op, Inpaint)
        plan = press(parent, "MJ::Inpaint::", "Vary (Region)", modal={"prompt": base_prompt})
        return replace(plan, mask=op.mask)

    @staticmethod
    def _video(op: Video | ExtendVideo, parent: Job | None) -> Plan:
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
            if parent.task_type != "video-diffusion" or op.index >= len(parent.video_urls):
                raise LocalValidationError(f"job {parent.job_id} has no video {op.index} to extend (it has "
                                           f"{len(parent.video_urls)} videos).")
            return Plan("video", {"action": "extend", "taskId": parent.job_id, "index": op.index, "prompt": prompt,
                                  **fields})
        image = op.image_url
        if parent is not None:
            assert op.index is not None
            if parent.status is not JobStatus.COMPLETED:
                raise LocalValidationError(f"job {parent.job_id} is {parent.status.value}; wait for it first.")
            if parent.task_type == "upscale":
                MjProxyDialect._single(parent, op.index, "video_diffusion")
            if op.index < len(parent.image_urls):
                image = parent.image_urls[op.index]
            else:
                raise LocalValidationError(_UPSCALED_FIRST.format(what="video_diffusion", parent=parent.job_id,
                                                                  index=op.index))
        return Plan("video", {"prompt": prompt, "image": image, "videoType": VIDEO_TYPES[op.resolution], **fields})

    @staticmethod
    def _single(parent: Job, index: int, what: str) -> None:
        if index != 0:
            raise LocalValidationError(f"job {parent.job_id} is one upscaled image: {what} it with image_no=0.")

    @staticmethod
    def _press(parent: Job, family: str, what: str, notes: tuple[str, ...] = (),
               modal: dict[str, Any] | None = None, mode: str | None = None, remix: str | None = None) -> Plan:
        """Press the parent's button of ``family``; with ``remix``, ask for the remix modal (``enableRemix``)
        and confirm it with the new prompt."""
        if mode is not None:  # upsample_v7_2x_subtle / upsample_v6_2x_creative: the version part varies
            task = wire.Task.model_validate(parent.raw)
            found = next((b.custom_id for b in task.buttons if b.custom_id.startswith(family)
                          and f"_{mode}::" in b.custom_id), None)
            if found is None:
                raise LocalValidationError(f"job {parent.job_id} does not offer {what} on this relay.")
            custom_id = found
        else:
            custom_id = button(parent, family, what)
        body: dict[str, Any] = {"taskId": parent.job_id, "customId": custom_id}
        if remix is not None:
            body["enableRemix"] = True
            modal = {"prompt": remix}
        return Plan("action", body, modal=modal, notes=notes)

    # --- sending --------------------------------------------------------------------------------------

    async def submit(self, prepared: Prepared) -> Job:
        """Send it once. A button that opens a modal (code 21, "Waiting for window confirm") is confirmed at
        once through ``/mj/submit/modal``; that confirmation is the paid request.

        Raises: LocalValidationError (an inline image could not be fetched: nothing sent), BadRequestError
        (codes 3, 4, 24 and others), RateLimitedError (23, queue full), SubmissionUncertainError, ...
        """
        plan = prepared.plan
        assert isinstance(plan, Plan)
        body = dict(plan.body)
        if plan.inline_urls:
            body["base64Array"] = [await self._inline(url) for url in plan.inline_urls]
        modal = dict(plan.modal) if plan.modal is not None else None
        if modal is not None and plan.mask is not None:
            modal["maskBase64"] = await self._mask(plan.mask)
        answer = await self._post(plan.endpoint, body)
        if answer.code == wire.EXISTS_OR_MODAL and modal is not None and answer.task_id:
            child = check_answer_id(answer.task_id, None, service=SERVICE)
            answer = await self._post("modal", {"taskId": child, **modal})
        return await self._accepted(answer, prepared.task_type)

    async def _post(self, endpoint: str, body: dict[str, Any]) -> wire.SubmitAnswer:
        try:
            raw = await self.http.request(RequestKind.CREATE, "POST", f"mj/submit/{endpoint}", json_body=body)
        except NotFoundError as exc:  # a 404 made nothing: say which it was, an old relay or a gone parent
            reason = str(exc.message).split("(", 1)[-1].split(")", 1)[0][:200]
            if endpoint in ("action", "modal"):
                raise NotFoundError(f"The relay no longer has the task this follows up ({reason}); nothing was "
                                    "made or charged. Make a new job and follow up on that.", status=404) from None
            raise BadRequestError(f"This relay has no /mj/submit/{endpoint} (HTTP 404: {reason}), so it does not "
                                  "offer this tool; nothing was made or charged.", status=404) from None
        try:
            return wire.SubmitAnswer.model_validate(raw)
        except ValidationError:
            raise SubmissionUncertainError("The relay sent an answer we could not read; the job may have been "
                                           "created and was not re-sent. Check recent jobs before submitting "
                                           "again.") from None

    async def _accepted(self, answer: wire.SubmitAnswer, task_type: str) -> Job:
        code, text = answer.code, answer.description[:300]
        if code in (wire.ACCEPTED, wire.QUEUED) or (code == wire.EXISTS_OR_MODAL and wire.MODAL_WAITING not in text):
            if not answer.task_id:
                raise SubmissionUncertainError(f"The relay accepted the job (code {code}) but named no task id; it "
                                               "may exist. Check the relay before submitting again.")
            try:
                job_id = check_answer_id(answer.task_id, None, service=SERVICE)
            except ServerError as exc:
                raise SubmissionUncertainError(exc.message + " The job may have been created.") from None
            if code == wire.EXISTS_OR_MODAL:  # the relay already has this result: return it as it is
                return await self.get(job_id)
            queued = answer.properties.get("numberOfQueues")
            if code == wire.QUEUED:
                log.info("relay queued %s (%s ahead)", job_id, queued)
            action = next((name for name, row in ACTIONS.items() if row[0] == task_type), "IMAGINE")
            return Job(dialect=self.name, job_id=job_id, task_type=task_type, status=JobStatus.PENDING,
                       created_at=datetime.now(UTC), raw={"id": job_id, "status": "SUBMITTED", "action": action})
        if code == wire.QUEUE_FULL:
            raise RateLimitedError(f"The relay's queue is full (code 23: {text}); nothing was made or charged. "
                                   "Try again in a minute.", status=200)
        if code == wire.BANNED:
            word = str(answer.properties.get("bannedWord") or "")[:60]
            named = f" the word {word!r}" if word else " a word in it"
            raise BadRequestError(f"The relay refused the prompt because of{named} (code 24: banned prompt); "
                                  "nothing was charged. Rephrase without it.", status=200)
        raise BadRequestError(f"The relay refused the request (code {code}: {text or 'no description'}); "
                              "nothing was charged.", status=200)

    async def _inline(self, url: str) -> str:
        try:
            download = await self.downloader.fetch(url)
        except LegnextError as exc:
            raise LocalValidationError(f"could not fetch {url[:100]} to send it to the relay: {exc.message}") from None
        kind = sniff(download.content)
        if kind is None or not kind.startswith("image/"):
            raise LocalValidationError(f"{url[:100]} is not an image (PNG, JPEG, WebP, GIF); nothing was sent.")
        return f"data:{kind};base64,{base64.b64encode(download.content).decode()}"

    async def _mask(self, mask: Mask) -> str:
        if mask.url is not None:
            return await self._inline(mask.url)
        assert mask.areas
        from PIL import Image, ImageDraw

        first = mask.areas[0]
        image = Image.new("L", (first.width, first.height), 0)
        draw = ImageDraw.Draw(image)
        for area in mask.areas:  # white = repaint, in the first polygon's pixel space
            sx, sy = first.width / area.width, first.height / area.height
            draw.polygon([(x * sx, y * sy) for x, y in zip(area.points[0::2], area.points[1::2], strict=True)],
                         fill=255)
        out = io.BytesIO()
        image.save(out, format="PNG")
        return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()

    # --- reading --------------------------------------------------------------------------------------

    async def get(self, job_id: str) -> Job:
        check_job_id(job_id)
        raw = await self.http.request(RequestKind.READ, "GET", f"mj/task/{job_id}/fetch")
        if isinstance(raw, Mapping) and "id" not in raw and "code" in raw:  # new-api: {"code": 4, "task_no_found"}
            raise NotFoundError(f"The relay has no task {job_id} ({str(raw.get('description'))[:80]}); check the "
                                "id (list_jobs shows recent ones).", status=200, job_id=job_id)
        job = self._task(raw)
        check_answer_id(job.job_id, job_id, service=SERVICE)
        return job

    async def get_many(self, job_ids: list[str]) -> list[Job | LegnextError]:
        for job_id in job_ids:
            check_job_id(job_id)
        raw = await self.http.request(RequestKind.READ, "POST", "mj/task/list-by-condition",
                                      json_body={"ids": job_ids})
        found: dict[str, Job] = {}
        for item in raw[:500] if isinstance(raw, list) else []:
            try:
                job = self._task(item)
            except ServerError:
                continue
            found.setdefault(job.job_id, job)
        return [found.get(job_id) or NotFoundError(f"The relay did not return task {job_id}.", job_id=job_id)
                for job_id in job_ids]

    def _task(self, raw: Any) -> Job:
        try:
            return to_job(wire.Task.model_validate(raw))
        except ValidationError:
            raise ServerError("The relay sent a task in a shape we could not read. Try again; report it if it "
                              "persists.") from None

    async def account(self) -> AccountSummary:
        await self.http.request(RequestKind.READ, "POST", "mj/task/list-by-condition", json_body={"ids": []})
        return AccountSummary(
            available=None, unit=self.unit,
            explanation="Relays do not report a balance through the midjourney-proxy protocol; see your relay's "
                        "dashboard.",
            verified_by="the relay accepted the key on POST /mj/task/list-by-condition (a free request)")

    async def active_jobs(self) -> list[Job] | None:
        return None

    def poll_plan(self, job: Job, prompt: str | None) -> PollPlan:
        kind = next((poll for task_type, poll, _ in ACTIONS.values() if task_type == job.task_type), "image")
        return policy.poll_plan(kind)

    def from_raw(self, raw: dict[str, Any]) -> Job:
        return self._task(raw)

    async def download(self, url: str, *, max_bytes: int | None = None) -> Download:
        return await self.downloader.fetch(url, max_bytes=max_bytes)

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.downloader.aclose()


def _shown(body: dict[str, Any]) -> dict[str, Any]:
    """The request as the ledger keeps it (inline images are added at send time and never stored)."""
    return {k: v for k, v in body.items() if k != "base64Array" or not v}
