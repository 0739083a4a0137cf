"""Output file types: one table from content type to file extension, used by the cache, the saved files
and the download checks, plus a look at the bytes themselves."""

from __future__ import annotations

#: Content type -> extension of every output kind the APIs serve.
EXTENSIONS: dict[str, str] = {
    "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif", "image/tiff": "tiff",
    "video/mp4": "mp4", "video/webm": "webm", "video/quicktime": "mov",
}

_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"), (b"\xff\xd8\xff", 0, "image/jpeg"), (b"GIF8", 0, "image/gif"),
    (b"II*\x00", 0, "image/tiff"), (b"MM\x00*", 0, "image/tiff"), (b"ftyp", 4, "video/mp4"),
    (b"\x1aE\xdf\xa3", 0, "video/webm"),
)


def sniff(data: bytes) -> str | None:
    """The content type the bytes themselves show (magic numbers), or None when unknown."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    for magic, offset, kind in _MAGIC:
        if data[offset:offset + len(magic)] == magic:
            if kind == "video/mp4" and data[8:10] == b"qt":
                return "video/quicktime"
            return kind
    return None


def extension_for(content_type: str) -> str | None:
    """The file extension for a content type we save, or None for anything else."""
    return EXTENSIONS.get(content_type.split(";")[0].strip().lower())
