"""langchain-mcp-adapters: MultiServerMCPClient over stdio and Streamable HTTP, tools run by LangChain's own
agent (create_agent) with the OpenAI (Chat Completions and Responses), Anthropic and Google chat models."""

from __future__ import annotations

from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_mcp_adapters.client import MultiServerMCPClient

from providers import TOOLS, Provider, assert_chain

pytestmark = pytest.mark.anyio


def chat_model(api: str, url: str) -> Any:
    if api in ("openai-chat", "openai-responses"):
        from langchain_openai import ChatOpenAI
        return ChatOpenAI(model="gpt-stand-in", base_url=url + "/v1", api_key="sk-stand-in",
                          use_responses_api=api == "openai-responses")
    if api == "anthropic":
        from langchain_anthropic import ChatAnthropic
        return ChatAnthropic(model="claude-stand-in", base_url=url, api_key="sk-ant-stand-in")
    from langchain_google_genai import ChatGoogleGenerativeAI
    return ChatGoogleGenerativeAI(model="gemini-stand-in", google_api_key="stand-in", base_url=url)


@pytest.mark.parametrize("api", ["openai-chat", "openai-responses", "anthropic", "gemini"])
async def test_the_chain_runs_and_every_result_converts(api: str, provider: Provider, server_bin: str,
                                                        server_args: list[str], server_env: dict[str, str]) -> None:
    client = MultiServerMCPClient({"legnext": {"transport": "stdio", "command": server_bin, "args": server_args,
                                               "env": server_env}})
    tools = await client.get_tools()
    assert len(tools) == TOOLS
    agent = create_agent(chat_model(api, provider.url), tools, system_prompt="Make pictures.")
    state = await agent.ainvoke({"messages": [{"role": "user", "content": "Make a picture like "
                                               "https://example.com/fox.png and upscale one"}]})
    assert_chain(provider, api)
    assert state["messages"][-1].text == provider.script.final
