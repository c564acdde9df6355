"""Which part of the image an edit of a shape-world scene touches.

The app repaints only that part (an inpainting pass on ``chatimg.paint.masks.region_mask``) and
keeps the rest of the previous image pixel for pixel, so the region must cover everything the
edit changes: a shape recoloured, resized, reshaped, added or removed at one position is that
position; a background change alone is the background (everything but the shapes, found by
colour: ``chatimg.paint.masks.background_mask``); shapes that only moved are moves
(``"left->right"``; a swap is ``"left->right, right->left"``: the shapes are cut out and pasted
at their new places, ``chatimg.paint.masks.move_objects``); anything else touching two positions, or
the background and a shape, is the whole image.
"""

from __future__ import annotations

from itertools import permutations

from chatimg.core.model import format_moves
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
    changed; ``"<from>-><to>"`` when shapes only moved (one, or two swapping places);
    ``"<from>-><to>, <position>"`` when shapes moved and one more position changed; else
    ``"whole"`` (two positions changed otherwise, the background and a shape changed, or
    nothing changed)."""
    touched = touched_positions(before, after)
    if before.background != after.background:
        return WHOLE if touched else BACKGROUND
    moves = rearrangement(before, after, touched)
    if moves:
        return format_moves(moves)
    if len(touched) == 1:
        return touched[0]
    for extra in touched:  # shapes moved and one more position changed (an add that makes room)
        moves = rearrangement(before, after, [p for p in touched if p != extra])
        if moves and extra not in {a for a, _ in moves}:
            return f"{format_moves(moves)}, {extra}"
    return WHOLE


def rearrangement(before: Scene, after: Scene, touched: list[str]) -> list[tuple[str, str]] | None:
    """The moves ``[(from, to), ...]`` that turn ``before`` into ``after`` when the edit only
    moved shapes (one, or two swapping places) and changed nothing else about them."""
    def looks(scene: Scene, position: str) -> tuple | None:
        shape = scene.shape_at(position)
        return None if shape is None else (shape.shape, shape.colour, shape.size)

    sources = [p for p in touched if looks(before, p) is not None]
    targets = [p for p in touched if looks(after, p) is not None]
    if not sources or len(sources) != len(targets):
        return None
    for order in permutations(targets):
        if all(looks(before, a) == looks(after, b) and a != b for a, b in zip(sources, order)):
            return list(zip(sources, order))
    return None
