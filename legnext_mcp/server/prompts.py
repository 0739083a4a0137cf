"""MCP prompts: ``craft_prompt`` walks an assistant through writing a Midjourney prompt that passes the
checks, from 05-image-parameters.md "Prompt Best Practices" and the parameter table."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server import MCPServer
from pydantic import Field

from legnext_mcp.server.guide import parameters_guide

_STRUCTURE = """Build one Midjourney prompt, in this order (05-image-parameters.md, "Effective Prompt Structure"):
1. Subject: what to see, concrete nouns first.
2. Style or medium: e.g. oil painting, 35mm photo, watercolor, isometric 3D.
3. Details: colours, materials, expressions, era.
4. Environment and light: setting, time of day, lighting.
5. Parameters last, each once, only those the chosen model accepts (table below).
Keep it under about 60 words; weight separate concepts with `::` if needed (`beach::2 forest`)."""


def craft_prompt(
    subject: Annotated[str, Field(min_length=1, max_length=1000, description="What the image shows")],
    style: Annotated[str, Field(max_length=300, description="Look or medium wanted, if any")] = "",
    use: Annotated[str, Field(max_length=300, description="Where it will be used (sets the aspect ratio)")] = "",
    model: Annotated[str, Field(max_length=20, description="Model version, e.g. 7, 8.1, niji 6 (default 7)")] = "",
) -> str:
    """Write a good Midjourney prompt for a subject and style, with flags valid for the model."""
    asks = [f"Subject: {subject}"]
    if style:
        asks.append(f"Style: {style}")
    if use:
        asks.append(f"Intended use: {use} (pick the aspect ratio from it: 1:1 square, 16:9 widescreen, 9:16 "
                    "phone stories, 2:3 posters, 4:3 tablets)")
    asks.append(f"Model: {model or '7 (default)'}")
    return "\n\n".join([
        "\n".join(asks),
        _STRUCTURE,
        parameters_guide(),
        "Reply with the prompt on one line, then one sentence on why. Then, if the user agrees, call "
        "estimate_cost(tool='generate_and_wait', arguments={'prompt': ...}) to check it and see the price, "
        "and generate_and_wait with the same arguments.",
    ])


def register_prompts(server: MCPServer[Any]) -> None:
    server.prompt(name="craft_prompt", title="Craft a Midjourney prompt")(craft_prompt)
