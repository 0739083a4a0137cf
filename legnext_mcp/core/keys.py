"""The one rule for API keys, applied by the settings before anything starts and by every client before it
sends: a key that cannot be right is refused locally, and no message ever repeats it."""

from __future__ import annotations

import re

from legnext_mcp.core.errors import LocalValidationError

#: The early "generate API v1" prototype's keys (legnext-docs/41-generate-api-v1.md).
PROTOTYPE_KEY = re.compile(r"lnx_[0-9a-fA-F]{64}")


def check_key(key: str, *, dialect: str = "legnext") -> str:
    """``key`` stripped of surrounding space, if it can be a key of ``dialect``'s API.

    Raises:
        LocalValidationError: empty; spaces, control or non-ASCII characters (a header could not carry them,
            and an HTTP library refusing one might print it); or a key of Legnext's abandoned 2025 prototype.
            The message never contains the key.
    """
    key = key.strip()
    if not key:
        raise LocalValidationError("No API key given: set LEGNEXT_API_KEY.")
    if any(ord(c) < 33 or ord(c) == 127 for c in key) or not key.isascii():
        raise LocalValidationError("LEGNEXT_API_KEY contains spaces, control characters or non-ASCII characters; "
                                   "copy the key again exactly as shown where it was created.")
    if dialect == "legnext" and PROTOTYPE_KEY.fullmatch(key):
        raise LocalValidationError(
            "LEGNEXT_API_KEY is an 'lnx_' key from the early Legnext 'generate API v1', a 2025 prototype of the "
            "dashboard that never ran jobs and is gone. Create a key at https://legnext.ai/app/api-keys (today's "
            "API is https://api.legnext.ai/api) and set that instead.")
    return key
