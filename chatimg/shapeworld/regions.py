"""Which part of the image an edit of a shape-world scene touches.

The app repaints only that part (an inpainting pass on ``chatimg.masks.region_mask``) and
keeps the rest of the previous image pixel for pixel, so the region must cover everything the
edit changes: a shape recoloured, resized, reshaped, added or removed at one position is that
position; a background change alone is the background (everything but the shapes, found by
colour: ``chatimg.masks.background_mask``); one shape moved and nothing else changed is a move
(``"left->right"``: the shape is cut out and pasted at its new place, ``chatimg.masks.move_object``);
anything else touching two positions, or the background and a shape, is the whole image.
"""

from __future__ import annotations

from chatimg.session import MOVE_ARROW
from chatimg.shapeworld.scene import Scene
from chatimg.shapeworld.vocab import POSITIONS

#: The region for an edit that changes more than one position, or the background and a shape.
WHOLE = "whole"
#: The region for an edit that changes the background only.
BACKGROUND = "background"


def touched_positions(before: Scene, after: Scene) -> list[str]:
    """Positions whose shape differs between the scenes (changed, added or removed)."""
    return [p for p in POSITIONS if before.shape_at(p) != after.shape_at(p)]


def edit_region(before: Scene, after: Scene) -> str:
    """The region the app repaints to turn ``before`` into ``after``: the one position whose
    shape differs (changed, added or removed); ``"background"`` when only the background
    changed; ``"<from>-><to>"`` when one shape moved and nothing else changed; else ``"whole"`` (a shape moved, two positions changed, the background and a shape
    changed, or nothing changed)."""
    touched = touched_positions(before, after)
    if before.background != after.background:
        return WHOLE if touched else BACKGROUND
    if len(touched) == 2:
        source, target = sorted(touched, key=lambda p: after.shape_at(p) is not None)
        moved, landed = before.shape_at(source), after.shape_at(target)
        if before.shape_at(target) is None and after.shape_at(source) is None and moved is not None \
                and landed is not None and (moved.shape, moved.colour, moved.size) == (landed.shape, landed.colour, landed.size):
            return f"{source}{MOVE_ARROW}{target}"
    return touched[0] if len(touched) == 1 else WHOLE
