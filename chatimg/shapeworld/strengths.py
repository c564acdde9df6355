"""img2img strength the app uses for each kind of shape-world edit.

Chosen from ``chatimg bench painter`` (see docs/painter.md): the lowest strength at which
the built-in painter makes the requested change reliably while keeping the rest.
"""

from __future__ import annotations

#: Edit kind -> img2img strength (0 keeps the previous image, 1 repaints from scratch).
EDIT_STRENGTHS: dict[str, float] = {
    "colour": 0.9,
    "background": 0.9,
    "position": 0.9,
    "size": 0.9,
    "shape": 0.9,
    "add": 0.9,
    "remove": 0.9,
}

#: Strength for edits that fit none of the kinds above.
DEFAULT_STRENGTH: float = 0.9
