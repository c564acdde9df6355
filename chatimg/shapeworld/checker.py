"""Read an image back into shape-world attributes with plain image processing (no learned model).

Background = the colour of the border; shapes = connected regions that differ from it. Each
region's colour is its median colour, its position the anchor nearest its bounding-box centre,
its size from its extent and its kind from how much of its bounding box it fills (square ~1,
circle ~pi/4, triangle ~1/2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from chatimg.paint.masks import nearest_anchor
from chatimg.shapeworld.scene import Scene, Shape
from chatimg.shapeworld.vocab import COLOURS

_NAMES = list(COLOURS)
_PALETTE = np.array([COLOURS[n] for n in _NAMES], dtype=np.float32)

#: A pixel this far (RGB distance) from the background colour belongs to a shape.
FOREGROUND_DISTANCE = 45.0
#: Regions smaller than this share of the image are noise, not shapes.
MIN_AREA_SHARE = 30 / 4096
#: Extent (longest bounding-box side, share of the image side) between small and big.
SIZE_THRESHOLD = 0.25


@dataclass
class Reading:
    """What the checker saw; unlike a ``Scene`` it may break the grammar (e.g. 3 shapes)."""

    background: str
    shapes: list[Shape] = field(default_factory=list)

    def to_scene(self) -> Scene | None:
        try:
            return Scene(background=self.background, shapes=tuple(self.shapes))
        except ValueError:
            return None

    def shape_at(self, position: str) -> Shape | None:
        return next((s for s in self.shapes if s.position == position), None)


def nearest_colour(rgb: np.ndarray) -> str:
    return _NAMES[int(np.argmin(((_PALETTE - rgb) ** 2).sum(axis=1)))]


def _classify_shape(region: np.ndarray) -> str:
    ys, xs = np.nonzero(region)
    h, w = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    fill = region.sum() / float(h * w)
    if fill > 0.9:
        return "square"
    if fill < 0.64:
        return "triangle"
    # Between the two: a triangle is much narrower near its top than near its bottom.
    crop = region[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    top = crop[: max(1, h // 4)].sum(axis=1).mean()
    bottom = crop[-max(1, h // 4):].sum(axis=1).mean()
    return "triangle" if top < 0.55 * bottom else "circle"


def read_image(image: Image.Image | np.ndarray) -> Reading:
    """Parse an RGB image (PIL or HxWx3 uint8 array) into a background and its shapes."""
    from scipy import ndimage  # here, not at import: the TUI's first frame does not wait for scipy

    arr = np.asarray(image.convert("RGB") if isinstance(image, Image.Image) else image, dtype=np.float32)
    side_h, side_w = arr.shape[:2]
    border = np.concatenate([arr[:2].reshape(-1, 3), arr[-2:].reshape(-1, 3),
                             arr[:, :2].reshape(-1, 3), arr[:, -2:].reshape(-1, 3)])
    background_rgb = np.median(border, axis=0)
    background = nearest_colour(background_rgb)
    distance = np.sqrt(((arr - background_rgb) ** 2).sum(axis=2))
    mask = ndimage.binary_opening(distance > FOREGROUND_DISTANCE)
    labels, count = ndimage.label(mask)
    shapes: list[Shape] = []
    min_area = MIN_AREA_SHARE * side_h * side_w
    regions = [(labels == i) for i in range(1, count + 1)]
    regions = sorted((r for r in regions if r.sum() >= min_area), key=lambda r: -r.sum())
    for region in regions:
        ys, xs = np.nonzero(region)
        core = ndimage.binary_erosion(region)
        pixels = arr[core] if core.sum() >= 8 else arr[region]
        colour = nearest_colour(np.median(pixels, axis=0))
        cx = (xs.min() + xs.max() + 1) / 2 / side_w
        cy = (ys.min() + ys.max() + 1) / 2 / side_h
        position = nearest_anchor((cx, cy))
        extent = max(xs.max() - xs.min() + 1, ys.max() - ys.min() + 1) / max(side_h, side_w)
        size = "big" if extent > SIZE_THRESHOLD else "small"
        shapes.append(Shape(shape=_classify_shape(region), colour=colour, size=size, position=position))
    return Reading(background=background, shapes=shapes)


def check_image(image: Image.Image | np.ndarray) -> Scene | None:
    """The scene an image shows, or None if what it shows is no valid scene."""
    return read_image(image).to_scene()
