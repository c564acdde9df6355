"""Shape world: the procedural scenes the built-in painter is trained on and judged by.

Light to import (numpy, PIL, scipy only); nothing here loads a model.
"""

from chatimg.shapeworld.captions import canonical_prompt, caption
from chatimg.shapeworld.checker import Reading, check_image, read_image
from chatimg.shapeworld.parse import complete_prompt, parse_prompt
from chatimg.shapeworld.regions import edit_region
from chatimg.shapeworld.render import render
from chatimg.shapeworld.scene import EDIT_KINDS, IMAGE_SIZE, Scene, Shape, is_held_out, random_edit, random_scene
from chatimg.shapeworld.strengths import DEFAULT_STRENGTH, EDIT_STRENGTHS
from chatimg.shapeworld.vocab import COLOURS, POSITIONS, SHAPES, SIZES, SYNONYMS

__all__ = [
    "COLOURS", "DEFAULT_STRENGTH", "EDIT_KINDS", "EDIT_STRENGTHS", "IMAGE_SIZE", "POSITIONS", "Reading",
    "SHAPES", "SIZES", "SYNONYMS", "Scene", "Shape", "canonical_prompt", "caption", "check_image", "complete_prompt",
    "edit_region",
    "is_held_out", "parse_prompt", "random_edit", "random_scene", "read_image", "render",
]
