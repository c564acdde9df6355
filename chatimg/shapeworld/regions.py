"""Which part of the image an edit of a shape-world scene touches.

The app repaints only that part (an inpainting pass on ``chatimg.painter.region_mask``) and
keeps the rest of the previous image pixel for pixel, so the region must cover everything the
edit changes: a shape recoloured, resized, reshaped, added or removed at one position is that
position; a background change, a move or anything touching two positions is the whole image.
"""

from __future__ import annotations

from chatimg.shapeworld.scene import Scene
from chatimg.shapeworld.vocab import POSITIONS

#: The region for an edit that changes the background or more than one position.
WHOLE = "whole"


def touched_positions(before: Scene, after: Scene) -> list[str]:
    """Positions whose shape differs between the scenes (changed, added or removed)."""
    return [p for p in POSITIONS if before.shape_at(p) != after.shape_at(p)]


def edit_region(before: Scene, after: Scene) -> str:
    """The region the app repaints to turn ``before`` into ``after``: the one position whose
    shape differs (changed, added or removed), else ``"whole"`` (background changed, a shape
    moved, two positions changed, or nothing changed)."""
    if before.background != after.background:
        return WHOLE
    touched = touched_positions(before, after)
    return touched[0] if len(touched) == 1 else WHOLE
