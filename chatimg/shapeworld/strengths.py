"""Strength the app uses for each kind of shape-world edit.

A colour or size edit on a flat backdrop is not repainted at all (``chatimg.paint.retouch``);
these strengths are for when that cannot be done, and for ``chatimg bench painter --path img2img``.
Each is the strength with the most edits both changed right and otherwise kept in
``chatimg bench painter --path app``; docs/history/strengths.md has the measurements.
"""

from __future__ import annotations

#: Edit kind -> strength (0 keeps the previous image, 1 repaints the region, or the whole image, from scratch).
EDIT_STRENGTHS: dict[str, float] = {
    "colour": 0.85,
    "background": 1.0,
    "position": 0.85,
    "size": 0.65,
    "shape": 0.5,
    "add": 1.0,
    "remove": 0.7,
}

#: Strength for edits that fit none of the kinds above.
DEFAULT_STRENGTH: float = 0.85
