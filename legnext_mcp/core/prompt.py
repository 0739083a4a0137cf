"""Midjourney ``--flags`` in a prompt: parse, validate per model version, render typed parameters.

The rules come from ../shared/legnext-docs 04-model-information.md (the parameter table per version and
"Removed in V8.1"), 05-image-parameters.md (ranges, unsupported syntax, parameter order) and
06-video-parameters.md (video flags). One table, ``FLAGS``, drives the validator, the typed tool
parameters and the ``legnext://guide/parameters`` text, so they cannot drift apart.

Pure: no I/O. Every problem raises :class:`PromptError` (a ``LocalValidationError``) whose message names
the flag, the model version and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from legnext_mcp.core.errors import PromptError
from legnext_mcp.core.limits import MAX_PROMPT_CHARS
from legnext_mcp.core.localref import is_local_ref
from legnext_mcp.core.text import visible_text
from legnext_mcp.core.urls import MAX_URL_CHARS

VERSIONS: tuple[str, ...] = ("6", "6.1", "7", "8", "8.1", "niji 6")
DEFAULT_VERSION = "7"
ALL = frozenset(VERSIONS)

Kind = Literal["switch", "int", "number", "choice", "text", "ratio", "optional-int", "optional-text", "url", "urls",
               "style"]


def number(value: float) -> str:
    """A number as people write it: ``4294967295``, ``0.5``, never ``4.29497e+09``."""
    return str(int(value)) if float(value).is_integer() else f"{value:.10g}"


@dataclass(frozen=True)
class Flag:
    """One image parameter: its spelling, the values it takes and the versions that accept it."""

    name: str
    kind: Kind
    summary: str
    aliases: tuple[str, ...] = ()
    low: float = 0
    high: float = 0
    versions: frozenset[str] = ALL
    #: Allowed values per version for ``choice`` flags (``--q``), or for every version under "*".
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Why some versions refuse it, for the error message.
    why_not: str = ""

    def values_for(self, version: str) -> tuple[str, ...]:
        return self.choices.get(version, self.choices.get("*", ()))

    def describe_values(self) -> str:
        if self.kind in ("int", "number", "optional-int"):
            return f"{number(self.low)}-{number(self.high)}" + (" or no value" if self.kind == "optional-int" else "")
        if self.kind == "choice":
            if "*" in self.choices:
                return ", ".join(self.choices["*"])
            return "; ".join(f"v{v}: {', '.join(c)}" if v[0].isdigit() else f"{v}: {', '.join(c)}"
                             for v, c in self.choices.items())
        return {"switch": "no value", "ratio": "W:H, whole numbers", "text": "text",
                "optional-text": "optional text", "url": "one http(s) image URL", "urls": "http(s) image URLs",
                "style": "http(s) image URLs, a style code or random"}[self.kind]


def _only(*versions: str) -> frozenset[str]:
    return frozenset(versions)


#: Image parameters in the documented order (05-image-parameters.md, "Parameter Order Recommendations":
#: aspect, quality, stylize, chaos, weird, speed, version, special modes), then the references.
FLAGS: tuple[Flag, ...] = (
    Flag("ar", "ratio", "aspect ratio, default 1:1", aliases=("aspect",)),
    Flag("q", "choice", "quality (v8: 4 = 4x cost)", aliases=("quality",),
         versions=ALL - {"8.1"}, why_not="v8.1 has no quality tiers (HD is the default)",
         choices={"6": ("1", "2"), "6.1": ("0.5", "1", "2"), "7": ("1", "2", "4"), "8": ("1", "4"),
                  "niji 6": ("0.5", "1", "2")}),
    Flag("s", "int", "stylize: low follows the prompt, high is more artistic (default 100)",
         aliases=("stylize",), high=1000),
    Flag("c", "int", "chaos: variety between the 4 images (default 0)", aliases=("chaos",), high=100),
    Flag("w", "int", "weird: unconventional aesthetics (default 0)", aliases=("weird",), high=3000),
    Flag("fast", "switch", "fast GPU mode (the default)"),
    Flag("turbo", "switch", "turbo GPU mode: about 4x faster, 2x cost", versions=ALL - {"8", "8.1"},
         why_not="the v8 family has no turbo mode"),
    Flag("v", "choice", "model version (default 7)", aliases=("version",), choices={"*": VERSIONS[:5]}),
    Flag("niji", "choice", "the anime model (niji 6)", choices={"*": ("6",)}),
    Flag("raw", "switch", "raw mode: less default styling"),
    Flag("style", "choice", "only `--style raw` (same as --raw)", choices={"*": ("raw",)}),
    Flag("tile", "switch", "seamless tiling pattern"),
    Flag("draft", "switch", "draft mode: fast, half cost; needed for enhance", versions=_only("7"),
         why_not="draft mode exists only on v7"),
    Flag("hd", "switch", "v8: native 2K at 4x cost; v8.1: default, no effect", versions=_only("8", "8.1"),
         why_not="HD mode exists only on v8 and v8.1"),
    Flag("exp", "optional-int", "experimental aesthetics", high=100, versions=_only("7", "8", "8.1"),
         why_not="--exp exists only on v7, v8 and v8.1"),
    Flag("seed", "int", "seed for repeatable results", high=4294967295),
    Flag("stop", "int", "finish early for a softer look (default 100)", low=10, high=100,
         versions=ALL - {"8", "8.1"}, why_not="the v8 family has no --stop"),
    Flag("iw", "number", "image prompt weight (with image URLs at the start)", high=3),
    Flag("no", "text", "negative prompt: what to leave out", versions=_only("6.1", "7", "8"),
         why_not="negative prompts work on v6.1, v7 and v8 only (removed in v8.1)"),
    Flag("sref", "style", "style reference: image URL(s) or a style code"),
    Flag("sw", "int", "style reference weight (default 100)", high=1000),
    Flag("sv", "choice", "style reference version (v8: 6 = legacy, 4x cost)",
         choices={"*": ("1", "2", "3", "4"), "8": ("1", "2", "3", "4", "6")}),
    Flag("cref", "urls", "character reference image URL(s)", versions=_only("6", "6.1", "7", "niji 6"),
         why_not="--cref is replaced by --oref on v8 and removed in v8.1"),
    Flag("cw", "int", "character reference weight (default 100)", high=100,
         versions=_only("6", "6.1", "7", "niji 6"), why_not="--cw goes with --cref (not on v8 or v8.1)"),
    Flag("oref", "url", "omni reference: one image URL (2x GPU time)", versions=_only("7", "8"),
         why_not="omni reference exists on v7 and v8 only (removed in v8.1)"),
    Flag("ow", "int", "omni reference weight (default 100)", high=1000, versions=_only("7", "8"),
         why_not="--ow goes with --oref (v7 and v8 only)"),
    Flag("p", "optional-text", "personalization (optional profile code)", versions=_only("7", "8", "8.1"),
         why_not="personalization exists on v7, v8 and v8.1"),
)
VIDEO_FLAGS: tuple[Flag, ...] = (
    Flag("motion", "choice", "low (default) or high camera and subject motion", choices={"*": ("low", "high")}),
    Flag("raw", "switch", "fewer automatic enhancements"),
    Flag("end", "url", "image URL of the last frame"),
    Flag("loop", "switch", "last frame equals the first"),
    Flag("bs", "choice", "videos per job (default 4; the price scales with it)", choices={"*": ("1", "2", "4")}),
    # 04-model-information.md's model table marks fast and turbo as supported by the video model;
    # 06-video-parameters.md only leaves them out. Where the docs disagree, a capability one page states is not
    # refused here (the API's own refusal costs nothing): README "Where the docs disagree".
    Flag("fast", "switch", "fast GPU mode (the default)"),
    Flag("turbo", "switch", "turbo GPU mode (priced here at 2x, as image jobs are)"),
)
#: Documented as not supported by the API (05-image-parameters.md "Current Limitations"; relax mode in
#: "Supported Speed Modes"; --sd in "Removed in V8.1"), with the fix to suggest.
UNSUPPORTED: dict[str, str] = {
    "repeat": "send the request several times instead",
    "r": "send the request several times instead",
    "personalize": "use --p instead",
    "stealth": "remove it; visibility is not set through the API",
    "public": "remove it; visibility is not set through the API",
    "video": "animate an image with the video operation instead",
    "relax": "remove it; only fast and turbo modes exist",
    "bs": "--bs works only in video prompts",
    "batchsize": "--bs works only in video prompts",
    "sd": "remove it; SD output is set in the web settings, not the API",
}
_BY_NAME = {alias: f for f in FLAGS for alias in (f.name, *f.aliases)}
_VIDEO_BY_NAME = {f.name: f for f in VIDEO_FLAGS}
_FLAG = re.compile(r"(?:^|\s)--([A-Za-z][\w.-]*)")
_GLUED = re.compile(r"(v|version|niji)([0-9]+(?:\.[0-9]+)?)")  # "--v7", as 05-image-parameters.md writes it
_PERMUTATION = re.compile(r"\{[^{}]*,[^{}]*\}")
_RATIO = re.compile(r"([0-9]{1,5}):([0-9]{1,5})")  # [0-9]: \d also takes non-ASCII digits


@dataclass(frozen=True)
class ParsedPrompt:
    """A prompt split into its text and its flags (canonical names, in the order written)."""

    text: str
    flags: tuple[tuple[str, str], ...]
    version: str = DEFAULT_VERSION

    @property
    def names(self) -> set[str]:
        return {name for name, _ in self.flags}

    def value(self, name: str) -> str | None:
        return next((v for n, v in self.flags if n == name), None)

    @property
    def draft(self) -> bool:
        return "draft" in self.names and self.version == "7"


def check_text(text: str) -> None:
    """Refuse control and direction-override characters in a prompt.

    Raises:
        PromptError: naming the character (as an escape) and where it is.
    """
    try:
        visible_text(text)
    except ValueError as exc:
        raise PromptError(str(exc)) from None


def split_flags(prompt: str) -> tuple[str, list[tuple[str, str, str]]]:
    """The text before the first flag, and (written name, canonical name, value) for each flag.

    A flag's value runs to the next `` --flag``; ``--v7`` is read as ``--v 7``.
    """
    matches = list(_FLAG.finditer(prompt))
    body = prompt[: matches[0].start()].strip() if matches else prompt.strip()
    found: list[tuple[str, str, str]] = []
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(prompt)
        written = match.group(1).lower()
        value = prompt[match.end():end].strip()
        glued = _GLUED.fullmatch(written)
        name = written
        if glued and not value:
            name, value = glued.group(1), glued.group(2)
        flag = _BY_NAME.get(name)
        found.append((written, flag.name if flag else name, value))
    return body, found


def _version_label(version: str) -> str:
    if version == "video":
        return "the video model"
    return version if version.startswith("niji") else f"v{version}"


def versions_text(versions: Iterable[str]) -> str:
    return ", ".join(_version_label(v) for v in VERSIONS if v in versions)


def parse_prompt(prompt: str, *, video: bool = False, default_version: str | None = DEFAULT_VERSION) -> ParsedPrompt:
    """Validate ``prompt`` as the API reads it and return its parts.

    ``default_version`` is the model a prompt without ``--v``/``--niji`` runs on: v7 for a new job, the
    parent's model for a remix prompt, or None when that is not known (then a flag is accepted when some
    model accepts it, and a value when some model takes it).

    Raises:
        PromptError: the first problem found, naming the flag, the model version and the fix.
    """
    if not 1 <= len(prompt) <= MAX_PROMPT_CHARS:
        raise PromptError(f"The prompt must be 1-{MAX_PROMPT_CHARS} characters (got {len(prompt)}); "
                          "shorten it (the shorten operation helps).")
    check_text(prompt)
    body, found = split_flags(prompt)
    if _PERMUTATION.search(body):
        raise PromptError("{a,b} permutation prompts are not supported by the API; send one request per "
                          "variant instead.")
    seen: dict[str, str] = {}
    for written, name, value in found:
        if name in seen:
            raise PromptError(f"--{name} is given more than once; keep one.")
        seen[name] = value
        if name in UNSUPPORTED and not (video and name == "bs"):
            raise PromptError(f"--{written} is not supported by the API; {UNSUPPORTED[name]}.")
    if video:
        return _check_video(body, found)
    if "v" in seen and "niji" in seen:
        raise PromptError("--v and --niji cannot be used together; keep one (niji is its own model).")
    if "fast" in seen and "turbo" in seen:
        raise PromptError("--fast and --turbo cannot be used together; keep one speed mode.")
    version = default_version
    if "niji" in seen:
        if seen["niji"] not in ("", "6"):
            raise PromptError(f"--niji {seen['niji']} is not available; use --niji 6.")
        version = "niji 6"
    elif "v" in seen:
        if seen["v"] not in VERSIONS[:5]:
            raise PromptError(f"--v {seen['v']} is not available; use one of 6, 6.1, 7, 8, 8.1 (default 7).")
        version = seen["v"]
    label = _version_label(version) if version else "any model"
    for written, name, value in found:
        flag = _BY_NAME.get(name)
        if flag is None:
            known = ", ".join(sorted({f"--{f.name}" for f in FLAGS}))
            raise PromptError(f"--{written} is not a parameter the API knows; remove it (known: {known}).")
        if name in ("v", "niji"):
            continue  # read above
        if version is not None and version not in flag.versions:
            raise PromptError(f"--{written} is not supported on model {label}: {flag.why_not}. Remove --{written} "
                              f"or choose a model that has it ({versions_text(flag.versions)}).")
        _check_value(flag, written, value, version)
    if "oref" in seen and ("turbo" in seen or seen.get("q") == "4"):
        raise PromptError("--oref does not work with --turbo or --q 4 (05-image-parameters.md); remove one.")
    return ParsedPrompt(text=body, flags=tuple((n, v) for _, n, v in found), version=version or "unknown")


def _check_value(flag: Flag, written: str, value: str, version: str | None) -> None:
    label = _version_label(version) if version else "any model"
    if flag.kind == "switch":
        if value:
            raise PromptError(f"--{written} takes no value (found {value[:40]!r}); put text before the flags.")
    elif flag.kind in ("int", "number", "optional-int"):
        if flag.kind == "optional-int" and not value:
            return
        pattern = r"[0-9]+" if flag.kind != "number" else r"[0-9]+(?:\.[0-9]+)?"
        if not re.fullmatch(pattern, value) or not flag.low <= float(value) <= flag.high:
            whole = "a whole number" if flag.kind != "number" else "a number"
            raise PromptError(f"--{written} needs {whole} {number(flag.low)}-{number(flag.high)} (got {value[:40]!r}).")
    elif flag.kind == "choice":
        allowed = flag.values_for(version) if version else tuple(dict.fromkeys(
            v for values in flag.choices.values() for v in values))
        normal = value.removesuffix(".0") if re.fullmatch(r"[0-9]+\.0", value) else value
        if normal not in allowed:
            where = label if version == "video" else f"model {label}"
            raise PromptError(f"--{written} {value[:40]} is not valid on {where}; use one of {', '.join(allowed)}.")
    elif flag.kind == "ratio":
        ratio = _RATIO.fullmatch(value)
        if not ratio or int(ratio.group(1)) == 0 or int(ratio.group(2)) == 0:
            raise PromptError(f"--{written} needs two whole numbers like 16:9 (got {value[:40]!r}); "
                              "write 139:100, not 1.39:1.")
    elif flag.kind in ("text", "url", "urls", "style") and not value:
        raise PromptError(f"--{written} needs a value ({flag.summary}).")
    elif flag.kind in ("url", "urls", "style"):
        _check_references(flag, written, value.split())


#: A style code (--sref 1234567890) or Midjourney's random style.
_STYLE_CODE = re.compile(r"[0-9]{1,20}|random", re.IGNORECASE)


def _check_references(flag: Flag, written: str, words: list[str]) -> None:
    """Reference flags take image URLs the API fetches (05-image-parameters.md: "Image URL")."""
    if flag.kind == "url" and len(words) > 1:
        raise PromptError(f"--{written} takes one image URL (found {len(words)}); keep one.")
    for word in words:
        address = word.split("::", 1)[0]  # "URL::2" weights one reference
        if flag.kind == "style" and _STYLE_CODE.fullmatch(address):
            continue
        if flag.name in ("sref", "oref", "cref") and is_local_ref(address):
            continue  # a picture on this machine: checked against LEGNEXT_INPUT_ROOTS before sending
        try:
            parts = urlsplit(address)
        except ValueError:  # "http://[" and the like: not a URL at all
            raise PromptError(f"--{written} needs http(s) image URLs; {word[:60]!r} is not one.") from None
        if parts.username is not None or parts.password is not None:
            raise PromptError(f"--{written}: an image URL must not carry a user name or password (user:pass@); "
                              "the API would pass it on. Use a public URL without credentials.")
        if parts.scheme not in ("http", "https") or not parts.hostname or len(address) > MAX_URL_CHARS:
            extra = ", a style code or random" if flag.kind == "style" else ""
            raise PromptError(f"--{written} needs http(s) image URLs of at most {MAX_URL_CHARS} characters{extra}; "
                              f"{word[:60]!r} is not one.")


def _check_video(body: str, found: list[tuple[str, str, str]]) -> ParsedPrompt:
    for written, name, value in found:
        flag = _VIDEO_BY_NAME.get(name)
        if flag is None:
            allowed = ", ".join(f"--{f.name}" for f in VIDEO_FLAGS)
            raise PromptError(f"--{written} is not a video parameter; video prompts take {allowed}.")
        _check_value(flag, written, value, "video")
    if {"fast", "turbo"} <= {name for _, name, _ in found}:
        raise PromptError("--fast and --turbo cannot be used together; keep one speed mode.")
    return ParsedPrompt(text=body, flags=tuple((n, v) for _, n, v in found), version="video")


def check_prompt(prompt: str) -> str:
    """Pydantic-friendly validator of an image prompt: the prompt unchanged, or ValueError."""
    try:
        parse_prompt(prompt)
    except PromptError as exc:
        raise ValueError(exc.message) from None
    return prompt


def check_remix_text(prompt: str) -> str:
    """Pydantic-friendly validator of a remix prompt before its parent is known: what no model accepts."""
    try:
        parse_prompt(prompt, default_version=None)
    except PromptError as exc:
        raise ValueError(exc.message) from None
    return prompt


def check_video_prompt(prompt: str) -> str:
    """Pydantic-friendly validator of a video prompt (only the video flags)."""
    try:
        parse_prompt(prompt, video=True)
    except PromptError as exc:
        raise ValueError(exc.message) from None
    return prompt


# --- typed parameters ------------------------------------------------------------------------------

#: Typed tool parameter -> flag. Order of this mapping is the order flags are written.
PARAMETER_FLAGS: dict[str, str] = {
    "aspect_ratio": "ar", "quality": "q", "stylize": "s", "chaos": "c", "speed": "speed",
    "version": "v", "raw": "raw", "tile": "tile", "draft": "draft", "seed": "seed",
    "sref": "sref", "sw": "sw", "cref": "cref", "cw": "cw", "oref": "oref", "ow": "ow", "no": "no",
}


def render_flags(params: Mapping[str, object]) -> list[str]:
    """Typed parameters (``PARAMETER_FLAGS`` keys; None/False mean absent) as flags, in documented order."""
    out: list[str] = []
    for key in PARAMETER_FLAGS:
        value = params.get(key)
        if value is None or value is False:
            continue
        if key == "speed":
            out.append(f"--{value}")
        elif key == "version":
            out.append("--niji 6" if value == "niji 6" else f"--v {value}")
        elif value is True:
            out.append(f"--{PARAMETER_FLAGS[key]}")
        else:
            shown = number(value) if isinstance(value, float) else str(value)
            out.append(f"--{PARAMETER_FLAGS[key]} {shown}")
    return out


def merge_prompt(prompt: str, params: Mapping[str, object]) -> str:
    """``prompt`` with the typed parameters appended as flags; validated as a whole.

    Raises:
        PromptError: a parameter also written as a flag in the prompt, a conflict, or any rule of
            :func:`parse_prompt`.
    """
    _, existing = split_flags(prompt)
    written = {name for _, name, _ in existing}
    for key, value in params.items():
        if value is None or value is False:
            continue
        flag = PARAMETER_FLAGS[key]
        clash = {"speed": {"fast", "turbo"}, "v": {"v", "niji"}}.get(flag, {flag}) & written
        if clash:
            raise PromptError(f"{key} is given twice: as the {key} argument and as --{clash.pop()} in the "
                              f"prompt; keep one.")
    flags = render_flags(params)
    merged = " ".join([prompt.strip(), *flags]) if flags else prompt
    parse_prompt(merged)
    return merged
