"""Colour-only edits: which turns only recolour one thing, and the RGB its new colour is.

"Make the square white" changes one word of the prompt. Repainting the square's region redraws
the whole square, and a small model may redraw it subtly wrong (a small square with soft corners
reads as a circle); recolouring its pixels keeps its form exactly (``chatimg.masks.recolour_objects``).
This module decides, from the previous and the new prompt alone, whether a turn is such an
edit, so the app and the benchmarks decide it the same way.
"""

from __future__ import annotations

import re

from PIL import ImageColor

from chatimg.edit_rules import COLOUR_WORDS

#: Colour words with no CSS name, as the RGB they usually mean.
_EXTRA_RGB: dict[str, tuple[int, int, int]] = {
    "golden": (255, 200, 40), "scarlet": (255, 36, 0), "emerald": (80, 200, 120), "amber": (255, 191, 0),
    "bronze": (205, 127, 50), "copper": (184, 115, 51), "peach": (255, 203, 164), "mint": (152, 255, 152),
}
#: Nouns whose colour is the backdrop's, not an object's: recolouring those is a background edit.
_BACKDROP_NOUNS = {"background", "backgrounds", "backdrop", "backdrops", "bg", "sky", "wall", "walls", "floor"}
_TOKEN = re.compile(r"[a-z0-9'-]+|[^\sa-z0-9'-]")


def _tokens(prompt: str) -> list[str]:
    return _TOKEN.findall(prompt.lower())


def colour_rgb(word: str, palette: dict[str, tuple[int, int, int]] | None = None,
               synonyms: dict[str, str] | None = None) -> tuple[int, int, int] | None:
    """The RGB a recolour paints for ``word``: the model's own ``palette`` first (the shape
    world's colours, through its ``synonyms``), then CSS's; ``None`` for words with no single
    colour ("rainbow", "colorful")."""
    word = word.lower()
    if palette:
        named = (synonyms or {}).get(word, word)
        if named in palette:
            return palette[named]
    if word in _EXTRA_RGB:
        return _EXTRA_RGB[word]
    try:
        return ImageColor.getrgb(word)[:3]
    except ValueError:
        return None


def colour_change(before: str, after: str) -> str | None:
    """The new colour word when ``after`` is ``before`` with one thing's colour word replaced
    ("a small purple square" -> "a small white square") or added ("a square" -> "a red
    square"), and nothing else changed; else ``None``. A backdrop's colour is not an object's."""
    old, new = _tokens(before), _tokens(after)
    if len(new) == len(old):
        diff = [i for i, (a, b) in enumerate(zip(old, new)) if a != b]
        if len(diff) != 1 or old[diff[0]] not in COLOUR_WORDS:
            return None
        index = diff[0]
    elif len(new) == len(old) + 1:
        index = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), len(old))
        if new[:index] + new[index + 1:] != old:
            return None
    else:
        return None
    word = new[index]
    following = new[index + 1] if index + 1 < len(new) else ""
    if word not in COLOUR_WORDS or colour_rgb(word) is None or not following.isalpha() \
            or following in COLOUR_WORDS or following in _BACKDROP_NOUNS:
        return None
    return word
