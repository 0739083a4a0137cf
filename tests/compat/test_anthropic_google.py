"""The LLM SDKs' own MCP paths: anthropic's MCP helper (async_mcp_tool + tool_runner) and google-genai
(an MCP session as a tool, with automatic function calling; and every input schema as a FunctionDeclaration)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from providers import TOOLS, Provider, assert_chain

pytestmark = pytest.mark.anyio
ASK = "Make a picture like https://example.com/fox.png and upscale one"


@asynccontextmanager
async def session(server_bin: str, server_args: list[str], server_env: dict[str, str]) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(command=server_bin, args=server_args, env=server_env)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as mcp:
        await mcp.initialize()
        yield mcp


@pytest.mark.parametrize("strict", [False, True])
async def test_anthropic_tool_runner(strict: bool, provider: Provider, server_bin: str, server_args: list[str],
                                     server_env: dict[str, str]) -> None:
    from anthropic import AsyncAnthropic
    from anthropic.lib.tools.mcp import async_mcp_tool

    client = AsyncAnthropic(base_url=provider.url, api_key="sk-ant-stand-in")
    async with session(server_bin, server_args, server_env) as mcp:
        listed = (await mcp.list_tools()).tools
        assert len(listed) == TOOLS
        runner = client.beta.messages.tool_runner(
            model="claude-stand-in", max_tokens=1024, messages=[{"role": "user", "content": ASK}],
            tools=[async_mcp_tool(tool, mcp, strict=strict or None) for tool in listed])
        final = await runner.until_done()
    assert_chain(provider, "anthropic")
    assert final.content[0].text == provider.script.final  # type: ignore[union-attr]
    assert provider.turns[0].tools["describe"]["strict"] is strict


async def test_gemini_takes_the_mcp_session_as_a_tool(provider: Provider, server_bin: str, server_args: list[str],
                                                      server_env: dict[str, str]) -> None:
    from google import genai
    from google.genai import types

    client = genai.Client(api_key="stand-in", http_options=types.HttpOptions(base_url=provider.url))
    async with session(server_bin, server_args, server_env) as mcp:
        response = await client.aio.models.generate_content(
            # a dict: a config object is deep-copied, and a session cannot be (google-genai 2.34)
            model="gemini-stand-in", contents=ASK, config={"tools": [mcp]})
    assert_chain(provider, "gemini")
    assert response.text == provider.script.final


async def test_gemini_accepts_every_input_schema(server_bin: str, server_args: list[str],
                                                 server_env: dict[str, str]) -> None:
    from google.genai import types

    async with session(server_bin, server_args, server_env) as mcp:
        listed = (await mcp.list_tools()).tools
    declarations = [types.FunctionDeclaration(name=t.name, description=t.description,
                                              parameters=types.Schema.model_validate(t.inputSchema)) for t in listed]
    assert len(declarations) == TOOLS
    for declaration in declarations:  # every argument kept, with its description
        schema = next(t.inputSchema for t in listed if t.name == declaration.name)
        assert declaration.parameters is not None
        assert set(declaration.parameters.properties or {}) == set(schema["properties"]), declaration.name
