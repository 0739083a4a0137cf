"""Scripted stand-ins of the LLM APIs the frameworks call: OpenAI (Chat Completions and Responses), Anthropic
Messages (plain and streamed) and Gemini generateContent, on one loopback port.

Each framework talks to it through its own provider SDK (only the base URL changes), so what it sends is
what it would send to the real API: the tools it converted from our tools/list, and every tool result it
converted into the next request. The "model" is a script: it plays describe -> generate_and_wait -> upscale,
reading the job id and prompt it needs out of the previous tool result as the provider received it (so a
job id that does not reach the model breaks the chain), then answers with the upscale's job id.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: A job id as the model reads it, in our text ("Job <id> (diffusion)") or structured content ("job_id": ...).
JOB_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
#: describe's first suggested prompt, in the text or in structured content.
PROMPT = re.compile(r'Prompt 1: (.+)|"prompts": ?\["((?:[^"\\]|\\.)*)"')
#: The chain the scripted model runs (job tools submit and return; wait_for_job waits for the upscale).
CHAIN = ("describe", "generate_and_wait", "upscale", "wait_for_job")
#: How many tools legnext-mcp serves.
TOOLS = 29


def leaves(value: Any) -> Iterator[str]:
    """Every string inside a JSON value, in order."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item)


def as_text(value: Any) -> str:
    """A tool result as the model would read it: its strings, then the whole value as JSON (some frameworks
    pass structured content as an object, e.g. Gemini's functionResponse)."""
    return "\n".join(leaves(value)) + "\n" + json.dumps(value, ensure_ascii=False)


@dataclass
class Turn:
    """One request a framework sent: the tool names it offered and the tool results it passed back."""

    api: str
    tools: dict[str, dict[str, Any]]
    results: list[str]
    body: dict[str, Any]


@dataclass
class Script:
    """The scripted model: the next call from the results so far."""

    image_url: str = "https://example.com/fox.png"
    turns: list[Turn] = field(default_factory=list)
    final: str = ""

    def next_call(self, tools: dict[str, dict[str, Any]], results: list[str]) -> tuple[str, dict[str, Any]] | None:
        step = len(results)
        if step >= len(CHAIN):
            ids = JOB_ID.findall(results[-1])
            self.final = f"Upscaled: job {ids[0]}" if ids else "no job id reached the model"
            return None
        if step == 0:
            arguments: dict[str, Any] = {"image_url": self.image_url}
        elif step == 1:
            found = PROMPT.search(results[0])
            arguments = {"prompt": (found.group(1) or found.group(2)) if found else "missing"}
        else:  # the first id in a result is its job's (the next steps repeat it)
            ids = JOB_ID.findall(results[step - 1])
            found_id = ids[0] if ids else "missing"
            arguments = {"job_id": found_id, "image_no": 0} if step == 2 else {"job_ids": [found_id]}
        name = self.tool_name(tools, CHAIN[step])
        schema = tools.get(name, {})
        if schema.get("strict"):  # a strict client sends every argument, null for "not given"
            arguments = {key: arguments.get(key) for key in schema.get("properties", {})}
        return name, arguments

    @staticmethod
    def tool_name(tools: dict[str, dict[str, Any]], tool: str) -> str:
        """Our tool's name as the framework offered it (Claude Code says mcp__legnext__describe)."""
        return next((name for name in tools if name == tool or name.endswith("__" + tool)), tool)


def _schema(parameters: Any, strict: Any) -> dict[str, Any]:
    schema = dict(parameters) if isinstance(parameters, dict) else {}
    schema["strict"] = bool(strict)
    return schema


class Provider:
    """The HTTP server; ``url`` is its base address. ``script`` holds every request received."""

    def __init__(self) -> None:
        self.script = Script()
        self.errors: list[str] = []
        self.threads: dict[str, dict[str, Any]] = {}
        handler = type("Handler", (_Handler,), {"provider": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Provider:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def turns(self) -> list[Turn]:
        return self.script.turns

    # --- one function per API: read the request, answer the script's next step in that API's shape ---

    def openai_chat(self, body: dict[str, Any]) -> dict[str, Any]:
        tools = {t["function"]["name"]: _schema(t["function"].get("parameters"), t["function"].get("strict"))
                 for t in body.get("tools", [])}
        results = [as_text(m.get("content")) for m in body["messages"] if m.get("role") == "tool"]
        call = self._turn("openai-chat", tools, results, body)
        message: dict[str, Any] = {"role": "assistant", "content": None}
        if call:
            message["tool_calls"] = [{"id": _id("call"), "type": "function",
                                      "function": {"name": call[0], "arguments": json.dumps(call[1])}}]
        else:
            message["content"] = self.script.final
        return {"id": _id("chatcmpl"), "object": "chat.completion", "created": 0, "model": body.get("model", "m"),
                "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if call else "stop",
                             "logprobs": None}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}

    def openai_responses(self, body: dict[str, Any]) -> dict[str, Any]:
        tools = {t["name"]: _schema(t.get("parameters"), t.get("strict"))
                 for t in body.get("tools", []) if t.get("type") == "function"}
        items = body["input"] if isinstance(body.get("input"), list) else []
        results = [as_text(i.get("output")) for i in items if i.get("type") == "function_call_output"]
        call = self._turn("openai-responses", tools, results, body)
        if call:
            output: list[dict[str, Any]] = [{"type": "function_call", "id": _id("fc"), "call_id": _id("call"),
                                             "name": call[0], "arguments": json.dumps(call[1]),
                                             "status": "completed"}]
        else:
            output = [{"type": "message", "id": _id("msg"), "role": "assistant", "status": "completed",
                       "content": [{"type": "output_text", "text": self.script.final, "annotations": []}]}]
        return {"id": _id("resp"), "object": "response", "created_at": 0, "model": body.get("model", "m"),
                "status": "completed", "output": output, "parallel_tool_calls": True, "tool_choice": "auto",
                "tools": body.get("tools", []),
                "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2,
                          "input_tokens_details": {"cached_tokens": 0},
                          "output_tokens_details": {"reasoning_tokens": 0}}}

    def anthropic(self, body: dict[str, Any]) -> dict[str, Any]:
        body = self._thread(body)
        tools = {t["name"]: _schema(t.get("input_schema"), t.get("strict")) for t in body.get("tools", [])
                 if "name" in t}
        results = [as_text(block.get("content")) for m in body["messages"]
                   if m.get("role") == "user" and isinstance(m.get("content"), list)
                   for block in m["content"] if block.get("type") == "tool_result"]
        legnext = Script.tool_name(tools, "describe") in tools
        call = self._turn("anthropic", tools, results, body) if legnext else None
        if call:
            content: list[dict[str, Any]] = [{"type": "tool_use", "id": _id("toolu"), "name": call[0],
                                              "input": call[1]}]
        else:  # a request without our tools (Claude Code's side requests) gets a short text
            content = [{"type": "text", "text": self.script.final if legnext else "ok"}]
        answer = {"id": _id("msg"), "type": "message", "role": "assistant", "model": body.get("model", "m"),
                  "content": content, "stop_reason": "tool_use" if call else "end_turn", "stop_sequence": None,
                  "usage": {"input_tokens": 1, "output_tokens": 1}}
        if "thread" in body:
            self.threads[answer["id"]] = {**body, "messages": [*body["messages"], {"role": "assistant",
                                                                                 "content": content}]}
        return answer

    def _thread(self, body: dict[str, Any]) -> dict[str, Any]:
        """A request on a server-side thread (``thread: {type: continue, previous_message_id}``, as anthropic's tool
        runner sends) as the whole conversation: the thread's history and tools, then the new messages."""
        thread = body.get("thread") or {}
        if thread.get("type") != "continue":
            return body
        before = self.threads[thread["previous_message_id"]]
        return {**before, **{k: v for k, v in body.items() if k != "messages"},
                "messages": [*before["messages"], *body["messages"]],
                "tools": body.get("tools", before.get("tools", []))}

    def gemini(self, body: dict[str, Any]) -> dict[str, Any]:
        tools = {d["name"]: _schema(d.get("parameters") or d.get("parametersJsonSchema"), False)
                 for t in body.get("tools", []) for d in t.get("functionDeclarations", [])}
        results = [as_text(p["functionResponse"]) for c in body.get("contents", [])
                   for p in c.get("parts", []) if "functionResponse" in p]
        call = self._turn("gemini", tools, results, body)
        part = {"functionCall": {"name": call[0], "args": call[1]}} if call else {"text": self.script.final}
        return {"candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2},
                "modelVersion": "gemini-stand-in"}

    def _turn(self, api: str, tools: dict[str, dict[str, Any]], results: list[str],
              body: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        self.script.turns.append(Turn(api, tools, results, body))
        return self.script.next_call(tools, results)


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def _anthropic_events(message: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """A Messages answer as the streamed events the API sends."""
    start = {**message, "content": [], "stop_reason": None}
    yield "message_start", {"type": "message_start", "message": start}
    for index, block in enumerate(message["content"]):
        if block["type"] == "tool_use":
            yield "content_block_start", {"type": "content_block_start", "index": index,
                                          "content_block": {**block, "input": {}}}
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        else:
            yield "content_block_start", {"type": "content_block_start", "index": index,
                                          "content_block": {"type": "text", "text": ""}}
            delta = {"type": "text_delta", "text": block["text"]}
        yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield "message_delta", {"type": "message_delta", "usage": {"output_tokens": 1},
                            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None}}
    yield "message_stop", {"type": "message_stop"}


class _Handler(BaseHTTPRequestHandler):
    provider: Provider

    def log_message(self, *_: Any) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        path = self.path.split("?", 1)[0]
        provider = self.provider
        try:
            if path.endswith("/chat/completions"):
                answer = provider.openai_chat(body)
            elif path.endswith("/responses"):
                answer = provider.openai_responses(body)
            elif path.endswith("/messages/count_tokens"):
                answer = {"input_tokens": 1}
            elif path.endswith("/messages"):
                answer = provider.anthropic(body)
                if body.get("stream"):
                    self._stream(_anthropic_events(answer))
                    return
            elif ":generateContent" in path:
                answer = provider.gemini(body)
            else:
                self._send(404, {"error": {"message": f"no such stand-in: {path}"}})
                return
        except Exception as exc:  # a request we cannot read is a finding: record it and answer 400
            provider.errors.append(f"{path}: {exc!r}")
            self._send(400, {"error": {"type": "invalid_request_error", "message": repr(exc)}})
            return
        self._send(200, answer)

    def do_GET(self) -> None:
        self._send(404, {"error": {"message": "not here"}})

    def _send(self, status: int, answer: dict[str, Any]) -> None:
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, events: Iterator[tuple[str, dict[str, Any]]]) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        for name, data in events:
            self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()
        self.close_connection = True


def assert_chain(provider: Provider, api: str) -> None:
    """The scripted model saw all tools, then four tool results, each with what the next step needs (job id,
    status, the four image URLs, the seed, the next steps), and answered with the upscale's job id."""
    turns = [t for t in provider.turns if t.api == api]
    assert not provider.errors, provider.errors
    assert len(turns) == len(CHAIN) + 1, [len(t.results) for t in turns]
    names = {name.rsplit("__", 1)[-1] for name in turns[0].tools}
    assert len(names) >= TOOLS, sorted(names)
    describe, generate, submitted, upscale = turns[-1].results
    assert "describe" in describe and "completed" in describe and PROMPT.search(describe), describe[:400]
    job = JOB_ID.findall(generate)[0]
    assert "diffusion" in generate and "completed" in generate, generate[:400]
    assert all(f"/{job}_{n}.png" in generate for n in range(4)), generate[:800]
    assert re.search(r'[Ss]eed"?:\s*"?\d+', generate) and "upscale" in generate, generate[:800]
    assert "upscale" in submitted and "wait_for_job" in submitted, submitted[:400]  # its next step
    assert JOB_ID.findall(submitted)[0] == JOB_ID.findall(upscale)[0] != job, (submitted[:200], upscale[:200])
    assert "upscale" in upscale and "completed" in upscale, upscale[:400]
    assert provider.script.final == f"Upscaled: job {JOB_ID.findall(upscale)[0]}", provider.script.final
