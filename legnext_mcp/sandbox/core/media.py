"""Real files for simulated outputs: drawn PNGs (Pillow, imported lazily) and a small valid MP4.

Every picture is a function of (job id, index, prompt), so a URL always serves the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import math
import struct
import textwrap
from functools import lru_cache

_EDGE = 256  # long edge of one simulated image; the grid is 2x2 of them


def _palette(seed_text: str) -> list[tuple[int, int, int]]:
    digest = hashlib.sha256(seed_text.encode()).digest()
    return [(digest[i], digest[i + 1], digest[i + 2]) for i in range(0, 24, 3)]


def _size(aspect: tuple[int, int]) -> tuple[int, int]:
    """The picture size for an aspect ratio: exactly that ratio, long edge at most ``_EDGE``."""
    w, h = aspect
    w, h = w // math.gcd(w, h), h // math.gcd(w, h)
    factor = _EDGE // max(w, h)
    if factor >= 1 and min(w, h) * factor >= 16:
        return w * factor, h * factor
    ratio = max(min(w / h, 4.0), 0.25)
    return (_EDGE, max(int(_EDGE / ratio), 16)) if ratio >= 1 else (max(int(_EDGE * ratio), 16), _EDGE)


def _draw(job_id: str, index: int, prompt: str, size: tuple[int, int]):  # type: ignore[no-untyped-def]
    from PIL import Image, ImageDraw

    colors = _palette(f"{prompt}|{job_id}|{index}")
    width, height = size
    image = Image.new("RGB", size, colors[0])
    draw = ImageDraw.Draw(image)
    for y in range(0, height, 4):  # vertical gradient between two colours
        t = y / max(height - 1, 1)
        c0, c1 = colors[0], colors[1]
        draw.rectangle([0, y, width, y + 4], fill=tuple(int(a + (b - a) * t) for a, b in zip(c0, c1, strict=True)))
    for k in range(2, 7):  # a few shapes so every image is distinct and clearly not blank
        box = colors[k]
        x0, y0 = box[0] * width // 255, box[1] * height // 255
        r = 10 + box[2] % (min(width, height) // 3)
        shape = draw.ellipse if k % 2 else draw.rectangle
        shape([x0 - r, y0 - r, x0 + r, y0 + r], fill=colors[(k + 3) % 8], outline=(255, 255, 255))
    # Numbered as the tools number images (image_no 0-3); the prompt wrapped to the picture's width.
    draw.text((8, 8), f"image {index}", fill=(255, 255, 255))
    lines = textwrap.wrap(prompt, width=max(8, (width - 16) // 7))[:4]
    for n, line in enumerate(lines):
        draw.text((8, height - 14 * (len(lines) - n) - 4), line, fill=(255, 255, 255))
    return image


def _png(image) -> bytes:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


@lru_cache(maxsize=256)
def image_png(job_id: str, index: int, prompt: str, aspect: tuple[int, int] = (1, 1), enlarge: int = 1) -> bytes:
    """One simulated output image as PNG bytes; ``enlarge`` 2 for an upscale (larger than a grid image)."""
    width, height = _size(aspect)
    return _png(_draw(job_id, index, prompt, (width * enlarge, height * enlarge)))


@lru_cache(maxsize=64)
def grid_png(job_id: str, prompt: str, aspect: tuple[int, int] = (1, 1)) -> bytes:
    """The 2x2 grid of a job's four images as PNG bytes."""
    from PIL import Image

    width, height = _size(aspect)
    grid = Image.new("RGB", (width * 2, height * 2))
    for index in range(4):
        grid.paste(_draw(job_id, index, prompt, (width, height)), ((index % 2) * width, (index // 2) * height))
    return _png(grid)


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _full_box(kind: bytes, version: int, flags: int, payload: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags) + payload)


@lru_cache(maxsize=32)
def video_mp4(job_id: str, index: int, prompt: str, frames: int = 8) -> bytes:
    """A small, structurally valid MP4 (ISO BMFF, Motion-JPEG track at 8 fps) of drawn frames."""
    from PIL import Image

    width, height = 160, 96
    samples = []
    for frame in range(frames):
        picture = _draw(job_id, index, prompt, (width, height)).rotate(frame * 360 / frames)
        out = io.BytesIO()
        picture.convert("RGB").save(out, format="JPEG", quality=70)
        samples.append(out.getvalue())
    del Image
    timescale, delta = 8000, 1000
    duration = frames * delta
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2mp41")
    mdat_payload = b"".join(samples)
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = _full_box(b"mvhd", 0, 0, struct.pack(">IIII", 0, 0, timescale, duration) + struct.pack(">IH", 0x10000, 0x100)
                     + b"\0" * 10 + matrix + b"\0" * 24 + struct.pack(">I", 2))
    tkhd = _full_box(b"tkhd", 0, 3, struct.pack(">IIIII", 0, 0, 1, 0, duration) + b"\0" * 8
                     + struct.pack(">hhhH", 0, 0, 0, 0) + matrix + struct.pack(">II", width << 16, height << 16))
    mdhd = _full_box(b"mdhd", 0, 0, struct.pack(">IIII", 0, 0, timescale, duration) + struct.pack(">HH", 0x55C4, 0))
    hdlr = _full_box(b"hdlr", 0, 0, struct.pack(">I", 0) + b"vide" + b"\0" * 12 + b"VideoHandler\0")
    vmhd = _full_box(b"vmhd", 0, 1, b"\0" * 8)
    dref = _full_box(b"dref", 0, 0, struct.pack(">I", 1) + _full_box(b"url ", 0, 1, b""))
    dinf = _box(b"dinf", dref)
    entry = (b"\0" * 6 + struct.pack(">H", 1) + b"\0" * 16 + struct.pack(">HH", width, height)
             + struct.pack(">II", 0x480000, 0x480000) + struct.pack(">IH", 0, 1) + b"\x0cMotion JPEG" + b"\0" * 20
             + struct.pack(">Hh", 24, -1))
    stsd = _full_box(b"stsd", 0, 0, struct.pack(">I", 1) + _box(b"jpeg", entry))
    stts = _full_box(b"stts", 0, 0, struct.pack(">III", 1, frames, delta))
    stsc = _full_box(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, frames, 1))
    sizes = b"".join(struct.pack(">I", len(s)) for s in samples)
    stsz = _full_box(b"stsz", 0, 0, struct.pack(">II", 0, frames) + sizes)
    # The one chunk starts right after the mdat header, which follows ftyp and moov; moov's size does not
    # depend on the offset value, so build it once with a placeholder and then with the real offset.
    def moov(offset: int) -> bytes:
        stco = _full_box(b"stco", 0, 0, struct.pack(">II", 1, offset))
        stbl = _box(b"stbl", stsd + stts + stsc + stsz + stco)
        minf = _box(b"minf", vmhd + dinf + stbl)
        mdia = _box(b"mdia", mdhd + hdlr + minf)
        return _box(b"moov", mvhd + _box(b"trak", tkhd + mdia))

    offset = len(ftyp) + len(moov(0)) + 8
    return ftyp + moov(offset) + _box(b"mdat", mdat_payload)
