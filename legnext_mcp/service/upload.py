"""Local pictures for Legnext on stdio: uploaded to the S3-compatible bucket of LEGNEXT_UPLOAD_URL and shared with the
API by a short-lived presigned GET URL.

Signing is AWS Signature Version 4 with the query string (a presigned URL), written here on the standard library:
the whole of it is one canonical request, one string to sign and an HMAC chain (AWS's "Authenticating Requests:
Using Query Parameters"; ``tests/service/test_upload.py`` checks it against the example signature AWS publishes, and
against a local S3-compatible server). botocore would add ~0.3 s and ~25 MB for these forty lines.

Credentials come from where the AWS tools look: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN,
else the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile AWS_PROFILE or
default). Region: AWS_REGION / AWS_DEFAULT_REGION, else us-east-1. An S3-compatible service (R2, MinIO, B2) is named
by AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (path-style addressing); otherwise AWS's virtual-hosted endpoint. The
secret never leaves this module: not in a log, an error, the ledger (the presigned URL is recorded as the local path
it stands for) or a result.
"""

from __future__ import annotations

import configparser
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx2

from legnext_mcp.core.errors import LocalValidationError
from legnext_mcp.core.media import extension_for
from legnext_mcp.inputs_store import INPUT_URL_TTL_S
from legnext_mcp.service.inputs import LocalImage

UPLOAD_TIMEOUT_S = 60.0
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)


def credentials(env: Mapping[str, str]) -> Credentials | None:
    """The AWS credentials the environment or the shared credentials file gives, or None."""
    key, secret = env.get("AWS_ACCESS_KEY_ID", "").strip(), env.get("AWS_SECRET_ACCESS_KEY", "").strip()
    if key and secret:
        return Credentials(key, secret, env.get("AWS_SESSION_TOKEN", "").strip() or None)
    path = Path(env.get("AWS_SHARED_CREDENTIALS_FILE") or Path(env.get("HOME", "~")) / ".aws" / "credentials")
    parser = configparser.ConfigParser()
    try:
        parser.read(path.expanduser())
    except (OSError, configparser.Error):
        return None
    profile = env.get("AWS_PROFILE") or "default"
    if not parser.has_section(profile):
        return None
    section = parser[profile]
    key, secret = section.get("aws_access_key_id", "").strip(), section.get("aws_secret_access_key", "").strip()
    if not (key and secret):
        return None
    return Credentials(key, secret, section.get("aws_session_token", "").strip() or None)


def presign(method: str, url: str, creds: Credentials, *, region: str, expires_s: int, now: datetime) -> str:
    """``url`` (scheme, host, path; no query) signed for ``method`` with SigV4 query parameters, valid ``expires_s``
    seconds from ``now``; the payload is not signed (``UNSIGNED-PAYLOAD``), only the host header."""
    parts = urlsplit(url)
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    day = stamp[:8]
    scope = f"{day}/{region}/s3/aws4_request"
    query = {"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Credential": f"{creds.access_key}/{scope}",
             "X-Amz-Date": stamp, "X-Amz-Expires": str(expires_s), "X-Amz-SignedHeaders": "host"}
    if creds.token:
        query["X-Amz-Security-Token"] = creds.token
    canonical_query = "&".join(f"{_q(k)}={_q(v)}" for k, v in sorted(query.items()))
    path = quote(parts.path or "/", safe="/~")
    canonical = "\n".join([method, path, canonical_query, f"host:{parts.netloc}", "", "host", "UNSIGNED-PAYLOAD"])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    signing = f"AWS4{creds.secret_key}".encode()
    for part in (day, region, "s3", "aws4_request"):
        signing = hmac.new(signing, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(signing, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{parts.scheme}://{parts.netloc}{path}?{canonical_query}&X-Amz-Signature={signature}"


def _q(text: str) -> str:
    return quote(text, safe="-_.~")


class S3Uploader:
    """Puts a picture under LEGNEXT_UPLOAD_URL and returns a presigned GET URL for it."""

    def __init__(self, upload_url: str, env: Mapping[str, str], *,
                 transport: httpx2.AsyncBaseTransport | None = None, ttl_s: float = INPUT_URL_TTL_S) -> None:
        parts = urlsplit(upload_url)
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self.region = (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION).strip()
        endpoint = (env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or "").strip().rstrip("/")
        self.base = f"{endpoint}/{self.bucket}" if endpoint else f"https://{self.bucket}.s3.{self.region}.amazonaws.com"
        self.env = dict(env)
        self.ttl_s = int(ttl_s)
        self.http = httpx2.AsyncClient(transport=transport, timeout=UPLOAD_TIMEOUT_S, follow_redirects=False)

    def __repr__(self) -> str:
        return f"S3Uploader(bucket={self.bucket!r}, prefix={self.prefix!r})"

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __call__(self, image: LocalImage) -> str:
        """Upload ``image`` once and return its presigned GET URL.

        Raises:
            LocalValidationError: no credentials, or the bucket refused or could not be reached (nothing was sent
                to the API; the message names neither key nor signature).
        """
        creds = credentials(self.env)
        if creds is None:
            raise LocalValidationError("LEGNEXT_UPLOAD_URL is set but no AWS credentials were found (AWS_ACCESS_KEY_ID "
                                       "and AWS_SECRET_ACCESS_KEY, or ~/.aws/credentials); nothing was sent.")
        ext = extension_for(image.content_type)
        name = secrets.token_urlsafe(18) + (f".{ext.lstrip('.')}" if ext else "")
        key = f"{self.prefix}/{name}" if self.prefix else name
        url = f"{self.base}/{key}"
        now = datetime.now(UTC)
        put = presign("PUT", url, creds, region=self.region, expires_s=300, now=now)
        try:
            answer = await self.http.put(put, content=image.data, headers={"content-type": image.content_type})
        except httpx2.HTTPError as exc:
            raise LocalValidationError(f"could not upload {image.ref[:120]} to LEGNEXT_UPLOAD_URL "
                                       f"({type(exc).__name__}); nothing was sent to the API.") from None
        if answer.status_code // 100 != 2:
            raise LocalValidationError(f"the bucket of LEGNEXT_UPLOAD_URL refused the upload of {image.ref[:120]} "
                                       f"(HTTP {answer.status_code}); check its credentials and permissions. Nothing "
                                       "was sent to the API.")
        return presign("GET", url, creds, region=self.region, expires_s=self.ttl_s, now=now)


def uploader_for(upload_url: str | None, env: Mapping[str, str] | None = None) -> S3Uploader | None:
    """The uploader LEGNEXT_UPLOAD_URL asks for, or None."""
    if upload_url is None:
        return None
    return S3Uploader(upload_url, os.environ if env is None else env)
