"""State of a simulated midjourney-proxy relay, written from reference/midjourney-proxy.md (the protocol as
novicezk/midjourney-proxy, trueai-org/midjourney-proxy and the new-api relay define it) and
legnext-docs/42-midjourney-proxy-api.md. Independent of the client's dialect code.

Two flavours: ``new-api`` (what most resellers run: codes 22 and 21 rewritten to 1, except 21 for inpaint and
custom zoom; no ``imageUrls``, only the grid through ``/mj/image/{id}``) and ``trueai`` (the proxy itself:
``imageUrls`` with the four images, 22 kept). Task ids are epoch milliseconds plus three digits; button hashes
are random per task, so a client must read ``customId`` from ``buttons``.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from legnext_mcp.sandbox.core.faults import Faults

DEFAULT_KEY = "relay-key"
MAX_CONCURRENT = 3
BANNED_WORD = "forbidden-content"
FAIL_WORD = "sandbox-fail"
HANG_WORD = "sandbox-hang"
Flavor = Literal["new-api", "trueai"]
#: action -> (simulated seconds it takes, what it makes)
ACTIONS: dict[str, tuple[float, str]] = {
    "IMAGINE": (40, "grid"), "VARIATION": (40, "grid"), "LOW_VARIATION": (40, "grid"), "HIGH_VARIATION": (40, "grid"),
    "REROLL": (40, "grid"), "BLEND": (40, "grid"), "PAN": (40, "grid"), "ZOOM": (40, "grid"),
    "CUSTOM_ZOOM": (40, "grid"), "INPAINT": (40, "grid"), "UPSCALE": (15, "single"), "DESCRIBE": (8, "text"),
    "SHORTEN": (6, "text"), "RETEXTURE": (40, "grid"), "VIDEO": (90, "video"),
}
VIDEO_TYPES = ("vid_1.1_i2v_480", "vid_1.1_i2v_720")
#: Actions that open the remix modal when the press asks for it (``enableRemix``; TaskService.cs:1721-1751).
REMIXABLE = {"VARIATION", "LOW_VARIATION", "HIGH_VARIATION", "PAN", "REROLL"}


class MjProxyClock:
    """Simulated seconds (``scale`` per real second); ``advance`` jumps ahead."""

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self._start = time.monotonic()
        self._offset = 0.0

    def now(self) -> float:
        return (time.monotonic() - self._start) * self.scale + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds

    def real_seconds(self, sim: float) -> float:
        return sim / self.scale if self.scale > 0 else sim


@dataclass
class Task:
    id: str
    key: str
    action: str
    prompt: str
    submitted: float  # simulated seconds
    submit_ms: int  # wall clock, epoch milliseconds
    duration: float
    parent: Task | None = None
    modal: bool = False  # waiting for /mj/submit/modal
    started: float | None = None
    outcome: str = "SUCCESS"
    fail_reason: str = ""
    hash: str = field(default_factory=lambda: str(uuid.uuid4()))
    extra: dict[str, Any] = field(default_factory=dict)

    def status(self, now: float) -> tuple[str, int]:
        """(status, percent)."""
        if self.modal:
            return "MODAL", 0
        if self.started is None or now < self.started:
            return ("NOT_START" if now < self.submitted + 0.5 else "SUBMITTED"), 0
        if now >= self.started + self.duration:
            return self.outcome, 100
        return "IN_PROGRESS", min(99, int(100 * (now - self.started) / self.duration))


class MjProxyEngine:
    """Everything the simulated relay knows. Thread-safe (the loopback server runs in another thread)."""

    def __init__(self, *, keys: dict[str, int] | None = None, time_scale: float = 1.0, flavor: Flavor = "new-api",
                 max_queued: int | None = None) -> None:
        self.clock = MjProxyClock(time_scale)
        self.faults = Faults()
        self.flavor: Flavor = flavor
        self.max_queued = max_queued
        self.keys = dict(keys or {DEFAULT_KEY: 1000})
        self.tasks: dict[str, Task] = {}
        self.modes: list[str] = []  # the path prefix of every submission ("" or /mj-fast...)
        self._lock = threading.RLock()
        self._counter = 0

    # --- ids and scheduling -----------------------------------------------------------------------

    def _new_id(self) -> str:
        self._counter += 1
        return f"{int(time.time() * 1000)}{self._counter % 1000:03d}"

    def _schedule(self, task: Task, now: float) -> None:
        """Start the task in the earliest of the key's slots (FIFO)."""
        running = sorted((t.started or 0) + t.duration for t in self.tasks.values()
                         if t.key == task.key and t.started is not None and t is not task
                         and (t.started or 0) + t.duration > now)
        task.started = now if len(running) < MAX_CONCURRENT else running[len(running) - MAX_CONCURRENT]

    def queued(self, key: str, now: float) -> int:
        return sum(1 for t in self.tasks.values() if t.key == key and t.started is not None and t.started > now)

    # --- submitting -------------------------------------------------------------------------------

    def _answer(self, code: int, description: str, result: Any = None, **properties: Any) -> dict[str, Any]:
        if code == 22 and self.flavor == "new-api":
            code, description = 1, "Submit success"  # new-api rewrites 22 to 1
        return {"code": code, "description": description, "result": result, "properties": properties}

    def _make(self, key: str, action: str, prompt: str, parent: Task | None = None, **extra: Any) -> dict[str, Any]:
        now = self.clock.now()
        if BANNED_WORD in prompt.lower():
            return self._answer(24, "可能包含敏感词", None, promptEn=prompt, bannedWord=BANNED_WORD)
        if self.max_queued is not None and self.queued(key, now) >= self.max_queued:
            return self._answer(23, "队列已满，请稍后尝试")
        duration, _ = ACTIONS[action]
        if HANG_WORD in prompt.lower() or self.faults.hang_jobs:
            duration = 1e12
        task = Task(id=self._new_id(), key=key, action=action, prompt=prompt, submitted=now,
                    submit_ms=int(time.time() * 1000), duration=duration, parent=parent, extra=dict(extra))
        if FAIL_WORD in prompt.lower() or self.faults.take_job_failure():
            task.outcome, task.fail_reason = "FAILURE", "Midjourney could not process the job"
        self.tasks[task.id] = task
        queued = self.queued(key, now)
        self._schedule(task, now)
        if task.started and task.started > now:
            return self._answer(22, "排队中", task.id, numberOfQueues=queued + 1)
        return self._answer(1, "Submit success", task.id, discordInstanceId="sandbox")

    def imagine(self, key: str, body: dict[str, Any]) -> dict[str, Any]:
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            return self._answer(4, "prompt is required")
        images = body.get("base64Array", [])  # image prompts, inline (SubmitImagineDTO)
        if not isinstance(images, list) or len(images) > 5 or not all(_is_data_image(i) for i in images):
            return self._answer(4, "base64Array must hold data:image/...;base64 images")
        with self._lock:
            return self._make(key, "IMAGINE", prompt, image_prompts=len(images))

    def describe(self, key: str, body: dict[str, Any]) -> dict[str, Any]:
        link = body.get("link") or ""
        if not (isinstance(link, str) and link.startswith(("http://", "https://"))) and \
                not _is_data_image(body.get("base64")):
            return self._answer(4, "base64 or link is required")
        with self._lock:
            return self._make(key, "DESCRIBE", f"describe {link or 'an uploaded image'}", link=link)

    def retexture(self, key: str, body: dict[str, Any]) -> dict[str, Any]:
        prompt, image = body.get("prompt"), body.get("image")
        if not isinstance(prompt, str) or not prompt.strip():
            return self._answer(4, "prompt is required")
        if not isinstance(image, str) or not image.startswith(("http://", "https://", "data:image/")):
            return self._answer(4, "image (a URL or base64) is required")
        with self._lock:
            return self._make(key, "RETEXTURE", prompt, image=image[:200])

    def video(self, key: str, body: dict[str, Any]) -> dict[str, Any]:
        """``/mj/submit/video``: animate ``image`` (URL or base64), or ``action: "extend"`` a video task's
        ``index`` (trueai SubmitVideoDTO)."""
        prompt = str(body.get("prompt") or "")
        batch = body.get("batchSize", 4)
        if body.get("videoType", VIDEO_TYPES[0]) not in VIDEO_TYPES or batch not in (1, 2, 4):
            return self._answer(4, "videoType must be vid_1.1_i2v_480 or vid_1.1_i2v_720 and batchSize 1, 2 or 4")
        if body.get("motion", "low") not in ("low", "high"):
            return self._answer(4, "motion must be low or high")
        with self._lock:
            if body.get("action") == "extend":
                parent = self.tasks.get(str(body.get("taskId")))
                if parent is None or parent.key != key or parent.action != "VIDEO":
                    return self._answer(3, "关联任务不存在或已失效")
                index = body.get("index")
                if parent.status(self.clock.now())[0] != "SUCCESS" or not isinstance(index, int) or \
                        not 0 <= index < int(parent.extra.get("batch", 4)):
                    return self._answer(4, "关联任务状态错误")
                return self._make(key, "VIDEO", prompt or parent.prompt, parent, batch=1)
            image = body.get("image")
            if not isinstance(image, str) or not image.startswith(("http://", "https://", "data:image/")):
                return self._answer(4, "image (the first frame, a URL or base64) is required")
            return self._make(key, "VIDEO", prompt or "animate", batch=batch)

    def shorten(self, key: str, body: dict[str, Any]) -> dict[str, Any]:
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            return self._answer(4, "prompt is required")
        with self._lock:
            return self._make(key, "SHORTEN", prompt)

    def blend(self, key: str, body: dict[str, Any]) -> dict[str, Any]:
        images = body.get("base64Array")
        if not isinstance(images, list) or not 2 <= len(images) <= 5 or \
                not all(isinstance(i, str) and i.startswith("data:image/") for i in images):
            return self._answer(4, "base64Array must hold 2-5 data:image/...;base64 images")
        if body.get("dimensions", "SQUARE") not in ("PORTRAIT", "SQUARE", "LANDSCAPE"):
            return self._answer(4, "dimensions must be PORTRAIT, SQUARE or LANDSCAPE")
        with self._lock:
            return self._make(key, "BLEND", f"blend of {len(images)} images", dimensions=body.get("dimensions"))

    def action(self, key: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        task_id, custom_id = body.get("taskId"), body.get("customId")
        with self._lock:
            now = self.clock.now()
            parent = self.tasks.get(str(task_id))
            if parent is None or parent.key != key:
                return 404, self._answer(3, "关联任务不存在或已失效")
            if parent.status(now)[0] != "SUCCESS":
                return 200, self._answer(4, "关联任务状态错误")
            found = next((b for b in self.buttons(parent) if b["customId"] == custom_id), None)
            if found is None:
                return 200, self._answer(4, f"unknown_action:{str(custom_id)[:80]}")
            action, modal = _action_of(str(custom_id))
            modal = modal or (body.get("enableRemix") is True and action in REMIXABLE)
            if modal:  # Vary (Region), Custom Zoom and remixed presses wait for a modal confirmation
                child = Task(id=self._new_id(), key=key, action=action, prompt=parent.prompt, submitted=now,
                             submit_ms=int(time.time() * 1000), duration=ACTIONS[action][0], parent=parent, modal=True)
                self.tasks[child.id] = child
                return 200, {"code": 21, "description": "Waiting for window confirm", "result": child.id,
                             "properties": {"finalPrompt": parent.prompt, "remix": True}}
            return 200, self._make(key, action, parent.prompt, parent, customId=custom_id,
                                   strong=bool(body.get("strong")))

    def modal(self, key: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            child = self.tasks.get(str(body.get("taskId")))
            if child is None or child.key != key:
                return 404, self._answer(3, "关联任务不存在或已失效")
            if not child.modal:
                return 200, self._answer(4, "the task is not waiting for a modal")
            if child.action == "INPAINT" and not str(body.get("maskBase64") or "").startswith("data:image/png;base64,"):
                return 200, self._answer(4, "maskBase64 (a PNG data URL) is required for Vary (Region)")
            prompt = body.get("prompt") or child.prompt
            if BANNED_WORD in str(prompt).lower():
                return 200, self._answer(24, "可能包含敏感词", None, promptEn=prompt, bannedWord=BANNED_WORD)
            child.modal, child.prompt = False, str(prompt)
            child.submitted = now = self.clock.now()
            child.extra["mask"] = bool(body.get("maskBase64"))
            self._schedule(child, now)
            return 200, self._answer(1, "Submit success", child.id)

    # --- reading ----------------------------------------------------------------------------------

    def buttons(self, task: Task) -> list[dict[str, Any]]:
        """The Discord buttons a finished task offers (CustomComponentModel: style 2, type 2)."""
        h = task.hash
        kind = ACTIONS[task.action][1]
        if kind == "grid":
            ids = [*(f"MJ::JOB::upsample::{n}::{h}" for n in range(1, 5)), f"MJ::JOB::reroll::0::{h}::SOLO",
                   *(f"MJ::JOB::variation::{n}::{h}" for n in range(1, 5))]
            labels = ["U1", "U2", "U3", "U4", "", "V1", "V2", "V3", "V4"]
        elif kind == "single":
            ids = [f"MJ::JOB::upsample_v7_2x_subtle::1::{h}::SOLO", f"MJ::JOB::upsample_v7_2x_creative::1::{h}::SOLO",
                   f"MJ::JOB::low_variation::1::{h}::SOLO", f"MJ::JOB::high_variation::1::{h}::SOLO",
                   f"MJ::Outpaint::50::1::{h}::SOLO", f"MJ::Outpaint::75::1::{h}::SOLO", f"MJ::CustomZoom::{h}",
                   *(f"MJ::JOB::pan_{d}::1::{h}::SOLO" for d in ("left", "right", "up", "down")),
                   f"MJ::Inpaint::1::{h}::SOLO"]
            labels = ["Upscale (Subtle)", "Upscale (Creative)", "Vary (Subtle)", "Vary (Strong)", "Zoom Out 2x",
                      "Zoom Out 1.5x", "Custom Zoom", "", "", "", "", "Vary (Region)"]
        else:
            return []
        return [{"customId": cid, "emoji": "", "label": label, "style": 2, "type": 2} for cid, label in zip(ids, labels,
                                                                                                        strict=True)]

    def render(self, task: Task, origin: str, prefix: str) -> dict[str, Any]:
        now = self.clock.now()
        status, percent = task.status(now)
        kind = ACTIONS[task.action][1]
        done = status in ("SUCCESS", "FAILURE")
        waited = (task.started or task.submitted) - task.submitted
        start_ms = task.submit_ms + int(1000 * self.clock.real_seconds(waited))
        out: dict[str, Any] = {
            "id": task.id, "action": task.action, "status": status, "prompt": task.prompt, "promptEn": task.prompt,
            "description": f"/imagine {task.prompt}", "state": "", "submitTime": task.submit_ms,
            "startTime": start_ms if status not in ("NOT_START", "SUBMITTED", "MODAL") else None,
            "finishTime": start_ms + int(1000 * self.clock.real_seconds(task.duration)) if done else None,
            "progress": "" if status == "FAILURE" else f"{percent}%", "imageUrl": None, "failReason": "",
            "buttons": [], "properties": {"finalPrompt": task.prompt},
        }
        if status == "FAILURE":
            out["failReason"] = task.fail_reason
        if status == "SUCCESS":
            if kind in ("grid", "single"):
                out["imageUrl"] = (f"{origin}{prefix}/mj/image/{task.id}" if self.flavor == "new-api"
                                   else f"{origin}/cdn/mj/{task.id}_grid.png")
                if self.flavor == "trueai" and kind == "grid":
                    out["imageUrls"] = [{"url": f"{origin}/cdn/mj/{task.id}_{n}.png", "thumbnail": ""}
                                        for n in range(4)]
                out["buttons"] = self.buttons(task)
            elif kind == "video":
                urls = [{"url": f"{origin}/cdn/mj/{task.id}_{n}.mp4"} for n in range(int(task.extra.get("batch", 4)))]
                out["videoUrl"] = urls[0]["url"]
                out["videoUrls"] = urls
            elif task.action == "DESCRIBE":
                subject = str(task.extra.get("link", "")).rsplit("/", 1)[-1].split(".")[0].replace("-", " ") or "image"
                styles = ("cinematic lighting", "watercolor", "studio photograph", "isometric 3d render")
                out["properties"]["finalPrompt"] = "\n\n".join(
                    f"{emoji} {subject}, {style} --ar 1:1" for emoji, style in zip(_NUMBERS, styles, strict=False))
                out["prompt"] = out["promptEn"] = f"{subject}, {styles[0]} --ar 1:1"
            else:  # SHORTEN
                text = task.prompt.split(" --")[0].replace(",", " ")
                words = [w for w in text.split() if len(w) > 3][:8] or ["image"]
                out["properties"]["finalPrompt"] = "\n".join(
                    f"{_NUMBERS[k]} {' '.join(words[:max(len(words) - k, 1)])}" for k in range(5))
        return out

    def fetch(self, key: str, task_id: str, origin: str, prefix: str) -> dict[str, Any] | None:
        with self._lock:
            task = self.tasks.get(task_id)
            if task is None or task.key != key:
                return None
            return self.render(task, origin, prefix)

    def image(self, task_id: str) -> Task | None:
        with self._lock:
            task = self.tasks.get(task_id)
            if task is None or task.status(self.clock.now())[0] != "SUCCESS" or ACTIONS[task.action][1] == "text":
                return None
            return task


_NUMBERS = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣")


def _action_of(custom_id: str) -> tuple[str, bool]:
    """The task action a button makes, and whether it waits for a modal (new-api's CoverPlusActionToNormalAction)."""
    parts = custom_id.split("::")
    name = parts[2] if len(parts) > 2 and parts[1] == "JOB" else parts[1]
    if name.startswith("upsample"):
        return "UPSCALE", False
    if name.startswith("pan"):
        return "PAN", False
    return {"variation": ("VARIATION", False), "low_variation": ("LOW_VARIATION", False),
            "high_variation": ("HIGH_VARIATION", False), "reroll": ("REROLL", False), "Outpaint": ("ZOOM", False),
            "CustomZoom": ("CUSTOM_ZOOM", True), "Inpaint": ("INPAINT", True)}.get(name, ("VARIATION", False))


def _is_data_image(value: Any) -> bool:
    """A ``data:image/<type>;base64,<data>`` URL whose data decodes (what relays take inline)."""
    if not isinstance(value, str) or not value.startswith("data:image/") or ";base64," not in value:
        return False
    try:
        return bool(base64.b64decode(value.split(",", 1)[1], validate=True))
    except ValueError:
        return False
