"""Every tool through mcp.Client (both protocol modes) against the simulator."""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp_types import (
    BlobResourceContents,
    ReadResourceResult,
    ResourceTemplateReference,
    TextResourceContents,
    ToolAnnotations,
)

from legnext_mcp.api import DiffusionRequest, LegnextClient
from legnext_mcp.core.errors import LegnextError
from legnext_mcp.core.job import Job
from legnext_mcp.dialects.legnext.dialect import LegnextDialect
from legnext_mcp.sandbox import FAIL_WORD, HANG_WORD, MODERATION_WORD, Engine, SandboxApp
from legnext_mcp.server import build_server
from legnext_mcp.server.results import JobResult
from tests.cases import CALLS, FREE, IMG, OWN, PAID
from tests.support import FAST, Harness, harness_settings, make_client, poller_of, server_harness

pytestmark = pytest.mark.anyio
def effective(hints: ToolAnnotations | None) -> tuple[bool, bool, bool, bool]:
    """Hints as a client reads them: an absent hint takes the MCP spec's default."""
    assert hints is not None
    return (bool(hints.read_only_hint), True if hints.destructive_hint is None else hints.destructive_hint,
            bool(hints.idempotent_hint), True if hints.open_world_hint is None else hints.open_world_hint)


def _walk(schema: Any) -> list[dict[str, Any]]:
    """Every sub-schema of a JSON schema, the root included."""
    found: list[dict[str, Any]] = []
    if isinstance(schema, dict):
        found.append(schema)
        for value in schema.values():
            found += _walk(value)
    elif isinstance(schema, list):
        for item in schema:
            found += _walk(item)
    return found


@pytest.mark.eras
async def test_tools_list_declares_portable_schemas_descriptions_and_honest_annotations(harness: Harness) -> None:
    tools = {t.name: t for t in (await harness.client.list_tools()).tools}
    assert set(tools) == PAID | FREE | OWN
    assert effective(tools["imagine_batch"].annotations) == effective(tools["imagine"].annotations)  # paid
    assert effective(tools["upload_picture"].annotations) == (False, False, False, False)  # writes a local file
    for name, tool in tools.items():
        assert tool.title and tool.description and len(tool.description) < 300
        schema = tool.input_schema
        assert schema["type"] == "object" and "properties" in schema
        for param, sub in schema.get("properties", {}).items():
            assert sub.get("description"), f"{name}.{param} has no description"
            if param not in schema.get("required", []):  # optional: null means "not given"
                assert {"type": "null"} in sub.get("anyOf", []), f"{name}.{param}"
        for node in _walk(schema):
            assert not {"title", "$ref", "$defs", "exclusiveMinimum", "exclusiveMaximum"} & set(node), (name, node)
            assert not isinstance(node.get("type"), list), (name, node)
            assert "additionalProperties" not in node, (name, node)  # google-genai breaks on it
        assert tool.output_schema is not None and tool.output_schema.get("properties")
        if name in PAID:
            # spending cannot be undone: destructive (docs/tools.md); every hint explicit, none left to defaults
            assert effective(tool.annotations) == (False, True, False, True)
            assert None not in tool.annotations.model_dump(exclude={"title"}).values()  # type: ignore[union-attr]
            assert "points" in tool.description or "cost" in tool.description.lower()
            assert set(tool.output_schema["required"]) == {"job_id", "task_type", "status", "done"}
            assert set(tool.output_schema["properties"]) == set(JobResult.model_fields)  # the whole result
        elif name in FREE:
            hints = effective(tool.annotations)
            # save_images writes files (destructive for Anthropic's directory review); the others only read
            assert hints[2] is True and hints[1] is (name == "save_images") and hints[0] is (name != "save_images")
        assert tool.icons and tool.icons[0].src.startswith("data:image/png;base64,"), name
    assert effective(tools["get_job"].annotations)[0] is True
    assert effective(tools["list_jobs"].annotations)[3] is False
    assert tools["pan"].input_schema["properties"]["direction"]["enum"] == ["down", "right", "up", "left"]
    assert tools["upscale"].input_schema["properties"]["image_no"] == {
        "description": "Which of its 4 images", "maximum": 3, "minimum": 0, "type": "integer"}
    assert list(tools["upscale"].input_schema["properties"]) == ["job_id", "image_no", "type"]
    # Who waits: generate_and_wait and wait_for_job; every other job tool submits and returns (README "Performance").
    waiting = {name for name, tool in tools.items() if {"wait", "timeout_s", "include_preview"} & set(
        tool.input_schema["properties"])}
    assert waiting == {"generate_and_wait", "wait_for_job"}
    assert list(tools["wait_for_job"].input_schema["properties"]) == ["job_ids", "timeout_s", "include_preview"]
    assert list(tools["generate_and_wait"].input_schema["properties"]) == ["prompt", "timeout_s", "include_preview"]


async def test_a_waiting_argument_on_a_job_tool_is_refused_with_the_way_to_wait(harness: Harness) -> None:
    parent = await _grid(harness)
    posts = harness.sandbox.stats.count("POST")
    refused = await harness.call("upscale", {"job_id": parent, "image_no": 0, "wait": True})
    assert refused.is_error and "upscale has no argument 'wait'" in refused.content[0].text
    assert "wait for the result with wait_for_job" in refused.content[0].text
    assert harness.sandbox.stats.count("POST") == posts


async def test_a_lean_schema_still_validates_the_full_argument_rules(harness: Harness) -> None:
    for arguments in ({"job_id": "../../etc", "image_no": 0}, {"job_id": "", "image_no": 0}):
        result = await harness.call("upscale", arguments)
        assert result.is_error and "job_id" in result.content[0].text
    assert harness.sandbox.stats.count() == 0


async def test_generate_and_wait_returns_urls_seed_resources_and_records_the_job(harness: Harness) -> None:
    result = await harness.call("generate_and_wait", {"prompt": "a red fox --ar 3:2"})
    assert not result.is_error
    data = result.structured_content
    assert data["status"] == "completed" and data["done"] and data["seed"]
    assert len(data["image_urls"]) == 4 and data["grid_url"]
    assert data["points_consumed"] == 80 and data["prompt"] == "a red fox --ar 3:2"
    assert data["cost"] == "80 points charged"
    text = result.content[0].text
    for url in [data["grid_url"], *data["image_urls"]]:
        assert url in text
    assert data["job_id"] in text and data["seed"] in text and "Cost: 80 points charged." in text
    assert data["resource"] == f"legnext://jobs/{data['job_id']}"
    assert data["images"][3] == f"legnext://jobs/{data['job_id']}/images/3"
    assert [b.type for b in result.content] == ["text"]  # no resource_link unless LEGNEXT_RESOURCE_LINKS
    assert any(f"upscale(job_id='{data['job_id']}', image_no=0-3)" in step for step in data["next_steps"])
    assert not [key for key, value in data.items() if value in (None, [], {}, "")]  # nothing empty
    listed = await harness.call("list_jobs", {})
    assert listed.structured_content["jobs"][0]["job_id"] == data["job_id"]


async def test_resource_links_are_added_when_asked_for(tmp_path: Path, mode: str) -> None:
    async with server_harness(tmp_path, mode, resource_links=True) as h:
        result = await h.call("generate_and_wait", {"prompt": "a fox"})
    job_id = result.structured_content["job_id"]
    links = [b.uri for b in result.content if b.type == "resource_link"]
    assert links == [f"legnext://jobs/{job_id}", *(f"legnext://jobs/{job_id}/images/{n}" for n in range(4))]


async def _grid(harness: Harness, prompt: str = "a fox --v 7 --draft") -> str:
    result = await harness.call("generate_and_wait", {"prompt": prompt})
    job_id: str = result.structured_content["job_id"]
    return job_id


async def _video(harness: Harness) -> str:
    job_id: str = (await harness.finished("video_diffusion", {"image_url": IMG, "prompt": "waves --bs 2"}))["job_id"]
    return job_id


def test_every_job_endpoint_tool_is_exercised() -> None:
    assert set(CALLS) | {"generate_and_wait"} == PAID


async def test_each_job_tool_submits_records_and_waits(harness: Harness) -> None:
    parent, video = await _grid(harness), await _video(harness)  # one server per protocol mode for all tools
    for tool in sorted(CALLS):
        submitted = await harness.call(tool, CALLS[tool](parent, video))
        assert not submitted.is_error, (tool, submitted.content[0].text)
        job_id = submitted.structured_content["job_id"]
        assert job_id in {j.job_id for j in harness.sandbox.engine.jobs.values()}, tool
        recorded = await harness.call("list_jobs", {"limit": 100})
        assert job_id in {j["job_id"] for j in recorded.structured_content["jobs"]}, tool
        waited = await harness.call("wait_for_job", {"job_ids": [job_id]})
        job = waited.structured_content["jobs"][0]
        assert job["status"] == "completed" and waited.structured_content["all_done"], tool
        assert job.get("image_urls") or job.get("video_urls") or job.get("prompts"), tool


@pytest.mark.eras
async def test_progress_notifications_say_how_far_along_and_stop_before_the_result(tmp_path: Path, mode: str) -> None:
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    async with server_harness(tmp_path, mode, speed=200) as h:  # a 40 s job takes 0.2 s: several looks
        result = await h.call("generate_and_wait", {"prompt": "a fox"}, progress_callback=on_progress)
    job_id = result.structured_content["job_id"]
    assert result.structured_content["status"] == "completed"
    assert len(seen) >= 2
    assert all(job_id in (m or "") and "elapsed" in (m or "") for _, _, m in seen)
    assert all(total == 100 and 0 <= p < 100 for p, total, _ in seen)  # a percent, never "done" before the result
    assert [p for p, _, _ in seen] == sorted(p for p, _, _ in seen)
    assert not any("completed" in (m or "") for _, _, m in seen)  # nothing once the wait is decided


async def test_soft_deadline_hands_back_a_running_job_as_success(tmp_path: Path, mode: str) -> None:
    async with server_harness(tmp_path, mode, soft_deadline_s=0.3) as h:
        with anyio.fail_after(10):
            result = await h.call("generate_and_wait", {"prompt": f"a fox {HANG_WORD}"})
    data = result.structured_content
    assert not result.is_error
    assert data["status"] == "processing" and not data["done"]
    assert data["next_steps"] == [f"wait_for_job(job_ids=['{data['job_id']}']) to wait for the result "
                                  "(it keeps running meanwhile)"]


@pytest.mark.parametrize(("word", "reason"), [(MODERATION_WORD, "moderation"), (FAIL_WORD, "failed to process")])
async def test_a_failed_job_is_an_error_result_naming_reason_and_refund(harness: Harness, word: str,
                                                                        reason: str) -> None:
    result = await harness.call("generate_and_wait", {"prompt": f"a {word} fox"})
    assert result.is_error
    text = result.content[0].text
    assert reason in text.lower() and "nothing was charged" in text
    assert result.structured_content["points_consumed"] == 0


async def test_model_fixable_errors_say_what_to_change_and_send_nothing(harness: Harness) -> None:
    before = harness.sandbox.stats.count()
    out_of_range = await harness.call("pan", {"job_id": "abc", "image_no": 0, "direction": "up", "scale": 5})
    bad_id = await harness.call("get_job", {"job_id": "../../etc/passwd"})
    bad_url = await harness.call("describe", {"image_url": "javascript:alert(1)"})
    assert out_of_range.is_error and "scale: must be between 1.1 and 3.0 (got 5)" in out_of_range.content[0].text
    assert bad_id.is_error and bad_url.is_error and "http(s) URL" in bad_url.content[0].text
    assert harness.sandbox.stats.count() == before
    rejected = await harness.call("imagine", {"prompt": "a fox --v 8.1 --no dogs"})
    assert rejected.is_error and "--no" in rejected.content[0].text
    unknown = await harness.call("get_job", {"job_id": "no-such-job"})
    assert unknown.is_error and "Not found" in unknown.content[0].text


async def test_an_argument_the_tool_does_not_have_is_refused_with_the_likely_name(harness: Harness) -> None:
    result = await harness.call("imagine", {"prompt": "a fox", "aspectRatio": "16:9"})
    assert result.is_error and harness.sandbox.stats.count() == 0
    assert "imagine has no argument 'aspectRatio' (did you mean 'aspect_ratio'?)" in result.content[0].text
    plain = await harness.call("get_balance", {"currency": "EUR"})
    assert plain.is_error and "get_balance has no argument 'currency'" in plain.content[0].text


async def test_wait_for_job_waits_for_several_jobs_at_once(harness: Harness) -> None:
    ids = [(await harness.call("imagine", {"prompt": f"fox {n}"})).structured_content["job_id"] for n in range(3)]
    result = await harness.call("wait_for_job", {"job_ids": ids})
    batch = result.structured_content
    assert [j["job_id"] for j in batch["jobs"]] == ids
    assert batch["all_done"] and all(j["status"] == "completed" for j in batch["jobs"])


async def test_get_job_is_a_snapshot_without_waiting(harness: Harness) -> None:
    job_id = (await harness.call("imagine", {"prompt": f"a fox {HANG_WORD}"})).structured_content["job_id"]
    gets = harness.sandbox.stats.count("GET")
    result = await harness.call("get_job", {"job_id": job_id})
    assert result.structured_content["status"] in ("pending", "staged", "processing")
    assert harness.sandbox.stats.count("GET") == gets + 1


async def test_include_preview_attaches_a_small_jpeg(harness: Harness) -> None:
    result = await harness.call("generate_and_wait", {"prompt": "a fox", "include_preview": True})
    images = [b for b in result.content if b.type == "image"]
    assert len(images) == 1 and images[0].mime_type == "image/jpeg"
    assert len(images[0].data) * 3 / 4 <= harness.settings.preview_max_bytes


async def test_wait_for_job_attaches_a_preview_per_finished_job_when_asked(harness: Harness) -> None:
    parent = await _grid(harness)
    jobs = [(await harness.call(tool, arguments)).structured_content["job_id"] for tool, arguments in (
        ("upscale", {"job_id": parent, "image_no": 0}), ("describe", {"image_url": IMG}))]
    plain = await harness.call("wait_for_job", {"job_ids": jobs})
    assert plain.structured_content["all_done"] and not [b for b in plain.content if b.type == "image"]
    shown = await harness.call("wait_for_job", {"job_ids": jobs, "include_preview": True})
    images = [b for b in shown.content if b.type == "image"]
    assert len(images) == 1 and images[0].mime_type == "image/jpeg"  # the upscale; a describe has no image
    assert "base64" not in json.dumps(shown.structured_content) and images[0].data not in json.dumps(
        shown.structured_content)


async def test_save_images_writes_files_and_a_sidecar_in_the_output_dir(harness: Harness) -> None:
    job_id = await _grid(harness)
    result = await harness.call("save_images", {"job_id": job_id, "folder": "foxes"})
    saved = result.structured_content["saved_files"]
    out = harness.settings.output_dir / "foxes"
    assert sorted(saved) == sorted([str(out / f"{job_id}_{n}.png") for n in range(4)] + [str(out / f"{job_id}.json")])
    sidecar = json.loads((out / f"{job_id}.json").read_text())
    assert sidecar["prompt"] == "a fox --v 7 --draft" and sidecar["seed"] and len(sidecar["urls"]) == 4
    assert all(Path(p).read_bytes()[:4] == b"\x89PNG" for p in saved if p.endswith(".png"))
    assert not list(out.glob("*.part"))
    for folder in ("../escape", "/etc", "a/b", ".."):
        bad = await harness.call("save_images", {"job_id": job_id, "folder": folder})
        assert bad.is_error and "folder" in bad.content[0].text
    assert not (harness.settings.output_dir.parent / "escape").exists()


async def test_get_balance_reports_points_and_dollars(harness: Harness) -> None:
    result = await harness.call("get_balance")
    assert result.structured_content["available"] == 100_000
    assert result.structured_content["parts"] == {"credits": 100_000, "points": 0}
    text = result.content[0].text
    assert "$100.00" in text and "100000 credits + 0 points" in text and "credits (bought)" in text
    assert "Plan: developer" in text and result.structured_content["max_concurrent_jobs"] == 6  # /account/info


async def test_list_jobs_shows_what_runs_on_the_account_even_if_sent_elsewhere(harness: Harness) -> None:
    async with make_client(harness.sandbox) as outside:  # another program with the same key
        other = await outside.submit(DiffusionRequest(text=f"a cat {HANG_WORD}"))
    mine = (await harness.call("imagine", {"prompt": f"a fox {HANG_WORD}"})).structured_content["job_id"]
    listed = await harness.call("list_jobs", {})
    assert set(listed.structured_content["running_on_account"]) == {other.job_id, mine}
    assert f"Also running on the account (not sent from here): {other.job_id}" in listed.content[0].text


async def test_list_jobs_filters_by_status_and_type(harness: Harness) -> None:
    done = await _grid(harness)
    hung = (await harness.call("imagine", {"prompt": f"x {HANG_WORD}"})).structured_content["job_id"]
    described = (await harness.call("describe", {"image_url": IMG})).structured_content["job_id"]
    completed = (await harness.call("list_jobs", {"status": "completed"})).structured_content["jobs"]
    describes = (await harness.call("list_jobs", {"task_type": "describe"})).structured_content["jobs"]
    assert {j["job_id"] for j in completed} == {done, described}
    assert [j["job_id"] for j in describes] == [described]
    assert hung not in {j["job_id"] for j in completed}


def _text(result: ReadResourceResult) -> str:
    content = result.contents[0]
    assert isinstance(content, TextResourceContents)
    return content.text


async def test_resources_serve_jobs_images_and_the_guide(harness: Harness) -> None:
    job_id = await _grid(harness)
    templates = {t.uri_template for t in (await harness.client.list_resource_templates()).resource_templates}
    assert {"legnext://jobs/{job_id}", "legnext://jobs/{job_id}/images/{index}"} <= templates
    job = json.loads(_text(await harness.client.read_resource(f"legnext://jobs/{job_id}")))
    assert job["job_id"] == job_id and job["status"] == "completed"
    image = (await harness.client.read_resource(f"legnext://jobs/{job_id}/images/2")).contents[0]
    assert isinstance(image, BlobResourceContents)
    assert image.mime_type == "image/png" and base64.b64decode(image.blob)[:4] == b"\x89PNG"
    downloads = harness.sandbox.stats.count("GET", "/cdn/")
    await harness.client.read_resource(f"legnext://jobs/{job_id}/images/2")
    assert harness.sandbox.stats.count("GET", "/cdn/") == downloads  # served from the disk cache
    recent = json.loads(_text(await harness.client.read_resource("legnext://jobs")))
    assert recent[0]["job_id"] == job_id
    guide = _text(await harness.client.read_resource("legnext://guide/parameters"))
    assert "--draft" in guide and "v8.1" in guide


@pytest.mark.eras
async def test_resources_and_prompts_answer_when_they_are_a_sessions_first_request(tmp_path: Path,
                                                                                     mode: str) -> None:
    # they are registered with the first request about either (start-up time), whichever that is
    async def guide(client: Client) -> None:
        assert "--draft" in _text(await client.read_resource("legnext://guide/parameters"))

    async def templates(client: Client) -> None:
        listed = (await client.list_resource_templates()).resource_templates
        assert {t.uri_template for t in listed} == {"legnext://jobs/{job_id}", "legnext://jobs/{job_id}/images/{index}"}

    async def resources(client: Client) -> None:
        uris = {str(r.uri) for r in (await client.list_resources()).resources}
        assert {"legnext://jobs", "legnext://guide/parameters"} <= uris

    async def prompts(client: Client) -> None:
        assert [p.name for p in (await client.list_prompts()).prompts] == ["craft_prompt"]

    async def prompt(client: Client) -> None:
        got = await client.get_prompt("craft_prompt", {"subject": "a lighthouse"})
        assert "a lighthouse" in str(got.messages[0].content)

    for number, first in enumerate((guide, templates, resources, prompts, prompt)):
        async with server_harness(tmp_path / str(number), mode) as fresh:
            await first(fresh.client)
            await templates(fresh.client)  # and registered once: nothing doubled afterwards


@pytest.mark.eras
async def test_job_ids_complete_from_the_ledger(harness: Harness) -> None:
    job_id = await _grid(harness)
    ref = ResourceTemplateReference(type="ref/resource", uri="legnext://jobs/{job_id}")
    completion = await harness.client.complete(ref, {"name": "job_id", "value": job_id[:4]})
    assert job_id in completion.completion.values
    none = await harness.client.complete(ref, {"name": "job_id", "value": "zzzz"})
    assert none.completion.values == []


class CountedDialect(LegnextDialect):
    """The real dialect, counting the reads of the waits (they are the process poller's)."""

    def __init__(self, client: LegnextClient) -> None:
        super().__init__(client)
        self.reads = 0
        self.read = anyio.Event()

    async def get_many(self, job_ids: list[str]) -> list[Job | LegnextError]:
        self.reads += 1
        self.read.set()
        return await super().get_many(job_ids)


@pytest.mark.eras
async def test_cancelling_a_waiting_call_stops_polling(tmp_path: Path, mode: str) -> None:
    sandbox = SandboxApp(Engine(time_scale=FAST, seed=3))
    async with make_client(sandbox) as api:
        dialect = CountedDialect(api)
        server = build_server(harness_settings(tmp_path, soft_deadline_s=60), dialect=dialect)
        async with Client(server, mode=mode) as client:
            async with anyio.create_task_group() as group:  # the client gives up on a job that never ends...
                group.start_soon(client.call_tool, "generate_and_wait", {"prompt": f"a fox {HANG_WORD}"})
                with anyio.fail_after(5):
                    await dialect.read.wait()  # ...once the server has looked at it
                group.cancel_scope.cancel()
            await anyio.wait_all_tasks_blocked()  # the server's side of the call has ended...
            poller = poller_of(server)
            assert poller.watched() == []  # ...and the poller forgot the job nobody waits on
            reads = dialect.reads
            await anyio.wait_all_tasks_blocked()
            assert dialect.reads == reads and sandbox.stats.count("GET", "/api/v1/job/") > 0


async def test_jobs_survive_a_restart_of_the_server(tmp_path: Path) -> None:
    sandbox = SandboxApp(Engine(time_scale=FAST))
    settings = harness_settings(tmp_path)
    async with make_client(sandbox) as api:
        async with Client(build_server(settings, dialect=LegnextDialect(api))) as first:
            job_id = (await first.call_tool("imagine", {"prompt": "a fox"})).structured_content["job_id"]
        async with Client(build_server(settings, dialect=LegnextDialect(api))) as second:
            listed = (await second.call_tool("list_jobs", {})).structured_content["jobs"]
            waited = await second.call_tool("wait_for_job", {"job_ids": [job_id]})
    assert [j["job_id"] for j in listed] == [job_id] and listed[0]["prompt"] == "a fox"
    assert waited.structured_content["jobs"][0]["status"] == "completed"
    ledger_bytes = (settings.ledger_path).read_bytes()
    assert b"sandbox-key" not in ledger_bytes


async def test_a_job_whose_recording_fails_after_sending_still_reports_its_id(harness: Harness) -> None:
    # Break the ledger behind the running server's back, after the intent is written: job rows are refused.
    db = sqlite3.connect(harness.settings.ledger_path)
    db.execute("CREATE TRIGGER no_jobs BEFORE INSERT ON jobs BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    db.commit()
    db.close()
    result = await harness.call("imagine", {"prompt": "a fox"})
    assert result.is_error
    job_ids = [j.job_id for j in harness.sandbox.engine.jobs.values()]
    assert len(job_ids) == 1 and job_ids[0] in result.content[0].text


async def test_a_job_whose_intent_cannot_be_recorded_is_not_sent(harness: Harness) -> None:
    db = sqlite3.connect(harness.settings.ledger_path)
    db.execute("CREATE TRIGGER no_intents BEFORE INSERT ON intents BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    db.commit()
    db.close()
    result = await harness.call("imagine", {"prompt": "a fox"})
    assert result.is_error and "Nothing was sent" in result.content[0].text
    assert "disk full" in result.content[0].text and harness.sandbox.stats.count("POST") == 0


def _refuse_updates(harness: Harness) -> None:
    """Break the ledger behind the running server's back: updates of job rows fail, as on a failing disk."""
    db = sqlite3.connect(harness.settings.ledger_path)
    db.execute("CREATE TRIGGER no_updates BEFORE UPDATE ON jobs BEGIN SELECT RAISE(FAIL, 'disk I/O error'); END")
    db.commit()
    db.close()


async def test_a_ledger_failing_while_a_paid_call_waits_still_gives_the_job_and_says_what_happened(
        harness: Harness) -> None:
    _refuse_updates(harness)  # the job row is written at submit; every later snapshot is an update
    result = await harness.call("generate_and_wait", {"prompt": "a fox"})
    (job_id,) = [j.job_id for j in harness.sandbox.engine.jobs.values()]
    text = result.content[0].text
    assert not result.is_error and result.structured_content["job_id"] == job_id
    assert result.structured_content["status"] == "completed" and job_id in text
    assert "could not be written to the local history" in text and "disk I/O error" in text


async def test_a_ledger_failing_while_wait_for_job_waits_names_every_job(harness: Harness) -> None:
    first = (await harness.call("imagine", {"prompt": "a fox"})).structured_content["job_id"]
    second = (await harness.call("imagine", {"prompt": "a hare"})).structured_content["job_id"]
    _refuse_updates(harness)
    result = await harness.call("wait_for_job", {"job_ids": [first, second]})
    assert [j["job_id"] for j in result.structured_content["jobs"]] == [first, second]
    assert all(j["status"] == "completed" and any("disk I/O error" in n for n in j["notes"])
               for j in result.structured_content["jobs"])
