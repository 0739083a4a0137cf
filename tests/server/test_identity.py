"""The token verifier on its own, against a test issuer on loopback: what it accepts, what it refuses, and how
it fetches the issuer's keys (discovery, caching, rotation, a flood of unknown key ids)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from legnext_mcp.server.identity import JwtVerifier, discovery_urls, user_of
from tests.issuer import TestIssuer

pytestmark = pytest.mark.anyio
RESOURCE = "https://mcp.example.test/mcp"


@pytest.fixture
async def verifier(issuer: TestIssuer) -> AsyncIterator[JwtVerifier]:
    made = JwtVerifier(issuer.base_url, RESOURCE)
    try:
        yield made
    finally:
        await made.aclose()


@pytest.fixture
def issuer() -> Iterator[TestIssuer]:
    found = TestIssuer()
    found.start()
    try:
        yield found
    finally:
        found.stop()


async def test_a_valid_token_names_its_user_and_scopes(issuer: TestIssuer, verifier: JwtVerifier) -> None:
    for alg in ("RS256", "ES256"):
        token = await verifier.verify_token(issuer.mint(sub="ann", aud=RESOURCE, scope="mcp extra", alg=alg))
        assert token is not None and token.scopes == ["mcp", "extra"] and token.subject == "ann"
        assert token.resource == RESOURCE and user_of({"iss": issuer.base_url, "sub": "ann"}).endswith("#ann")


@pytest.mark.parametrize("case", ["wrong audience", "other issuer", "expired", "unknown key", "not a jwt",
                                  "no subject"])
async def test_tokens_not_made_for_this_server_are_refused(issuer: TestIssuer, verifier: JwtVerifier,
                                                            case: str) -> None:
    other = TestIssuer()
    other.base_url = "https://elsewhere.example"
    makers: dict[str, Callable[[], str]] = {
        "wrong audience": lambda: issuer.mint(aud="https://other-server.example/mcp"),
        "other issuer": lambda: other.mint(aud=RESOURCE),
        "expired": lambda: issuer.mint(aud=RESOURCE, ttl=-120),
        "unknown key": lambda: issuer.mint(aud=RESOURCE, kid="never-published"),
        "not a jwt": lambda: "opaque-token-from-somewhere",
        "no subject": lambda: issuer.mint(aud=RESOURCE, sub=""),
    }
    token = makers[case]()
    assert await verifier.verify_token(token) is None


async def test_keys_are_cached_and_made_up_key_ids_never_flood_the_issuer(issuer: TestIssuer,
                                                                         verifier: JwtVerifier) -> None:
    for _ in range(5):
        assert await verifier.verify_token(issuer.mint(aud=RESOURCE)) is not None
    assert issuer.jwks_hits == 1
    for n in range(20):  # made-up key ids within the cool-down: no fetch at all
        assert await verifier.verify_token(issuer.mint(aud=RESOURCE, kid=f"bogus-{n}")) is None
    assert issuer.jwks_hits == 1


async def test_a_rotated_key_is_fetched_when_first_seen(issuer: TestIssuer) -> None:
    verifier = JwtVerifier(issuer.base_url, RESOURCE, refetch_s=0)
    try:
        assert await verifier.verify_token(issuer.mint(aud=RESOURCE)) is not None
        issuer.rotate("RS256", drop=True)
        assert await verifier.verify_token(issuer.mint(aud=RESOURCE)) is not None
        assert issuer.jwks_hits == 2
    finally:
        await verifier.aclose()


def test_discovery_follows_rfc_8414_then_openid() -> None:
    assert discovery_urls("https://idp.example/tenant") == [
        "https://idp.example/.well-known/oauth-authorization-server/tenant",
        "https://idp.example/tenant/.well-known/openid-configuration"]
