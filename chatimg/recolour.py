"""Colour-only edits: which turns only recolour things, and the RGB a new colour is.

"Make the square white" changes one word of the prompt. Repainting the square's region redraws
the whole square, and a small model may redraw it subtly wrong (a small square with soft corners
reads as a circle); recolouring its pixels keeps its form exactly (``chatimg.masks.recolour_objects``).
This module decides, from the previous and the new prompt alone, whether a turn is such an
edit, so the app and the benchmarks decide it the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PIL import ImageColor

from chatimg.edit_rules import COLOUR_WORDS

RGB = tuple[int, int, int]
#: Colour words with no CSS name, as the RGB they usually mean.
_EXTRA_RGB: dict[str, RGB] = {
    "golden": (255, 200, 40), "scarlet": (255, 36, 0), "emerald": (80, 200, 120), "amber": (255, 191, 0),
    "bronze": (205, 127, 50), "copper": (184, 115, 51), "peach": (255, 203, 164), "mint": (152, 255, 152),
}
#: Nouns whose colour is the backdrop's, not an object's: recolouring those is a background edit.
_BACKDROP_NOUNS = {"background", "backgrounds", "backdrop", "backdrops", "bg", "sky", "wall", "walls", "floor"}
_TOKEN = re.compile(r"[a-z0-9'-]+|[^\sa-z0-9'-]")


def _tokens(prompt: str) -> list[str]:
    """Lower-case words and punctuation; "an" is "a" (an orange circle, a green circle)."""
    return ["a" if token == "an" else token for token in _TOKEN.findall(prompt.lower())]


def colour_rgb(word: str, palette: dict[str, RGB] | None = None, synonyms: dict[str, str] | None = None
               ) -> RGB | None:
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


@dataclass(frozen=True)
class Recolour:
    """A colour-only edit: ``changes`` are (old colour word, or ``None`` for a thing that had
    none, new colour word), in prompt order; ``others`` are the colour words of the things that
    keep theirs (so a picture's objects can be matched to the words)."""

    changes: tuple[tuple[str | None, str], ...]
    others: tuple[str, ...] = ()

    def rgb(self, palette: dict[str, RGB] | None = None, synonyms: dict[str, str] | None = None
            ) -> tuple[list[tuple[RGB | None, RGB]], list[RGB]] | None:
        """``(changes, others)`` as RGB (``colour_rgb``); ``None`` if a word has no single colour."""
        words = [word for pair in self.changes for word in pair if word is not None] + list(self.others)
        if any(colour_rgb(word, palette, synonyms) is None for word in words):
            return None

        def look(word: str | None) -> RGB | None:
            return None if word is None else colour_rgb(word, palette, synonyms)

        return [(look(old), look(new)) for old, new in self.changes], [look(word) for word in self.others]


def _names_a_thing(tokens: list[str], index: int) -> bool:
    """The colour word at ``index`` is a thing's: a noun follows, not another colour or a backdrop."""
    following = tokens[index + 1] if index + 1 < len(tokens) else ""
    return following.isalpha() and following not in COLOUR_WORDS and following not in _BACKDROP_NOUNS


def colour_change(before: str, after: str) -> Recolour | None:
    """The colour-only edit that turns ``before`` into ``after``: things' colour words replaced
    ("a small purple square" -> "a small white square"; "swap the colours"; "make them both
    green") or one added ("a square" -> "a red square"), nothing else changed; else ``None``.
    A backdrop's colour is not a thing's."""
    old, new = _tokens(before), _tokens(after)
    if len(new) == len(old):
        changed = [i for i, (a, b) in enumerate(zip(old, new)) if a != b]
        if not changed or any(old[i] not in COLOUR_WORDS or not _names_a_thing(old, i) for i in changed):
            return None
        changes = tuple((old[i], new[i]) for i in changed)
    elif len(new) == len(old) + 1:
        index = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), len(old))
        if new[:index] + new[index + 1:] != old:
            return None
        changed, changes = [index], ((None, new[index]),)
    else:
        return None
    if any(new[i] not in COLOUR_WORDS or colour_rgb(new[i]) is None or not _names_a_thing(new, i) for i in changed):
        return None
    others = tuple(word for i, word in enumerate(old) if word in COLOUR_WORDS and _names_a_thing(old, i)
                   and not (len(new) == len(old) and i in changed))
    return Recolour(changes, others)
