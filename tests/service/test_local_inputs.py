"""Local pictures as inputs, through the real seams: the relay simulator receives the base64 of an allowed file; the
Legnext simulator receives a capability URL that the HTTP edge answers with the file's bytes until it expires; every
refusal sends nothing and stores nothing; estimate_cost checks without storing."""

from __future__ import annotations

import base64
import io
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import httpx2
import pytest
from PIL import Image

from legnext_mcp.inputs_store import INPUT_URL_TTL_S, InputStore
from legnext_mcp.server.edge import Edge
from tests.support import relay_harness, server_harness, text_of

pytestmark = pytest.mark.anyio
PUBLIC = "http://127.0.0.1:8765"


def png(path: Path, colour: tuple[int, int, int] = (200, 30, 30), size: int = 32) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(out, format="PNG")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())
    return out.getvalue()


def posted(app: Any, suffix: str) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in app.stats.requests if r.method == "POST" and r.path.endswith(suffix)]


def stored(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


async def inner(scope: Any, receive: Any, send: Any) -> None:  # what the edge would hand on: never reached here
    raise AssertionError(f"the edge passed {scope.get('path')} on")


async def ready() -> str | None:
    return None


# --- relays: inline ----------------------------------------------------------------------------------------


async def test_a_relay_receives_the_base64_of_an_allowed_picture_for_describe_and_imagine(tmp_path: Path) -> None:
    roots = tmp_path / "pictures"
    cat = png(roots / "cat.png")
    style = png(roots / "my style.png", (10, 200, 10))
    async with relay_harness(tmp_path, input_roots=(roots,)) as relay:
        await relay.ok("describe", {"image_url": str(roots / "cat.png")})
        [body] = relay.posts("describe")
        assert "link" not in body
        assert base64.b64decode(body["base64"].split(",", 1)[1]) == cat  # the file's bytes, byte for byte
        assert body["base64"].startswith("data:image/png;base64,")

        uri = (roots / "my style.png").as_uri()  # a path with a space, written as a file:// URL
        made = await relay.ok("imagine", {"prompt": f"{uri} a castle in the fog --ar 3:2"})
        [imagine] = relay.posts("imagine")
        assert imagine["prompt"] == "a castle in the fog --ar 3:2"  # the path is not sent as text
        assert [base64.b64decode(i.split(",", 1)[1]) for i in imagine["base64Array"]] == [style]
        db = sqlite3.connect(relay.settings.ledger_path)
        [(request, prompt)] = db.execute("SELECT request_json, prompt FROM jobs WHERE job_id = ?",
                                         (made["job_id"],)).fetchall()
        db.close()
        assert base64.b64encode(style).decode()[:40] not in request  # the ledger keeps no picture
        assert prompt.startswith(uri)  # the history says what the user asked


async def test_a_relay_refuses_a_local_style_reference_and_sends_nothing(tmp_path: Path) -> None:
    roots = tmp_path / "pictures"
    png(roots / "style.png")
    async with relay_harness(tmp_path, input_roots=(roots,)) as relay:
        result = await relay.call("imagine", {"prompt": f"a castle --sref {roots / 'style.png'}"})
        assert result.is_error and "--sref" in text_of(result) and "Nothing was sent" in text_of(result)
        assert relay.app.stats.count("POST") == 0


# --- Legnext on the HTTP transport: a capability URL ------------------------------------------------------


async def test_legnext_gets_a_capability_url_whose_bytes_equal_the_file_until_it_expires(tmp_path: Path) -> None:
    roots = tmp_path / "pictures"
    cat = png(roots / "cat.png")
    async with server_harness(tmp_path, public_url=PUBLIC, input_roots=(roots,)) as h:
        result = await h.call("describe", {"image_url": str(roots / "cat.png")})
        assert not result.is_error, text_of(result)
        [body] = posted(h.sandbox, "/v1/describe")
        url = body["imgUrl"]
        assert url.startswith(f"{PUBLIC}/inputs/") and len(url.rsplit("/", 1)[1]) == 43
        token = url.rsplit("/", 1)[1]
        db = sqlite3.connect(h.settings.ledger_path)
        rows = [r[0] for r in db.execute("SELECT request_json FROM jobs")]
        db.close()
        assert rows and all(token not in row for row in rows)  # the capability is not kept in the history

        now = [0.0]
        store = InputStore(h.settings.inputs_dir, now=lambda: now[0])
        now[0] = next(json.loads(p.read_text())["expires"] for p in h.settings.inputs_dir.glob("*.json")) - 1
        edge = Edge(inner, ready=ready, inputs=store)
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(edge), base_url="http://edge") as web:
            got = await web.get(f"/inputs/{token}")
            assert got.status_code == 200 and got.content == cat
            assert got.headers["content-type"] == "image/png" and got.headers["x-content-type-options"] == "nosniff"
            assert (await web.get("/inputs/")).status_code == 404  # no listing
            assert (await web.get(f"/inputs/{token[:-1]}A")).status_code == 404  # no neighbour
            assert (await web.get(f"/inputs/{token}/x")).status_code == 404
            assert (await web.post(f"/inputs/{token}")).status_code == 405
            now[0] += 2  # past its expiry
            assert (await web.get(f"/inputs/{token}")).status_code == 404
        assert stored(h.settings.inputs_dir) == []  # the expired copy is gone


def test_the_capability_url_lives_as_long_as_a_queued_job_needs_it(tmp_path: Path) -> None:
    store = InputStore(tmp_path / "inputs", now=lambda: 1000.0)
    token, expires = store.put(b"\x89PNG\r\n\x1a\n" + b"0" * 10, "image/png")
    assert expires == 1000.0 + INPUT_URL_TTL_S and INPUT_URL_TTL_S >= 3600
    assert store.get(token) is not None
    # only the token's hash names the files: reading the folder does not give the URL
    assert all(token not in name for name in stored(tmp_path / "inputs"))


async def test_legnext_without_a_way_to_publish_refuses_naming_both_settings(tmp_path: Path) -> None:
    roots = tmp_path / "pictures"
    png(roots / "cat.png")
    async with server_harness(tmp_path, input_roots=(roots,)) as h:
        calls: list[tuple[str, dict[str, Any]]] = [
            ("describe", {"image_url": str(roots / "cat.png")}),
            ("estimate_cost", {"tool": "describe", "arguments": {"image_url": str(roots / "cat.png")}})]
        for tool, args in calls:
            result = await h.call(tool, args)
            text = text_of(result)
            assert result.is_error and "LEGNEXT_PUBLIC_URL" in text and "LEGNEXT_UPLOAD_URL" in text, text
        assert h.sandbox.stats.count("POST") == 0


async def test_estimate_cost_checks_a_local_picture_without_storing_it(tmp_path: Path) -> None:
    roots = tmp_path / "pictures"
    png(roots / "cat.png")
    async with server_harness(tmp_path, public_url=PUBLIC, input_roots=(roots,)) as h:
        ok = await h.call("estimate_cost", {"tool": "retexture",
                                            "arguments": {"image_url": str(roots / "cat.png"), "remix_prompt": "gold"}})
        assert not ok.is_error and ok.structured_content["points"] == 120, text_of(ok)
        outside = str(tmp_path / "x.png")
        bad = await h.call("estimate_cost", {"tool": "retexture",
                                             "arguments": {"image_url": outside, "remix_prompt": "gold"}})
        assert bad.is_error and "LEGNEXT_INPUT_ROOTS" in text_of(bad)
        assert stored(h.settings.inputs_dir) == [] and h.sandbox.stats.count("POST") == 0


# --- refusals: nothing sent, nothing stored ---------------------------------------------------------------


def _outside(tmp: Path, roots: Path) -> str:
    png(tmp / "secret" / "id.png")
    return str(tmp / "secret" / "id.png")


def _symlink_out(tmp: Path, roots: Path) -> str:
    png(tmp / "secret" / "id.png")
    (roots / "innocent.png").symlink_to(tmp / "secret" / "id.png")
    return str(roots / "innocent.png")


def _dotdot(tmp: Path, roots: Path) -> str:
    png(tmp / "secret" / "id.png")
    return f"{roots}/../secret/id.png"


def _not_an_image(tmp: Path, roots: Path) -> str:
    (roots / "notes.png").write_text("ssh-rsa AAAA... not a picture")
    return str(roots / "notes.png")


def _oversized(tmp: Path, roots: Path) -> str:
    with (roots / "huge.png").open("wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.truncate(5_000)  # LEGNEXT_INPUT_MAX_BYTES is 4000 in these tests
    return str(roots / "huge.png")


def _directory(tmp: Path, roots: Path) -> str:
    (roots / "album.png").mkdir()
    return str(roots / "album.png")


def _missing(tmp: Path, roots: Path) -> str:
    return str(roots / "gone.png")


def _fifo(tmp: Path, roots: Path) -> str:
    os.mkfifo(roots / "pipe.png")  # a reader would block forever on a writer that never comes
    return str(roots / "pipe.png")


REFUSALS = [(_outside, "LEGNEXT_INPUT_ROOTS"), (_symlink_out, "LEGNEXT_INPUT_ROOTS"), (_dotdot, "LEGNEXT_INPUT_ROOTS"),
            (_not_an_image, "not a PNG, JPEG, WebP or GIF"), (_oversized, "LEGNEXT_INPUT_MAX_BYTES"),
            (_directory, "is a folder"), (_missing, "no such file"), (_fifo, "not a regular file")]


@pytest.mark.parametrize(("make", "said"), REFUSALS, ids=[m.__name__.strip("_") for m, _ in REFUSALS])
async def test_a_local_picture_that_breaks_a_rule_is_refused_with_nothing_sent_or_stored(
        tmp_path: Path, make: Any, said: str) -> None:
    roots = tmp_path / "pictures"
    roots.mkdir()
    ref = make(tmp_path, roots)
    async with server_harness(tmp_path, public_url=PUBLIC, input_roots=(roots,), input_max_bytes=4000) as h:
        for tool, args in [("describe", {"image_url": ref}),
                           ("blend", {"image_urls": [ref, "https://example.com/a.png"]}),
                           ("imagine", {"prompt": f"a cat --sref {ref}"})]:
            result = await h.call(tool, args)
            assert result.is_error and said in text_of(result), text_of(result)
        assert h.sandbox.stats.count("POST") == 0
        assert stored(h.settings.inputs_dir) == []
    async with relay_harness(tmp_path / "relay", input_roots=(roots,), input_max_bytes=4000) as relay:
        result = await relay.call("describe", {"image_url": ref})
        assert result.is_error and said in text_of(result), text_of(result)
        assert relay.app.stats.count("POST") == 0


async def test_by_default_only_the_output_folder_is_readable(tmp_path: Path) -> None:
    async with server_harness(tmp_path, public_url=PUBLIC) as h:
        earlier = png(h.settings.output_dir / "earlier.png")
        ok = await h.call("describe", {"image_url": str(h.settings.output_dir / "earlier.png")})
        assert not ok.is_error, text_of(ok)
        home = png(tmp_path / "home" / "photo.png")
        assert home == earlier
        refused = await h.call("describe", {"image_url": str(tmp_path / "home" / "photo.png")})
        assert refused.is_error and "LEGNEXT_INPUT_ROOTS (unset: only the output folder" in text_of(refused)
        assert len(posted(h.sandbox, "/v1/describe")) == 1


# --- a picture from the chat: upload_picture --------------------------------------------------------------


async def test_a_picture_handed_over_as_base64_can_be_described_on_both_apis(tmp_path: Path) -> None:
    picture = png(tmp_path / "src" / "drop.png", (1, 2, 3))
    sent = base64.b64encode(picture).decode()
    async with relay_harness(tmp_path / "r", input_max_bytes=4000) as relay:
        kept = await relay.ok("upload_picture", {"data_base64": f"data:image/png;base64,{sent}"})
        assert kept["content_type"] == "image/png" and kept["bytes"] == len(picture)
        assert kept["image_url"].startswith("file://") and relay.app.stats.count() == 0  # nothing left the machine
        await relay.ok("describe", {"image_url": kept["image_url"]})
        [body] = relay.posts("describe")
        assert base64.b64decode(body["base64"].split(",", 1)[1]) == picture
        for bad, said in [(base64.b64encode(b"MZ\x90\x00 an executable").decode(), "not a PNG"),
                          (base64.b64encode(picture + b"0" * 4000).decode(), "LEGNEXT_INPUT_MAX_BYTES"),
                          ("not base64 at all!", "not base64")]:
            refused = await relay.call("upload_picture", {"data_base64": bad})
            assert refused.is_error and said in text_of(refused), text_of(refused)
        assert len(stored(relay.settings.uploads_dir)) == 1
    async with server_harness(tmp_path / "l", public_url=PUBLIC) as h:
        kept = (await h.call("upload_picture", {"data_base64": sent})).structured_content
        result = await h.call("describe", {"image_url": kept["image_url"]})
        assert not result.is_error, text_of(result)
        [body] = posted(h.sandbox, "/v1/describe")
        token = body["imgUrl"].rsplit("/", 1)[1]
        assert InputStore(h.settings.inputs_dir).get(token) is not None
        assert InputStore(h.settings.inputs_dir).get(token).data == picture  # type: ignore[union-attr]
