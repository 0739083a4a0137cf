"""Who is calling, on the HTTP transport: OAuth 2.1 access tokens checked as the MCP authorization spec asks of a
resource server. Imported only when LEGNEXT_OAUTH_ISSUER is set (PyJWT is a dependency of the SDK, but loading it
is start-up time a one-person server should not pay).

* The issuer's metadata and key set are found by discovery: RFC 8414 (``/.well-known/oauth-authorization-server``)
  first, then OpenID Connect Discovery; the metadata must name the configured issuer.
* Tokens are JWTs verified locally: signature (RS/PS/ES 256-512, EdDSA) against the issuer's keys (cached for five
  minutes, fetched again for a key id not seen, at most once every ``REFETCH_S``, so a flood of made-up key ids
  cannot make us flood the issuer), issuer, audience (this server's MCP endpoint, RFC 8707), expiry. Scopes are
  checked by the SDK's middleware (403 with the spec's ``WWW-Authenticate``). Opaque tokens are refused: this
  server does not call an introspection endpoint.
* The user is the issuer and the subject together: two issuers cannot share a user.
* The token never leaves this module but as the SDK's ``AccessToken``; nothing passes it upstream.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import anyio
import httpx2
import jwt
from jwt import PyJWK, PyJWKSet
from mcp.server.auth.provider import AccessToken

log = logging.getLogger("legnext_mcp.identity")

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
KEYS_TTL_S = 300.0
#: At most one fetch of the key set for an unknown key id per this many seconds.
REFETCH_S = 10.0
#: Clock skew allowed on exp/nbf/iat.
LEEWAY_S = 30
MAX_TOKEN_CHARS = 16_384


def discovery_urls(issuer: str) -> list[str]:
    """Where an issuer's metadata is: RFC 8414 puts the well-known part before the issuer's path, OpenID after."""
    parts = urlsplit(issuer.rstrip("/"))
    path = parts.path
    return [urlunsplit((parts.scheme, parts.netloc, f"/.well-known/oauth-authorization-server{path}", "", "")),
            f"{issuer.rstrip('/')}/.well-known/openid-configuration"]


def user_of(claims: dict[str, Any]) -> str:
    """The user a verified token names: issuer and subject (a subject is unique only within its issuer)."""
    return f"{claims['iss']}#{claims['sub']}"


class JwtVerifier:
    """A ``TokenVerifier`` for the SDK's bearer middleware."""

    def __init__(self, issuer: str, resource: str, *, client: httpx2.AsyncClient | None = None,
                 refetch_s: float = REFETCH_S) -> None:
        self.issuer = issuer.rstrip("/")
        self.refetch_s = refetch_s
        self.resource = resource
        self._client = client or httpx2.AsyncClient(timeout=httpx2.Timeout(10.0), follow_redirects=False)
        self._keys: dict[str, PyJWK] = {}
        self._jwks_uri: str | None = None
        self._fetched_at = float("-inf")
        self._lock = anyio.Lock()

    async def verify_token(self, token: str) -> AccessToken | None:
        if len(token) > MAX_TOKEN_CHARS:
            return None
        try:
            header = jwt.get_unverified_header(token)
            key = await self._key(str(header.get("kid") or ""))
            if key is None:
                return None
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=ALGORITHMS, audience=self.resource, issuer=self.issuer, leeway=LEEWAY_S,
                options={"require": ["exp", "iss", "aud", "sub"]})
        except (jwt.PyJWTError, ValueError, KeyError) as exc:
            log.info("token refused: %s", type(exc).__name__)  # never the token itself
            return None
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            log.info("token refused: no subject")
            return None
        scope = claims.get("scope")
        scopes = scope.split() if isinstance(scope, str) else [s for s in claims.get("scp", []) if isinstance(s, str)]
        client_id = claims.get("client_id") or claims.get("azp") or claims["sub"]
        return AccessToken(token=token, client_id=str(client_id), scopes=scopes, expires_at=int(claims["exp"]),
                           resource=self.resource, subject=str(claims["sub"]), claims={"iss": claims["iss"]})

    async def _key(self, kid: str) -> Any:
        now = time.monotonic()
        stale = now - self._fetched_at > KEYS_TTL_S
        if kid in self._keys and not stale:
            return self._keys[kid].key
        async with self._lock:
            now = time.monotonic()
            if stale or (kid not in self._keys and now - self._fetched_at > self.refetch_s):
                await self._fetch()
        found = self._keys.get(kid)
        return found.key if found is not None else None

    async def _fetch(self) -> None:
        try:
            if self._jwks_uri is None:
                self._jwks_uri = await self._discover()
            answer = await self._client.get(self._jwks_uri)
            answer.raise_for_status()
            keys = PyJWKSet.from_dict(answer.json()).keys
        except (httpx2.HTTPError, ValueError, jwt.PyJWTError) as exc:
            log.warning("could not fetch the issuer's keys from %s: %s", self._jwks_uri or self.issuer,
                        type(exc).__name__)
            self._fetched_at = time.monotonic()  # do not hammer a failing issuer
            return
        self._keys = {str(k.key_id): k for k in keys if k.key_id}
        self._fetched_at = time.monotonic()

    async def _discover(self) -> str:
        for url in discovery_urls(self.issuer):
            try:
                answer = await self._client.get(url)
            except httpx2.HTTPError:
                continue
            if answer.status_code != 200:
                continue
            metadata = answer.json()
            if not isinstance(metadata, dict) or str(metadata.get("issuer", "")).rstrip("/") != self.issuer:
                log.warning("%s does not name the configured issuer %s; ignored", url, self.issuer)
                continue
            uri = metadata.get("jwks_uri")
            if isinstance(uri, str) and uri.startswith(("https://", "http://")):
                return uri
        raise ValueError(f"no usable metadata for the issuer {self.issuer}")

    async def aclose(self) -> None:
        await self._client.aclose()
