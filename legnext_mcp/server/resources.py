"""Resources (jobs, job images, the parameter guide) and argument completion of job ids."""

from __future__ import annotations

import json
from typing import Any

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError
from mcp_types import Completion, CompletionArgument, CompletionContext, PromptReference, ResourceTemplateReference

from legnext_mcp.api import LegnextError
from legnext_mcp.api.prompt import parameters_guide
from legnext_mcp.server.runtime import RuntimeRef, check_job_id, describe_job, fetch_output, runtime

Ctx = Context[Any, Any]


def register_resources(server: MCPServer[Any], live: RuntimeRef) -> None:
    """Attach the legnext:// resources and job-id completion to ``server``."""

    @server.resource("legnext://jobs", name="recent-jobs", title="Recent jobs", mime_type="application/json",
                     description="The 50 most recent jobs this server knows (local history)")
    async def recent_jobs() -> str:  # static resources get no context: use the server's runtime
        if live.current is None:
            raise ResourceError("the server is not running")
        entries = await live.current.ledger.recent(limit=50)
        return json.dumps([{"job_id": e.job.job_id, "task_type": e.job.task_type, "status": e.job.status.value,
                            "prompt": e.prompt} for e in entries], indent=1)

    @server.resource("legnext://jobs/{job_id}", name="job", title="A job", mime_type="application/json",
                     description="One job as JSON: status, URLs, seed, follow-ups (refreshed if still running)")
    async def job(job_id: str, ctx: Ctx) -> str:
        rt = runtime(ctx)
        check_job_id(job_id)
        entry = await rt.ledger.get(job_id)
        current = entry.job if entry else None
        if current is None or not current.is_terminal:
            try:
                current = await rt.client.get_job(job_id)
            except LegnextError as exc:
                raise ResourceError(exc.message) from None
            await rt.ledger.record(current)
        return (await describe_job(rt, current)).model_dump_json(indent=1)

    @server.resource("legnext://jobs/{job_id}/images/{index}", name="job-image", title="A job's image",
                     mime_type="image/png", description="Image bytes of output 0-3 (or 'grid'), cached on disk")
    async def job_image(job_id: str, index: str, ctx: Ctx) -> bytes:
        rt = runtime(ctx)
        check_job_id(job_id)
        if not (index == "grid" or (index.isdigit() and int(index) < 16)):
            raise ResourceError("index must be 0-3 or 'grid'")
        entry = await rt.ledger.get(job_id)
        current = entry.job if entry and entry.job.is_terminal else None
        if current is None:
            try:
                current = await rt.client.get_job(job_id)
            except LegnextError as exc:
                raise ResourceError(exc.message) from None
            await rt.ledger.record(current)
        data, _ = await fetch_output(rt, current, index if index == "grid" else int(index))
        return data

    @server.resource("legnext://guide/parameters", name="parameter-guide", title="Prompt parameters",
                     mime_type="text/markdown", description="Midjourney --flags by model version, ranges, costs")
    async def guide() -> str:
        return parameters_guide()

    async def complete(ref: PromptReference | ResourceTemplateReference, argument: CompletionArgument,
                       context: CompletionContext | None) -> Completion | None:
        if argument.name != "job_id":
            return None
        if live.current is None:  # completion asked before the lifespan started: nothing known yet
            return None
        ids = await live.current.ledger.ids(argument.value, limit=20)
        return Completion(values=ids, total=len(ids), has_more=False)

    server.completion()(complete)  # type: ignore[no-untyped-call]  # the SDK's decorator is untyped
