"""Capabilities: unguessable tokens that grant one narrow thing to whoever holds them (the API calling back
about one job). Only a token's hash is ever stored, so a copy of the ledger grants nothing.
"""

from __future__ import annotations

import hashlib
import re
import secrets

#: 32 random bytes, URL-safe: 43 characters.
TOKEN_BYTES = 32
#: What a token looks like; anything else is refused before it is hashed or looked up.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


def mint() -> tuple[str, str]:
    """A new token and its hash (the hash is what is kept)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, digest(token)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: str) -> bool:
    return TOKEN_SHAPE.fullmatch(token) is not None
