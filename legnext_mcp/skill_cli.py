"""Shared plumbing of the skill's scripts (skill/legnext-midjourney/scripts/*.py): key and settings, exit codes,
human or JSON output. The scripts stay thin: argument parsing plus one call into this module.

Exit codes: 0 done, 1 job failed, 2 bad usage or configuration, 3 timed out, 4 API error.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TextIO

import anyio

from legnext_mcp.api import (
    DEFAULT_BASE_URL,
    InvalidRequestError,
    Job,
    JobFailedError,
    LegnextClient,
    LegnextError,
    WaitTimeoutError,
)
from legnext_mcp.files import atomic_write

EXIT_OK, EXIT_JOB_FAILED, EXIT_USAGE, EXIT_TIMEOUT, EXIT_API = 0, 1, 2, 3, 4


class UsageError(Exception):
    """Bad arguments or configuration (exit 2)."""


def _dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            name, sep, value = line.strip().partition("=")
            if sep and not name.startswith("#"):
                values[name.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values


def setting(name: str, default: str | None = None) -> str | None:
    """An environment variable, else from ./.env, else from the skill folder's .env."""
    if os.environ.get(name):
        return os.environ[name]
    skill_dir = Path(sys.argv[0]).resolve().parent.parent  # scripts/NAME.py -> the skill folder
    for candidate in (Path.cwd() / ".env", skill_dir / ".env"):
        value = _dotenv(candidate).get(name)
        if value:
            return value
    return default


def mask(key: str) -> str:
    """Enough of a key to tell keys apart, never enough to use: ``lnx_…9f3a``."""
    return f"{key[:4]}…{key[-4:]}" if len(key) > 12 else "…" + key[-2:]


def make_client() -> LegnextClient:
    key = setting("LEGNEXT_API_KEY")
    if not key:
        raise UsageError("LEGNEXT_API_KEY is not set (environment or .env). Get a key at "
                         "https://legnext.ai/app/api-keys, or point LEGNEXT_BASE_URL at `legnext-mcp sandbox`.")
    scale_text = setting("LEGNEXT_TIME_SCALE", "1") or "1"
    try:
        scale = float(scale_text)
    except ValueError:
        raise UsageError(f"LEGNEXT_TIME_SCALE must be a number, got {scale_text!r}") from None
    base = setting("LEGNEXT_BASE_URL", DEFAULT_BASE_URL) or DEFAULT_BASE_URL
    return LegnextClient(key, base_url=base, time_scale=max(scale, 1.0))


def job_dict(job: Job) -> dict[str, Any]:
    out = job.output
    return {"job_id": job.job_id, "task_type": job.task_type, "status": job.status.value,
            "grid_url": out.image_url if len(out.image_urls) > 1 else None, "image_urls": out.image_urls,
            "video_urls": out.video_urls, "seed": out.seed, "prompts": out.prompts, "description": out.description,
            "available_actions": out.available_actions, "points": job.meta.usage.consume or job.meta.usage.frozen,
            "error": job.error.message or None}


def print_job(job: Job, stream: TextIO = sys.stdout) -> None:
    data = job_dict(job)
    lines = [f"job_id: {job.job_id}", f"status: {data['status']} ({job.task_type})"]
    if data["seed"]:
        lines.append(f"seed:   {data['seed']}")
    if data["grid_url"]:
        lines.append(f"grid:   {data['grid_url']}")
    lines += [f"image {n}: {url}" for n, url in enumerate(data["image_urls"])]
    lines += [f"video {n}: {url}" for n, url in enumerate(data["video_urls"])]
    lines += [f"prompt {n + 1}: {text}" for n, text in enumerate(data["prompts"])]
    if data["error"]:
        lines.append(f"error:  {data['error']}")
    print("\n".join(lines), file=stream, flush=True)


def emit(value: dict[str, Any], as_json: bool, human: Callable[[], None]) -> None:
    if as_json:
        print(json.dumps(value, indent=2), flush=True)
    else:
        human()


def run(main: Callable[[LegnextClient], Awaitable[int]], *, as_json: bool) -> int:
    """Run ``main`` with a client; map every failure to its exit code and one clear message on stderr."""

    def fail(code: int, message: str, extra: dict[str, Any] | None = None) -> int:
        if as_json:
            print(json.dumps({"error": message, "exit_code": code, **(extra or {})}), flush=True)
        print(f"error: {message}", file=sys.stderr, flush=True)
        return code

    async def go() -> int:
        async with make_client() as client:
            return await main(client)

    try:
        return anyio.run(go)
    except UsageError as exc:
        return fail(EXIT_USAGE, str(exc))
    except JobFailedError as exc:
        return fail(EXIT_JOB_FAILED, str(exc), {"job": job_dict(exc.job)})
    except WaitTimeoutError as exc:
        return fail(EXIT_TIMEOUT, f"{exc} Check later with: get_task.py {exc.job_id}", {"job_id": exc.job_id})
    except InvalidRequestError as exc:
        return fail(EXIT_USAGE if exc.local else EXIT_API, str(exc))
    except LegnextError as exc:
        return fail(EXIT_API, str(exc))
    except KeyboardInterrupt:
        return fail(EXIT_TIMEOUT, "interrupted; the job (if submitted) keeps running on the server")


async def save_outputs(client: LegnextClient, job: Job, folder: Path) -> list[Path]:
    """Download every output of ``job`` into ``folder`` (absolute) as ``{job_id}_{n}.{ext}``, atomically."""
    urls = job.output.video_urls or job.output.image_urls or ([job.output.image_url] if job.output.image_url else [])
    saved = []
    for n, url in enumerate(urls):
        download = await client.download(url)
        ext = {"image/jpeg": "jpg", "image/webp": "webp", "video/mp4": "mp4"}.get(download.content_type, "png")
        path = folder / f"{job.job_id}_{n}.{ext}"
        await anyio.to_thread.run_sync(atomic_write, path, download.content)
        saved.append(path)
    return saved
