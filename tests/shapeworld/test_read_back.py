"""A shape-world picture read back into its prompt, and nothing else read as one."""

from __future__ import annotations

import numpy as np
from PIL import Image

from chatimg.shapeworld import Scene, Shape, render
from chatimg.shapeworld.read_back import picture_prompt


def test_a_shape_world_picture_reads_back_into_its_prompt_and_a_photo_does_not():
    scene = Scene(background="blue", shapes=(Shape(shape="circle", colour="red", size="big", position="left"),))
    assert picture_prompt(render(scene, size=256).resize((300, 300))) == \
        "a big red circle on the left, on a blue background"
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8))
    assert picture_prompt(noise) is None
    gradient = Image.fromarray(np.tile(np.linspace(0, 255, 160, dtype=np.uint8), (120, 1))).convert("RGB")
    assert picture_prompt(gradient) is None
