"""Draws the bundle's icon (``icon.png``, 512 px) and the 64 px icons the server and each tool group show
(``icons/*.png``; ``build_manifest`` embeds them in manifest.json as ``data:`` URIs, so nothing is fetched).

Run from the repository root after changing a drawing: ``python mcpb/draw_icons.py``, then rebuild the manifest.
Drawn at 4x and shrunk, so the edges are smooth; plain shapes, no fonts, so every machine draws the same.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
SCALE = 4
#: Background colour of each icon (the server's is the brand violet).
COLOURS = {"server": (91, 61, 245), "core": (91, 61, 245), "edit": (14, 138, 125), "video": (222, 94, 36),
           "account": (32, 128, 56)}
WHITE = (255, 255, 255, 255)


def picture(draw: ImageDraw.ImageDraw, s: float) -> None:
    """A framed picture: a sun over two mountains (what the server makes)."""
    draw.rounded_rectangle((0.2 * s, 0.24 * s, 0.8 * s, 0.76 * s), radius=0.05 * s, outline=WHITE, width=int(0.05 * s))
    draw.ellipse((0.56 * s, 0.32 * s, 0.68 * s, 0.44 * s), fill=WHITE)
    draw.polygon([(0.25 * s, 0.71 * s), (0.42 * s, 0.45 * s), (0.55 * s, 0.64 * s), (0.62 * s, 0.55 * s),
                  (0.75 * s, 0.71 * s)], fill=WHITE)


def brush(draw: ImageDraw.ImageDraw, s: float) -> None:
    """A pencil on a diagonal (edits)."""
    draw.line((0.32 * s, 0.68 * s, 0.7 * s, 0.3 * s), fill=WHITE, width=int(0.13 * s))
    draw.polygon([(0.22 * s, 0.78 * s), (0.25 * s, 0.63 * s), (0.37 * s, 0.75 * s)], fill=WHITE)


def play(draw: ImageDraw.ImageDraw, s: float) -> None:
    """A play button (video)."""
    draw.polygon([(0.36 * s, 0.26 * s), (0.36 * s, 0.74 * s), (0.76 * s, 0.5 * s)], fill=WHITE)


def coin(draw: ImageDraw.ImageDraw, s: float) -> None:
    """A coin with a bar (the account and its jobs)."""
    draw.ellipse((0.24 * s, 0.24 * s, 0.76 * s, 0.76 * s), outline=WHITE, width=int(0.06 * s))
    draw.rectangle((0.46 * s, 0.36 * s, 0.54 * s, 0.64 * s), fill=WHITE)


GLYPHS: dict[str, Callable[[ImageDraw.ImageDraw, float], None]] = {
    "server": picture, "core": picture, "edit": brush, "video": play, "account": coin}


def icon(name: str, size: int) -> Image.Image:
    big = size * SCALE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=int(0.22 * big), fill=(*COLOURS[name], 255))
    GLYPHS[name](draw, big)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    icon("server", 512).save(HERE / "icon.png", optimize=True)
    for name in COLOURS:
        icon(name, 64).save(HERE / "icons" / f"{name}.png", optimize=True)


if __name__ == "__main__":
    main()
