"""Downloading output files (and the images a relay needs as base64): no credentials, and no way to be
walked into a private network.

Every hop is checked before it is fetched: an http(s) URL without credentials; its host resolved and
*every* address public (unless the URL is on the origin of a local API, as the sandbox's files are); and
the connection then made to the checked address (the URL's host goes in the Host header and the TLS server name),
so a DNS answer cannot change between the check and the connect. Redirects are followed by hand, each hop
checked again, at most ``DOWNLOAD_MAX_REDIRECTS``. The content type must be an image or video and the
bytes are capped while they stream; the whole download has a deadline.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Self
from urllib.parse import urljoin, urlsplit, urlunsplit

import anyio
import httpx2

from legnext_mcp import __version__
from legnext_mcp.core import policy
from legnext_mcp.core.errors import LocalValidationError, NetworkError, ServerError
from legnext_mcp.core.urls import is_http_url, is_public_address, is_public_url, on_origin
from legnext_mcp.http.tls import tls_context

#: Host name and port -> the addresses it resolves to.
Resolver = Callable[[str, int], Awaitable[list[str]]]


async def _resolve(host: str, port: int) -> list[str]:
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


#: ``NetworkError.detail`` when the file's host could not be reached at all (a stale URL, a moved sandbox).
UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class Download:
    """Bytes fetched from an output URL, with the server's content type."""

    content: bytes
    content_type: str
    url: str


class Downloader:
    """A client that carries no credentials and checks every address it connects to.

    ``local_origin``: the API is local (the sandbox, a relay on this machine or a private network), so URLs on
    its own origin (scheme, host, port) may be fetched; every other private address is still refused.
    ``transport``: replaces the network (in-process tests); addresses are then not resolved.
    """

    def __init__(self, *, local_origin: str | None = None, transport: httpx2.AsyncBaseTransport | None = None,
                 max_bytes: int = policy.DOWNLOAD_MAX_BYTES, deadline_s: float = policy.DOWNLOAD_DEADLINE_S,
                 resolve: Resolver | None = None) -> None:
        self.local_origin = local_origin
        self._resolve = resolve or _resolve
        self.max_bytes = max_bytes
        self.deadline_s = deadline_s
        self._transport = transport
        self._client: httpx2.AsyncClient | None = None

    @property
    def _http(self) -> httpx2.AsyncClient:
        if self._client is None:
            self._client = httpx2.AsyncClient(
                transport=self._transport, follow_redirects=False,
                verify=tls_context() if self._transport is None else True,
                timeout=httpx2.Timeout(policy.DOWNLOAD_TIMEOUT_S, connect=policy.CONNECT_TIMEOUT_S),
                headers={"user-agent": f"legnext-mcp/{__version__}"})
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def fetch(self, url: str, *, max_bytes: int | None = None) -> Download:
        """The file at ``url``.

        Raises:
            LocalValidationError: the URL (or a redirect) is not one we may fetch.
            ServerError: an error status, a type that is not an image or video, or a file over the cap.
            NetworkError: the host could not be reached, or the download outlived its deadline.
        """
        limit = max_bytes or self.max_bytes
        try:
            with anyio.fail_after(self.deadline_s):
                return await self._follow(url, limit)
        except TimeoutError:
            raise NetworkError(f"Downloading an output file took longer than {self.deadline_s:g} s and was stopped; "
                               "try again later.") from None
        except (httpx2.ConnectError, httpx2.ConnectTimeout):
            raise NetworkError("Could not connect to the host of an output file; check the connection and try "
                               "again.", detail=UNREACHABLE) from None
        except httpx2.TransportError as exc:
            raise NetworkError(f"Downloading an output file failed ({type(exc).__name__}); check the connection "
                               "and try again.") from None

    async def _follow(self, url: str, limit: int) -> Download:
        current = url
        for _ in range(policy.DOWNLOAD_MAX_REDIRECTS + 1):
            request = await self._pinned_request(current)
            response = await self._http.send(request, stream=True)
            try:
                if response.status_code in (301, 302, 303, 307, 308) and "location" in response.headers:
                    current = urljoin(current, response.headers["location"])
                    continue
                if response.status_code != 200:
                    raise ServerError(f"Downloading an output file failed with HTTP {response.status_code}; the "
                                      "file may have expired (outputs are kept 30 days).", status=response.status_code)
                content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if not content_type.startswith(policy.DOWNLOAD_CONTENT_TYPES):
                    raise ServerError(f"The URL served {content_type or 'no content type'}, not an image or video.")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise ServerError(f"The file is larger than the {limit} byte limit (LEGNEXT_DOWNLOAD_MAX_BYTES).")
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise ServerError(f"The file is larger than the {limit} byte limit "
                                          "(LEGNEXT_DOWNLOAD_MAX_BYTES).")
                    chunks.append(chunk)
                return Download(content=b"".join(chunks), content_type=content_type, url=url)
            finally:
                await response.aclose()
        raise ServerError(f"Downloading an output file was redirected more than {policy.DOWNLOAD_MAX_REDIRECTS} "
                          "times; not followed further.")

    async def _pinned_request(self, url: str) -> httpx2.Request:
        """A GET for ``url`` aimed at an address that passed the checks (see the module docstring).

        Raises:
            LocalValidationError: a URL that is not http(s), carries credentials, or leads to a private
                address while the API is public.
        """
        if not is_http_url(url):
            raise LocalValidationError(f"Refusing to download {url[:100]!r}: only http(s) URLs without "
                                       "credentials are fetched.")
        local = on_origin(url, self.local_origin)
        if not local and not is_public_url(url):
            raise LocalValidationError(f"Refusing to download {url[:100]}: a private or local address (only the "
                                       "API's own origin is fetched from a private address).")
        parts = urlsplit(url)
        host = parts.hostname or ""
        if self._transport is not None:  # in-process tests: nothing to connect to
            if self._resolve is not _resolve:  # a resolver given by the test: its answers are checked
                await self._checked_address(host, parts.port or 443, local=local)
            return self._http.build_request("GET", url)
        address = await self._checked_address(host, parts.port or (443 if parts.scheme == "https" else 80),
                                              local=local)
        shown = f"[{address}]" if ":" in address else address
        netloc = f"{shown}:{parts.port}" if parts.port else shown
        pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        host_header = parts.netloc.rsplit("@", 1)[-1]
        return self._http.build_request("GET", pinned, headers={"host": host_header},
                                        extensions={"sni_hostname": host})

    async def _checked_address(self, host: str, port: int, *, local: bool) -> str:
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                addresses = await self._resolve(host, port)
            except OSError:
                raise NetworkError(f"Could not resolve {host[:80]} to download an output file.") from None
        if not addresses:
            raise NetworkError(f"Could not resolve {host[:80]} to download an output file.")
        if not local:
            private = [a for a in addresses if not is_public_address(a)]
            if private:
                raise LocalValidationError(f"Refusing to download from {host[:80]}: it resolves to a private or "
                                           f"local address ({private[0]}).")
        return addresses[0]
