"""Text that crosses a trust boundary: what a prompt may hold, how untrusted text is shown on one line, and
how much upstream text reaches the model.

One set of hidden characters serves both directions: a prompt that holds one is refused (``visible_text``),
and a listing shows one as an escape instead of acting on it (``printable``).
"""

from __future__ import annotations

import re

#: Control characters (but tab and newline) and the bidirectional marks and overrides that make text display
#: other than it reads: never part of a prompt, and a way to forge what a listing shows.
HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: The most characters of one piece of upstream text (an error reason, a button label) that reach a message.
MAX_UPSTREAM_CHARS = 300


def visible_text(value: str) -> str:
    """``value`` unless it holds a control or text-direction character (ValueError naming it)."""
    hidden = HIDDEN.search(value)
    if hidden:
        raise ValueError(f"The prompt contains a control or text-direction character (U+{ord(hidden.group()):04X} "
                         f"at position {hidden.start()}); remove it.")
    return value


def printable(text: str) -> str:
    """Text for one line of a listing: hidden characters and line breaks shown as escapes, never acted on."""
    return "".join(f"\\u{ord(c):04x}" if HIDDEN.match(c) or not c.isprintable() else c for c in text)


def cut(text: str, limit: int = MAX_UPSTREAM_CHARS) -> str:
    """At most ``limit`` characters of untrusted text, saying so when some were cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters cut)"
