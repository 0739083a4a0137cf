"""Clients written in TypeScript: the official TypeScript SDK, the MCP Inspector CLI (``--strict``, both
protocol eras, stdio and Streamable HTTP), and Claude Code as a real host against a scripted stand-in of the
Anthropic API."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from providers import JOB_ID, TOOLS, Provider, assert_chain


def _run(command: list[str], env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, check=False)


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_typescript_sdk_client(transport: str, node_dir: Path, server_bin: str, server_args: list[str],
                               server_env: dict[str, str], request: pytest.FixtureRequest) -> None:
    target = [request.getfixturevalue("http_server")] if transport == "http" else [server_bin, *server_args]
    done = _run(["node", str(node_dir / "ts_client.mjs"), *target], {**server_env, "NODE_PATH": ""})
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["tools"] == summary["withOutputSchema"] == TOOLS
    calls: dict[str, dict[str, Any]] = summary["calls"]
    # the SDK validated every structuredContent against the tool's outputSchema (callTool throws otherwise)
    for name in ("describe", "generate_and_wait"):
        assert not calls[name]["isError"] and calls[name]["structured"]["status"] == "completed", calls[name]
    assert not calls["upscale"]["isError"] and calls["upscale"]["structured"]["task_type"] == "upscale"
    waited = calls["wait_for_job"]["structured"]["jobs"]
    assert [(j["job_id"], j["status"]) for j in waited] == [(calls["upscale"]["structured"]["job_id"], "completed")]
    assert calls["upload_paint"]["isError"] is False, calls["upload_paint"]["text"]
    assert JOB_ID.search(calls["upload_paint"]["text"])
    refused = calls["variation"]  # image_no 9: our words, no pydantic text
    assert refused["isError"] and "image_no: must be between 0 and 3 (got 9)" in refused["text"], refused
    assert "pydantic" not in refused["text"].lower()


def _inspector(node_dir: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return _run([str(node_dir / "node_modules/.bin/mcp-inspector"), "--cli", "--strict", "--method", "tools/list",
                 "--format", "json", *args], env)


@pytest.mark.parametrize("era", ["legacy", "modern"])
@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_inspector_strict_finds_nothing(era: str, transport: str, node_dir: Path, server_bin: str,
                                        server_args: list[str], server_env: dict[str, str],
                                        request: pytest.FixtureRequest) -> None:
    target = ([request.getfixturevalue("http_server")] if transport == "http"
              else [*(f"-e{k}={v}" for k, v in server_env.items() if k.startswith("LEGNEXT")), "--", server_bin,
                    *server_args])
    done = _inspector(node_dir, server_env, "--protocol-era", era, *target)
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(json.loads(done.stdout)["result"]["tools"]) == TOOLS
    assert "error" not in done.stderr.lower(), done.stderr[-3000:]


def test_inspector_strict_does_fail_an_unportable_schema(node_dir: Path, server_bin: str,
                                                         server_env: dict[str, str]) -> None:
    python = str(Path(server_bin).with_name("python"))
    done = _inspector(node_dir, server_env, "--protocol-era", "legacy", "--", python,
                      str(node_dir / "bad_server.py"))
    assert done.returncode == 6, (done.returncode, done.stderr[-2000:])


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_claude_code_runs_the_chain(transport: str, node_dir: Path, provider: Provider, server_bin: str,
                                    server_args: list[str], server_env: dict[str, str], tmp_path: Path,
                                    request: pytest.FixtureRequest) -> None:
    server: dict[str, Any] = ({"type": "http", "url": request.getfixturevalue("http_server")}
                              if transport == "http" else
                              {"command": server_bin, "args": server_args,
                               "env": {k: v for k, v in server_env.items() if k.startswith("LEGNEXT")}})
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {"legnext": server}}))
    env = {**server_env, "ANTHROPIC_BASE_URL": provider.url, "ANTHROPIC_API_KEY": "sk-ant-stand-in",
           "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_TELEMETRY": "1", "DISABLE_AUTOUPDATER": "1",
           "DISABLE_ERROR_REPORTING": "1",
           # Claude Code defers MCP tools behind its ToolSearch tool by default; the scripted model calls our
           # tools directly, so they are offered up front here
           "ENABLE_TOOL_SEARCH": "false"}
    claude = node_dir / "node_modules/@anthropic-ai/claude-code/bin/claude.exe"
    done = _run([str(claude), "-p", "Make a picture like https://example.com/fox.png and upscale one",
                 "--mcp-config", str(config), "--strict-mcp-config", "--allowedTools", "mcp__legnext__*",
                 "--output-format", "json"], env)
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    assert_chain(provider, "anthropic")
    assert json.loads(done.stdout)["result"] == provider.script.final
    # Claude Code gives the model our structuredContent instead of the text: it must read well by itself
    for result in provider.turns[-1].results:
        sent = result.split("\n", 1)[0]
        assert ":null" not in sent and ":[]" not in sent and ":{}" not in sent, sent
        assert "next_steps" in sent or "prompts" in sent, sent


def test_the_context_benchmark_counts_tokens_with_both_tokenizers(node_dir: Path, server_bin: str) -> None:
    root = Path(__file__).resolve().parents[2]
    done = _run([str(Path(server_bin).with_name("python")), "-m", "benchmarks.context_size"],
                {**os.environ, "PYTHONPATH": str(root)}, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line.split("|")[1:-1] for line in done.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    per_tool = {cells[0].strip(): (int(cells[1]), int(cells[2])) for cells in rows[1:] if "**" not in cells[0]}
    assert len(per_tool) == TOOLS
    for name, (anthropic, openai) in per_tool.items():  # two different tokenizers, close on the same JSON
        assert 20 < anthropic < 3000 and 20 < openai < 3000 and abs(anthropic - openai) < 0.2 * openai, name
    verdict = next(line for line in done.stdout.splitlines() if line.startswith("Goals:"))
    assert verdict.count("(met:") == 2, verdict  # a budget (issue 17): a longer description must earn its tokens
