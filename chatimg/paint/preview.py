"""Images in the terminal: half-blocks everywhere, kitty / sixel where the terminal can.

Half-block rendering puts two pixel rows in one character cell, so an
image shown in ``cols x rows`` cells is resized to ``cols x 2*rows`` pixels, keeping
its aspect ratio (cells are about twice as tall as wide, which half-blocks cancel out).
This module knows Rich but not Textual; ``chatimg.ui`` builds widgets on top of it
and decides which terminal graphics protocol to use.

A picture is redrawn for every live preview, so drawing must be cheap: cells of one colour
pair in a row become one segment, and styles are cached (rich-pixels parsed a style string
per cell: about 60 ms for a 72x35 preview on a busy CPU, in the UI thread).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image
from rich.color import Color
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style

UPPER_HALF = "▀"


@lru_cache(maxsize=8192)
def _cell_style(top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Style:
    return Style(color=Color.from_rgb(*top), bgcolor=Color.from_rgb(*bottom))


class HalfblockPicture:
    """A Rich renderable: an RGB image, two pixel rows per line, drawn at its own size."""

    def __init__(self, image: Image.Image) -> None:
        pixels = np.asarray(image.convert("RGB"))
        if pixels.shape[0] % 2:  # an odd last row gets a black lower half
            pixels = np.concatenate([pixels, np.zeros_like(pixels[:1])])
        self.pixels = pixels

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for top, bottom in zip(self.pixels[0::2], self.pixels[1::2]):
            cells = np.concatenate([top, bottom], axis=1).tolist()  # per cell: top rgb, bottom rgb
            start = 0
            for x in range(1, len(cells) + 1):
                if x == len(cells) or cells[x] != cells[start]:
                    c = cells[start]
                    yield Segment(UPPER_HALF * (x - start), _cell_style((c[0], c[1], c[2]), (c[3], c[4], c[5])))
                    start = x
            yield Segment.line()


def fit_cells(image_size: tuple[int, int], cols: int, rows: int) -> tuple[int, int]:
    """The largest (cols, rows) box of half-block cells that shows the image undistorted."""
    width, height = image_size
    cols, rows = max(1, cols), max(1, rows)
    scale = min(cols / width, (2 * rows) / height)
    return max(1, round(width * scale)), max(1, round(height * scale / 2))


def halfblock(image: Image.Image, cols: int, rows: int) -> HalfblockPicture:
    """A Rich renderable of ``image`` in at most ``cols x rows`` cells."""
    fit_w, fit_h = fit_cells(image.size, cols, rows)
    target = (fit_w, fit_h * 2)
    # Upscaling a small painting stays crisp with NEAREST; shrinking needs a real filter.
    resample = Image.Resampling.NEAREST if target[0] >= image.width else Image.Resampling.LANCZOS
    return HalfblockPicture(image.convert("RGB").resize(target, resample))
