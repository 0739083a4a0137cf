"""The TLS context of our HTTP clients, built once per process.

Building one loads the CA bundle (25-45 ms); the API client and the download client each used to build
their own, and every new client did again. A verifying client context holds no credentials and is safe to
share between clients and connections.
"""

from __future__ import annotations

import ssl
from functools import cache

import httpx2


@cache
def tls_context() -> ssl.SSLContext:
    """httpx2's default verifying context (system CA store, honouring SSL_CERT_FILE / SSL_CERT_DIR)."""
    return httpx2.create_ssl_context()
