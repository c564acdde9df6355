"""The shape world's vocabulary: the words the built-in painter knows.

Shared by the renderer, the caption writer, the checker, the rewriter's shape-world
post-checks and the evaluation sets, so all of them agree on what a word means.
"""

from __future__ import annotations

#: Saturated colours far apart in RGB, usable for shapes and backgrounds alike.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "orange": (245, 140, 20),
    "yellow": (245, 225, 30),
    "green": (30, 170, 50),
    "blue": (30, 70, 220),
    "purple": (140, 40, 190),
    "white": (245, 245, 245),
    "black": (15, 15, 15),
}

SHAPES = ("circle", "square", "triangle")
SIZES = ("small", "big")
POSITIONS = ("left", "right", "top", "bottom", "center")

#: Words people use for the same thing -> canonical vocabulary word.
SYNONYMS: dict[str, str] = {
    "disc": "circle", "disk": "circle", "dot": "circle", "ball": "circle", "round": "circle",
    "box": "square", "block": "square", "rectangle": "square", "cube": "square",
    "pyramid": "triangle", "wedge": "triangle",
    "large": "big", "huge": "big", "giant": "big", "tiny": "small", "little": "small",
    "centre": "center", "middle": "center", "centered": "center", "centred": "center",
    "upper": "top", "lower": "bottom", "violet": "purple", "lilac": "purple",
    "scarlet": "red", "crimson": "red", "navy": "blue", "azure": "blue", "lime": "green",
    "emerald": "green", "gold": "yellow", "golden": "yellow", "amber": "orange",
}
