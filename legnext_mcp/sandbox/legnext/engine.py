"""State of the simulated Legnext API: accounts, jobs, the clock, the queue and the money.

Scheduling is exact and lazy: when a job is submitted it takes the earliest free of the key's 6
processing slots (FIFO), so its start and end times are known at once; statuses and side effects
(points consumed or refunded) are settled whenever anything is read. Time is simulated: ``time_scale``
simulated seconds pass per real second, and ``advance()`` jumps ahead (to age jobs past 3 days).
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import math
import random
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from legnext_mcp.sandbox.core import state
from legnext_mcp.sandbox.core.callbacks import Callbacks
from legnext_mcp.sandbox.core.faults import Faults
from legnext_mcp.sandbox.legnext.endpoints import ENDPOINTS, Endpoint, topaz_cost
from legnext_mcp.sandbox.legnext.flags import PromptInfo, check_prompt

DEFAULT_KEY = "sandbox-key"
DEFAULT_POINTS = 100_000
MAX_CONCURRENT = 6
STAGED_S = 1.0
OPERATION_WINDOW_S = 3 * 24 * 3600
STORAGE_WINDOW_S = 30 * 24 * 3600
MODERATION_WORD = "forbidden-content"
FAIL_WORD = "sandbox-fail"
HANG_WORD = "sandbox-hang"
_ALL_ACTIONS = ("edit", "inpaint", "outpaint", "pan", "remix", "upscale", "variation")
_V8_MISSING = {"inpaint", "outpaint", "pan", "upscale"}  # "Not available" / "Not needed" for v8, v8.1


def flat_error(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "raw_message": "", "detail": None}


@dataclass
class Account:
    key: str
    account_id: int
    credits: int
    points: int
    pro: bool = True
    slots: list[float] = field(default_factory=lambda: [0.0] * MAX_CONCURRENT)

    @property
    def available(self) -> int:
        return self.credits + self.points

    def charge(self, amount: int) -> tuple[int, int]:
        """Take ``amount``, bonus points first (an assumption: the docs do not say); returns (points, credits)."""
        from_points = min(self.points, amount)
        self.points -= from_points
        self.credits -= amount - from_points
        return from_points, amount - from_points

    def refund(self, split: tuple[int, int]) -> None:
        """Give back what a failed job took, to the bucket it came from."""
        self.points += split[0]
        self.credits += split[1]


@dataclass
class SimJob:
    job_id: str
    key: str
    endpoint: Endpoint
    body: dict[str, Any]
    submitted_at: float
    #: Real time of the submission (epoch seconds): what timestamps and the windows count from.
    submitted_wall: float
    slot_at: float
    finish_at: float
    frozen: int
    prompt: PromptInfo
    outcome: str = "completed"  # completed | failed
    error: dict[str, Any] = field(default_factory=lambda: flat_error(0, ""))
    settled: bool = False
    seed: str = ""
    outputs: int = 0
    parent: SimJob | None = None
    extensions: int = 0
    rejected: bool = False  # refused at submit (e.g. a flag the model rejects): failed from the start
    charged: tuple[int, int] = (0, 0)  # (bonus points, credits) taken, given back if it fails
    callback: str = ""

    def status(self, now: float) -> str:
        if self.rejected:
            return "failed"
        if now < self.slot_at:
            return "pending"
        if now < self.slot_at + STAGED_S:
            return "staged"
        if now < self.finish_at:
            return "processing"
        return self.outcome


class SimClock:
    """Two clocks: simulated seconds (``scale`` per real second, for how long jobs take) and the wall clock
    (real time, for the timestamps a user reads and the 3-day and 30-day windows). ``advance`` jumps both,
    so a test can age a job past its windows."""

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self._start = time.monotonic()
        self._offset = 0.0
        self._wall_offset = 0.0

    def now(self) -> float:
        """Simulated seconds since start."""
        return (time.monotonic() - self._start) * self.scale + self._offset

    def wall_now(self) -> float:
        """Real time (epoch seconds), moved forward by ``advance``."""
        return time.time() + self._wall_offset

    def real_seconds(self, sim_seconds: float) -> float:
        """How long ``sim_seconds`` of a job's life take in real time (frozen clocks: one for one)."""
        return sim_seconds / self.scale if self.scale > 0 else sim_seconds

    def real_moment(self, sim_instant: float) -> float:
        """The ``time.monotonic()`` at which simulated time reaches ``sim_instant`` (benchmarks measure lag)."""
        return self._start + (sim_instant - self._offset) / self.scale if self.scale > 0 else self._start

    def advance(self, seconds: float) -> None:
        self._offset += seconds
        self._wall_offset += seconds


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


_ZERO_TIME = "0001-01-01T00:00:00Z"


class Engine:
    """Everything the simulated API knows. Thread-safe: the loopback server runs in another thread."""

    def __init__(
        self,
        *,
        keys: dict[str, int] | None = None,
        time_scale: float = 1.0,
        max_queued: int | None = None,
        pro: bool = True,
        seed: int | None = None,
        state_dir: Path | None = None,
    ) -> None:
        self.state_dir = state_dir
        self.preferred_port: int | None = None
        self.clock = SimClock(time_scale)
        saved = state.load(state_dir)
        self.faults = Faults()
        self.max_queued = max_queued
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._secret = bytes.fromhex(saved["secret"]) if saved else secrets.token_bytes(16)
        self.accounts = {
            key: Account(key=key, account_id=i + 1, credits=(points // 1000) * 1000, points=points % 1000, pro=pro)
            for i, (key, points) in enumerate((keys or {DEFAULT_KEY: DEFAULT_POINTS}).items())
        }
        self.jobs: dict[str, SimJob] = {}
        self.callbacks = Callbacks()
        self._origins: dict[str, str] = {}
        if saved:
            self._restore(saved)

    # --- reading --------------------------------------------------------------------------------

    def settle(self) -> float:
        """Apply completions up to now (consume or refund points); returns the simulated time."""
        with self._lock:
            now = self.clock.now()
            changed = False
            for job in self.jobs.values():
                if not job.settled and now >= job.finish_at:
                    job.settled = True
                    if job.outcome == "failed":
                        self.accounts[job.key].refund(job.charged)
                    if job.callback:
                        self.callbacks.deliver(job.callback, self.render(job, now, self._origins.get(job.job_id, "")))
                    changed = True
            if changed:
                self._persist()
            return now

    def get(self, key: str, job_id: str, origin: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            now = self.settle()
            job = self.jobs.get(job_id)
            if job is None or job.key != key:
                return 404, flat_error(404, f"job {job_id} not found")
            return 200, self.render(job, now, origin)

    def balance(self, key: str) -> dict[str, Any]:
        with self._lock:
            self.settle()
            account = self.accounts[key]
            return {
                "code": 200,
                "data": {
                    "account_id": account.account_id,
                    "balance_usd": round(account.available / 1000, 3),
                    "available_credits": account.credits,
                    "available_points": account.points,
                    "alert_threshold": 10,
                    "low_balance_alert": account.available < 10_000,
                    "updated_at": datetime.fromtimestamp(self.clock.wall_now(), UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                },
                "message": "success",
            }

    def account_info(self, key: str) -> dict[str, Any]:
        """``GET /account/info``: the account as Legnext's web app reads it (its ``BackendAccount``: plan,
        concurrency, wallet of bonus points, credit packs). openapi-complete.yaml names the route only."""
        with self._lock:
            self.settle()
            account = self.accounts[key]
            frozen = sum(j.frozen for j in self.jobs.values() if j.key == key and not j.settled and not j.rejected)
            return {"code": 200, "message": "success", "data": {
                "id": account.account_id, "name": f"sandbox account {account.account_id}",
                "plan": "developer" if account.pro else "hobbyist", "is_enable": True,
                "max_concurrent_task_count": MAX_CONCURRENT,
                "wallet": {"point_remain": account.points, "point_frozen": frozen, "point_used": 0},
                "credit_pack_info": {"available_credits": account.credits, "frozen_credits": 0, "used_credits": 0}}}

    def active_tasks(self, key: str, origin: str) -> dict[str, Any]:
        """``GET /account/active_tasks``: the account's jobs not finished yet, as job objects."""
        with self._lock:
            now = self.settle()
            running = [self.render(j, now, origin) for j in self.jobs.values()
                       if j.key == key and not j.rejected and j.status(now) not in ("completed", "failed")]
            return {"code": 200, "message": "success", "data": running}

    @property
    def instance(self) -> str:
        """A public name of this simulated account (a digest of its secret; the secret itself stays here)."""
        return hashlib.sha256(b"legnext-sandbox-instance:" + self._secret).hexdigest()[:32]

    def remember_port(self, port: int) -> None:
        self.preferred_port = port
        self._persist()

    # --- keeping state across restarts ------------------------------------------------------------

    def _wall_of(self, sim: float) -> float | None:
        """Real time of a simulated instant (None: never)."""
        if not math.isfinite(sim):
            return None
        return self.clock.wall_now() + self.clock.real_seconds(sim - self.clock.now())

    def _sim_of(self, wall: float | None) -> float:
        if wall is None:
            return math.inf
        seconds = wall - self.clock.wall_now()
        return self.clock.now() + (seconds * self.clock.scale if self.clock.scale > 0 else seconds)

    def _persist(self) -> None:
        """Write accounts and jobs to ``state_dir`` (times as real times, so they mean the same after a restart)."""
        if self.state_dir is None:
            return
        with self._lock:
            jobs = [{"job_id": j.job_id, "key": j.key, "endpoint": j.endpoint.name, "body": j.body,
                     "submitted_wall": j.submitted_wall, "slot_wall": self._wall_of(j.slot_at),
                     "finish_wall": self._wall_of(j.finish_at), "frozen": j.frozen,
                     "prompt": {"text": j.prompt.text, "version": j.prompt.version, "flags": j.prompt.flags,
                                "aspect": list(j.prompt.aspect)},
                     "outcome": j.outcome, "error": j.error, "settled": j.settled, "seed": j.seed, "outputs": j.outputs,
                     "parent": j.parent.job_id if j.parent else None, "extensions": j.extensions,
                     "charged": list(j.charged), "callback": j.callback,
                     "done": j.status(self.clock.now()) in ("completed", "failed")} for j in self.jobs.values()]
            accounts = [{"key": a.key, "account_id": a.account_id, "credits": a.credits, "points": a.points,
                         "pro": a.pro} for a in self.accounts.values()]
            state.save(self.state_dir, {"secret": self._secret.hex(), "port": self.preferred_port,
                                        "accounts": accounts, "jobs": jobs})

    def _restore(self, saved: dict[str, Any]) -> None:
        self.preferred_port = saved.get("port")
        for item in saved.get("accounts", []):
            self.accounts[item["key"]] = Account(key=item["key"], account_id=item["account_id"],
                                                 credits=item["credits"], points=item["points"], pro=item["pro"])
        for item in saved.get("jobs", []):
            info = item["prompt"]
            submitted = self._sim_of(item["submitted_wall"])
            job = SimJob(job_id=item["job_id"], key=item["key"], endpoint=ENDPOINTS[item["endpoint"]],
                         body=item["body"], submitted_at=submitted, submitted_wall=item["submitted_wall"],
                         slot_at=self._sim_of(item["slot_wall"]), finish_at=self._sim_of(item["finish_wall"]),
                         frozen=item["frozen"], prompt=PromptInfo(text=info["text"], version=info["version"],
                                                                  flags=info["flags"], aspect=tuple(info["aspect"])),
                         outcome=item["outcome"], error=item["error"], settled=item["settled"], seed=item["seed"],
                         outputs=item["outputs"], extensions=item["extensions"], charged=tuple(item["charged"]),
                         callback=item["callback"])
            if item.get("done") and math.isfinite(job.finish_at):  # finished before: finished now, whatever clocks did
                job.slot_at = min(job.slot_at, self.clock.now() - STAGED_S - 1)
                job.finish_at = min(job.finish_at, self.clock.now())
            self.jobs[job.job_id] = job
        for item in saved.get("jobs", []):
            if item["parent"] in self.jobs:
                self.jobs[item["job_id"]].parent = self.jobs[item["parent"]]
        for account in self.accounts.values():  # the processing slots of jobs still running
            running = sorted(j.finish_at for j in self.jobs.values() if j.key == account.key and not j.settled)
            account.slots = sorted(([0.0] * MAX_CONCURRENT + running)[-MAX_CONCURRENT:])

    # --- submitting -----------------------------------------------------------------------------

    def submit(self, key: str, name: str, body: dict[str, Any], origin: str) -> tuple[int, dict[str, Any]]:
        """Create a job the way the API does, or return the documented error."""
        endpoint = ENDPOINTS[name]
        body = {k: v for k, v in body.items() if v != ""}  # a blank optional field means absent (n8n sends them)
        if problem := endpoint.check(body):
            return 400, flat_error(400, problem)
        if body.get("callback") is not None and (not isinstance(body["callback"], str)
                                                 or not body["callback"].startswith(("http://", "https://"))):
            return 400, flat_error(400, "callback must be an http(s) URL")
        with self._lock:
            now = self.settle()
            account = self.accounts[key]
            parent, problem_status, problem = self._parent(endpoint, body, key, now)
            if problem:
                return problem_status, flat_error(problem_status, problem)
            prompt, problem = self._prompt(endpoint, body, parent)
            if prompt is None:
                # Rejected model flags come back job-shaped (status failed, nothing frozen).
                rejected = self._new_job(endpoint, body, key, now, PromptInfo(text=""), parent, frozen=0,
                                         schedule=False)
                rejected.outcome, rejected.settled, rejected.rejected = "failed", True, True
                rejected.error = {"code": 400, "message": problem or "invalid prompt",
                                  "raw_message": problem or "", "detail": None}
                refused = self.render(rejected, now, origin)
                refused["job_id"] = ""  # as the real error body: no job was made, so no id to read later
                return 400, refused
            if prompt.version in ("8", "8.1") and not account.pro:
                return 403, flat_error(403, f"model version {prompt.version} requires a Pro (Developer) plan")
            if endpoint.name == "extend-video" and parent is not None and parent.extensions >= 4:
                return 400, flat_error(400, "a video can be extended at most 4 times")
            cost = parent.frozen if endpoint.name == "reroll" and parent is not None else \
                self._cost(endpoint, body, prompt)
            if account.available < cost:
                return 402, flat_error(402, f"insufficient credits: this job needs {cost} points, "
                                            f"{account.available} available")
            queued = sum(1 for j in self.jobs.values() if j.key == key and now < j.slot_at)
            if self.max_queued is not None and queued >= self.max_queued:
                return 429, flat_error(429, "too many queued jobs")
            split = account.charge(cost)
            job = self._new_job(endpoint, body, key, now, prompt, parent, frozen=cost)
            job.charged = split
            job.callback = str(body.get("callback") or "")
            if parent is not None and endpoint.name == "extend-video":
                job.extensions = parent.extensions + 1
            self.jobs[job.job_id] = job
            self._origins[job.job_id] = origin
            self._persist()
            if job.callback and math.isfinite(job.finish_at) and self.clock.scale > 0:
                wake = threading.Timer((job.finish_at - now) / self.clock.scale + 0.01, self.settle)
                wake.daemon = True
                wake.start()
            return 200, self.render(job, now, origin, fresh=True)

    def _parent(self, endpoint: Endpoint, body: dict[str, Any], key: str,
                now: float) -> tuple[SimJob | None, int, str | None]:
        if endpoint.parent is None or (endpoint.parent == "optional-image" and "jobId" not in body):
            return None, 0, None
        parent = self.jobs.get(body["jobId"])
        if parent is None or parent.key != key:
            return None, 404, f"job {body['jobId']} not found"
        if parent.status(now) != "completed":
            return None, 400, f"job {parent.job_id} is not completed (status {parent.status(now)})"
        if self.clock.wall_now() - parent.submitted_wall > OPERATION_WINDOW_S:
            return None, 400, f"job {parent.job_id} is older than 3 days; operations on it have expired"
        is_video = parent.endpoint.output == "video"
        if (endpoint.parent == "video") != is_video:
            wanted = "a video job" if endpoint.parent == "video" else "an image job"
            return None, 400, f"job {parent.job_id} is not {wanted}"
        if parent.endpoint.output == "text":
            return None, 400, f"job {parent.job_id} produced no images"
        index_field = "videoNo" if endpoint.parent == "video" else "imageNo"
        index = body.get(index_field)
        actions = self._actions(parent)
        if endpoint.action == "reroll":
            if not actions.get("reroll"):
                return None, 400, f"reroll is not available for job {parent.job_id}"
        elif endpoint.action is not None:
            if index not in actions.get(endpoint.action, []):
                return None, 400, f"{endpoint.action} is not available for image {index} of job {parent.job_id}"
        elif not isinstance(index, int) or index >= parent.outputs:
            return None, 400, f"{index_field} {index} is out of range: job {parent.job_id} has {parent.outputs}"
        if endpoint.name == "enhance" and not (parent.prompt.version == "7" and parent.prompt.draft):
            return None, 400, "enhance needs a parent job created with --v 7 --draft"
        if endpoint.name == "upscale" and body.get("type") in (2, 3):
            return None, 400, "upscale types 2 and 3 exist only for v5 models; use 0 (subtle) or 1 (creative)"
        return parent, 0, None

    def _prompt(self, endpoint: Endpoint, body: dict[str, Any],
                parent: SimJob | None) -> tuple[PromptInfo | None, str | None]:
        own = body.get(endpoint.prompt_field) if endpoint.prompt_field else None
        if endpoint.name == "diffusion" or (endpoint.output == "video" and isinstance(own, str)):
            return check_prompt(str(own), video=endpoint.output == "video")
        inherited = parent.prompt if parent is not None else PromptInfo(text="")
        if isinstance(own, str) and endpoint.name != "shorten":  # only the length rule applies to shorten
            # a remix prompt runs on the parent's model; upload-paint and retexture prompts on the default
            model = inherited.version if parent is not None else "7"
            checked, problem = check_prompt(own, version=model)
            if checked is None:
                return None, problem
        text = own if isinstance(own, str) else inherited.text
        if endpoint.name == "blend":  # blend runs natively on V8 (04-model-information.md)
            return PromptInfo(text="blend of " + " + ".join(body["imgUrls"]), version="8"), None
        if endpoint.name == "describe":
            text = f"describe {body['imgUrl']}"
        return PromptInfo(text=text, version=inherited.version, flags=dict(inherited.flags),
                          aspect=inherited.aspect), None

    def _cost(self, endpoint: Endpoint, body: dict[str, Any], prompt: PromptInfo) -> int:
        if endpoint.name == "enhance-upscale":
            return topaz_cost(body)
        if endpoint.name == "diffusion":
            return endpoint.cost * prompt.cost_factor
        if endpoint.name == "video-diffusion":
            batch = int(prompt.flags.get("bs", "4") or 4)
            # Assumption: --bs scales the price "accordingly" (linearly) and 720p costs double.
            return endpoint.cost * batch // 4 * (2 if body.get("videoType") == 1 else 1)
        return endpoint.cost

    def _new_job(self, endpoint: Endpoint, body: dict[str, Any], key: str, now: float, prompt: PromptInfo,
                 parent: SimJob | None, frozen: int, schedule: bool = True) -> SimJob:
        account = self.accounts[key]
        text = prompt.text.lower()
        duration = endpoint.duration_s
        if "draft" in prompt.flags:
            duration /= 4
        if "turbo" in prompt.flags:
            duration /= 4
        if prompt.version in ("8", "8.1") and endpoint.output == "grid":
            duration = min(duration, 15)
        outcome, error = "completed", flat_error(0, "")
        if MODERATION_WORD in text:
            outcome, duration = "failed", 2.0
            error = {"code": 403, "message": "Sensitive content detected: the request was blocked by moderation",
                     "raw_message": "banned prompt detected", "detail": None}
        elif FAIL_WORD in text or self.faults.take_job_failure():
            outcome = "failed"
            error = {"code": 500, "message": "Midjourney failed to process the job", "raw_message": "internal error",
                     "detail": None}
        slot_at = finish_at = now
        if schedule:  # take the earliest free of the key's processing slots (FIFO queue)
            slot_at = max(now, heapq.heappop(account.slots))
            hang = self.faults.hang_jobs or HANG_WORD in text
            finish_at = math.inf if hang else slot_at + STAGED_S + duration
            heapq.heappush(account.slots, finish_at)
        if endpoint.output == "grid":
            outputs = 4
        elif endpoint.output == "video":
            outputs = 1 if endpoint.name != "video-diffusion" else int(prompt.flags.get("bs", "4") or 4)
        else:
            outputs = 1 if endpoint.output == "single" else 0
        return SimJob(
            job_id=str(uuid.UUID(int=self._rng.getrandbits(128), version=4)), key=key, endpoint=endpoint,
            body=body, submitted_at=now, submitted_wall=self.clock.wall_now(), slot_at=slot_at, finish_at=finish_at,
            frozen=frozen, prompt=prompt,
            outcome=outcome, error=error, seed=str(self._rng.randrange(0, 4294967296)), outputs=outputs,
            parent=parent,
        )

    # --- rendering ------------------------------------------------------------------------------

    def _actions(self, job: SimJob) -> dict[str, Any]:
        if job.endpoint.output != "grid":
            return {}
        names = [a for a in _ALL_ACTIONS if not (job.prompt.version in ("8", "8.1") and a in _V8_MISSING)]
        actions: dict[str, Any] = {name: [0, 1, 2, 3] for name in names}
        actions["reroll"] = True
        return dict(sorted(actions.items()))

    def wall(self, job: SimJob, sim_instant: float) -> datetime:
        """The real time of a moment in a job's life (timestamps are real, durations simulated)."""
        seconds = job.submitted_wall + self.clock.real_seconds(sim_instant - job.submitted_at)
        return datetime.fromtimestamp(seconds, UTC)

    def sign(self, path: str, expires: int) -> str:
        return hmac.new(self._secret, f"{path}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    def file_url(self, origin: str, path: str, job: SimJob) -> str:
        expires = int(job.submitted_wall) + STORAGE_WINDOW_S
        return f"{origin}{path}?Expires={expires}&Signature={self.sign(path, expires)}"

    def render(self, job: SimJob, now: float, origin: str, *, fresh: bool = False) -> dict[str, Any]:
        """The job JSON exactly as documented (08-text-to-image.md, 28-get-task.md, ...)."""
        status = job.status(now)
        done = status in ("completed", "failed")
        output = self._output(job, origin, status)
        created = _iso(self.wall(job, job.submitted_at))
        started = _iso(self.wall(job, job.slot_at)) if now >= job.slot_at else _ZERO_TIME
        ended = _iso(self.wall(job, job.finish_at)) if done and math.isfinite(job.finish_at) else _ZERO_TIME
        if fresh:  # the submit answer describes the job as just queued (08-text-to-image.md)
            # created_at is stamped on every answer, as a real server does (the diffusion and Topaz pages and
            # openapi-complete show it; 18 other pages show "", which the official SDK cannot read)
            started = ended = _ZERO_TIME
        callback = job.body.get("callback") or ""
        return {
            "job_id": job.job_id,
            "model": "midjourney",
            "task_type": job.endpoint.task_type,
            "status": "pending" if fresh else status,
            "config": {"service_mode": "public", "webhook_config": {"endpoint": callback, "secret": ""}},
            "input": None,
            "output": output,
            "meta": {
                "created_at": created,
                "started_at": started,
                "ended_at": ended,
                "usage": {"type": "point", "frozen": job.frozen,
                          "consume": job.frozen if status == "completed" else 0},
            },
            "detail": None,
            "logs": [],
            "error": job.error if status == "failed" else flat_error(0, ""),
        }

    def _output(self, job: SimJob, origin: str, status: str) -> dict[str, Any]:
        kind = job.endpoint.output
        completed = status == "completed"
        if kind == "text":
            if not completed:
                return {"promptEn": "", "description": "", "finalPrompt": "", "prompts": []}
            return self._text_output(job)
        if kind == "video":
            if not completed:
                return {"video_urls": None, "seed": ""}
            urls = [self.file_url(origin, f"/cdn/video/{job.job_id}_{n}.mp4", job) for n in range(job.outputs)]
            return {"video_url": urls[0], "video_urls": urls, "seed": job.seed}
        if not completed:
            return {"image_url": "", "image_urls": None, "seed": ""}
        urls = [self.file_url(origin, f"/cdn/mj/{job.job_id}_{n}.png", job) for n in range(job.outputs)]
        output: dict[str, Any] = {
            "image_url": self.file_url(origin, f"/cdn/mj/{job.job_id}_grid.png", job) if kind == "grid" else urls[0],
            "image_urls": urls,
            "seed": "" if job.endpoint.name == "enhance-upscale" else job.seed,
        }
        if kind == "grid":
            output["available_actions"] = self._actions(job)
        return output

    def _text_output(self, job: SimJob) -> dict[str, Any]:
        if job.endpoint.name == "describe":
            subject = job.body["imgUrl"].rsplit("/", 1)[-1].split("?")[0].rsplit(".", 1)[0] or "image"
            subject = subject.replace("-", " ").replace("_", " ")
            styles = ["cinematic lighting", "watercolor illustration", "studio photograph", "isometric 3d render"]
            prompts = [f"{subject}, {style}, highly detailed --ar 1:1" for style in styles]
            return {"promptEn": prompts[0], "description": f"An image of {subject}.", "finalPrompt": prompts[0],
                    "prompts": prompts}
        words = job.body["prompt"].split(" --")[0].replace(",", " ").split()
        keep = [w for w in words if len(w) > 3][:12] or words[:3]
        prompts = [" ".join(keep[: max(len(keep) - k, 1)]) for k in range(0, 5)]
        return {"promptEn": job.body["prompt"], "description": "Most important words: " + ", ".join(keep[:5]),
                "finalPrompt": prompts[0], "prompts": prompts}

    def find_file(self, path: str, expires: str, signature: str) -> tuple[int, SimJob | None, str]:
        """Check a CDN path's signature and expiry; (status, job, message)."""
        if not expires.isdigit() or not hmac.compare_digest(self.sign(path, int(expires)), signature):
            return 403, None, "signature does not match"
        with self._lock:
            now = self.settle()
            if int(expires) < self.clock.wall_now():
                return 403, None, "the link has expired"
            job_id = path.rsplit("/", 1)[-1].rsplit("_", 1)[0]
            job = self.jobs.get(job_id)
            if job is None or job.status(now) != "completed":
                return 404, None, "no such file"
            return 200, job, ""
