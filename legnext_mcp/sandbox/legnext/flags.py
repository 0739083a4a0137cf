"""How the simulated API reads ``--flags`` in a prompt, from 03-important-information.md,
04-model-information.md and 05-image-parameters.md. Independent of ``legnext_mcp.api`` on purpose.

``check_prompt`` returns the problem the real API would answer 400 for (a message naming the flag and
the model version), or ``None`` plus what the simulator needs to know (version, draft, cost factor).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Flags that take no value.
_SWITCHES = {"raw", "tile", "draft", "fast", "turbo", "relax", "hd", "loop", "sd"}
_ALIASES = {
    "aspect": "ar", "chaos": "c", "quality": "q", "stylize": "s", "weird": "w", "version": "v",
    "style": "style",
}
#: Documented as not supported by the API at all (03-important-information.md, 05-image-parameters.md).
_UNSUPPORTED = {"repeat", "r", "personalize", "stealth", "public", "video", "bs", "batchsize", "relax"}
_VERSIONS = {"6", "6.1", "7", "8", "8.1"}
_NUMERIC_RANGES: dict[str, tuple[float, float]] = {
    "c": (0, 100), "s": (0, 1000), "w": (0, 3000), "seed": (0, 4294967295), "stop": (10, 100),
    "iw": (0, 3), "sw": (0, 1000), "cw": (0, 100), "ow": (0, 1000),
}
_QUALITY: dict[str, set[float]] = {"6": {1, 2}, "6.1": {0.5, 1, 2}, "7": {1, 2, 4}, "8": {1, 4}, "niji 6": {0.5, 1, 2}}
#: Rejected flags per model version (04-model-information.md parameter table and "Removed in V8.1").
_REJECTED: dict[str, set[str]] = {
    "6": {"no", "oref", "ow", "draft", "exp", "hd", "p"},
    "6.1": {"oref", "ow", "draft", "exp", "hd", "p"},
    "7": {"hd"},
    "8": {"stop", "turbo", "draft", "cref", "cw"},
    "8.1": {"q", "cref", "cw", "oref", "ow", "no", "turbo", "sd", "stop", "draft"},
    "niji 6": {"no", "oref", "ow", "draft", "exp", "hd", "p"},
}
_FLAG = re.compile(r"(?:^|\s)--([A-Za-z][\w-]*)")


@dataclass
class PromptInfo:
    """What the simulator keeps about an accepted prompt."""

    text: str
    version: str = "7"
    flags: dict[str, str] = field(default_factory=dict)
    aspect: tuple[int, int] = (1, 1)

    @property
    def draft(self) -> bool:
        return "draft" in self.flags

    @property
    def cost_factor(self) -> int:
        """v8 premium tiers (--hd, --q 4, --sv 6) quadruple the price; turbo and --oref ("2x GPU time") double it."""
        factor = 1
        if self.version == "8" and ("hd" in self.flags or self.flags.get("q") == "4" or self.flags.get("sv") == "6"):
            factor *= 4
        if "turbo" in self.flags:
            factor *= 2
        if "oref" in self.flags:
            factor *= 2
        return factor


def _flags(text: str) -> list[tuple[str, str]]:
    """(name, value) pairs in order; the value runs to the next ``--flag``."""
    found = []
    matches = list(_FLAG.finditer(text))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        name = match.group(1).lower()
        value = text[match.end():end].strip()
        glued = re.fullmatch(r"(v|niji)([0-9]+(?:\.[0-9]+)?)", name)  # "--v7" as written in 03-important-information.md
        if glued and not value:
            name, value = glued.group(1), glued.group(2)
        found.append((_ALIASES.get(name, name), value))
    return found


#: Every image parameter the API reads (05-image-parameters.md); anything else is refused.
_KNOWN = {"ar", "q", "s", "c", "w", "fast", "turbo", "relax", "v", "niji", "raw", "style", "tile", "draft", "hd",
          "exp", "seed", "stop", "iw", "no", "sref", "sw", "sv", "cref", "cw", "oref", "ow", "p", "sd"}
_STYLE_VERSIONS = {"1", "2", "3", "4"}


def check_prompt(text: str, *, video: bool = False, version: str = "7") -> tuple[PromptInfo | None, str | None]:
    """(info, None) for a prompt the API accepts, (None, message) for one it answers 400 to. ``version`` is the
    model a prompt without --v runs on: 7, or the parent's model for a remix prompt."""
    if not 1 <= len(text) <= 8192:
        return None, "text must be 1-8192 characters"
    body = text.split(" --", 1)[0]
    if re.search(r"\{[^{}]*,[^{}]*\}", body):
        return None, "{} permutation prompts are not supported"
    pairs = _flags(text)
    info = PromptInfo(text=text, version=version)
    seen: dict[str, str] = {}
    for name, value in pairs:
        if name in seen:
            return None, f"parameter --{name} is given more than once"
        seen[name] = value
    if "v" in seen and "niji" in seen:
        return None, "--v and --niji cannot be used together"
    if "niji" in seen:
        if seen["niji"] not in ("", "6"):
            return None, f"--niji {seen['niji']} is not supported; use --niji 6"
        info.version = "niji 6"
    elif "v" in seen:
        if seen["v"] not in _VERSIONS:
            return None, f"--v {seen['v']} is not supported; use 6, 6.1, 7, 8 or 8.1"
        info.version = seen["v"]
    video_flags = {"motion", "end", "loop", "bs", "raw", "fast", "turbo"}  # 04-model-information.md: Video Model
    for name, value in seen.items():
        if video:
            if name not in video_flags:
                return None, f"--{name} is not supported for video"
            continue
        if name in _UNSUPPORTED:
            return None, f"--{name} is not supported by the API"
        if name not in _KNOWN:
            return None, f"--{name} is not a parameter the API knows"
        if name in _REJECTED.get(info.version, set()):
            return None, f"--{name} is not supported with model version {info.version}"
        if name in _SWITCHES and value:
            return None, f"--{name} takes no value"
        if name in _NUMERIC_RANGES:
            low, high = _NUMERIC_RANGES[name]
            try:
                number = float(value)
            except ValueError:
                return None, f"--{name} needs a number between {low:g} and {high:g}"
            if not low <= number <= high:
                return None, f"--{name} must be between {low:g} and {high:g}"
        if name == "q":
            try:
                quality = float(value)
            except ValueError:
                return None, "--q needs a number"
            if quality not in _QUALITY.get(info.version, set()):
                return None, f"--q {value} is not valid for model version {info.version}"
        if name == "ar":
            ratio = re.fullmatch(r"([0-9]{1,5}):([0-9]{1,5})", value)  # ASCII digits only
            if not ratio or int(ratio.group(1)) == 0 or int(ratio.group(2)) == 0:
                return None, "--ar must be two whole numbers like 16:9"
            info.aspect = (int(ratio.group(1)), int(ratio.group(2)))
        if name == "exp" and value and not (value.isdigit() and int(value) <= 100):
            return None, "--exp takes no value or a whole number 0-100"
        if name == "sv" and value not in _STYLE_VERSIONS | ({"6"} if info.version == "8" else set()):
            return None, f"--sv {value} is not valid for model version {info.version}"
    if not video and "oref" in seen and ("turbo" in seen or seen.get("q") in ("4", "4.0")):
        return None, "--oref cannot be combined with --turbo or --q 4"
    if video and "bs" in seen and seen["bs"] not in ("1", "2", "4"):
        return None, "--bs must be 1, 2 or 4"
    if video and "motion" in seen and seen["motion"] not in ("low", "high"):
        return None, "--motion must be low or high"
    info.flags = seen
    return info, None
