"""Edits that only recolour or resize things, done on their pixels: which turns are such edits.

"Make the square white" changes one word of the prompt. Repainting the square's region redraws
the whole square, and a small model may redraw it subtly wrong (a small square with soft corners
reads as a circle); recolouring its pixels keeps its form exactly, and "make it smaller" can
shrink the cut-out square instead of painting a new one (``chatimg.paint.masks.recolour_objects``,
``chatimg.paint.masks.resize_object``). This module decides, from the previous and the new prompt
alone, whether a turn is such an edit, so the app and the benchmarks decide it the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PIL import ImageColor

from chatimg.paint.masks import RGB
from chatimg.shapeworld.scene import RADII
from chatimg.understand.rules.general import COLOUR_WORDS

#: Colour words with no CSS name, as the RGB they usually mean.
_EXTRA_RGB: dict[str, RGB] = {
    "golden": (255, 200, 40), "scarlet": (255, 36, 0), "emerald": (80, 200, 120), "amber": (255, 191, 0),
    "bronze": (205, 127, 50), "copper": (184, 115, 51), "peach": (255, 203, 164), "mint": (152, 255, 152),
}
#: Size words: 0 = small, 1 = big. A big thing is ``SIZE_STEP`` times a small one's size (the
#: shape world's radii, which its painter was trained on; a fair step for other pictures too).
SIZE_WORDS = {"small": 0, "little": 0, "tiny": 0, "smaller": 0, "big": 1, "large": 1, "huge": 1, "giant": 1,
              "bigger": 1, "larger": 1}
SIZE_STEP = RADII["big"] / RADII["small"]
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
class Retouch:
    """An edit that only recolours or resizes things. ``changes`` are colour words (old, or
    ``None`` for a thing that had none, new), in prompt order; ``others`` are the colour words
    of the things that keep theirs (so a picture's objects can be matched to the words);
    ``scale`` is how much the one resized thing grows (1: no size change)."""

    changes: tuple[tuple[str | None, str], ...] = ()
    others: tuple[str, ...] = ()
    scale: float = 1.0

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
    """The word at ``index`` is a thing's: a noun follows, not another colour, size or a backdrop."""
    following = tokens[index + 1] if index + 1 < len(tokens) else ""
    return following.isalpha() and following not in COLOUR_WORDS and following not in SIZE_WORDS \
        and following not in _BACKDROP_NOUNS


def _of_a_thing(tokens: list[str], index: int) -> bool:
    """The colour or size word at ``index`` describes a thing: other colour or size words may
    stand between it and the noun ("a big red square"), a backdrop noun may not."""
    end = index + 1
    while end < len(tokens) and (tokens[end] in COLOUR_WORDS or tokens[end] in SIZE_WORDS):
        end += 1
    return _names_a_thing(tokens, end - 1)


def retouch_of(before: str, after: str) -> Retouch | None:
    """The edit that turns ``before`` into ``after`` when it only recolours or resizes things:
    things' colour words replaced ("a small purple square" -> "a small white square"; "swap the
    colours"; "make them both green") or one added ("a square" -> "a red square"), and at most
    one size word replaced ("big" -> "small"), nothing else changed; else ``None``. A
    backdrop's colour is not a thing's."""
    old, new = _tokens(before), _tokens(after)
    if len(new) == len(old):
        changed = [i for i, (a, b) in enumerate(zip(old, new)) if a != b]
        if not changed or any(not _of_a_thing(old, i) or not _of_a_thing(new, i) for i in changed):
            return None
        sizes = [i for i in changed if old[i] in SIZE_WORDS and new[i] in SIZE_WORDS]
        colours = [i for i in changed if i not in sizes]
        if len(sizes) > 1 or any(old[i] not in COLOUR_WORDS for i in colours):
            return None
        changes = tuple((old[i], new[i]) for i in colours)
        scale = SIZE_STEP ** (SIZE_WORDS[new[sizes[0]]] - SIZE_WORDS[old[sizes[0]]]) if sizes else 1.0
    elif len(new) == len(old) + 1:
        index = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), len(old))
        if new[:index] + new[index + 1:] != old or not _of_a_thing(new, index):
            return None
        colours, changes, scale = [index], ((None, new[index]),), 1.0
    else:
        return None
    if any(new[i] not in COLOUR_WORDS or colour_rgb(new[i]) is None for i in colours) or \
            (not changes and scale == 1.0):
        return None
    others = tuple(word for i, word in enumerate(old) if word in COLOUR_WORDS and _of_a_thing(old, i)
                   and not (len(new) == len(old) and i in colours))
    return Retouch(changes, others, scale)
