"""Local pictures as inputs: which files may be read, and how their bytes reach the API.

A model steered by hostile text must not be able to publish an arbitrary file, so a local reference is read only
when its real path (symlinks resolved) lies under LEGNEXT_INPUT_ROOTS (by default only the output folder), it is a
regular file of at most LEGNEXT_INPUT_MAX_BYTES, and its bytes are a PNG, JPEG, WebP or GIF. The file is read
once, when the job is quoted; the bytes checked are the bytes sent.

How they reach the API:
* a relay takes pictures inline: ``data:`` URLs (``base64Array``, ``base64``, ``image``, ``maskBase64``);
* Legnext takes only URLs it can fetch: on the HTTP transport with LEGNEXT_PUBLIC_URL, a capability URL this server
  answers until it expires (``inputs_store``); with LEGNEXT_UPLOAD_URL, a presigned GET URL of an S3 object
  (``service.upload``); with neither, a refusal naming both, nothing sent.

Quoting (``estimate_cost`` too) checks all of this and stores or uploads nothing: the request is built with
stand-in URLs of the same shape; ``deliver`` makes the real ones only when the job is about to be sent.
"""

from __future__ import annotations

import base64
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from legnext_mcp.core.errors import LocalValidationError
from legnext_mcp.core.inputs import prompt_local_refs, replace_refs
from legnext_mcp.core.localref import is_local_ref, local_path
from legnext_mcp.core.media import sniff
from legnext_mcp.core.operations import Imagine, Mask, Operation
from legnext_mcp.core.text import cut
from legnext_mcp.files import atomic_write
from legnext_mcp.inputs_store import SERVED_TYPES, InputStore
from legnext_mcp.settings import Settings

ROOTS = "LEGNEXT_INPUT_ROOTS"
#: What a stand-in URL looks like while a job is only quoted (never sent: ``deliver`` replaces it).
STAND_IN = "https://local-input.invalid/"
_NO_WAY = ("{ref}: the Legnext API fetches pictures by URL, and this server has no way to give a local picture one. "
           "Either serve MCP over HTTP with LEGNEXT_PUBLIC_URL set (the picture is then served at a private, expiring "
           "URL), or set LEGNEXT_UPLOAD_URL=s3://bucket/prefix (it is uploaded there and shared by a short-lived "
           "presigned URL); or pass a public https URL instead. Nothing was sent.")


@dataclass(frozen=True)
class LocalImage:
    """A local picture that passed every check: the reference as written, its real path, its bytes and type."""

    ref: str
    path: Path
    data: bytes
    content_type: str

    def data_url(self) -> str:
        return f"data:{self.content_type};base64,{base64.b64encode(self.data).decode()}"


def refs_of(op: Operation) -> list[tuple[str, str]]:
    """Every local reference an operation carries, as (where, reference), in order, without repeats."""
    found: list[tuple[str, str]] = []
    for field, value in _url_fields(op):
        if is_local_ref(value):
            found.append((field, value))
    if op.text:
        found += prompt_local_refs(op.text)
    unique: dict[str, str] = {}
    for where, ref in found:
        unique.setdefault(ref, where)
    return [(where, ref) for ref, where in unique.items()]


def _url_fields(op: Operation) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    for name in ("image_url",):
        value = getattr(op, name, None)
        if isinstance(value, str):
            fields.append((name, value))
    urls = getattr(op, "image_urls", None)
    if isinstance(urls, list):
        fields += [("image_urls", u) for u in urls if isinstance(u, str)]
    mask = getattr(op, "mask", None)
    if isinstance(mask, Mask) and mask.url:
        fields.append(("mask.url", mask.url))
    return fields


def read_checked(settings: Settings, ref: str) -> LocalImage:
    """Read a local picture, if every rule allows it.

    Raises:
        LocalValidationError: naming the rule and the setting that governs it; nothing was read past the checks.
    """
    try:
        written = Path(local_path(ref))
    except ValueError as exc:
        raise LocalValidationError(f"{cut(ref, 120)}: {exc}.") from None
    shown = cut(ref, 160)
    roots = settings.allowed_input_roots
    where = f"{ROOTS} ({os.pathsep.join(str(r) for r in roots)})" if settings.input_roots else \
        f"{ROOTS} (unset: only the output folder {roots[0]})"
    if not written.is_absolute():
        raise LocalValidationError(f"{shown}: a local picture must be an absolute path or file:// URL.")
    try:
        real = written.resolve()  # symlinks followed; checked against the roots before anything else is asked
    except (OSError, RuntimeError):
        raise LocalValidationError(f"{shown} cannot be used: its path cannot be resolved.") from None
    if not any(real == root or real.is_relative_to(root) for root in roots):
        # Said the same way whether or not the file exists: no oracle for files outside the roots.
        raise LocalValidationError(f"{shown} is not under a folder allowed by {where}; a local picture must lie "
                                   f"(after following links) inside one. Add its folder to {ROOTS} to allow it. "
                                   "Nothing was sent.")
    cap = settings.input_max_bytes
    try:
        fd = os.open(real, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise LocalValidationError(f"{shown}: no such file. Nothing was sent.") from None
    except OSError as exc:
        raise LocalValidationError(f"{shown} cannot be read ({exc.strerror or type(exc).__name__}). Nothing was "
                                   "sent.") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise LocalValidationError(f"{shown} is {kind}; give the path of a picture file. Nothing was sent.")
        if info.st_size > cap:
            raise LocalValidationError(f"{shown} is {info.st_size} bytes, above LEGNEXT_INPUT_MAX_BYTES={cap}; use a "
                                       "smaller picture. Nothing was sent.")
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(cap + 1)
    finally:
        os.close(fd)
    if len(data) > cap:  # grew while being read
        raise LocalValidationError(f"{shown} is larger than LEGNEXT_INPUT_MAX_BYTES={cap}. Nothing was sent.")
    kind = sniff(data) or ""
    if kind not in SERVED_TYPES:
        raise LocalValidationError(f"{shown} is not a PNG, JPEG, WebP or GIF picture (judged by its content, not its "
                                   "name). Nothing was sent.")
    return LocalImage(ref=ref, path=real, data=data, content_type=kind)


def legnext_way(settings: Settings) -> str | None:
    """How local pictures reach Legnext here: ``capability``, ``s3``, or None (no way)."""
    if settings.public_url is not None:
        return "capability"
    if settings.upload_url is not None:
        return "s3"
    return None


async def check(settings: Settings, op: Operation, *, inline: bool) -> tuple[LocalImage, ...]:
    """Every local picture of ``op``, read and checked, and whether the API can be given it.

    Raises:
        LocalValidationError: the first reference that may not be used (nothing was sent or stored).
    """
    refs = refs_of(op)
    if not refs:
        return ()
    for where, ref in refs:
        if inline and where.startswith("--"):
            raise LocalValidationError(f"{cut(ref, 120)} in {where}: a relay takes local pictures only inline, as "
                                       "image prompts at the start of an imagine prompt, as blend images, or as the "
                                       f"image of describe, retexture and video; {where} needs an http(s) URL. "
                                       "Nothing was sent.")
        if inline and where == "image prompt" and not isinstance(op, Imagine):
            raise LocalValidationError(f"{cut(ref, 120)}: on a relay, local image prompts work in imagine only. "
                                       "Nothing was sent.")
    if not inline and legnext_way(settings) is None:
        raise LocalValidationError(_NO_WAY.format(ref=cut(refs[0][1], 120)))
    return tuple([await anyio.to_thread.run_sync(read_checked, settings, ref) for _, ref in refs])


def stand_ins(images: tuple[LocalImage, ...], *, inline: bool) -> dict[str, str]:
    """What quoting builds the request with in place of each picture: a URL of the same shape as the real one."""
    if inline:
        return {image.ref: f"data:{image.content_type};base64," for image in images}
    return {image.ref: f"{STAND_IN}{n}" for n, image in enumerate(images)}


async def deliver(settings: Settings, images: tuple[LocalImage, ...], *, inline: bool,
                  uploader: Any = None) -> dict[str, str]:
    """The URL each picture is sent as: a ``data:`` URL (relay), a capability URL, or a presigned S3 URL.

    Raises:
        LocalValidationError: the picture could not be stored or uploaded (nothing was sent to the API).
    """
    if inline:
        return {image.ref: image.data_url() for image in images}
    way = legnext_way(settings)
    found: dict[str, str] = {}
    if way == "capability":
        assert settings.public_url is not None
        store = InputStore(settings.inputs_dir)
        for image in images:
            try:
                token, _ = await anyio.to_thread.run_sync(store.put, image.data, image.content_type)
            except OSError as exc:
                raise LocalValidationError(f"could not keep {cut(image.ref, 120)} for the API to fetch "
                                           f"({exc.strerror or type(exc).__name__}); nothing was sent.") from None
            found[image.ref] = f"{settings.public_url}/inputs/{token}"
        return found
    if way == "s3" and uploader is not None:
        for image in images:
            found[image.ref] = await uploader(image)
        return found
    raise LocalValidationError(_NO_WAY.format(ref=cut(images[0].ref, 120)))


def substitute(op: Operation, mapping: dict[str, str]) -> Operation:
    """``op`` with each local reference replaced by its URL (a copy; the original stays what the caller wrote)."""
    if not mapping:
        return op
    update: dict[str, Any] = {}
    value = getattr(op, "image_url", None)
    if isinstance(value, str) and value in mapping:
        update["image_url"] = mapping[value]
    urls = getattr(op, "image_urls", None)
    if isinstance(urls, list):
        update["image_urls"] = [mapping.get(u, u) for u in urls]
    mask = getattr(op, "mask", None)
    if isinstance(mask, Mask) and mask.url in mapping:
        update["mask"] = mask.model_copy(update={"url": mapping[mask.url]})
    prompt = getattr(op, "prompt", None)
    if isinstance(prompt, str):
        update["prompt"] = replace_refs(prompt, mapping)
    return op.model_copy(update=update)


def recorded(body: Any, mapping: dict[str, str]) -> Any:
    """A request as the ledger keeps it: each delivered URL (a capability, a presigned URL) or stand-in written
    back as the local reference it stands for, so no capability and no signature is stored."""
    if not mapping:
        return body
    if isinstance(body, dict):
        return {k: recorded(v, mapping) for k, v in body.items()}
    if isinstance(body, list):
        return [recorded(v, mapping) for v in body]
    if isinstance(body, str):
        for ref, url in mapping.items():
            if url and not url.startswith("data:") and url in body:
                body = body.replace(url, ref)
        return body
    return body


#: How long a picture handed over by a client (``upload_picture``) is kept.
UPLOAD_TTL_S = 24 * 3600.0


@dataclass(frozen=True)
class Uploaded:
    path: Path
    content_type: str
    size: int
    expires: float


def keep_upload(settings: Settings, data: bytes, *, now: float) -> Uploaded:
    """Keep a picture a client sent (bytes) under the data folder, for UPLOAD_TTL_S, at an unguessable name; older
    ones are removed first.

    Raises:
        LocalValidationError: too large, or not a PNG, JPEG, WebP or GIF by content.
        OSError: the data folder cannot be written.
    """
    cap = settings.input_max_bytes
    if len(data) > cap:
        raise LocalValidationError(f"data_base64: the picture is {len(data)} bytes, above "
                                   f"LEGNEXT_INPUT_MAX_BYTES={cap}; send a smaller one. Nothing was kept.")
    kind = sniff(data) or ""
    if kind not in SERVED_TYPES:
        raise LocalValidationError("data_base64 is not a PNG, JPEG, WebP or GIF picture (judged by its content). "
                                   "Nothing was kept.")
    folder = settings.uploads_dir
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for old in folder.iterdir():
        try:
            if old.is_file() and old.stat().st_mtime + UPLOAD_TTL_S <= now:
                old.unlink()
        except OSError:
            continue
    name = f"{secrets.token_urlsafe(18)}.{kind.split('/')[1]}"
    path = folder / name
    atomic_write(path, data)
    os.utime(path, (now, now))
    return Uploaded(path=path.resolve(), content_type=kind, size=len(data), expires=now + UPLOAD_TTL_S)
