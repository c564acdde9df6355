"""Images in the terminal: half-blocks everywhere, kitty / sixel where the terminal can.

Half-block rendering (rich-pixels) puts two pixel rows in one character cell, so an
image shown in ``cols x rows`` cells is resized to ``cols x 2*rows`` pixels, keeping
its aspect ratio (cells are about twice as tall as wide, which half-blocks cancel out).
This module knows Rich but not Textual; ``chatimg.ui`` builds widgets on top of it
and decides which terminal graphics protocol to use.
"""

from __future__ import annotations

from PIL import Image
from rich_pixels import Pixels


def fit_cells(image_size: tuple[int, int], cols: int, rows: int) -> tuple[int, int]:
    """The largest (cols, rows) box of half-block cells that shows the image undistorted."""
    width, height = image_size
    cols, rows = max(1, cols), max(1, rows)
    scale = min(cols / width, (2 * rows) / height)
    return max(1, round(width * scale)), max(1, round(height * scale / 2))


def halfblock(image: Image.Image, cols: int, rows: int) -> Pixels:
    """A Rich renderable of ``image`` in at most ``cols x rows`` cells."""
    fit_w, fit_h = fit_cells(image.size, cols, rows)
    target = (fit_w, fit_h * 2)
    # Upscaling a small painting stays crisp with NEAREST; shrinking needs a real filter.
    resample = Image.Resampling.NEAREST if target[0] >= image.width else Image.Resampling.LANCZOS
    return Pixels.from_image(image.convert("RGB").resize(target, resample))
