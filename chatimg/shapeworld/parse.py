"""Read shape-world attributes out of a caption or prompt (the inverse of the caption writer)."""

from __future__ import annotations

import re

from chatimg.shapeworld.scene import OPPOSITE, Scene, Shape
from chatimg.shapeworld.vocab import COLOURS, POSITIONS, SHAPES, SIZES, SYNONYMS

_BACKGROUND_NOUNS = {"background", "backdrop", "bg", "backgrounds", "backdrops"}
_BOUNDARIES = {",", ";", ":", "and", "plus", "with", "."}
_FILLER = {"a", "an", "the", "plain", "solid", "is", "of", "colour", "color", "coloured", "colored", ":"}
_EXTRA = {"circles": "circle", "squares": "square", "triangles": "triangle", "discs": "circle",
          "centred": "center", "centered": "center", "leftmost": "left", "rightmost": "right",
          "grey": None}


def _tokens(text: str) -> list[str]:
    words = re.findall(r"[a-z]+|[,;:.]", text.lower().replace("-hand", "").replace("-", " "))
    out = []
    for word in words:
        word = _EXTRA.get(word, word) if word in _EXTRA else word
        if word is None:
            continue
        out.append(SYNONYMS.get(word, word))
    return out


def _kind(token: str) -> str | None:
    if token in COLOURS:
        return "colour"
    if token in SHAPES:
        return "shape"
    if token in SIZES:
        return "size"
    if token in POSITIONS:
        return "position"
    return None


def _background_index(tokens: list[str]) -> int | None:
    """Index of the colour word that names the background, if any."""
    for i, token in enumerate(tokens):
        if token not in _BACKGROUND_NOUNS:
            continue
        j = i - 1
        while j >= 0 and tokens[j] in _FILLER:
            j -= 1
        if j >= 0 and tokens[j] in COLOURS:
            return j
        j = i + 1
        while j < len(tokens) and tokens[j] in _FILLER:
            j += 1
        if j < len(tokens) and tokens[j] in COLOURS:
            return j
    # "... on blue" / "against green" / "over red" with no noun after the colour.
    for i, token in enumerate(tokens[:-1]):
        if token in ("on", "against", "over") and tokens[i + 1] in COLOURS:
            nxt = tokens[i + 2] if i + 2 < len(tokens) else "."
            if _kind(nxt) not in ("shape", "size", "colour"):
                return i + 1
    return None


def parse_prompt(text: str, defaults: bool = False) -> Scene | None:
    """The scene a caption or prompt describes, or None if it is incomplete or no valid scene.

    With ``defaults=True`` missing attributes are filled in (size big, position center or
    the free side, background white or black) instead of giving up.
    """
    tokens = _tokens(text)
    bg_index = _background_index(tokens)
    background = tokens[bg_index] if bg_index is not None else None
    nouns = [i for i, t in enumerate(tokens) if t in SHAPES]
    if not nouns or len(nouns) > 2:
        return None
    clause = [0] * len(tokens)
    for i in range(1, len(tokens)):
        clause[i] = clause[i - 1] + (tokens[i - 1] in _BOUNDARIES)
    attrs: list[dict[str, str]] = [{"shape": tokens[i]} for i in nouns]
    for i, token in enumerate(tokens):
        kind = _kind(token)
        if kind in (None, "shape") or i == bg_index:
            continue
        same = [k for k in range(len(nouns)) if clause[nouns[k]] == clause[i]]
        before = [k for k in range(len(nouns)) if nouns[k] < i]
        if same:  # "a big red circle on the left": the noun of its own clause
            k = min(same, key=lambda k: (abs(nouns[k] - i), nouns[k] < i))
        elif before:  # "a circle that is red and big, on the left": the noun it follows
            k = max(before, key=lambda k: nouns[k])
        else:  # "at the top, a small square": the noun that comes next
            k = min(range(len(nouns)), key=lambda k: nouns[k])
        attrs[k].setdefault(kind, token)
    if defaults:
        taken = {a["position"] for a in attrs if "position" in a}
        for a in attrs:
            a.setdefault("size", "big")
            if "position" not in a:
                free = [p for p in ("center", "left", "right", "top", "bottom") if p not in taken]
                if len(attrs) == 2:
                    other = next((b.get("position") for b in attrs if b is not a), None)
                    free = [OPPOSITE.get(other, "left")] if other else ["left", "right"]
                    free = [f for f in free if f not in taken] or free
                a["position"] = free[0]
                taken.add(a["position"])
            a.setdefault("colour", "red")
        if background is None:
            used = {a["colour"] for a in attrs}
            background = next(c for c in ("white", "black", "blue") if c not in used)
    if background is None or any(len(a) != 4 for a in attrs):
        return None
    try:
        return Scene(background=background, shapes=tuple(Shape(**a) for a in attrs))
    except ValueError:
        return None


def complete_prompt(text: str) -> str | None:
    """The canonical prompt of the scene ``text`` describes, with the shape world's defaults for
    what it leaves unsaid (``parse_prompt(defaults=True)``), or None if it describes no scene.

    A painter trained on shape-world captions has only ever seen complete ones: asked for "a
    yellow square" it draws a small square anywhere on any backdrop, where the shape world (and
    its checker) mean a big one in the center on white. Completing the prompt first makes what
    it draws the documented default."""
    from chatimg.shapeworld.captions import canonical_prompt

    scene = parse_prompt(text, defaults=True)
    return canonical_prompt(scene) if scene is not None else None
