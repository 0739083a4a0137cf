"""Shared plumbing of the skill's scripts (skill/legnext-midjourney/scripts/*.py): settings (environment, then
``./.env``, then the skill folder's ``.env``), the service layer (the same checks, ledger and file rules as the
MCP server), exit codes, and human or JSON output. The scripts stay thin: arguments plus one call here.

Exit codes: 0 done, 1 job failed, 2 bad usage or configuration (nothing sent), 3 timed out (the job keeps
running), 4 API error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO

import anyio
from pydantic import ValidationError

from legnext_mcp.core.errors import LegnextError, LocalValidationError
from legnext_mcp.core.job import Job, JobStatus
from legnext_mcp.core.operations import Operation
from legnext_mcp.core.problems import describe
from legnext_mcp.dialects import DIALECTS
from legnext_mcp.service import jobs
from legnext_mcp.service.connect import make_dialect
from legnext_mcp.service.quote import quote
from legnext_mcp.service.runtime import Services, open_services
from legnext_mcp.settings import Settings, SettingsError

EXIT_OK, EXIT_JOB_FAILED, EXIT_USAGE, EXIT_TIMEOUT, EXIT_API = 0, 1, 2, 3, 4


class UsageError(Exception):
    """Bad arguments or configuration (exit 2)."""


class JobFailed(Exception):
    """The job ended failed (exit 1)."""

    def __init__(self, job: Job) -> None:
        super().__init__(f"Job {job.job_id} ({job.task_type}) failed: {job.error or 'no reason given'} "
                         f"(error code {job.error_code}). Failed jobs are not charged.")
        self.job = job


class StillRunning(Exception):
    """The wait ran out (exit 3); the job keeps running."""

    def __init__(self, job: Job, timeout: float) -> None:
        super().__init__(f"Job {job.job_id} is still {job.status.value} after {timeout:.0f} s; it keeps running.")
        self.job = job


def _dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            name, sep, value = line.strip().partition("=")
            if sep and not name.startswith("#"):
                values[name.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values


def script_path(name: str) -> str:
    """How to call a sibling script from the current folder (hints a user can copy)."""
    path = Path(sys.argv[0]).resolve().parent / name
    try:
        shown = str(path.relative_to(Path.cwd()))
    except ValueError:
        shown = str(path)
    return shown


def environment() -> Mapping[str, str]:
    """LEGNEXT_* settings: the environment, then ./.env, then the skill folder's .env (first one wins)."""
    skill_dir = Path(sys.argv[0]).resolve().parent.parent  # scripts/NAME.py -> the skill folder
    merged: dict[str, str] = {}
    for source in (_dotenv(skill_dir / ".env"), _dotenv(Path.cwd() / ".env"), dict(os.environ)):
        merged.update({k: v for k, v in source.items() if v})
    return merged


def add_dialect(parser: argparse.ArgumentParser) -> None:
    """``--dialect``: which API the script talks to (default LEGNEXT_DIALECT, else legnext)."""
    parser.add_argument("--dialect", choices=DIALECTS, default=None,
                        help="legnext (default) or mj-proxy (a midjourney-proxy relay at LEGNEXT_BASE_URL)")


def settings(dialect: str | None = None) -> Settings:
    """The settings the scripts run with.

    Raises:
        UsageError: a missing key, an 'lnx_' prototype key, a bad base URL or value (nothing is sent).
    """
    try:
        config = Settings.from_env(environment(), dialect=dialect, require_key=False)
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    if config.needs_key:  # the server's hint names its --sandbox flag, which the scripts do not have
        where = ("Get a key at https://legnext.ai/app/api-keys" if config.dialect == "legnext"
                 else "Use the key your relay gave you")
        raise UsageError(f"LEGNEXT_API_KEY is not set. {where} and set it in the environment or in a .env file (in "
                         "this folder or the skill's); or start the simulator with 'legnext-mcp sandbox' and export "
                         "the settings it prints, to try everything without a key.")
    return config


def mask(key: str) -> str:
    """Enough of a key to tell keys apart, never enough to use: ``sk-s…6789``."""
    return f"{key[:4]}…{key[-4:]}" if len(key) > 12 else "…" + key[-2:]


def job_dict(job: Job, **extra: Any) -> dict[str, Any]:
    return {"job_id": job.job_id, "api": job.dialect, "task_type": job.task_type, "status": job.status.value,
            "grid_url": job.grid_url, "image_urls": job.image_urls, "video_urls": job.video_urls, "seed": job.seed,
            "prompts": job.prompts, "description": job.description, "available_actions": job.actions,
            "points": job.consumed or job.frozen, "error": job.error, **extra}


def print_job(job: Job, stream: TextIO = sys.stdout) -> None:
    lines = [f"job_id: {job.job_id}", f"status: {job.status.value} ({job.task_type})"]
    if job.seed:
        lines.append(f"seed:   {job.seed}")
    if job.grid_url:
        lines.append(f"grid:   {job.grid_url}")
    lines += [f"image {n}: {url}" for n, url in enumerate(job.image_urls)]
    lines += [f"video {n}: {url}" for n, url in enumerate(job.video_urls)]
    lines += [f"prompt {n + 1}: {text}" for n, text in enumerate(job.prompts)]
    if job.error:
        lines.append(f"error:  {job.error}")
    print("\n".join(lines), file=stream, flush=True)


def emit(value: dict[str, Any], as_json: bool, human: Callable[[], None]) -> None:
    if as_json:
        print(json.dumps(value, indent=2), flush=True)
    else:
        human()


@asynccontextmanager
async def open_service(dialect: str | None = None) -> AsyncIterator[Services]:
    config = settings(dialect)
    async with open_services(config, make_dialect(config)) as svc:
        yield svc


async def submit(svc: Services, op: Operation) -> Job:
    """Check, price, budget and send ``op`` once (recorded in the same ledger the MCP server uses)."""
    return await jobs.submit(svc, await quote(svc, op))


async def wait(svc: Services, job: Job, timeout: float,
               on_progress: Callable[[jobs.Progress], Awaitable[None]] | None = None) -> Job:
    """Wait for ``job``; raises JobFailed or StillRunning."""
    waited = await jobs.wait(svc, [job], timeout=timeout, on_progress=on_progress)
    if waited.errors:
        raise next(iter(waited.errors.values()))
    final = waited.jobs[0]
    if final.status is JobStatus.FAILED:
        raise JobFailed(final)
    if not final.is_terminal:
        raise StillRunning(final, timeout)
    return final


def nothing_sent(problems: str) -> str:
    """Problems found before sending, ending once with "Nothing was sent." (a rule's own message may say it too)."""
    return problems.replace(" Nothing was sent.", "").rstrip(". ") + ". Nothing was sent."


def run(main: Callable[[Services], Awaitable[int]], *, as_json: bool, dialect: str | None = None,
        names: Mapping[str, str] | None = None) -> int:
    """Run ``main`` with the services; map every failure to its exit code and one clear message on stderr.
    ``names``: the script's flag or argument for each field a problem may name (``index`` is ``--image``)."""

    def fail(code: int, message: str, extra: dict[str, Any] | None = None) -> int:
        if as_json:
            print(json.dumps({"error": message, "exit_code": code, **(extra or {})}), flush=True)
        print(f"error: {message}", file=sys.stderr, flush=True)
        return code

    async def go() -> int:
        async with open_service(dialect) as svc:
            return await main(svc)

    try:
        return anyio.run(go)
    except UsageError as exc:
        return fail(EXIT_USAGE, str(exc))
    except JobFailed as exc:
        return fail(EXIT_JOB_FAILED, str(exc), {"job": job_dict(exc.job)})
    except StillRunning as exc:
        return fail(EXIT_TIMEOUT,
            f"{exc} Check later with: python {script_path('get_task.py')} {exc.job.job_id} --wait",
                    {"job_id": exc.job.job_id})
    except LocalValidationError as exc:
        return fail(EXIT_USAGE, str(exc))
    except ValidationError as exc:
        return fail(EXIT_USAGE, nothing_sent(describe(exc, names=names)))
    except LegnextError as exc:
        return fail(EXIT_API, str(exc))
    except KeyboardInterrupt:
        return fail(EXIT_TIMEOUT, "interrupted; the job (if submitted) keeps running on the server")
