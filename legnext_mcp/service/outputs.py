"""A job's files: fetched once into a disk cache, cut from the grid when an API returns only the grid,
saved into the output folder with a JSON sidecar, and shrunk into previews.

Every path is built from checked ids and verified to stay inside its folder; downloads go through the
dialect's credential-free, address-checked client; decoding images is bounded (a decompression bomb is
refused, not decoded).
"""

from __future__ import annotations

import io
import json
import re
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio

from legnext_mcp.core import media, policy
from legnext_mcp.core.errors import LegnextError, LocalValidationError, NetworkError, ServerError
from legnext_mcp.core.ids import check_job_id
from legnext_mcp.core.job import Job, JobStatus
from legnext_mcp.dialects.base import Dialect
from legnext_mcp.files import atomic_write, clean_stale_parts, inside, write_new
from legnext_mcp.http.download import UNREACHABLE

Index = int | str  # an output number, or "grid"
#: Which quadrant of a 2x2 grid is image n (Midjourney numbers U1..U4 this way).
QUADRANTS = ("top-left", "top-right", "bottom-left", "bottom-right")
_FOLDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,62}[A-Za-z0-9_-]|[A-Za-z0-9]")
#: Names Windows reserves for devices, whatever the extension.
_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"COM{n}" for n in range(1, 10)), *(f"LPT{n}" for n in range(1, 10))}


def output_urls(job: Job) -> list[str]:
    """Every output file a job lists: its videos, or its images (the grid excluded)."""
    return list(job.video_urls or job.image_urls)


def output_count(job: Job) -> int:
    """How many files saving the job writes (four quadrants when only the grid came back)."""
    return len(job.video_urls) if job.video_urls else job.image_count


def check_folder(folder: str | None, base: Path) -> Path:
    """The folder ``save_images`` writes to: ``base`` or a plain sub-folder name inside it.

    Raises:
        LocalValidationError: a path, a name with a trailing dot or space, a device name, or a file in the way.
    """
    if folder is None:
        target = base
    elif not _FOLDER.fullmatch(folder) or ".." in folder or folder.split(".")[0].upper() in _DEVICES:
        raise LocalValidationError(
            f"folder {folder[:70]!r} is not allowed: use a plain sub-folder name (letters, digits, space, '_', "
            "'-', '.'; not ending in a dot or space), not a path; files always go inside the output directory.")
    else:
        target = base / folder
    try:
        if target != base:
            if target.is_symlink() and not target.exists():
                raise LocalValidationError(f"{target} is a link to a folder that does not exist; remove it or pick "
                                           "another folder name.")
            if not target.resolve().is_relative_to(base.resolve()):
                raise LocalValidationError("folder must stay inside the output directory.")
        if target.exists() and not target.is_dir():
            raise LocalValidationError(f"{target} exists and is a file, not a folder; pick another folder name (or "
                                       "move the file).")
    except (OSError, RuntimeError) as exc:  # a link loop, a folder we may not look into
        raise unwritable(target, base, exc) from None
    return target


def unwritable(folder: Path, base: Path, exc: BaseException) -> LocalValidationError:
    """The one-line refusal for a folder files cannot be written to, naming it and the fix."""
    if isinstance(exc, OSError):
        reason = exc.strerror or type(exc).__name__
        where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(folder) else ""
    else:  # files.inside: a planted link would take a file out of the folder
        reason, where = "a link in it points outside the folder", ""
    return LocalValidationError(
        f"Could not save into {folder}: {reason}{where}. Nothing was written there; pick another folder name, or "
        f"set LEGNEXT_OUTPUT_DIR to a folder this user can write (now {base}).")


@dataclass(frozen=True)
class Saved:
    files: list[Path]
    sidecar: Path


class Outputs:
    """Files of one dialect's jobs: a cache under ``cache_dir``, saved copies under ``output_dir``."""

    def __init__(self, dialect: Dialect[Any], *, cache_dir: Path, output_dir: Path, download_max_bytes: int,
                 preview_max_bytes: int) -> None:
        self.dialect = dialect
        self.cache_dir = cache_dir
        self.output_dir = output_dir
        self.download_max_bytes = download_max_bytes
        self.preview_max_bytes = preview_max_bytes

    # --- one file ---------------------------------------------------------------------------------

    async def file(self, job: Job, index: Index, *,
                   refresh: Callable[[], Awaitable[Job]] | None = None) -> tuple[bytes, str]:
        """Bytes and content type of output ``index`` (or "grid"), from the cache or fetched once.

        ``refresh`` reads the job again when its stored URL no longer answers (signed URLs, a restarted
        sandbox on another port).

        Raises:
            LocalValidationError: the job has no such output.
            LegnextError: the download failed (NetworkError, ServerError...).
        """
        check_job_id(job.job_id)
        cached = await anyio.to_thread.run_sync(self._cached, job.job_id, index)
        if cached is not None:
            return cached
        if index != "grid" and job.grid_only and not job.video_urls:
            return await self._quadrant(job, int(index), refresh)
        try:
            data, kind = await self._download(self._url(job, index), job)
        except NetworkError as exc:
            if refresh is None or exc.detail != UNREACHABLE:
                raise
            job = await refresh()
            data, kind = await self._download(self._url(job, index), job)
        await anyio.to_thread.run_sync(self._store, job.job_id, index, data, kind)
        return data, kind

    def _url(self, job: Job, index: Index) -> str:
        if index == "grid":
            url = job.grid_url
        else:
            urls = output_urls(job)
            url = urls[index] if isinstance(index, int) and 0 <= index < len(urls) else None
        if not url:
            raise LocalValidationError(f"Job {job.job_id} has no output {index}; it has {output_count(job)} file(s)"
                                       f"{' and a grid' if job.grid_url else ''}.")
        return url

    async def _download(self, url: str, job: Job) -> tuple[bytes, str]:
        download = await self.dialect.download(url, max_bytes=self.download_max_bytes)
        kind = download.content_type
        if media.extension_for(kind) is None:
            kind = media.sniff(download.content) or ""
        if media.extension_for(kind) is None:
            raise ServerError(f"An output file of job {job.job_id} is not an image or video we can keep "
                              f"({download.content_type or 'no content type'}).")
        return download.content, kind

    async def _quadrant(self, job: Job, index: int, refresh: Callable[[], Awaitable[Job]] | None) -> tuple[bytes, str]:
        if not 0 <= index < 4:
            raise LocalValidationError(f"Job {job.job_id} has 4 images cut from its grid; image_no must be 0-3.")
        grid, _ = await self.file(job, "grid", refresh=refresh)
        data = await anyio.to_thread.run_sync(cut_quadrant, grid, index)
        await anyio.to_thread.run_sync(self._store, job.job_id, index, data, "image/png")
        return data, "image/png"

    def _cached(self, job_id: str, index: Index) -> tuple[bytes, str] | None:
        for kind, ext in media.EXTENSIONS.items():
            path = inside(self.cache_dir, f"{job_id}_{index}.{ext}")
            if path.is_file():
                return path.read_bytes(), kind
        return None

    def _store(self, job_id: str, index: Index, data: bytes, kind: str) -> None:
        ext = media.extension_for(kind)
        assert ext is not None
        atomic_write(inside(self.cache_dir, f"{job_id}_{index}.{ext}"), data)

    # --- saving -----------------------------------------------------------------------------------

    async def save(self, job: Job, folder: Path, *, prompt: str | None, parent_job_id: str | None,
                   refresh: Callable[[], Awaitable[Job]] | None = None) -> Saved:
        """Every output of a completed job into ``folder`` as ``<job_id>_<n>.<ext>``, and a ``<job_id>.json``
        sidecar. Saving again reuses identical files; a different file under a name is never overwritten
        (the new one becomes ``<job_id>_<n>-2.<ext>``).

        Raises:
            LocalValidationError: the job is not completed, or has no files.
            LegnextError: a download failed (nothing is left under any name for that file).
        """
        check_job_id(job.job_id)
        if job.status is not JobStatus.COMPLETED:
            raise LocalValidationError(f"Job {job.job_id} is {job.status.value}; only completed jobs have files. Wait "
                                       "for it first.")
        count = output_count(job)
        if count == 0:
            raise LocalValidationError(f"Job {job.job_id} ({job.task_type}) has no image or video files to save.")
        try:
            await anyio.to_thread.run_sync(clean_stale_parts, folder)
        except OSError as exc:
            raise unwritable(folder, self.output_dir, exc) from None
        saved: list[Path] = []
        for index in range(count):
            data, kind = await self.file(job, index, refresh=refresh)
            try:
                target = inside(folder, f"{job.job_id}_{index}.{media.extension_for(kind)}")
                saved.append(await anyio.to_thread.run_sync(write_new, target, data))
            except (OSError, ValueError) as exc:
                raise unwritable(folder, self.output_dir, exc) from None
        sidecar: dict[str, Any] = {
            "job_id": job.job_id, "api": self.dialect.name, "task_type": job.task_type, "prompt": prompt or job.prompt,
            "seed": job.seed, "parent_job_id": parent_job_id, "urls": output_urls(job), "grid_url": job.grid_url,
            "files": [str(p) for p in saved],
            "created_at": job.created_at.astimezone(UTC).isoformat() if job.created_at else None,
            "saved_at": datetime.now(UTC).isoformat(),
        }
        if job.grid_only and not job.video_urls:
            sidecar["cut_from_grid"] = {str(n): QUADRANTS[n] for n in range(count)}
        try:
            path = inside(folder, f"{job.job_id}.json")
            await anyio.to_thread.run_sync(atomic_write, path, json.dumps(sidecar, indent=2).encode())
        except (OSError, ValueError) as exc:
            raise unwritable(folder, self.output_dir, exc) from None
        return Saved(files=saved, sidecar=path)

    # --- previews ---------------------------------------------------------------------------------

    async def preview(self, job: Job) -> bytes | None:
        """A JPEG of the grid (or first image) shrunk under the preview byte budget, or None if impossible."""
        index: Index = "grid" if job.grid_url else 0
        try:
            data, _ = await self.file(job, index)
        except LegnextError:
            return None
        return await anyio.to_thread.run_sync(shrink, data, self.preview_max_bytes)


def _open_image(data: bytes) -> Any:
    """A decoded picture, refusing anything above ``MAX_IMAGE_PIXELS`` (a decompression bomb)."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = policy.MAX_IMAGE_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as source:
                source.load()
                return source.convert("RGB")
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ServerError(f"An output image is larger than {policy.MAX_IMAGE_PIXELS} pixels; it was not "
                              "decoded (it could exhaust memory).") from None


def cut_quadrant(grid: bytes, index: int) -> bytes:
    """Image ``index`` (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right) of a 2x2 grid, as PNG.

    Raises:
        ServerError: the grid is not an image, or too large to decode.
    """
    from PIL import UnidentifiedImageError

    try:
        picture = _open_image(grid)
    except (UnidentifiedImageError, OSError):
        raise ServerError("The grid image could not be read, so its four images cannot be cut from it.") from None
    width, height = picture.size
    half_w, half_h = width // 2, height // 2
    left, top = (index % 2) * half_w, (index // 2) * half_h
    out = io.BytesIO()
    picture.crop((left, top, left + half_w, top + half_h)).save(out, format="PNG")
    return out.getvalue()


_SIDES = (768, 512, 384, 256, 160)
_QUALITIES = (80, 65, 50)


def shrink(data: bytes, max_bytes: int) -> bytes | None:
    """A JPEG no larger than ``max_bytes``, as large as fits; None if the bytes are not an image we decode."""
    from PIL import UnidentifiedImageError

    try:
        picture = _open_image(data)
    except (UnidentifiedImageError, OSError, ServerError):
        return None
    for side in _SIDES:
        copy = picture.copy()
        copy.thumbnail((side, side))
        for quality in _QUALITIES:
            out = io.BytesIO()
            copy.save(out, format="JPEG", quality=quality, optimize=True)
            if out.tell() <= max_bytes:
                return out.getvalue()
    return None
