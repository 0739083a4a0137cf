"""Capability URLs for local pictures: a picture is copied into the data folder under the hash of an unguessable
token, with its content type and an expiry, and served at ``<LEGNEXT_PUBLIC_URL>/inputs/<token>`` until then.

What is served is the copy made when the job was sent (the bytes that were checked), never the original path, so a
file changed or swapped after the check is not what the API gets. Only the hash of a token is on disk: reading the
folder does not give the URLs. Nothing lists the folder; an unknown, malformed or expired token is a 404 like any
other. Neutral (stdlib only): the HTTP edge serves it, the service layer fills it.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from legnext_mcp.files import atomic_write

#: How long a capability URL answers: the API fetches inputs when a job starts, and a job can queue behind others.
INPUT_URL_TTL_S = 2 * 3600.0
#: The path under which the edge serves them.
ROUTE = "/inputs/"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
SERVED_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})


@dataclass(frozen=True)
class Served:
    content_type: str
    data: bytes


class InputStore:
    """The folder of capability-served pictures. ``now`` is the wall clock (expiry times are stored as epochs)."""

    def __init__(self, folder: Path, *, now: Callable[[], float] = time.time,
                 ttl_s: float = INPUT_URL_TTL_S) -> None:
        self.folder = folder
        self.now = now
        self.ttl_s = ttl_s

    def put(self, data: bytes, content_type: str) -> tuple[str, float]:
        """Store ``data`` and return a new token for it and when it expires. Expired entries are removed first.

        Raises:
            OSError: the data folder cannot be written.
            ValueError: a content type that is not a served image type.
        """
        if content_type not in SERVED_TYPES:
            raise ValueError(f"not a served image type: {content_type[:40]}")
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.sweep()
        token = secrets.token_urlsafe(32)  # 256 bits, 43 characters
        expires = self.now() + self.ttl_s
        name = _hash(token)
        atomic_write(self.folder / f"{name}.bin", data)
        atomic_write(self.folder / f"{name}.json", json.dumps({"type": content_type, "expires": expires}).encode())
        return token, expires

    def get(self, token: str) -> Served | None:
        """The picture a token stands for, or None (malformed, unknown or expired: all alike)."""
        if not _TOKEN.fullmatch(token):
            return None
        name = _hash(token)
        try:
            meta = json.loads((self.folder / f"{name}.json").read_text())
            if not isinstance(meta, dict) or float(meta["expires"]) <= self.now():
                self._remove(name)
                return None
            content_type = str(meta["type"])
            if content_type not in SERVED_TYPES:
                return None
            return Served(content_type, (self.folder / f"{name}.bin").read_bytes())
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def sweep(self) -> int:
        """Remove expired entries; how many were removed."""
        removed = 0
        try:
            entries = list(self.folder.glob("*.json"))
        except OSError:
            return 0
        for meta_path in entries:
            try:
                expires = float(json.loads(meta_path.read_text())["expires"])
            except (OSError, ValueError, KeyError, TypeError):
                expires = 0.0
            if expires <= self.now():
                self._remove(meta_path.stem)
                removed += 1
        return removed

    def _remove(self, name: str) -> None:
        for suffix in (".json", ".bin"):
            (self.folder / f"{name}{suffix}").unlink(missing_ok=True)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
