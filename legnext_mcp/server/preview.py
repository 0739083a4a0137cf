"""Inline previews: shrink an image under a byte budget with Pillow (imported only when a preview is asked)."""

from __future__ import annotations

import io

_SIDES = (768, 512, 384, 256, 160)
_QUALITIES = (80, 65, 50)


def shrink(data: bytes, max_bytes: int) -> bytes | None:
    """A JPEG no larger than ``max_bytes``, as large as fits; None if the bytes are not an image."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as source:
            picture = source.convert("RGB")
    except (UnidentifiedImageError, OSError):
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
