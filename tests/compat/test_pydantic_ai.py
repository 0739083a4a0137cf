"""pydantic-ai: MCPToolset over stdio, with its OpenAI, Anthropic and Google models."""

from __future__ import annotations

from typing import Any

import pytest
from fastmcp.client.transports import StdioTransport
from pydantic_ai import Agent
from pydantic_ai.mcp import MCPToolset

from providers import Provider, assert_chain

pytestmark = pytest.mark.anyio


def _model(api: str, url: str) -> Any:
    if api == "openai-chat":
        from pydantic_ai.models.openai import OpenAIChatModel
        from pydantic_ai.providers.openai import OpenAIProvider
        return OpenAIChatModel("gpt-stand-in", provider=OpenAIProvider(base_url=url + "/v1", api_key="sk-stand-in"))
    if api == "anthropic":
        from pydantic_ai.models.anthropic import AnthropicModel
        from pydantic_ai.providers.anthropic import AnthropicProvider
        return AnthropicModel("claude-stand-in", provider=AnthropicProvider(base_url=url, api_key="sk-ant-stand-in"))
    from google.genai import Client
    from google.genai.types import HttpOptions
    from pydantic_ai.models.google import GoogleModel
    from pydantic_ai.providers.google import GoogleProvider
    client = Client(api_key="stand-in", http_options=HttpOptions(base_url=url))
    return GoogleModel("gemini-stand-in", provider=GoogleProvider(client=client))


@pytest.mark.parametrize("api", ["openai-chat", "anthropic", "gemini"])
async def test_the_chain_runs_and_every_result_converts(api: str, provider: Provider, server_bin: str,
                                                        server_args: list[str], server_env: dict[str, str]) -> None:
    toolset = MCPToolset(StdioTransport(server_bin, server_args, env=server_env))
    agent = Agent(_model(api, provider.url), toolsets=[toolset], instructions="Make pictures.")
    async with agent:
        result = await agent.run("Make a picture like https://example.com/fox.png and upscale one")
    assert_chain(provider, api)
    assert result.output == provider.script.final
