"""Caption writer: many ways people describe a scene, and one canonical way.

``caption(scene, rng)`` varies article, word choice (synonyms), word order, how the
position and background are said, and how the clauses are joined, so a painter trained on
them understands the usual phrasings rather than one template. ``canonical_prompt(scene)``
is the single fixed phrasing the rewriter should produce.
"""

from __future__ import annotations

import random

from chatimg.shapeworld.scene import Scene, Shape

#: Words used for each vocabulary word in captions (first = canonical).
COLOUR_WORDS: dict[str, tuple[str, ...]] = {
    "red": ("red", "red", "red", "scarlet", "crimson"),
    "orange": ("orange", "orange", "orange", "amber"),
    "yellow": ("yellow", "yellow", "yellow", "golden", "gold"),
    "green": ("green", "green", "green", "emerald", "lime"),
    "blue": ("blue", "blue", "blue", "azure", "navy"),
    "purple": ("purple", "purple", "purple", "violet", "lilac"),
    "white": ("white",),
    "black": ("black",),
}
SHAPE_WORDS: dict[str, tuple[str, ...]] = {
    "circle": ("circle", "circle", "circle", "disc", "disk", "dot", "ball"),
    "square": ("square", "square", "square", "box", "block"),
    "triangle": ("triangle", "triangle", "triangle", "pyramid", "wedge"),
}
SIZE_WORDS: dict[str, tuple[str, ...]] = {
    "small": ("small", "small", "tiny", "little"),
    "big": ("big", "big", "large", "huge", "giant"),
}
POSITION_PHRASES: dict[str, tuple[str, ...]] = {
    "left": ("on the left", "at the left", "to the left", "on the left side", "in the left half",
             "at left", "on the left-hand side"),
    "right": ("on the right", "at the right", "to the right", "on the right side", "in the right half",
              "at right", "on the right-hand side"),
    "top": ("at the top", "on top", "near the top", "in the upper part", "at the top of the image",
            "up top", "in the upper half"),
    "bottom": ("at the bottom", "near the bottom", "in the lower part", "at the bottom of the image",
               "down at the bottom", "in the lower half"),
    "center": ("in the center", "in the middle", "in the centre", "centered", "at the center",
               "in the middle of the image"),
}
#: Background phrases that follow the shapes; "{c}" is the colour word.
BACKGROUND_AFTER = ("on a {c} background", "on a {c} background", "{c} background", "against a {c} backdrop",
                    "with a {c} background", "on {c}", "over a {c} background", "background {c}",
                    "the background is {c}", "on a plain {c} background", "{c} backdrop")
#: Background phrases that lead; the shapes follow.
BACKGROUND_BEFORE = ("{c} backdrop with", "{c} background with", "on a {c} background,", "a {c} background with",
                     "against {c},", "a {c} backdrop and", "{c} background:")
PREFIXES = ("", "", "", "", "a picture of ", "an image of ", "draw ", "paint ", "show ", "a drawing of ")
JOINERS = (" and ", " and ", ", ", " plus ", " and also ", "; ")


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _shape_phrase(shape: Shape, rng: random.Random, first: bool = True) -> str:
    colour = rng.choice(COLOUR_WORDS[shape.colour])
    noun = rng.choice(SHAPE_WORDS[shape.shape])
    size = rng.choice(SIZE_WORDS[shape.size])
    where = rng.choice(POSITION_PHRASES[shape.position])
    form = rng.random()
    if form < 0.55:
        body = f"{size} {colour} {noun}"
        body = f"{_article(body)} {body}" if rng.random() < 0.8 else body
        return f"{body} {where}"
    if form < 0.7:
        body = f"{colour} {size} {noun}" if rng.random() < 0.5 else f"{size} {noun} in {colour}"
        return f"{_article(body)} {body} {where}"
    if form < 0.8 and first:
        return f"{where}, {_article(size)} {size} {colour} {noun}"
    if form < 0.9:
        return f"{_article(colour)} {colour} {noun} {where}, {size}"
    return f"{_article(noun)} {noun} that is {size} and {colour}, {where}"


def caption(scene: Scene, rng: random.Random | int) -> str:
    """One of many natural phrasings of ``scene``."""
    if not isinstance(rng, random.Random):
        rng = random.Random(rng)
    from chatimg.shapeworld.parse import parse_prompt

    for _ in range(20):  # keep only phrasings that say unambiguously what the scene is
        text = _caption(scene, rng)
        if parse_prompt(text) == scene:
            return text
    return canonical_prompt(scene)


def _caption(scene: Scene, rng: random.Random) -> str:
    shapes = list(scene.shapes)
    rng.shuffle(shapes)
    body = rng.choice(JOINERS).join(_shape_phrase(s, rng, first=i == 0) for i, s in enumerate(shapes))
    colour = rng.choice(COLOUR_WORDS[scene.background])
    if rng.random() < 0.65:
        joiner = " " if rng.random() < 0.6 else ", "
        text = body + joiner + rng.choice(BACKGROUND_AFTER).format(c=colour)
    else:
        text = rng.choice(BACKGROUND_BEFORE).format(c=colour) + " " + body
    return rng.choice(PREFIXES) + text


def shape_phrase(shape: Shape) -> str:
    """Canonical phrase for one shape, e.g. ``a big red circle on the left``."""
    return f"a {shape.size} {shape.colour} {shape.shape} {POSITION_PHRASES[shape.position][0]}"


def canonical_prompt(scene: Scene) -> str:
    """The one fixed phrasing, e.g. ``a big red circle on the left and a small blue square
    on the right, on a green background``."""
    return " and ".join(shape_phrase(s) for s in scene.shapes) + f", on a {scene.background} background"
