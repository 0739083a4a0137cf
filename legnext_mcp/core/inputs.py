"""Where in a prompt a local picture may stand: the image prompts at the start, and the values of the reference
flags (``--sref``, ``--oref``, ``--cref``). Pure; what a local reference is: ``core.localref``.
"""

from __future__ import annotations

import re

from legnext_mcp.core.localref import is_local_ref
from legnext_mcp.core.prompt import split_flags

#: Reference flags whose values may name local pictures (an image URL each; ``--sref`` also takes style codes).
REFERENCE_FLAGS = frozenset({"sref", "oref", "cref"})


def _address(word: str) -> str:
    return word.split("::", 1)[0]  # "URL::2" weights one reference


def image_prompt_words(prompt: str) -> list[str]:
    """The image prompts at the start of a prompt: the leading words that are http(s) URLs or local references."""
    body, _ = split_flags(prompt)
    found: list[str] = []
    for word in body.split():
        address = _address(word)
        if address.lower().startswith(("http://", "https://")) or is_local_ref(address):
            found.append(address)
        else:
            break
    return found


def prompt_local_refs(prompt: str) -> list[tuple[str, str]]:
    """Local references in a prompt, as (where, reference): ``where`` is ``image prompt`` or the flag's name."""
    found = [("image prompt", word) for word in image_prompt_words(prompt) if is_local_ref(word)]
    _, flags = split_flags(prompt)
    for _, name, value in flags:
        if name in REFERENCE_FLAGS:
            found += [(f"--{name}", _address(w)) for w in value.split() if is_local_ref(_address(w))]
    return found


def replace_refs(prompt: str, mapping: dict[str, str]) -> str:
    """``prompt`` with each local reference word replaced by what ``mapping`` gives for it (weights kept)."""
    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        address, sep, weight = word.partition("::")
        return mapping[address] + sep + weight if address in mapping else word

    return re.sub(r"\S+", swap, prompt)
