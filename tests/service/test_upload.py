"""Local pictures for Legnext on stdio, through LEGNEXT_UPLOAD_URL: the presigner against the example AWS publishes,
and the whole path against a local S3-compatible server (moto's server mode, on loopback): the simulator receives a
presigned URL whose bytes equal the file; a refusal uploads nothing; no secret reaches a result or the ledger."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import pytest
from PIL import Image

from legnext_mcp.service.upload import Credentials, credentials, presign
from tests.support import server_harness, text_of

pytestmark = pytest.mark.anyio
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
BUCKET = "pictures-in"


def test_the_presigned_url_matches_the_example_aws_publishes() -> None:
    # "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)", the example request
    url = presign("GET", "https://examplebucket.s3.amazonaws.com/test.txt",
                  Credentials("AKIAIOSFODNN7EXAMPLE", SECRET), region="us-east-1", expires_s=86400,
                  now=datetime(2013, 5, 24, tzinfo=UTC))
    assert url.endswith("X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    assert "X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" in url
    assert SECRET not in url


def test_credentials_come_from_the_environment_or_the_shared_file(tmp_path: Path) -> None:
    assert credentials({"AWS_ACCESS_KEY_ID": "AKIA1", "AWS_SECRET_ACCESS_KEY": "s"}) == Credentials("AKIA1", "s")
    shared = tmp_path / "credentials"
    shared.write_text("[default]\naws_access_key_id = AKIA2\naws_secret_access_key = t\n"
                      "[work]\naws_access_key_id = AKIA3\naws_secret_access_key = u\naws_session_token = tok\n")
    assert credentials({"AWS_SHARED_CREDENTIALS_FILE": str(shared)}) == Credentials("AKIA2", "t")
    assert credentials({"AWS_SHARED_CREDENTIALS_FILE": str(shared), "AWS_PROFILE": "work"}) == \
        Credentials("AKIA3", "u", "tok")
    assert credentials({"AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}) is None
    assert "u" not in repr(credentials({"AWS_SHARED_CREDENTIALS_FILE": str(shared), "AWS_PROFILE": "work"}))


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A local S3-compatible server on loopback with an empty bucket, and the AWS environment pointing at it."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        httpx2.put(f"{endpoint}/{BUCKET}").raise_for_status()
        for name, value in {"AWS_ACCESS_KEY_ID": "AKIALOCALTEST", "AWS_SECRET_ACCESS_KEY": SECRET,
                            "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_S3": endpoint}.items():
            monkeypatch.setenv(name, value)
        yield endpoint
    finally:
        server.stop()


def png(path: Path) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 24), (0, 90, 200)).save(out, format="PNG")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())
    return out.getvalue()


def objects(endpoint: str) -> list[str]:
    listing = httpx2.get(f"{endpoint}/{BUCKET}?list-type=2").text
    return [part.split("</Key>")[0] for part in listing.split("<Key>")[1:]]


async def test_legnext_on_stdio_gets_a_presigned_url_whose_bytes_equal_the_file(tmp_path: Path, s3: str) -> None:
    roots = tmp_path / "pictures"
    cat = png(roots / "cat.png")
    async with server_harness(tmp_path, upload_url=f"s3://{BUCKET}/inputs", input_roots=(roots,)) as h:
        asked = {"tool": "describe", "arguments": {"image_url": str(roots / "cat.png")}}
        estimate = await h.call("estimate_cost", asked)
        assert not estimate.is_error and objects(s3) == []  # the estimate uploads nothing
        result = await h.call("describe", {"image_url": str(roots / "cat.png")})
        assert not result.is_error, text_of(result)
        [request] = [r for r in h.sandbox.stats.requests if r.method == "POST" and r.path.endswith("/v1/describe")]
        url = json.loads(request.body)["imgUrl"]
        assert url.startswith(f"{s3}/{BUCKET}/inputs/") and "X-Amz-Signature=" in url and "X-Amz-Expires=7200" in url
        got = httpx2.get(url)
        assert got.status_code == 200 and got.content == cat  # the bytes the API fetches are the file's
        [key] = objects(s3)
        assert key.startswith("inputs/") and key.endswith(".png")
        db = sqlite3.connect(h.settings.ledger_path)
        rows = " ".join(r[0] for r in db.execute("SELECT request_json FROM jobs"))
        db.close()
        assert "X-Amz-Signature" not in rows and "AKIALOCALTEST" not in rows and SECRET not in rows
        assert str(roots / "cat.png") in rows  # the history says what the user gave
        assert SECRET not in text_of(result)

        refused = await h.call("describe", {"image_url": str(tmp_path / "elsewhere.png")})
        assert refused.is_error and objects(s3) == [key]  # a refusal uploads nothing


async def test_a_bucket_that_refuses_sends_nothing_to_the_api(tmp_path: Path, s3: str) -> None:
    roots = tmp_path / "pictures"
    png(roots / "cat.png")
    async with server_harness(tmp_path, upload_url="s3://no-such-bucket/x", input_roots=(roots,)) as h:
        result = await h.call("describe", {"image_url": str(roots / "cat.png")})
        text = text_of(result)
        assert result.is_error and "refused the upload" in text and "Nothing was sent to the API" in text, text
        assert SECRET not in text and "AKIALOCALTEST" not in text
        assert h.sandbox.stats.count("POST") == 0
        db = sqlite3.connect(h.settings.ledger_path)
        assert db.execute("SELECT COUNT(*) FROM intents").fetchone()[0] == 0  # its reservation was given back
        db.close()
