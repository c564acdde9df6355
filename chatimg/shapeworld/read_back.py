"""A shape-world picture read back into its prompt: how an opened picture gets its first prompt
when the painter is the built-in one."""

from __future__ import annotations

import numpy as np
from PIL import Image

from chatimg.shapeworld.captions import canonical_prompt
from chatimg.shapeworld.checker import read_image
from chatimg.shapeworld.render import render
from chatimg.shapeworld.scene import IMAGE_SIZE

#: A reading is trusted when its clean render differs from the picture by at most this mean
#: absolute difference per channel (0-255): a photo read as shapes is no match.
MATCH = 24.0


def picture_prompt(image: Image.Image) -> str | None:
    """The shape-world prompt of a picture the built-in painter's world could have drawn, read
    back with the checker and confirmed by rendering it again; ``None`` for anything else."""
    small = image.convert("RGB").resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BOX)
    scene = read_image(small).to_scene()
    if scene is None:
        return None
    redrawn = np.asarray(render(scene, jitter=False), dtype=np.float32)
    difference = float(np.abs(redrawn - np.asarray(small, dtype=np.float32)).mean())
    return canonical_prompt(scene) if difference <= MATCH else None
