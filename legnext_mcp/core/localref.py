"""Local pictures as inputs: which written values name a file on this machine. Pure (no I/O): whether the file
may be read is decided by ``service.inputs`` against LEGNEXT_INPUT_ROOTS.

A local reference is an absolute path (``/home/me/cat.png``, ``C:\\Users\\me\\cat.png``) or a ``file://`` URL
(``file:///home/me/my%20cat.png``). In a prompt, words are separated by spaces, so a path with spaces is written as
a ``file://`` URL; a local reference counts where an image URL would: the image prompts at the start of the
prompt, and the values of the reference flags (``--sref``, ``--oref``, ``--cref``).
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

_WINDOWS = re.compile(r"^[A-Za-z]:[\\/]")
MAX_REF_CHARS = 4096


def is_local_ref(value: str) -> bool:
    """Whether ``value`` is written as a file on this machine (an absolute path or a ``file://`` URL)."""
    text = value.strip()
    if not text or len(text) > MAX_REF_CHARS:
        return False
    if text.lower().startswith("file://"):
        return True
    return (text.startswith("/") and not text.startswith("//")) or bool(_WINDOWS.match(text))


def check_local_ref(value: str) -> str:
    """``value`` stripped, if it is a well-formed local reference; ValueError otherwise (no I/O)."""
    text = value.strip()
    if not is_local_ref(text):
        raise ValueError("must be an absolute path or a file:// URL")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValueError("must not contain control characters")
    if text.lower().startswith("file://"):
        parts = urlsplit(text)
        if parts.netloc not in ("", "localhost") or parts.query or parts.fragment or not parts.path:
            raise ValueError("a file:// URL must name a file on this machine: file:///absolute/path")
    return text


def local_path(ref: str) -> str:
    """The file system path a local reference names (``file://`` URLs unquoted).

    Raises:
        ValueError: ``ref`` is not a well-formed local reference.
    """
    text = check_local_ref(ref)
    if text.lower().startswith("file://"):
        path = unquote(urlsplit(text).path)
        if _WINDOWS.match(path.lstrip("/")):  # file:///C:/Users/me/cat.png
            path = path.lstrip("/")
        if "\x00" in path:
            raise ValueError("must not contain NUL characters")
        return path
    return text


