"""Scene grammar: a background colour and one or two shapes, each with four attributes."""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, replace

from chatimg.shapeworld.vocab import COLOURS, POSITIONS, SHAPES, SIZES

#: Image side in pixels of every shape-world image (and of the built-in painter).
IMAGE_SIZE = 64


#: Nominal "radius" of each size, as a fraction of the image side.
RADII: dict[str, float] = {"small": 0.095, "big": 0.17}

#: Position pairs two shapes may share a scene in without overlapping at any size.
COMPATIBLE_POSITIONS: frozenset[frozenset[str]] = frozenset(
    {frozenset(("left", "right")), frozenset(("top", "bottom"))}
)
#: The side across from each side: where a second shape goes.
OPPOSITE: dict[str, str] = {"left": "right", "right": "left", "top": "bottom", "bottom": "top"}

ATTRIBUTES = ("shape", "colour", "size", "position")


@dataclass(frozen=True)
class Shape:
    shape: str
    colour: str
    size: str
    position: str

    def __post_init__(self) -> None:
        for value, allowed, name in (
            (self.shape, SHAPES, "shape"), (self.colour, COLOURS, "colour"),
            (self.size, SIZES, "size"), (self.position, POSITIONS, "position"),
        ):
            if value not in allowed:
                raise ValueError(f"unknown {name} {value!r}; expected one of {sorted(allowed)}")


@dataclass(frozen=True)
class Scene:
    """A background colour and one or two shapes at different positions.

    Shapes are kept sorted by position so two scenes that show the same thing compare equal.
    """

    background: str
    shapes: tuple[Shape, ...]

    def __post_init__(self) -> None:
        if self.background not in COLOURS:
            raise ValueError(f"unknown background colour {self.background!r}")
        if not 1 <= len(self.shapes) <= 2:
            raise ValueError("a scene has one or two shapes")
        positions = [s.position for s in self.shapes]
        if len(set(positions)) != len(positions):
            raise ValueError("two shapes cannot share a position")
        if any(s.colour == self.background for s in self.shapes):
            raise ValueError("a shape cannot have the background's colour")
        ordered = tuple(sorted(self.shapes, key=lambda s: POSITIONS.index(s.position)))
        object.__setattr__(self, "shapes", ordered)

    def shape_at(self, position: str) -> Shape | None:
        return next((s for s in self.shapes if s.position == position), None)

    def replace_shape(self, old: Shape, new: Shape) -> Scene:
        return replace(self, shapes=tuple(new if s == old else s for s in self.shapes))


def is_held_out(scene: Scene) -> bool:
    """About one scene in ten is never used for training, so the benchmark can test on unseen scenes."""
    key = ";".join(f"{s.shape},{s.colour},{s.size},{s.position}" for s in scene.shapes) + f";{scene.background}"
    return zlib.crc32(key.encode()) % 10 == 0


def positions_compatible(a: str, b: str) -> bool:
    """Whether shapes at positions ``a`` and ``b`` can share a scene without touching."""
    return frozenset((a, b)) in COMPATIBLE_POSITIONS


def room_for(position: str | None, other: str | None) -> str | None:
    """Where a shape standing at ``other`` goes when another comes to ``position``: two shapes
    stand side by side or one above the other (``COMPATIBLE_POSITIONS``), so when they cannot
    pair the other makes room on the opposite side. ``None`` when it can stay, when either
    place is unsaid, or when ``position`` is the center (which pairs with nothing)."""
    if position not in OPPOSITE or other is None or other == position or positions_compatible(position, other):
        return None
    return OPPOSITE[position]


def random_shape(rng: random.Random, background: str, exclude_positions: tuple[str, ...] = ()) -> Shape:
    positions = [p for p in POSITIONS if all(positions_compatible(p, q) for q in exclude_positions)]
    return Shape(
        shape=rng.choice(SHAPES),
        colour=rng.choice([c for c in COLOURS if c != background]),
        size=rng.choice(SIZES),
        position=rng.choice(positions),
    )


def random_scene(rng: random.Random | int, two_shape_share: float = 0.5, split: str = "any") -> Scene:
    """Sample a scene; ``rng`` is a ``random.Random`` or a seed. ``split`` is ``"any"``,
    ``"train"`` (never a held-out scene) or ``"held_out"`` (only held-out scenes)."""
    if not isinstance(rng, random.Random):
        rng = random.Random(rng)
    if split != "any":
        while True:
            scene = random_scene(rng, two_shape_share)
            if is_held_out(scene) == (split == "held_out"):
                return scene
    background = rng.choice(list(COLOURS))
    if rng.random() < two_shape_share:
        pair = sorted(rng.choice(sorted(COMPATIBLE_POSITIONS, key=sorted)))  # sets iterate in hash order
        rng.shuffle(pair)
        first = random_shape(rng, background, exclude_positions=(pair[1],))
        shapes = [first, random_shape(rng, background, exclude_positions=(first.position,))]
    else:
        shapes = [random_shape(rng, background)]
    return Scene(background=background, shapes=tuple(shapes))


EDIT_KINDS = ("colour", "background", "position", "size", "shape", "add", "remove")


def random_edit(scene: Scene, kind: str, rng: random.Random) -> Scene:
    """Change one attribute of ``scene`` (of one shape, or the background) to a valid new value."""
    if kind == "add":
        if len(scene.shapes) != 1 or scene.shapes[0].position == "center":
            raise ValueError("a shape can be added only next to one shape that is not in the center")
        return replace(scene, shapes=scene.shapes + (random_shape(rng, scene.background, (scene.shapes[0].position,)),))
    if kind == "remove":
        if len(scene.shapes) != 2:
            raise ValueError("only a scene with two shapes can lose one")
        return replace(scene, shapes=(rng.choice(scene.shapes),))
    if kind == "background":
        used = {s.colour for s in scene.shapes}
        return replace(scene, background=rng.choice([c for c in COLOURS if c != scene.background and c not in used]))
    target = rng.choice(scene.shapes)
    others = [s for s in scene.shapes if s is not target]
    if kind == "colour":
        new = replace(target, colour=rng.choice([c for c in COLOURS if c not in (target.colour, scene.background)]))
    elif kind == "size":
        new = replace(target, size="big" if target.size == "small" else "small")
    elif kind == "shape":
        new = replace(target, shape=rng.choice([s for s in SHAPES if s != target.shape]))
    elif kind == "position":
        choices = [p for p in POSITIONS if p != target.position and all(positions_compatible(p, o.position) for o in others)]
        if not choices:
            raise ValueError("no free position to move a shape to (two-shape scenes use both ends of an axis)")
        new = replace(target, position=rng.choice(choices))
    else:
        raise ValueError(f"unknown edit kind {kind!r}; expected one of {EDIT_KINDS}")
    return scene.replace_shape(target, new)
