"""URL rules: what an image URL field takes, and which addresses are public.

Pure (no DNS): :func:`is_public_url` reads the host as written, numeric aliases included. The download
client additionally checks every resolved address it connects to (``legnext_mcp.http.download``).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

MAX_URL_CHARS = 1024


def check_http_url(value: str) -> str:
    """``value`` stripped, if it is an absolute http(s) URL without credentials; ValueError otherwise."""
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL such as https://example.com/image.png")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry a user name or password (user:password@)")
    if any(ord(c) < 33 or ord(c) == 127 for c in value):
        raise ValueError("must not contain spaces or control characters")
    return value


def is_http_url(value: str) -> bool:
    """Whether ``value`` is an absolute http(s) URL without credentials."""
    try:
        check_http_url(value)
    except ValueError:
        return False
    return True


def is_loopback_host(host: str) -> bool:
    """Whether a host name or address is this machine only: ``localhost`` (and names under it), 127.0.0.0/8 or
    ::1. The one loopback rule (the HTTP bind, plain-http API URLs, a simulator's clock); 0.0.0.0 and :: are
    not loopback (they listen on every interface)."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    """Whether a URL's host is this machine (see ``is_loopback_host``)."""
    return is_loopback_host(urlsplit(url).hostname or "")


def is_public_address(address: str) -> bool:
    """Whether an IP address (v4 or v6, as text) is globally routable."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return embedded.is_global
    return ip.is_global


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries and that a router would reach (a private one must not pass as
    public): IPv4-mapped (``::ffff:a.b.c.d``), IPv4-compatible (``::a.b.c.d``), NAT64 (``64:ff9b::/96``), 6to4
    (``2002:AABB:CCDD::/48``) and Teredo (the client address)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    low = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _NAT64:
        return low
    if int(ip) >> 32 == 0 and int(ip) > 1:  # ::a.b.c.d (deprecated IPv4-compatible); :: and ::1 are not
        return low
    return None


def is_public_url(value: str) -> bool:
    """Whether an http(s) URL names a public host (not localhost, private, loopback or link-local).

    Numeric hosts in any form a resolver accepts (``2130706433``, ``0x7f.1``, ``127.1``) are read as the
    address they stand for. Host names are taken as public here; the download client checks what they
    resolve to.
    """
    host = (urlsplit(value).hostname or "").rstrip(".").lower()
    if not host or host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return is_public_address(host)
    if all(part.isdigit() or part.startswith("0x") for part in host.split(".")):
        try:  # inet_aton takes the shorthand and hex forms that ip_address refuses
            return is_public_address(socket.inet_ntoa(socket.inet_aton(host)))
        except OSError:
            return False
    return True


def origin(url: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of an http(s) URL, the port filled in from the scheme; None for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".").lower()
    if parts.scheme not in ("http", "https") or not host:
        return None
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80)


def on_origin(url: str, base: str | None) -> bool:
    """Whether ``url`` is on the origin of ``base`` (scheme, host and port): the one local place a local API's
    own files may be fetched from when every other private address is refused."""
    return base is not None and origin(url) is not None and origin(url) == origin(base)


_URL_IN_TEXT = re.compile(r"https?://[^\s,]+", re.IGNORECASE)


def urls_in_text(texts: Iterable[str]) -> list[str]:
    """Every http(s) URL written in the given texts (image prompts, --sref, --end...)."""
    found: list[str] = []
    for text in texts:
        found.extend(_URL_IN_TEXT.findall(text))
    return found
