"""Who a request to a shared server is for (``service.caller.Caller``), from what the HTTP request carries: the
OAuth identity the SDK's bearer middleware verified (``iss#sub``), and with LEGNEXT_USER_KEYS=header the caller's
own key from ``X-Legnext-Api-Key`` (checked, held in memory for the request, never stored, logged or echoed; a
user without OAuth is a keyed hash of that key). The received bearer token is never passed on: upstream requests
carry the server's key or the caller's own.
"""

from __future__ import annotations

from typing import Any

from legnext_mcp.core.errors import LocalValidationError
from legnext_mcp.core.keys import check_key
from legnext_mcp.service.caller import KEY_HEADER, ONE_PERSON, Caller, user_of_key
from legnext_mcp.settings import Settings

#: What a request without its key is told (one line).
SEND_KEY = (f"This server uses each caller's own API key: send it in the {KEY_HEADER.title()} header with every "
            "request (configure the header in your MCP client). Nothing was sent.")


def caller_for(settings: Settings, request: Any) -> tuple[Caller, str | None]:
    """The caller of an HTTP request and the key its upstream requests go with (None: the server's key).

    Raises:
        LocalValidationError: a per-user-key server's request without a usable key (the message never repeats
            what was sent), or an OAuth server's request without a verified identity.
    """
    if request is None or not settings.several_people:
        return ONE_PERSON, None
    headers = request.headers
    key: str | None = None
    if settings.user_keys:
        raw = str(headers.get(KEY_HEADER) or "")
        if not raw.strip():
            raise LocalValidationError(SEND_KEY)
        try:
            key = check_key(raw, dialect=settings.dialect)
        except LocalValidationError:
            raise LocalValidationError(f"The {KEY_HEADER.title()} header does not hold a usable API key (spaces, "
                                       "control or non-ASCII characters, or a retired key); send the key exactly as "
                                       "it was created. Nothing was sent.") from None
    if settings.oauth_issuer is not None:
        token = getattr(request.scope.get("user"), "access_token", None)
        issuer = (getattr(token, "claims", None) or {}).get("iss")
        subject = getattr(token, "subject", None)
        if not issuer or not subject:
            raise LocalValidationError("This request carries no verified identity. Nothing was sent.")
        user = f"{issuer}#{subject}"
    else:
        assert key is not None and settings.user_key_secret is not None  # settings: header mode needs the secret
        user = user_of_key(settings.user_key_secret, key)
    return Caller(user=user, scoped=True, own_key=key is not None), key
