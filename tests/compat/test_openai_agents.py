"""openai-agents: MCPServerStdio, strict and non-strict schemas, the Responses and Chat Completions models."""

from __future__ import annotations

from typing import Any

import pytest
from agents import Agent, RunConfig, Runner, set_tracing_disabled
from agents.mcp import MCPServerStdio, MCPUtil
from agents.models.openai_chatcompletions import OpenAIChatCompletionsModel
from agents.models.openai_responses import OpenAIResponsesModel
from agents.run_context import RunContextWrapper
from openai import AsyncOpenAI

from providers import TOOLS, Provider, assert_chain

pytestmark = pytest.mark.anyio
set_tracing_disabled(True)


def _server(server_bin: str, server_args: list[str], server_env: dict[str, str]) -> MCPServerStdio:
    return MCPServerStdio({"command": server_bin, "args": server_args, "env": server_env},
                          cache_tools_list=True, client_session_timeout_seconds=60)


@pytest.mark.parametrize("strict", [True, False])
async def test_every_tool_converts(strict: bool, server_bin: str, server_args: list[str],
                                   server_env: dict[str, str]) -> None:
    async with _server(server_bin, server_args, server_env) as server:
        agent = Agent(name="a", mcp_servers=[server])
        tools: list[Any] = await MCPUtil.get_all_function_tools([server], strict, RunContextWrapper(None), agent)
    assert len(tools) == TOOLS
    if strict:  # the SDK falls back to a non-strict schema when it cannot make one strict: only a tool without
        # arguments may (it takes an empty object without additionalProperties: false as open; that key is left
        # out because google-genai's MCP path breaks on it, and a tool without arguments cannot be misused)
        loose = [t.name for t in tools if not t.strict_json_schema]
        assert loose == [t.name for t in tools if not t.params_json_schema["properties"]], loose
        for tool in (t for t in tools if t.strict_json_schema):  # every argument required, null meaning "not given"
            schema = tool.params_json_schema
            assert set(schema["required"]) == set(schema["properties"]), tool.name


@pytest.mark.parametrize(("api", "strict"), [("openai-responses", True), ("openai-responses", False),
                                             ("openai-chat", True)])
async def test_the_chain_runs_and_every_result_converts(api: str, strict: bool, provider: Provider,
                                                        server_bin: str, server_args: list[str],
                                                        server_env: dict[str, str]) -> None:
    client = AsyncOpenAI(base_url=provider.url + "/v1", api_key="sk-stand-in")
    model = (OpenAIResponsesModel("gpt-stand-in", client) if api == "openai-responses"
             else OpenAIChatCompletionsModel("gpt-stand-in", client))
    async with _server(server_bin, server_args, server_env) as server:
        agent = Agent(name="artist", instructions="Make pictures.", model=model, mcp_servers=[server],
                      mcp_config={"convert_schemas_to_strict": strict})
        result = await Runner.run(agent, "Make a picture like https://example.com/fox.png and upscale one",
                                  run_config=RunConfig(tracing_disabled=True))
    assert_chain(provider, api)
    assert result.final_output == provider.script.final
    if strict:
        sent = provider.turns[0].tools["describe"]
        assert sent["strict"] is True
