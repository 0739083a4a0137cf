"""Resources (jobs, job images, the parameter guide), registered by the back when it is first needed.

Every failure is a ``ResourceError`` with the real reason (an unknown job, an image number the job does not
have), never the SDK's generic "Error creating resource from template".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError

from legnext_mcp.core.errors import LegnextError
from legnext_mcp.core.ids import check_job_id
from legnext_mcp.core.job import Job
from legnext_mcp.server.guide import parameters_guide
from legnext_mcp.server.tools import Ctx, Warm, describe_job, services
from legnext_mcp.service import jobs as service
from legnext_mcp.service.caller import caller, unknown_job
from legnext_mcp.service.runtime import Services


async def _job(svc: Services, job_id: str) -> Job:
    """The ledger's snapshot when it will not change any more, otherwise a fresh read (recorded)."""
    try:
        check_job_id(job_id)
        who = caller()
        entry = await svc.ledger.get(svc.dialect.name, job_id, user=who.reads)
        if entry is None and who.scoped:  # someone else's or unknown: one answer, nothing asked upstream
            raise unknown_job(job_id)
        if entry is not None and entry.job.is_terminal:
            return entry.job
        job = await svc.dialect.get(job_id)
    except LegnextError as exc:
        raise ResourceError(exc.message) from None
    await service.record(svc, job, [])
    return job


def register_resources(server: MCPServer[Any], current: Callable[[], Warm | None]) -> None:
    """Attach the legnext:// resources to ``server``. ``current`` gives the latest session's warm state, for
    the static resource (the SDK hands static resources no context)."""

    @server.resource("legnext://jobs", name="recent-jobs", title="Recent jobs", mime_type="application/json",
                     description="The 50 most recent jobs this machine knows (local history)")
    async def recent_jobs() -> str:
        state = current()
        if state is None:
            raise ResourceError("the server is not running")
        svc = state.services
        entries = await svc.ledger.recent(svc.dialect.name, limit=50, user=caller().reads)
        return json.dumps([{"job_id": e.job.job_id, "task_type": e.job.task_type, "status": e.job.status.value,
                            "prompt": e.prompt} for e in entries], indent=1)

    @server.resource("legnext://jobs/{job_id}", name="job", title="A job", mime_type="application/json",
                     description="One job as JSON: status, URLs, seed, follow-ups (refreshed while running)")
    async def job(job_id: str, ctx: Ctx) -> str:
        found = await _job(services(ctx), job_id)
        return json.dumps((await describe_job(ctx, found)).structured(), indent=1)

    @server.resource("legnext://jobs/{job_id}/images/{index}", name="job-image", title="A job's image",
                     mime_type="image/png", description="Image bytes of output 0-3 (or 'grid'), cached on disk")
    async def job_image(job_id: str, index: str, ctx: Ctx) -> bytes:
        svc = services(ctx)
        if not (index == "grid" or (index.isdigit() and len(index) < 3)):
            raise ResourceError(f"index must be 0-3 or 'grid', got {index[:20]!r}")
        found = await _job(svc, job_id)
        if not found.is_terminal:
            raise ResourceError(f"Job {job_id} is still {found.status.value}; its images exist once it completes.")
        try:
            data, _ = await svc.outputs.file(found, index if index == "grid" else int(index),
                                             refresh=lambda: svc.dialect.get(job_id))
        except LegnextError as exc:
            raise ResourceError(exc.message) from None
        return data

    @server.resource("legnext://guide/parameters", name="parameter-guide", title="Prompt parameters",
                     mime_type="text/markdown", description="Midjourney --flags by model version, ranges, costs")
    async def guide() -> str:
        return parameters_guide()
