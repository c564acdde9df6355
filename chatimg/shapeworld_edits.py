"""Deterministic shape-world edits: parse the scene, apply what the message asks, write it back.

The built-in painter only knows the shape world (one or two coloured shapes on a coloured
background), and its prompts have one canonical phrasing. When the current prompt is a
shape-world scene, this module reads the request ("make the circle blue and move it left",
"add a small green triangle at the top", "remove the square") with the shared vocabulary,
applies it to the scene, and re-renders the canonical prompt, so attributes the user did not
touch are kept exactly. It is used both to answer directly and to check/repair an LLM's prompt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from chatimg.shapeworld.vocab import COLOURS, POSITIONS, SHAPES, SIZES, SYNONYMS

_EXTRA_SYNONYMS = {"circles": "circle", "squares": "square", "triangles": "triangle", "discs": "circle",
                   "dots": "circle", "balls": "circle", "boxes": "square", "blocks": "square",
                   "leftmost": "left", "rightmost": "right", "centred": "center", "centered": "center",
                   "grey": "grey", "gray": "grey", "larger": "bigger", "greater": "bigger",
                   "tinier": "smaller", "enlarge": "bigger", "grow": "bigger", "shrink": "smaller",
                   "colour": "colour", "color": "colour", "coloured": "colour", "colored": "colour",
                   "backdrop": "background", "bg": "background", "backgrounds": "background",
                   "top-left": "top", "up": "top", "down": "bottom", "above": "top", "below": "bottom",
                   "centre": "center", "middle": "center"}
_PIVOTS = ("to", "into", "with", "as", "so", "be")
_LOCATIVE = ("on", "at", "in", "near", "towards", "toward")
_REMOVE = {"remove", "delete", "erase", "without", "drop", "lose", "eliminate", "rid", "away", "out"}
_ADD = {"add", "insert", "include", "another", "also", "second", "new", "plus"}
_MOVE = {"move", "shift", "slide", "put", "place", "push", "drag", "position", "relocate", "bring"}
_SWAP = {"swap", "switch", "exchange", "flip", "trade"}
_ALL = {"both", "all", "everything", "each", "every"}
_ANCHORS = set(SHAPES) | {"it", "one", "shape", "shapes", "them", "thing", "object", "ones", "its"}
_CLAUSE_SPLIT = re.compile(r"\s*(?:,|;|\.|\bthen\b|\band then\b|\band also\b|\balso\b|\bplus\b|\band\b)\s*")

#: Words a shape-world message may use besides the vocabulary (to tell it from a general request).
_SHAPEWORLD_WORDS = set(COLOURS) | set(SHAPES) | set(SIZES) | set(POSITIONS) | set(SYNONYMS) | set(_EXTRA_SYNONYMS) | {
    "a", "an", "the", "of", "on", "at", "in", "to", "into", "and", "with", "it", "its", "one", "is", "be",
    "background", "side", "image", "picture", "drawing", "draw", "paint", "show", "make", "please", "now",
    "shape", "shapes", "bigger", "smaller", "plain", "solid", "me", "can", "you", "i", "want", "let", "lets",
    "instead", "change", "turn", "move", "put", "place", "add", "remove", "delete", "then", "half", "hand",
    "part", "upper", "lower", "colour", "another", "also", "both", "them", "that", "this", "there", "should",
    "just", "over", "against", "near", "corner", "edge", "a bit", "bit", "little", "more", "less", "so",
    "same", "but", "keep", "set", "give", "get", "rid", "swap", "switch", "for", "by", "replace", "only",
    "other", "new", "second", "recolour", "recolor", "backdrop", "where", "up", "down", "way", "like", "let's",
    "could", "would", "make", "made", "right", "left", "slightly", "much", "very", "has", "have", "too",
    "top", "bottom", "out", "away", "thing", "object", "all", "every", "each", "enlarge", "shrink", "grow"}
_STOP = {"please", "now", "can", "you", "could", "would", "i", "want", "let", "lets", "let's", "me",
         "just", "a", "bit", "little", "slightly", "much", "very", "instead", "also", "the", "an"}


def _tokens(text: str) -> list[str]:
    words = re.findall(r"[a-z]+", text.lower().replace("-hand", "").replace("-", " ").replace("'s", ""))
    out = []
    for word in words:
        word = _EXTRA_SYNONYMS.get(word, word)
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


@dataclass
class _Shape:
    shape: str
    colour: str
    size: str
    position: str


@dataclass
class ShapeEdit:
    """The result of applying a message to a scene."""

    prompt: str
    kinds: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    region: str = "whole"
    removed: list[str] = field(default_factory=list)


def is_shapeworld_prompt(prompt: str | None) -> bool:
    if not prompt:
        return False
    from chatimg.shapeworld.parse import parse_prompt

    return parse_prompt(prompt) is not None


def looks_like_shapeworld_request(message: str) -> bool:
    """A first message such as "a red circle on a blue background" (only shape-world words)."""
    words = re.findall(r"[a-z']+", message.lower().replace("-", " "))
    if not words:
        return False
    toks = _tokens(message)
    if not any(t in SHAPES for t in toks):
        return False
    unknown = [w for w in words if w not in _SHAPEWORLD_WORDS and SYNONYMS.get(w, w) not in _SHAPEWORLD_WORDS]
    return len(unknown) <= max(0, len(words) // 8)


def render(background: str, shapes: list[_Shape]) -> str:
    from chatimg.shapeworld.captions import POSITION_PHRASES

    ordered = sorted(shapes, key=lambda s: POSITIONS.index(s.position))
    body = " and ".join(f"a {s.size} {s.colour} {s.shape} {POSITION_PHRASES[s.position][0]}" for s in ordered)
    return f"{body}, on a {background} background"


def scene_of(prompt: str, defaults: bool = False) -> tuple[str, list[_Shape]] | None:
    from chatimg.shapeworld.parse import parse_prompt

    scene = parse_prompt(prompt, defaults=defaults)
    if scene is None:
        return None
    return scene.background, [_Shape(s.shape, s.colour, s.size, s.position) for s in scene.shapes]


def first_prompt(message: str) -> ShapeEdit | None:
    """The canonical prompt for a first shape-world message, defaults filled in."""
    if not looks_like_shapeworld_request(message):
        return None
    parsed = scene_of(message, defaults=True)
    if parsed is None:
        return None
    background, shapes = parsed
    return ShapeEdit(prompt=render(background, shapes), kinds=["new"], notes=["new scene"])


_OPPOSITE = {"left": "right", "right": "left", "top": "bottom", "bottom": "top", "center": "left"}


class _Editor:
    def __init__(self, background: str, shapes: list[_Shape]) -> None:
        self.background = background
        self.shapes = shapes
        self.last: _Shape | None = shapes[0] if len(shapes) == 1 else None
        self.kinds: list[str] = []
        self.notes: list[str] = []
        self.regions: list[str] = []
        self.removed: list[str] = []

    # -- target selection ----------------------------------------------------------------
    def _select(self, toks: list[str]) -> list[_Shape]:
        if any(t in _ALL for t in toks) and not any(t in SHAPES for t in toks if t != "shape"):
            return list(self.shapes)
        if any(t in _ALL for t in toks) and len({t for t in toks if t in SHAPES}) == 0:
            return list(self.shapes)
        scores = []
        for shape in self.shapes:
            score = 0
            for t in toks:
                if t == shape.shape or t == shape.colour or t == shape.position or t == shape.size:
                    score += 2 if t == shape.shape else 1
                elif t in SHAPES:
                    score -= 2
            scores.append(score)
        best = max(scores) if scores else 0
        if best <= 0:
            if self.last is not None and self.last in self.shapes:
                return [self.last]
            return [self.shapes[0]] if self.shapes else []
        winners = [s for s, sc in zip(self.shapes, scores) if sc == best]
        if len(winners) > 1 and self.last in winners:
            return [self.last]
        if any(t in _ALL for t in toks) and len(winners) > 1:
            return winners
        return winners[:1]

    # -- one clause ------------------------------------------------------------------------
    def apply(self, clause: str) -> bool:
        toks = [t for t in _tokens(clause) if t not in ("please", "now", "can", "you", "could", "would")]
        if not toks:
            return False
        if "background" in toks:
            return self._background(toks)
        if any(t in _SWAP for t in toks) and len(self.shapes) == 2:
            return self._swap(toks)
        is_remove = any(t in _REMOVE for t in toks) or ("get" in toks and "rid" in toks) or (
            toks[:1] == ["no"] and any(t in SHAPES for t in toks))
        if is_remove and not (("take" in toks or "move" in toks) and "away" not in toks and "out" not in toks and "remove" not in toks):
            return self._remove(toks)
        if self._is_add(toks):
            return self._add(toks)
        return self._modify(toks)

    def _is_add(self, toks: list[str]) -> bool:
        if any(t in ("add", "insert", "include", "another") for t in toks):
            return True
        shapes_named = [i for i, t in enumerate(toks) if t in SHAPES]
        if not shapes_named:
            return False
        i = shapes_named[0]
        before = toks[:i]
        existing = {s.shape for s in self.shapes}
        indefinite = any(t in ("a", "an", "second", "new") for t in before)
        verb = any(t in ("put", "place", "draw", "there", "want", "need", "give") for t in toks)
        if indefinite and verb and (toks[i] not in existing or len(self.shapes) == 1 and "another" in toks):
            # "put a red square on the right": a new shape unless it names the existing one
            desc = [t for t in before if _kind(t) in ("colour", "size")]
            matches = [s for s in self.shapes if s.shape == toks[i] and all(d in (s.colour, s.size) for d in desc)]
            return not matches
        return False

    def _background(self, toks: list[str]) -> bool:
        colours = [t for t in toks if t in COLOURS]
        new = [c for c in colours if c != self.background]
        if not new:
            return False
        colour = new[-1]
        self.background = colour
        # A shape cannot share the background's colour: nudge it to the old background's colour.
        self.kinds.append("background")
        self.notes.append(f"background → {colour}")
        self.regions.append("whole")
        return True

    def _swap(self, toks: list[str]) -> bool:
        a, b = self.shapes
        if any(t == "colour" for t in toks):
            a.colour, b.colour = b.colour, a.colour
            self.kinds.append("colour")
            self.notes.append("swapped colours")
        elif "size" in toks or "sizes" in toks:
            a.size, b.size = b.size, a.size
            self.kinds.append("size")
            self.notes.append("swapped sizes")
        else:
            a.position, b.position = b.position, a.position
            self.kinds.append("position")
            self.notes.append("swapped places")
        self.regions.append("whole")
        return True

    def _remove(self, toks: list[str]) -> bool:
        targets = self._select(toks)
        if not targets or len(self.shapes) < 2:
            return False
        target = targets[0]
        self.shapes.remove(target)
        self.last = self.shapes[0] if len(self.shapes) == 1 else None
        self.kinds.append("remove")
        self.notes.append(f"removed the {target.colour} {target.shape}")
        self.removed.append(f"{target.colour} {target.shape}")
        self.regions.append(target.position)
        return True

    def _add(self, toks: list[str]) -> bool:
        if len(self.shapes) >= 2:
            # replace the one the message does not protect? keep it simple: cannot add a third
            return False
        attrs: dict[str, str] = {}
        for t in toks:
            kind = _kind(t)
            if kind and kind not in attrs:
                attrs[kind] = t
        if "shape" not in attrs:
            return False
        other = self.shapes[0]
        position = attrs.get("position")
        if position is None or position == other.position:
            position = _OPPOSITE.get(other.position, "right")
            if other.position == "center":
                other.position = "left"
                position = "right"
        colour = attrs.get("colour") or next(c for c in ("red", "blue", "yellow", "green") if c not in (self.background, other.colour))
        new = _Shape(attrs["shape"], colour, attrs.get("size", "big"), position)
        # keep the pair on compatible sides (left/right or top/bottom)
        pairs = ({"left", "right"}, {"top", "bottom"})
        if {new.position, other.position} not in pairs:
            other.position = _OPPOSITE[new.position] if new.position != "center" else other.position
            if new.position == "center":
                new.position = _OPPOSITE.get(other.position, "right")
        self.shapes.append(new)
        self.last = new
        self.kinds.append("add")
        self.notes.append(f"added a {new.size} {new.colour} {new.shape}")
        self.regions.append(new.position)
        return True

    def _modify(self, toks: list[str]) -> bool:
        is_move = any(t in _MOVE for t in toks)
        # Split into the part naming the target and the part giving the new value.
        pivot = None
        for i in range(len(toks) - 1, -1, -1):
            if toks[i] in _PIVOTS and i > 0:
                pivot = i
                break
        if pivot is not None:
            selector, value = toks[:pivot], toks[pivot + 1:]
            if toks[pivot] == "with" and not any(t in ("replace", "swap", "exchange") for t in toks):
                selector, value = toks, []
        else:
            # "make the circle a square" / "make it a triangle": a shape word after an
            # indefinite article is the new value, not the target.
            def indefinite(i: int) -> bool:
                j = i - 1
                while j >= 0 and _kind(toks[j]) in ("colour", "size"):
                    j -= 1
                return j >= 0 and toks[j] in ("a", "an")
            anchors = [i for i, t in enumerate(toks) if t in _ANCHORS and not (t in SHAPES and indefinite(i))]
            cut = anchors[-1] + 1 if anchors else 0
            selector, value = toks[:cut], toks[cut:]
            # "the circle on the left": a locative position right after the target names it
            cleaned = []
            k = 0
            while k < len(value):
                if (value[k] in _LOCATIVE and not is_move and k + 1 < len(value)):
                    j = k + 1
                    while j < len(value) and value[j] in ("the", "a"):
                        j += 1
                    if j < len(value) and value[j] in POSITIONS:
                        selector.append(value[j])
                        k = j + 1
                        continue
                cleaned.append(value[k])
                k += 1
            value = cleaned
            if is_move and not any(_kind(t) == "position" for t in value):
                value = [t for t in toks if _kind(t) == "position"][-1:]
        changes: dict[str, str] = {}
        for t in value:
            kind = _kind(t)
            if kind:
                changes[kind] = t
            elif t in ("bigger",):
                changes["size"] = "big"
            elif t in ("smaller",):
                changes["size"] = "small"
        for t in toks:
            if t == "bigger" and "size" not in changes:
                changes["size"] = "big"
            elif t == "smaller" and "size" not in changes:
                changes["size"] = "small"
        if is_move and "position" not in changes:
            pos = [t for t in toks if t in POSITIONS]
            if pos:
                changes["position"] = pos[-1]
        if not changes:
            return False
        targets = self._select(selector)
        if not targets:
            return False
        changed = False
        for target in targets:
            for kind, new in changes.items():
                attr = "colour" if kind == "colour" else kind
                if kind == "position":
                    if new == target.position:
                        continue
                    other = next((s for s in self.shapes if s is not target), None)
                    if other is not None:
                        if other.position == new:
                            other.position = target.position
                        elif {new, other.position} not in ({"left", "right"}, {"top", "bottom"}):
                            other.position = _OPPOSITE[new] if new != "center" else other.position
                            if new == "center":
                                continue
                    target.position = new
                    changed = True
                    self.kinds.append("position")
                    self.notes.append(f"moved the {target.shape} to the {new}")
                    self.regions.append("whole")
                elif getattr(target, attr) != new:
                    setattr(target, attr, new)
                    changed = True
                    self.kinds.append(kind)
                    self.notes.append(f"{target.shape} {kind} → {new}")
                    self.regions.append(target.position)
                else:
                    changed = True  # already so: understood, nothing to change
            self.last = target
        return changed


def apply_message(prompt: str, message: str) -> ShapeEdit | None:
    """Apply ``message`` to the shape-world scene in ``prompt``; None if not a shape-world edit
    or not understood."""
    parsed = scene_of(prompt)
    if parsed is None:
        return None
    background, shapes = parsed
    editor = _Editor(background, shapes)
    text = message.lower()
    if re.search(r"\bswap|switch\b", text) and not re.search(r"\b(?:swap|switch)\s+\w+\s+(?:with|for)\b", text):
        clauses = [text]
    else:
        clauses = [c for c in _CLAUSE_SPLIT.split(text) if c and c.strip()]
    understood = 0
    for clause in clauses:
        if editor.apply(clause):
            understood += 1
    if not understood:
        return None
    # Repair colour clashes with the background.
    for s in editor.shapes:
        if s.colour == editor.background:
            s.colour = next(c for c in ("white", "black", "red", "blue") if c != editor.background and all(
                c != o.colour for o in editor.shapes))
    positions = [s.position for s in editor.shapes]
    if len(set(positions)) != len(positions):
        return None
    regions = set(editor.regions)
    region = regions.pop() if len(regions) == 1 else "whole"
    return ShapeEdit(prompt=render(editor.background, editor.shapes), kinds=editor.kinds, notes=editor.notes,
                     region=region, removed=editor.removed)


def check_llm_prompt(candidate: str, expected: str) -> bool:
    """Whether an LLM's prompt describes the same scene as the deterministic result."""
    got = scene_of(candidate)
    want = scene_of(expected)
    return got is not None and want is not None and got == want
