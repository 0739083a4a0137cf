"""What a tool hands back: the ``JobResult`` structure (declared whole as the job tools' output schema), its
one-screen text, and the follow-up calls that apply. Pure functions of a job; no I/O.

Some hosts show the model only the text, others (Claude Code) only the structured JSON, so each carries
everything the other does: ids, status, seed, every URL, the cost in words, the next calls. Structured
results leave out empty and null fields (they read as noise) and never carry base64.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, Field

from legnext_mcp.core.followups import FollowUp, is_video
from legnext_mcp.core.job import Job, JobStatus
from legnext_mcp.core.limits import OPERATION_WINDOW, STORAGE_WINDOW
from legnext_mcp.core.operations import TEXT_TASKS, Operation
from legnext_mcp.service.outputs import QUADRANTS


class OutputModel(BaseModel):
    """Base of the structured results."""

    def structured(self) -> dict[str, Any]:
        """The JSON a tool returns: optional fields that are null, empty lists or empty objects are left out
        (required ones stay: clients validate the result against the output schema)."""
        out: dict[str, Any] = {}
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            if not info.is_required() and value in (None, [], {}):
                continue
            out[name] = _plain(value)
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, OutputModel):
        return value.structured()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return value


class JobResult(OutputModel):
    """A job. done=false: wait for it. image n is image_no n. next_steps are the calls that make sense now."""

    job_id: str = Field(description="Id for follow-up tools, wait_for_job and save_images")
    task_type: str = Field(description="What made the job: diffusion, upscale, variation, video-diffusion, ...")
    status: str = Field(description="pending, staged, processing, completed or failed")
    done: bool = Field(description="True when completed or failed; otherwise call wait_for_job")
    api: str | None = Field(default=None, description="The API that runs it: legnext or mj-proxy")
    progress: int | None = Field(default=None, description="Percent done, when the API reports it")
    prompt: str | None = Field(default=None, description="Prompt the job was made from")
    parent_job_id: str | None = Field(default=None, description="Job this one was made from")
    grid_url: str | None = Field(default=None, description="2x2 grid image of the four results")
    image_urls: list[str] = Field(default_factory=list, description="Image URLs; index = image_no")
    images: list[str] = Field(default_factory=list, description=(
        "MCP resource URI of each image (index = image_no); readable with resources/read"))
    images_cut_from_grid: bool | None = Field(default=None, description=(
        "True when the API returned only the grid and images 0-3 are its top-left, top-right, bottom-left and "
        "bottom-right quarters"))
    video_urls: list[str] = Field(default_factory=list, description="Video URLs; index = video_no")
    seed: str | None = Field(default=None, description="Seed; reuse with --seed for similar results")
    description: str | None = Field(default=None, description="describe/shorten: what the image or prompt holds")
    prompts: list[str] = Field(default_factory=list, description="describe/shorten: suggested prompts")
    available_actions: dict[str, list[int] | bool] = Field(default_factory=dict, description=(
        "Follow-ups the API offers: action -> the image_no values it accepts, or true"))
    error: str | None = Field(default=None, description="Why the job failed")
    error_code: int | None = Field(default=None, description="API error code of a failed job (403 = moderation)")
    cost: str | None = Field(default=None, description="What the job costs, in words")
    points_frozen: int | None = Field(default=None, description="Reserved while it runs (not in addition to consumed)")
    points_consumed: int | None = Field(default=None, description="Charged (0 for failed jobs)")
    estimated_points: int | None = Field(default=None, description="Price estimated before submitting")
    created_at: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    follow_ups_until: str | None = Field(default=None, description="Follow-ups are accepted until then")
    expires_at: str | None = Field(default=None, description="Output files are deleted at this time")
    saved_files: list[str] = Field(default_factory=list, description="Local files written by save_images")
    next_steps: list[str] = Field(default_factory=list, description="Tool calls that make sense next")
    notes: list[str] = Field(default_factory=list, description="Budget, confirmation and API notes")
    resource: str | None = Field(default=None, description="MCP resource URI of this job")


class JobBatch(OutputModel):
    """Several jobs, e.g. from wait_for_job with more than one id."""

    jobs: list[JobResult]
    all_done: bool = Field(description="True when every job is completed or failed")


class JobSummary(OutputModel):
    job_id: str
    task_type: str
    status: str
    prompt: str | None = None
    parent_job_id: str | None = None
    recorded_at: str = Field(description="When this machine first saw the job (UTC)")
    status_as_of: str | None = Field(default=None, description=(
        "For an unfinished job not read again now: when its status was last recorded (UTC); get_job reads it"))


class UnresolvedSummary(OutputModel):
    """A submission without a job id: in flight now, or sent without an answer (the job may exist)."""

    task_type: str
    state: str = Field(description="in flight, or uncertain (the job may exist and cost points)")
    prompt: str | None = None
    reason: str | None = None
    estimated_points: int | None = None
    recorded_at: str


class JobList(OutputModel):
    """Jobs from the local history, newest first, and submissions whose outcome is not known."""

    jobs: list[JobSummary]
    count: int
    uncertain: list[UnresolvedSummary] = Field(default_factory=list)
    running_on_account: list[str] = Field(default_factory=list, description=(
        "Ids of jobs the API says are running on the account now (also ones this machine did not send)"))


class BalanceResult(OutputModel):
    """What the account can spend."""

    available: int = Field(description="What jobs can spend, in points (1000 points = $1)")
    unit: str
    usd: float | None = None
    parts: dict[str, int] = Field(default_factory=dict, description="credits (bought) and points (bonus)")
    explanation: str = ""
    plan: str | None = None
    max_concurrent_jobs: int | None = None
    low_balance_alert: bool = False


class CostEstimate(OutputModel):
    """What a paid tool call would cost, after every check it would pass; nothing was sent."""

    tool: str
    points: int | None = Field(default=None, description="The price in `unit`; absent when unknown")
    unit: str
    usd: float | None = None
    basis: str
    would_ask_user: bool
    notes: list[str] = Field(default_factory=list)


class BatchItem(OutputModel):
    prompt_no: int = Field(description="1-based position of the prompt in the batch")
    prompt: str
    job_id: str | None = Field(default=None, description="The job made; absent when this prompt was not submitted")
    status: str = Field(description="submitted, or failed (nothing made or charged), or uncertain (may exist)")
    error: str | None = None


class BatchSubmitted(OutputModel):
    """What imagine_batch submitted: one entry per prompt, in order; wait for them with wait_for_job."""

    jobs: list[BatchItem]
    job_ids: list[str] = Field(description="Every job made, for wait_for_job")
    submitted: int
    failed: int
    estimated_points: int | None = Field(default=None, description="The batch's one price, in `unit`")
    unit: str
    notes: list[str] = Field(default_factory=list)


class UploadedPicture(OutputModel):
    """A picture handed over by the client, kept on the server for a day."""

    image_url: str = Field(description="Pass this as image_url (describe, retexture, video_diffusion...) or in "
                                       "image_urls (blend)")
    content_type: str
    bytes: int
    expires_at: str


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _url_expiry(url: str | None) -> datetime | None:
    if not url:
        return None
    values = parse_qs(urlsplit(url).query).get("Expires")
    if values and values[0].isdigit() and len(values[0]) < 12:
        return datetime.fromtimestamp(int(values[0]), UTC)
    return None


def _numbers(values: list[int]) -> str:
    """``0``, ``0-3`` or ``0, 2``: the image_no values a call accepts, as written in a call."""
    if len(values) == 1:
        return str(values[0])
    if values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}-{values[-1]}"
    return ", ".join(map(str, values))


@dataclass(frozen=True)
class Listed:
    """The tools this server lists (its dialect and LEGNEXT_TOOLSETS decide), so that a result suggests only
    calls that exist: ``tools`` names the tool of each operation that has one."""

    names: frozenset[str]
    tools: Mapping[type[Operation], str] = field(default_factory=dict)


def next_steps(job: Job, follow_ups: list[FollowUp], listed: Listed) -> list[str]:
    """The calls that apply to this job now, with its real id and the numbers each accepts: the follow-ups the
    dialect says the job offers, and waiting, saving or using a suggestion; only tools the server lists."""
    jid = job.job_id
    steps: list[str] = []
    if not job.is_terminal:
        if "wait_for_job" in listed.names:
            steps.append(f"wait_for_job(job_ids=['{jid}']) to wait for the result (it keeps running meanwhile)")
        return steps
    if job.status is JobStatus.FAILED:
        return ["fix the cause named in 'error' and submit a new job (failed jobs are not charged)"]
    if job.task_type in TEXT_TASKS:
        if job.prompts and "generate_and_wait" in listed.names:
            steps.append("generate_and_wait(prompt=<one of 'prompts'>) makes images from a suggestion")
        return steps
    for follow in follow_ups:
        tool = listed.tools.get(follow.operation)
        if tool is None:
            continue
        number = "video_no" if follow.operation.parent_kind == "video" else "image_no"
        numbers = f", {number}={_numbers(list(follow.numbers))}" if follow.numbers else ""
        steps.append(f"{tool}(job_id='{jid}'{numbers})" + (f" {follow.note}" if follow.note else ""))
    if (job.video_urls or job.image_count) and "save_images" in listed.names:
        files = "videos" if is_video(job) else "files"
        steps.append(f"save_images(job_id='{jid}') keeps the {files} (links expire after 30 days)")
    return steps


def cost_text(job: Job, unit: str) -> str | None:
    """The cost in words: reserved and charged are one amount at two moments, never a sum."""
    if job.status is JobStatus.FAILED:
        return f"nothing charged (failed jobs are free; {job.frozen} {unit} reserved were returned)" \
            if job.frozen else "nothing charged (failed jobs are free)"
    if job.status is JobStatus.COMPLETED and (job.consumed or job.frozen):
        return f"{job.consumed or job.frozen} {unit} charged"
    if job.frozen:
        return f"{job.frozen} {unit} reserved while it runs (charged only if it completes)"
    return None


def job_result(job: Job, *, steps: list[str], prompt: str | None = None, parent_job_id: str | None = None,
               unit: str = "points", saved_files: list[str] | None = None, estimated_points: int | None = None,
               notes: list[str] | None = None) -> JobResult:
    """The structured result for a job snapshot, with the next calls (``next_steps``)."""
    images = list(range(job.image_count)) if not job.video_urls else []
    created = job.created_at
    expiry = _url_expiry(job.grid_url or (job.image_urls[0] if job.image_urls else None)
                         or (job.video_urls[0] if job.video_urls else None))
    if expiry is None and created is not None and job.status is JobStatus.COMPLETED:
        expiry = created + STORAGE_WINDOW
    failed = job.status is JobStatus.FAILED
    reported = job.frozen or job.consumed
    return JobResult(
        job_id=job.job_id, task_type=job.task_type, status=job.status.value, done=job.is_terminal, api=job.dialect,
        progress=job.progress if not job.is_terminal else None, prompt=prompt or job.prompt,
        parent_job_id=parent_job_id, grid_url=job.grid_url, image_urls=job.image_urls,
        images=[f"legnext://jobs/{job.job_id}/images/{n}" for n in images],
        images_cut_from_grid=True if job.grid_only and images else None, video_urls=job.video_urls, seed=job.seed,
        description=job.description, prompts=job.prompts, available_actions=job.actions,
        error=job.error if failed else None, error_code=job.error_code if failed else None,
        cost=cost_text(job, unit), points_frozen=job.frozen if reported else None,
        points_consumed=job.consumed if reported else None, estimated_points=estimated_points,
        created_at=iso(created), started_at=iso(job.started_at), ended_at=iso(job.ended_at),
        follow_ups_until=iso(created + OPERATION_WINDOW) if created and job.task_type not in TEXT_TASKS else None,
        expires_at=iso(expiry), saved_files=saved_files or [], next_steps=steps, notes=notes or [],
        resource=f"legnext://jobs/{job.job_id}")


def result_text(result: JobResult) -> str:
    """A short summary with every id, seed and URL (some hosts show only text)."""
    lines = [f"Job {result.job_id} ({result.task_type}): {result.status}"
             + (f", {result.progress}%" if result.progress is not None else "") + "."]
    if result.error:
        lines.append(f"Error: {result.error} (code {result.error_code}); nothing was charged.")
    if result.prompt:
        lines.append(f"Prompt: {result.prompt[:300]}")
    if result.seed:
        lines.append(f"Seed: {result.seed}")
    if result.grid_url:
        lines.append(f"Grid: {result.grid_url}")
    lines += [f"Image {n}: {url}" for n, url in enumerate(result.image_urls)]
    if result.images_cut_from_grid:
        lines += [f"Image {n} ({QUADRANTS[n]} of the grid): {uri}" for n, uri in enumerate(result.images)]
    lines += [f"Video {n}: {url}" for n, url in enumerate(result.video_urls)]
    if result.description:
        lines.append(f"Description: {result.description}")
    lines += [f"Prompt {n + 1}: {text}" for n, text in enumerate(result.prompts)]
    if result.cost:
        lines.append(f"Cost: {result.cost}.")
    elif result.estimated_points is not None:
        lines.append(f"Cost: about {result.estimated_points} (estimate).")
    lines += result.notes
    lines += [f"Saved: {path}" for path in result.saved_files]
    if result.next_steps:
        lines.append("Next: " + "; ".join(result.next_steps))
    return "\n".join(lines)
