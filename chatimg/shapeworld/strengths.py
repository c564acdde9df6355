"""Strength the app uses for each kind of shape-world edit.

Since the tenth sitting a colour or size edit on a flat backdrop is not repainted at all: the
shape's pixels are recoloured or resized (``chatimg.paint.retouch``). The colour and size strengths
below are for when that cannot be done (a busy backdrop, no room to grow, an unclear match),
and for ``chatimg bench painter --path img2img``.

The app paints an edit of one shape (colour, size, shape, add, remove) by inpainting that
shape's region (``chatimg.shapeworld.edit_region``) and keeps the rest of the image pixel for
pixel; backgrounds and moves repaint the whole image (img2img). Chosen with
``chatimg bench painter --path app --strengths 0.6,0.7,0.85,1.0 --edits 60`` (``0.5,0.7,0.85,1.0``
and 30 edits for background and position) on the shipped built-in painter (UNet step 3000,
held-out scenes; docs/painter.md): for each kind the strength with the most edits both changed
right and otherwise kept (on a tie: more changed right, then the lower strength). Inside a region the whole shape is redrawn
at any of these strengths, so its other attributes (mostly its kind) are what is lost; the
rest of the scene is kept in 97-100 % of edits. Measured share "both" per strength:

========== ====== ====== ====== ====== ======
kind        0.5    0.6    0.7    0.85   1.0
========== ====== ====== ====== ====== ======
colour             20 %   28 %   33 %   28 %
size               30 %   43 %   35 %   28 %
shape              40 %   43 %   45 %   45 %
add                22 %   22 %   18 %   20 %
remove             92 %   98 %   98 %   97 %
background  10 %          10 %   17 %   20 %
position    27 %          37 %   53 %   50 %
========== ====== ====== ====== ====== ======

A background change needs the full repaint (100 % changed at 1.0, 80 % at 0.85).

Re-chosen for size, shape and add on 2026-11-26 with the decoder tuned to the painter's own
output (UNet step 17,500): ``--kinds colour,size,shape,add --strengths 0.5,0.7,0.85`` at two
benchmark seeds (1234 and 99, 60 edits each), the same rule on the 120 edits. At 8 steps a
strength of 0.5 or 0.6 both run the last 4 steps, so 0.6 is the same as 0.5. Share "both"
(seed 1234 + seed 99, of 120):

========== ====== ====== ======
kind        0.5    0.7    0.85
========== ====== ====== ======
colour      77 %   79 %   81 %
size        77 %   71 %   77 %
shape       80 %   80 %   75 %
add         82.5 % 80 %
========== ====== ====== ======

Re-chosen for size and add on 2026-11-26 (seventh sitting) for the grown UNet (step 24,500) and
its decoder: ``--kinds size --strengths 0.4,0.5,0.65`` and ``--kinds add,colour --strengths
0.4,0.5,0.7,0.85`` at seed 1234, the leading strengths again at seed 99 (60 edits each). At 8
steps 0.65 runs the last 5 steps. Share "both" (seed 1234 / seed 99):

========== ============= ============= ============= =============
kind        0.4           0.5           0.65 / 0.7    0.85
========== ============= ============= ============= =============
colour      82 % / –      75 % / –      80 % / –      82 % / –
size        82 % / –      75 % / 83 %   85 % / 85 %
add         72 % / –      80 % / 78 %   83 % / 82 %   85 % / 77 %
========== ============= ============= ============= =============

(size at 0.65, add at 0.7.) Now, as then, what is lost is almost only a square redrawn with
rounded corners.

Re-chosen for add on 2026-11-26 (eighth sitting) for the deepened decoder (``--decoder-layers
3``): ``--kinds colour,add,shape --strengths 0.6,0.75,0.9`` at seed 1234, add at 0.7, 0.9 and
1.0 at seed 99 too, beside the app's own strengths. Share "both" (seed 1234 / seed 99):

========== ========= ========= ========= ========= ========= ========= =========
kind        0.5       0.6       0.7       0.75      0.85      0.9       1.0
========== ========= ========= ========= ========= ========= ========= =========
colour                77 %                80 %      80 %      80 %
shape       87 %      87 %                87 %                83 %
add                   80 %      78 / 80 % 77 %                87 / 80 % 83 / 77 %
========== ========= ========= ========= ========= ========= ========= =========

(add at 0.9; colour, flat, stays at 0.85; shape stays at 0.5.)

Re-chosen for add on 2026-11-26 (tenth sitting) for the decoder tuned 4,600 steps to the wide
GPU-trained UNet: ``--kinds add --strengths 0.75,0.8,1.0`` beside the app's 0.9, at seeds 1234
and 99 (60 edits each). Share "both" (seed 1234 / seed 99):

========== ============= ============= ============= =============
kind        0.75          0.8           0.9           1.0
========== ============= ============= ============= =============
add         90 / 85 %     90 / 85 %     92 / 83 %     93 / 88 %
========== ============= ============= ============= =============

(add at 1.0: the added shape is painted from noise inside its region.)
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
