"""The MCP Apps gallery (extension ``io.modelcontextprotocol/ui``): one self-contained HTML view that hosts
such as Claude, ChatGPT and VS Code show inline for a job result: progress, the images, and buttons for the
follow-ups the job offers.

Only where it helps: the job tools point at the view (``_meta.ui.resourceUri``) in the tools/list answer of
a client that advertised the extension, and the ``ui://`` resource is listed to those clients only. Every
other client gets exactly the tools, resources and results it got before. Results are the same for both:
the view reads ``structuredContent`` (the JobResult) that the host hands it; spending rules stay in the
server (a button's call goes through the same tool, price and confirmation as the model's).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

from mcp.server.apps import Apps, client_supports_apps
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

GALLERY_URI = "ui://legnext/gallery.html"
#: The tools whose result the view shows: every job tool, and get_job.
FREE_GALLERY_TOOLS = frozenset({"get_job"})


@cache
def gallery_html() -> str:
    """The view: HTML, CSS and JavaScript in one file, nothing loaded from elsewhere."""
    return files("legnext_mcp.server").joinpath("gallery.html").read_text(encoding="utf-8")


def apps_extension() -> Apps:
    """The extension with the view registered; no CSP domains, since images arrive through resources/read as
    data: URLs, which the hosts' default policy allows."""
    apps = Apps()
    apps.add_html_resource(GALLERY_URI, gallery_html(), name="job-gallery", title="Job gallery",
                           description="A job's images with buttons for its follow-ups", prefers_border=True)
    return apps


class GalleryLinks:
    """Middleware: links the job tools to the view for clients that support MCP Apps, and keeps the view's
    resource out of other clients' resources/list."""

    def __init__(self, linked: frozenset[str]) -> None:
        self.linked = linked

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        if ctx.method not in ("tools/list", "resources/list") or result is None:
            return result
        apps = client_supports_apps(ctx)
        if ctx.method == "tools/list" and apps:
            return _with(result, "tools", lambda tool: _link(tool) if tool.get("name") in self.linked else tool)
        if ctx.method == "resources/list" and not apps:
            return _without_views(result)
        return result


def _as_dict(result: HandlerResult) -> dict[str, Any]:
    if isinstance(result, dict):
        return dict(result)
    assert result is not None
    dumped: dict[str, Any] = result.model_dump(by_alias=True, exclude_none=True, mode="json")
    return dumped


def _with(result: HandlerResult, key: str, change: Any) -> dict[str, Any]:
    out = _as_dict(result)
    out[key] = [change(item) for item in out.get(key, [])]
    return out


def _link(tool: dict[str, Any]) -> dict[str, Any]:
    meta = dict(tool.get("_meta") or {})
    meta["ui"] = {**meta.get("ui", {}), "resourceUri": GALLERY_URI}
    return {**tool, "_meta": meta}


def _without_views(result: HandlerResult) -> dict[str, Any]:
    out = _as_dict(result)
    out["resources"] = [r for r in out.get("resources", []) if not str(r.get("uri", "")).startswith("ui://")]
    return out
