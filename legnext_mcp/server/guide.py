"""The ``legnext://guide/parameters`` text, generated from ``core.prompt.FLAGS`` (the table the validator
uses), so the guide the model reads and the checks it meets cannot drift apart."""

from __future__ import annotations

from legnext_mcp.core.prompt import ALL, DEFAULT_VERSION, FLAGS, UNSUPPORTED, VERSIONS, VIDEO_FLAGS, versions_text


def parameters_guide() -> str:
    """Markdown for ``legnext://guide/parameters``, generated from ``FLAGS`` (so it matches the checks)."""
    lines = [
        "# Midjourney prompt parameters on Legnext",
        "",
        "Put parameters at the end of the prompt: `a lighthouse at dusk --ar 3:2 --s 250 --v 7`.",
        f"Default model: v{DEFAULT_VERSION}. Models: {versions_text(VERSIONS)} (`--niji 6`). "
        "Use `--v` or `--niji`, not both. Each flag at most once.",
        "imagine also takes the common ones as typed arguments (aspect_ratio, stylize, ...).",
        "",
        "| flag | values | models |",
        "|---|---|---|",
    ]
    for flag in FLAGS:
        names = " / ".join(f"`--{n}`" for n in (flag.name, *flag.aliases))
        models = "all" if flag.versions == ALL else versions_text(flag.versions)
        lines.append(f"| {names} | {flag.describe_values()}: {flag.summary} | {models} |")
    lines += [
        "",
        "Not supported: " + ", ".join(f"`--{n}` ({why})" for n, why in UNSUPPORTED.items()
                                      if n not in ("r", "batchsize")) + "; `{a,b}` permutations.",
        "Also refused: `--fast` with `--turbo`; `--oref` with `--turbo` or `--q 4`.",
        "",
        "Video prompts (video_diffusion, extend_video) take only: "
        + ", ".join(f"`--{f.name}` ({f.describe_values()})" for f in VIDEO_FLAGS) + ".",
        "",
        "Follow-ups (upscale, variation, pan, ...) take a finished job's `job_id` and an `image_no` listed in",
        "its available actions, within 3 days; files are deleted after 30 days. v8/v8.1 images offer no",
        "pan, outpaint, inpaint or upscale; enhance needs a `--v 7 --draft` parent.",
        "Prices on Legnext: image jobs 80-120 points (turbo or --oref 2x, v8 --hd/--q 4/--sv 6 4x; a reroll costs",
        "what its parent cost), describe/shorten 20, video 480 per 4 videos, Topaz 120-540 by resolution.",
        "estimate_cost checks and prices a call without sending it.",
    ]
    return "\n".join(lines) + "\n"
