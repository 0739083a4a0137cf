"""The API key of the call being served, when each caller brings their own (LEGNEXT_USER_KEYS=header): set for
the duration of that call (and of the reads made for it), read by the dialects' auth hook for each request.
Held in a context variable, in memory only: never stored, logged or passed anywhere but the API's origin."""

from __future__ import annotations

from contextvars import ContextVar

REQUEST_KEY: ContextVar[str | None] = ContextVar("legnext_request_key", default=None)

#: What a client is built with when the server has no key of its own (every request brings one): it is never
#: sent; a request without a caller's key is refused before it leaves (``transport.HeaderAuth``).
NO_SERVER_KEY = "no-server-key:each-request-brings-its-own"
