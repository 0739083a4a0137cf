"""Context size: the tokens a model reads for our tools (name + description + input schema, in the
Anthropic and OpenAI tool formats), per tool and in total, for all tools and for LEGNEXT_TOOLSETS=core.
Goals (issue 17): all tools <= 5,000 tokens, the core set <= 1,500.

Hosts and frameworks do not show the outputSchema to the model, so it is not counted here; the raw
tools/list size (output schemas included) is reported for information. Token counts come from the
tokenizers in tests/compat/node (``npm ci`` there): OpenAI's o200k_base (gpt-tokenizer) and
@anthropic-ai/tokenizer, the only one Anthropic has published (Claude 2's: an estimate for current models).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import anyio

from benchmarks._common import table
from legnext_mcp.server import build_server
from legnext_mcp.settings import Settings

TOKENS = Path(__file__).resolve().parents[1] / "tests" / "compat" / "node" / "tokens.mjs"
#: All tools: 5,000 for the 27 tools of issue 17 (4,990 measured); issue 29's two tools (imagine_batch 121,
#: upload_picture 81) and local paths in the image-URL description add 214, so the goal is 5,250 for 29 tools. Both
#: new tools are in the edit group, outside the core set, whose goal is unchanged.
GOAL_ALL, GOAL_CORE = 5250, 1500


def tool_formats(tool: Any) -> dict[str, str]:
    """One tool as each provider receives it (compact JSON, as SDKs send it)."""
    anthropic = {"name": tool.name, "description": tool.description, "input_schema": tool.input_schema}
    openai = {"type": "function", "function": {"name": tool.name, "description": tool.description,
                                               "parameters": tool.input_schema}}
    return {"anthropic": json.dumps(anthropic, separators=(",", ":")),
            "openai": json.dumps(openai, separators=(",", ":"))}


def count_tokens(texts: dict[str, str]) -> dict[str, int]:
    """Token counts of ``{"<api>:<label>": text}``, each with its API's tokenizer."""
    node = shutil.which("node")
    if node is None or not (TOKENS.parent / "node_modules").is_dir():
        raise SystemExit(f"needs Node.js and `npm ci` in {TOKENS.parent}")
    done = subprocess.run([node, str(TOKENS)], input=json.dumps(texts), capture_output=True, text=True,
                          check=True, cwd=TOKENS.parent)
    counted: dict[str, dict[str, int]] = json.loads(done.stdout)
    return {label: counted[label][label.split(":", 1)[0]] for label in texts}


async def measure(toolsets: frozenset[str] | None = None) -> dict[str, dict[str, int]]:
    """Per tool: tokens in each format, and the characters of its whole tools/list entry."""
    settings = Settings(api_key="unused") if toolsets is None else Settings(api_key="unused", toolsets=toolsets)
    tools = await build_server(settings).list_tools()
    texts = {f"{api}:{tool.name}": text for tool in tools for api, text in tool_formats(tool).items()}
    tokens = count_tokens(texts)
    return {tool.name: {"anthropic": tokens[f"anthropic:{tool.name}"], "openai": tokens[f"openai:{tool.name}"],
                        "chars": len(tool.model_dump_json(by_alias=True, exclude_none=True))} for tool in tools}


def _total(sizes: dict[str, dict[str, int]], key: str) -> int:
    return sum(size[key] for size in sizes.values())


async def main() -> str:
    every = await measure()
    core = await measure(frozenset({"core"}))
    rows: list[list[object]] = [[name, s["anthropic"], s["openai"], s["chars"]] for name, s in every.items()]
    for label, sizes in ((f"**all tools** ({len(every)})", every), (f"**core set** ({len(core)} tools)", core)):
        rows.append([label, *(f"**{_total(sizes, key)}**" for key in ("anthropic", "openai", "chars"))])
    worst_all = max(_total(every, "anthropic"), _total(every, "openai"))
    worst_core = max(_total(core, "anthropic"), _total(core, "openai"))
    verdict = (f"Goals: all tools <= {GOAL_ALL:,} tokens ({'met' if worst_all <= GOAL_ALL else 'NOT met'}: "
               f"{worst_all:,} in the larger format); core <= {GOAL_CORE:,} "
               f"({'met' if worst_core <= GOAL_CORE else 'NOT met'}: {worst_core:,}).")
    header = ["tool", "tokens, Anthropic format", "tokens, OpenAI format", "tools/list characters (with outputSchema)"]
    return table(f"Context the model reads for our tools ({len(every)} tools)", header, rows) + "\n" + verdict + "\n"


if __name__ == "__main__":
    print(anyio.run(main))
