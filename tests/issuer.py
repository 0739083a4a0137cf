"""A test OAuth issuer on loopback: fresh RS256/ES256 keys, JWKS, RFC 8414 + OpenID discovery, minting
(written for these tests; the server verifies its tokens with PyJWT, as it would any issuer's).

    iss = TestIssuer(); base = iss.start()          # http://127.0.0.1:PORT (uvicorn in a daemon thread)
    token = iss.mint(sub="alice", aud="http://127.0.0.1:8000/mcp", scope="mcp", alg="ES256")
    iss.rotate("RS256")                             # new kid, old key kept in the JWKS (or drop=True)
    iss.jwks_hits                                   # how often /.well-known/jwks.json was fetched

No authorization/token endpoint logic: tests mint tokens directly. Discovery docs still name the endpoints
(RFC 8414 requires authorization_endpoint/token_endpoint); they answer 501.
"""
from __future__ import annotations

import socket
import threading
import time
import uuid
from typing import Any

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def _new_key(alg: str) -> Any:
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(alg)


def _public_jwk(alg: str, kid: str, key: Any) -> dict[str, Any]:
    algo = RSAAlgorithm if alg == "RS256" else ECAlgorithm
    jwk = algo.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


class TestIssuer:
    __test__ = False  # not a pytest test class

    def __init__(self, algs: tuple[str, ...] = ("RS256", "ES256")) -> None:
        self.keys: dict[str, tuple[str, Any]] = {}  # kid -> (alg, private key)
        self.current: dict[str, str] = {}  # alg -> kid used for minting
        for alg in algs:
            self.rotate(alg)
        self.jwks_hits = 0
        self.base_url = ""
        self.app = Starlette(routes=[
            Route("/.well-known/jwks.json", self._jwks),
            Route("/.well-known/oauth-authorization-server", self._as_metadata),
            Route("/.well-known/openid-configuration", self._oidc_metadata),
            Route("/authorize", self._not_implemented),
            Route("/token", self._not_implemented, methods=["POST"]),
        ])

    # -- keys ----------------------------------------------------------------------------------------------------
    def rotate(self, alg: str, *, drop: bool = False) -> str:
        if drop and alg in self.current:
            self.keys.pop(self.current[alg], None)
        kid = f"{alg.lower()}-{uuid.uuid4().hex[:8]}"
        self.keys[kid] = (alg, _new_key(alg))
        self.current[alg] = kid
        return kid

    def jwks(self) -> dict[str, Any]:
        return {"keys": [_public_jwk(alg, kid, key) for kid, (alg, key) in self.keys.items()]}

    def mint(self, *, sub: str = "user-1", aud: str | list[str] = "", scope: str = "mcp", alg: str = "RS256",
             ttl: int = 300, client_id: str = "test-client", kid: str | None = None, **extra: Any) -> str:
        kid = kid or self.current[alg]
        key_alg, key = self.keys[kid] if kid in self.keys else (alg, _new_key(alg))  # unknown kid: stray key
        now = int(time.time())
        claims = {"iss": self.base_url, "sub": sub, "aud": aud, "iat": now, "nbf": now, "exp": now + ttl,
                  "scope": scope, "client_id": client_id, "jti": uuid.uuid4().hex, **extra}
        return jwt.encode(claims, key, algorithm=key_alg, headers={"kid": kid, "typ": "at+jwt"})

    # -- HTTP ----------------------------------------------------------------------------------------------------
    async def _jwks(self, request: Request) -> Response:
        self.jwks_hits += 1
        return JSONResponse(self.jwks(), headers={"Cache-Control": "public, max-age=300"})

    def _metadata(self) -> dict[str, Any]:
        b = self.base_url
        return {
            "issuer": b,
            "authorization_endpoint": f"{b}/authorize",
            "token_endpoint": f"{b}/token",
            "jwks_uri": f"{b}/.well-known/jwks.json",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_basic"],
            "scopes_supported": ["mcp", "mcp:admin"],
        }

    async def _as_metadata(self, request: Request) -> Response:  # RFC 8414
        return JSONResponse(self._metadata())

    async def _oidc_metadata(self, request: Request) -> Response:  # OpenID Connect Discovery 1.0
        return JSONResponse({**self._metadata(), "subject_types_supported": ["public"],
                             "id_token_signing_alg_values_supported": sorted({a for a, _ in self.keys.values()})})

    async def _not_implemented(self, request: Request) -> Response:
        return JSONResponse({"error": "unsupported", "error_description": "test issuer: mint tokens directly"},
                            status_code=501)

    def start(self) -> str:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.005)
        return self.base_url

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
