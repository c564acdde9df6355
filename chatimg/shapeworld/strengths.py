"""img2img strength the app uses for each kind of shape-world edit.

Chosen with ``chatimg bench painter --strengths 0.7,0.85,1.0`` on the built-in painter (UNet
step 2000, 30 held-out edits per kind and strength; docs/painter.md): for each kind the strength
with the most edits both changed right and otherwise kept. The built-in painter repaints most of
the image at any of these strengths, so lower ones did not keep more; a background change needs
the full repaint (1.0: 100 % changed vs 77 % at 0.85).
"""

from __future__ import annotations

#: Edit kind -> img2img strength (0 keeps the previous image, 1 repaints from scratch).
EDIT_STRENGTHS: dict[str, float] = {
    "colour": 0.85,
    "background": 1.0,
    "position": 0.85,
    "size": 0.85,
    "shape": 0.85,
    "add": 0.7,
    "remove": 0.7,
}

#: Strength for edits that fit none of the kinds above.
DEFAULT_STRENGTH: float = 0.85
