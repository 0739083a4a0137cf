"""What a tool hands back: the ``JobResult`` output schema, its one-screen text, resource links and the
follow-up tools that apply. Pure functions of a job; no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, Field

from legnext_mcp.api import Job, JobStatus
from legnext_mcp.api.policy import OPERATION_WINDOW_S, STORAGE_WINDOW_S

GRID_TASKS = {"diffusion", "variation", "reroll", "blend", "pan", "outpaint", "inpaint", "remix", "edit",
              "upload-paint", "retexture"}
VIDEO_TASKS = {"video-diffusion", "extend-video", "video-upscale"}
TEXT_TASKS = {"describe", "shorten"}


class OutputModel(BaseModel):
    """Base of the structured results. tools/list declares a brief form of each (server/schema.py)."""


class JobResult(OutputModel):
    """A Legnext job. done=false: call wait_for_job. image_urls[n] is image_no n. next_steps: useful calls.
    URLs expire after 30 days (expires_at); follow-ups are accepted until follow_ups_until (3 days)."""

    job_id: str = Field(description="Id to pass to follow-up tools, wait_for_job and save_images")
    task_type: str = Field(description="Endpoint that made the job, e.g. diffusion, upscale, video-diffusion")
    status: str = Field(description="pending, staged, processing, completed or failed")
    done: bool = Field(description="True when completed or failed; otherwise call wait_for_job")
    prompt: str | None = Field(default=None, description="Prompt the job was made from, when known")
    parent_job_id: str | None = Field(default=None, description="Job this one was made from")
    grid_url: str | None = Field(default=None, description="2x2 grid image of the four results")
    image_urls: list[str] = Field(default_factory=list, description="Individual images; index = image_no")
    video_urls: list[str] = Field(default_factory=list, description="Videos; index = video_no")
    seed: str | None = Field(default=None, description="Seed; reuse with --seed for similar results")
    description: str | None = Field(default=None, description="describe/shorten: analysis of the image or prompt")
    prompts: list[str] = Field(default_factory=list, description="describe/shorten: suggested prompts")
    available_actions: dict[str, list[int] | bool] = Field(
        default_factory=dict, description="Follow-ups the API offers, with the image numbers each accepts")
    error: str | None = Field(default=None, description="Why the job failed")
    error_code: int | None = Field(default=None, description="API error code of a failed job (403 = moderation)")
    points_frozen: int = Field(default=0, description="Points reserved for the job")
    points_consumed: int = Field(default=0, description="Points charged (0 for failed jobs)")
    created_at: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    follow_ups_until: str | None = Field(default=None, description="Follow-up actions are accepted until then")
    expires_at: str | None = Field(default=None, description="Output files are deleted at this time")
    saved_files: list[str] = Field(default_factory=list, description="Local files written by save_images")
    next_steps: list[str] = Field(default_factory=list, description="Tool calls that make sense next")
    estimated_points: int | None = Field(default=None, description="Price estimated before submitting")
    notes: list[str] = Field(default_factory=list, description="Budget and confirmation notes")


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
    recorded_at: str = Field(description="When this server first saw the job (UTC)")


class UncertainSummary(OutputModel):
    """A request sent without a readable answer: the job may exist (and cost points), its id is unknown."""

    task_type: str
    prompt: str | None = None
    reason: str
    estimated_points: int
    recorded_at: str


class JobList(OutputModel):
    """Jobs from the local ledger, newest first, and submissions whose outcome is unknown."""

    jobs: list[JobSummary]
    count: int
    uncertain: list[UncertainSummary] = Field(default_factory=list)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _url_expiry(url: str | None) -> datetime | None:
    if not url:
        return None
    values = parse_qs(urlsplit(url).query).get("Expires")
    if values and values[0].isdigit():
        return datetime.fromtimestamp(int(values[0]), UTC)
    return None


def next_steps(job: Job) -> list[str]:
    """The follow-up calls that apply to this job, as the assistant would write them."""
    jid = job.job_id
    if not job.is_terminal:
        return [f"wait_for_job(job_ids=['{jid}']) to wait for the result (it keeps running meanwhile)"]
    if job.status is JobStatus.FAILED:
        return ["fix the cause named in 'error' and submit a new job (failed jobs are not charged)"]
    out = job.output
    steps: list[str] = []
    if job.task_type in TEXT_TASKS:
        if out.prompts:
            steps.append("imagine(prompt=<one of 'prompts'>) to generate images from a suggestion")
        return steps
    if job.task_type in VIDEO_TASKS:
        if out.video_urls:
            last = len(out.video_urls) - 1
            steps.append(f"extend_video(job_id, video_no 0-{last}) adds 4 seconds")
            steps.append(f"video_upscale(job_id, video_no 0-{last})")
        steps.append("save_images(job_id) keeps the videos (links expire after 30 days)")
        return steps
    for action in ("upscale", "variation", "remix", "pan", "outpaint", "inpaint", "edit"):
        allowed = out.available_actions.get(action)
        if isinstance(allowed, list) and allowed:
            steps.append(f"{action}(job_id, image_no {allowed[0]}-{allowed[-1]})")
    if out.available_actions.get("reroll") is True:
        steps.append("reroll(job_id)")
    if out.image_urls:
        last = len(out.image_urls) - 1
        steps.append(f"video_diffusion(job_id, image_no 0-{last}) animates an image")
        steps.append(f"enhance_upscale(job_id, image_no 0-{last}) up to 12K")
        steps.append("save_images(job_id) keeps the files (links expire after 30 days)")
    return steps


def job_result(job: Job, *, prompt: str | None = None, parent_job_id: str | None = None,
               saved_files: list[str] | None = None) -> JobResult:
    """The structured result for a job snapshot."""
    out, meta = job.output, job.meta
    grid = out.image_url if job.task_type in GRID_TASKS else None
    images = out.image_urls or ([out.image_url] if out.image_url and job.task_type not in GRID_TASKS else [])
    created = meta.created_at
    expiry = _url_expiry(grid or (images[0] if images else None) or (out.video_urls[0] if out.video_urls else None))
    if expiry is None and created is not None and job.status is JobStatus.COMPLETED:
        expiry = created + timedelta(seconds=STORAGE_WINDOW_S)
    failed = job.status is JobStatus.FAILED
    return JobResult(
        job_id=job.job_id, task_type=job.task_type, status=job.status.value, done=job.is_terminal,
        prompt=prompt or out.prompt_en, parent_job_id=parent_job_id, grid_url=grid, image_urls=images,
        video_urls=out.video_urls, seed=out.seed, description=out.description, prompts=out.prompts,
        available_actions=out.available_actions,
        error=(job.error.message or job.error.raw_message or "failed without a reason") if failed else None,
        error_code=job.error.code if failed else None,
        points_frozen=meta.usage.frozen, points_consumed=meta.usage.consume,
        created_at=_iso(created), started_at=_iso(meta.started_at), ended_at=_iso(meta.ended_at),
        follow_ups_until=_iso(created + timedelta(seconds=OPERATION_WINDOW_S)) if created else None,
        expires_at=_iso(expiry), saved_files=saved_files or [], next_steps=next_steps(job),
    )


def result_text(result: JobResult) -> str:
    """A short summary with every id, seed and URL (some hosts show only text)."""
    lines = [f"Job {result.job_id} ({result.task_type}): {result.status}."]
    if result.error:
        lines.append(f"Error: {result.error} (code {result.error_code}); nothing was charged.")
    if result.seed:
        lines.append(f"Seed: {result.seed}")
    if result.grid_url:
        lines.append(f"Grid: {result.grid_url}")
    lines += [f"Image {n}: {url}" for n, url in enumerate(result.image_urls)]
    lines += [f"Video {n}: {url}" for n, url in enumerate(result.video_urls)]
    if result.description:
        lines.append(f"Description: {result.description}")
    lines += [f"Prompt {n + 1}: {text}" for n, text in enumerate(result.prompts)]
    if result.points_consumed or result.points_frozen:
        lines.append(f"Points: {result.points_consumed} consumed, {result.points_frozen} reserved.")
    elif result.estimated_points is not None:
        lines.append(f"Points: about {result.estimated_points} (estimate).")
    lines += result.notes
    lines += [f"Saved: {path}" for path in result.saved_files]
    if result.next_steps:
        lines.append("Next: " + "; ".join(result.next_steps))
    return "\n".join(lines)


def structured(result: BaseModel) -> dict[str, Any]:
    return result.model_dump(mode="json")
