"""Render scenes to anti-aliased RGB images (drawn 4x larger, then downsampled)."""

from __future__ import annotations

import random

from PIL import Image, ImageDraw

# Positions are drawn at the painter's anchors, so a shape the app moves lands where a render puts it.
from chatimg.paint.masks import ANCHORS
from chatimg.shapeworld.scene import IMAGE_SIZE, RADII, Scene, Shape
from chatimg.shapeworld.vocab import COLOURS

SUPERSAMPLE = 4


def _jitter_colour(rgb: tuple[int, int, int], rng: random.Random, amount: int) -> tuple[int, int, int]:
    return tuple(max(0, min(255, c + rng.randint(-amount, amount))) for c in rgb)  # type: ignore[return-value]


def _draw_shape(draw: ImageDraw.ImageDraw, shape: Shape, size: int, rng: random.Random, jitter: bool) -> None:
    ax, ay = ANCHORS[shape.position]
    r = RADII[shape.size] * size
    if jitter:
        ax += rng.uniform(-0.035, 0.035)
        ay += rng.uniform(-0.035, 0.035)
        r *= rng.uniform(0.9, 1.1)
    cx, cy = ax * size, ay * size
    colour = _jitter_colour(COLOURS[shape.colour], rng, 8) if jitter else COLOURS[shape.colour]
    if shape.shape == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
    elif shape.shape == "square":
        h = 0.9 * r
        draw.rectangle((cx - h, cy - h, cx + h, cy + h), fill=colour)
    elif shape.shape == "triangle":
        h = 1.1 * r
        draw.polygon([(cx, cy - h), (cx + h, cy + 0.9 * h), (cx - h, cy + 0.9 * h)], fill=colour)
    else:  # pragma: no cover - Shape validates its fields
        raise ValueError(shape.shape)


def render(scene: Scene, seed: int | None = None, size: int = IMAGE_SIZE, jitter: bool = True) -> Image.Image:
    """Draw ``scene`` as an RGB image; ``seed`` fixes the jitter (position, size, colour)."""
    rng = random.Random(seed)
    big = size * SUPERSAMPLE
    background = _jitter_colour(COLOURS[scene.background], rng, 8) if jitter else COLOURS[scene.background]
    image = Image.new("RGB", (big, big), background)
    draw = ImageDraw.Draw(image)
    for shape in scene.shapes:
        _draw_shape(draw, shape, big, rng, jitter)
    return image.resize((size, size), Image.Resampling.BOX)
