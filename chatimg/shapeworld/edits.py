"""Deterministic shape-world edits: parse the scene, apply what the message asks, write it back.

The built-in painter only knows the shape world (one or two coloured shapes on a coloured
background), and its prompts have one canonical phrasing. When the current prompt is a
shape-world scene, this module reads the request ("make the circle blue and move it left",
"add a small green triangle at the top", "remove the square") with the shared vocabulary,
applies it to the scene, and re-renders the canonical prompt, so attributes the user did not
touch are kept exactly. It is used both to answer directly and to check/repair an LLM's prompt.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from chatimg.core.model import format_moves
from chatimg.shapeworld.parse import _kind
from chatimg.shapeworld.regions import BACKGROUND, WHOLE, edit_region
from chatimg.shapeworld.scene import COMPATIBLE_POSITIONS, OPPOSITE, Scene, Shape, room_for
from chatimg.shapeworld.vocab import COLOURS, POSITIONS, SHAPES, SIZES, SYNONYMS

_EXTRA_SYNONYMS = {"circles": "circle", "squares": "square", "triangles": "triangle", "discs": "circle",
                   "dots": "circle", "balls": "circle", "boxes": "square", "blocks": "square",
                   "leftmost": "left", "rightmost": "right", "centred": "center", "centered": "center",
                   "grey": "grey", "gray": "grey", "larger": "bigger", "greater": "bigger",
                   "tinier": "smaller", "enlarge": "bigger", "grow": "bigger", "shrink": "smaller",
                   "colour": "colour", "color": "colour", "coloured": "colour", "colored": "colour",
                   "colours": "colour", "colors": "colour", "sizes": "size", "places": "position",
                   "positions": "position", "spots": "position", "sides": "position",
                   "backdrop": "background", "bg": "background", "backgrounds": "background",
                   "top-left": "top", "up": "top", "down": "bottom", "above": "top", "below": "bottom",
                   "under": "bottom", "underneath": "bottom", "beneath": "bottom",
                   "centre": "center", "middle": "center", "rightwards": "right", "rightward": "right",
                   "leftwards": "left", "leftward": "left", "upwards": "top", "upward": "top",
                   "downwards": "bottom", "downward": "bottom", "recolor": "recolour",
                   "raise": "top", "lift": "top", "higher": "top", "mirror": "flip",
                   "increase": "bigger", "expand": "bigger", "magnify": "bigger", "upsize": "bigger", "maximize": "bigger",
                   "decrease": "smaller", "reduce": "smaller", "minimize": "smaller", "downsize": "smaller",
                   "duplicate": "copy", "clone": "copy", "recolour": "recolour"}
_PIVOTS = ("to", "into", "with", "as", "so", "be")
_LOCATIVE = ("on", "at", "in", "near", "towards", "toward")
_REMOVE = {"remove", "delete", "erase", "without", "drop", "lose", "eliminate", "rid", "away", "out", "ditch",
           "scrap", "discard", "trash", "anymore", "vanish", "disappear", "gone"}
_ADD = {"add", "insert", "include", "another", "also", "second", "new", "plus"}
_MOVE = {"move", "shift", "slide", "put", "place", "push", "drag", "relocate", "bring", "goes", "go",
         "sit", "sits", "moved", "placed", "belongs", "send", "nudge", "return"}
_SWAP = {"swap", "switch", "exchange", "flip", "trade"}
#: Words that make "a <shape>" a shape to add ("throw in a red square", "a small circle too").
_ADD_CUES = {"throw", "pop", "stick", "chuck", "toss"}
_ADDING = re.compile(r"\b(?:as well|too|also|plus|in addition)\b|^\s*and\b", re.I)
#: ... unless the message changes something ("make it a square too", "turn the circle into a square as well").
_CHANGE_VERBS = {"make", "turn", "change", "it", "into", "become", "becomes", "instead", "replace", "swap", "paint",
                 "recolour", "recolor", "should", "be"}
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
    "could", "would", "made", "right", "left", "slightly", "much", "very", "has", "have", "too",
    "top", "bottom", "out", "away", "thing", "object", "all", "every", "each", "enlarge", "shrink", "grow",
    "simple", "flat", "illustration", "minimalist", "minimal", "vector", "clean", "geometric", "art", "style",
    "digital", "render", "graphic", "icon", "sits", "there's", "theres", "two"}
_STOP = {"please", "now", "can", "you", "could", "would", "i", "want", "let", "lets", "let's", "me",
         "just", "a", "bit", "little", "slightly", "much", "very", "instead", "also", "the", "an"}


def _tokens(text: str) -> list[str]:
    words = re.findall(r"[a-z]+", text.lower().replace("-hand", "").replace("-", " ").replace("'s", ""))
    out = []
    for word in words:
        word = _EXTRA_SYNONYMS.get(word, word)
        out.append(SYNONYMS.get(word, word))
    return out


@dataclass
class _Shape:
    shape: str
    colour: str
    size: str
    position: str
    show_size: bool = True
    show_position: bool = True

    def key(self) -> tuple[str, str, str, str]:
        return (self.shape, self.colour, self.size, self.position)


@dataclass
class ShapeEdit:
    """The result of applying a message to a scene."""

    prompt: str
    kinds: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    region: str = "whole"
    removed: list[str] = field(default_factory=list)
    #: An honest sentence for what could not be done as asked ("the painter has no darker red"),
    #: said after (or instead of) the notes; None when everything asked was done.
    reply: str | None = None


def is_shapeworld_prompt(prompt: str | None) -> bool:
    """A prompt the shape world can represent: a strict parse, or only shape-world words."""
    if not prompt:
        return False
    from chatimg.shapeworld.parse import parse_prompt

    if parse_prompt(prompt) is not None:
        return True
    return looks_like_shapeworld_request(prompt) and scene_of(prompt) is not None


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


def _an(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def render(background: str | None, shapes: list[_Shape]) -> str:
    """Canonical phrasing (``chatimg.shapeworld.captions.canonical_prompt``); attributes the
    prompt never said (no size, no position, no background) stay unsaid."""
    from chatimg.shapeworld.captions import POSITION_PHRASES

    ordered = sorted(shapes, key=lambda s: POSITIONS.index(s.position))
    parts = []
    for s in ordered:
        words = ([s.size] if s.show_size else []) + [s.colour, s.shape]
        text = f"{_an(words[0])} {' '.join(words)}"
        if s.show_position:
            text += f" {POSITION_PHRASES[s.position][0]}"
        parts.append(text)
    body = " and ".join(parts)
    return f"{body}, on {_an(background)} {background} background" if background else body


def scene_of(prompt: str, defaults: bool = True) -> tuple[str | None, list[_Shape]] | None:
    """(background or None when unsaid, shapes) of a shape-world prompt, or None.

    Attributes the prompt does not say are filled with defaults (as the painter would) but
    marked unsaid, so re-rendering does not invent them."""
    from chatimg.shapeworld import parse as sw_parse

    strict = sw_parse.parse_prompt(prompt)
    scene = strict or (sw_parse.parse_prompt(prompt, defaults=True) if defaults else None)
    if scene is None:
        return None
    tokens = sw_parse._tokens(prompt)
    if len([t for t in tokens if t in SHAPES]) != len(scene.shapes):
        return None
    bg_index = sw_parse._background_index(tokens)
    has_bg = strict is not None or bg_index is not None
    said = _said_attributes(tokens, bg_index)
    shapes = []
    for s in scene.shapes:
        # which noun is this shape? the one whose said attributes agree with it
        flags = next((f for f in said if f["shape"] == s.shape and f.get("colour") in (None, s.colour)
                      and f.get("position") in (None, s.position)), {})
        shapes.append(_Shape(s.shape, s.colour, s.size, s.position,
                             strict is not None or "size" in flags, strict is not None or "position" in flags))
    return (scene.background if has_bg else None), shapes


def _said_attributes(tokens: list[str], bg_index: int | None) -> list[dict[str, str]]:
    """Per shape noun, the attributes the text states (the caption parser's assignment rule)."""
    from chatimg.shapeworld import parse as sw_parse

    nouns = [i for i, t in enumerate(tokens) if t in SHAPES]
    clause = [0] * len(tokens)
    for i in range(1, len(tokens)):
        clause[i] = clause[i - 1] + (tokens[i - 1] in sw_parse._BOUNDARIES)
    attrs = [{"shape": tokens[i]} for i in nouns]
    for i, token in enumerate(tokens):
        kind = _kind(token)
        if kind in (None, "shape") or i == bg_index or not nouns:
            continue
        k = min(range(len(nouns)), key=lambda k: (clause[nouns[k]] != clause[i], abs(nouns[k] - i), nouns[k] < i))
        attrs[k].setdefault(kind, token)
    return attrs


def first_prompt(message: str) -> ShapeEdit | None:
    """The canonical prompt for a first shape-world message, defaults filled in."""
    if not looks_like_shapeworld_request(message):
        return None
    parsed = scene_of(message, defaults=True)
    if parsed is None:
        return None
    background, shapes = parsed
    # Say only what the person said (the painter fills the rest as the parser's defaults do):
    # inventing "big" now would be wrong after "make it big" + "undo".
    return ShapeEdit(prompt=render(background, shapes), kinds=["new"], notes=["new scene"])


_OPPOSITE = {**OPPOSITE, "center": "left"}

#: "darker" / "lighter" words (True: darker).
_SHADES = {"darker": True, "dark": True, "deeper": True, "dimmer": True, "darken": True, "duller": True,
           "lighter": False, "light": False, "paler": False, "pale": False, "lighten": False, "brighter": False,
           "brighten": False}
_PALETTE = "it knows red, orange, yellow, green, blue, purple, white and black"
#: Verbs that make "out" a removal ("take the square out"), unlike "spread them out".
_OUT_VERBS = {"take", "get", "leave", "cut", "throw", "kick", "knock", "wipe", "rub", "cross", "pull", "keep", "rid"}


def _removal(toks: list[str]) -> bool:
    words = {t for t in toks if t in _REMOVE}
    if words == {"out"} and not (_OUT_VERBS & set(toks) or "out of" in " ".join(toks)):
        return False
    return bool(words)


def shade(colour: str, darker: bool, avoid: set[str] = frozenset()) -> str | None:
    """The painter colour of about the same hue (within 45°) that is darker (lighter) than ``colour``,
    nearest in hue; None when there is none (red has no darker painter colour, yellow's is orange)."""
    import colorsys

    def luminance(c: str) -> float:
        r, g, b = COLOURS[c]
        return 0.299 * r + 0.587 * g + 0.114 * b

    def hue(c: str) -> float:
        return colorsys.rgb_to_hls(*(v / 255 for v in COLOURS[c]))[0]

    if colour in ("white", "black") or colour not in COLOURS:
        return None
    best, dist = None, 0.125
    for c in COLOURS:
        if c in ("white", "black", colour) or c in avoid:
            continue
        if (luminance(c) < luminance(colour)) != darker:
            continue
        d = min(abs(hue(c) - hue(colour)), 1 - abs(hue(c) - hue(colour)))
        if d <= dist:
            best, dist = c, d
    return best


class _Editor:
    def __init__(self, background: str, shapes: list[_Shape]) -> None:
        self.background = background
        self.shapes = shapes
        self.last: _Shape | None = shapes[0] if len(shapes) == 1 else None
        self.kinds: list[str] = []
        self.notes: list[str] = []
        self.removed: list[str] = []
        self.replies: list[str] = []

    def _record(self, kind: str, note: str) -> None:
        """One change made: its kind (for the painter's region and strength) and a note for the reply."""
        self.kinds.append(kind)
        self.notes.append(note)

    def _make_room(self, other: _Shape, side: str, *, say_place: bool = True) -> None:
        """``other`` moves to ``side`` (``room_for``) so a second shape can pair with it; the reply
        says so. ``say_place=False`` leaves an unsaid place unsaid (``side`` is then its default)."""
        other.position = side
        other.show_position = other.show_position or say_place
        self._record("position", f"moved the {other.shape} to the {side} to make room")

    # -- target selection ----------------------------------------------------------------
    def _select(self, toks: list[str]) -> list[_Shape]:
        if "other" in toks and len(self.shapes) == 2:
            if self.last in self.shapes:
                return [s for s in self.shapes if s is not self.last]
            named = [s for s in self.shapes if any(t in (s.shape, s.colour) for t in toks)]
            if len(named) == 1:
                return [s for s in self.shapes if s is not named[0]]
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
    def apply(self, clause: str, adding: bool = False) -> bool:
        """Apply one clause; ``adding``: the message said "too", "as well", "plus" or began with
        "and", so a shape it names with "a" is a new one."""
        clause = re.sub(r"\b(?:as well|too|also|please|now)\b", " ", clause.lower())
        toks = [t for t in _tokens(clause) if t not in ("please", "now", "can", "you", "could", "would")]
        if not toks:
            return False
        if "background" in toks:
            return self._background(toks)
        text = " ".join(toks)
        if self._same_for_both(toks) or self._sizes_known(toks) or self._negated_colour(text):
            return True
        if any(t in _SWAP for t in toks) and len(self.shapes) == 2 and not re.search(
                r"\b(?:switch|flip|trade)\b.*\b(?:to|into)\s+(?:an?\s+)?(?:" + "|".join(list(COLOURS) + list(SHAPES) + list(SIZES)) + r")\b",
                text):  # "switch the square to orange" is a change, not a swap
            return self._swap(toks)
        if "flip" in toks and len(self.shapes) == 1:
            return self._flip(toks)
        if self._invert(toks) or self._stack(toks) or self._move_anywhere(toks) or self._surprise(text):
            return True
        keep_only = re.search(r"\b(?:only|just) keep\b|\bkeep only\b|\bkeep just\b", text)
        if keep_only and len(self.shapes) == 2:
            kept = self._select(toks)
            if len(kept) == 1:
                return self._remove([t for t in toks if t != "other"] + ["other"], target=[s for s in self.shapes if s is not kept[0]][0])
        is_remove = _removal(toks) or ("get" in toks and "rid" in toks) or (
            toks[:1] == ["no"] and any(t in SHAPES for t in toks)) or re.search(
            r"\b(?:don t|do not|no longer) (?:want|need)\b", text) is not None
        if is_remove and not (("take" in toks or "move" in toks) and "away" not in toks and "out" not in toks and "remove" not in toks):
            return self._remove(toks)
        if self._shape_instead(toks):
            return True
        if self._is_add(toks, adding):
            return self._add(toks, asked=adding or bool(_ADD_CUES & set(toks)))
        return self._shade(toks) or self._copy_attribute(toks) or self._modify(toks) or self._new_colour(toks, clause)

    # -- what the painter cannot do exactly, said honestly ------------------------------------
    def _same_for_both(self, toks: list[str]) -> bool:
        """"same colour for both", "make them the same size", "make the square the same colour":
        one shape takes the other's value (the shape named, else the one not changed last)."""
        text = " ".join(toks)
        match = re.search(r"\bsame (?P<k>colour|size|shape)\b(?!\s+(?:as|of)\b)", text) or \
            re.search(r"\b(?:make|let) (?:them|both|the two)(?: shapes?)? match$|\bmatching colours?$", text)
        if match is None or len(self.shapes) != 2 or _REVERT_CUE.search(text) or \
                re.search(r"\b(?:keep|kept|but|still|stay|stays|leave|unchanged|otherwise)\b", text):
            return False  # "keep the same colour but move it": the value stays, something else changes
        kind = match.groupdict().get("k") or "colour"
        named = [s for s in self.shapes if s.shape in toks and sum(x.shape == s.shape for x in self.shapes) == 1
                 or s.colour in toks and kind != "colour"]
        both = any(t in _ALL or t in ("them", "two") for t in toks)
        if not both and not (len(named) == 1 and toks[0] in ("make", "give", "turn", "set", "change", "paint")):
            return False
        if len(named) == 1 and not both:
            target = named[0]
            source = next(s for s in self.shapes if s is not target)
        else:
            source = self.last if self.last in self.shapes else self.shapes[0]
            target = next(s for s in self.shapes if s is not source)
        return self._copy(source, target, kind)

    def _copy(self, source: _Shape, target: _Shape, kind: str) -> bool:
        """Give ``target`` the ``source`` shape's ``kind`` (colour or size)."""
        value = getattr(source, kind)
        if getattr(target, kind) != value:
            setattr(target, kind, value)
            if kind == "size":
                target.show_size = source.show_size = True
            self._record(kind, f"{target.shape} {kind} → {value}")
        self.last = target
        return True

    def _sizes_known(self, toks: list[str]) -> bool:
        """"medium size", "normal sized": the painter draws two sizes only; say so."""
        text = " ".join(toks)
        if not re.search(r"\b(?:medium|normal|regular|average|moderate|mid|standard|default)(?: size| sized| sizes)\b|"
                         r"\bmedium\b", text):
            return False
        target = self._select(toks)
        if not target:
            return False
        shape = target[0]
        self.replies.append(f"The painter draws only two sizes, small and big; the {shape.shape} is {shape.size}.")
        return True

    def _unused_colour(self, avoid: set[str] = frozenset()) -> str | None:
        used = {self.background} | {x.colour for x in self.shapes} | set(avoid)
        return next((c for c in ("red", "blue", "yellow", "green", "purple", "orange", "white", "black")
                     if c not in used and c in COLOURS), None)

    def _negated_colour(self, text: str) -> bool:
        """"not red", "i don't like the red", "anything but red", "less red": a colour no other part uses."""
        match = re.search(r"\b(?:not|no more|don t like|dont like|do not like|hate|anything but|other than|"
                          r"less|except|not so|rather not have)\s+(?:the\s+|so\s+|any\s+)?(?P<c>"
                          + "|".join(COLOURS) + r")\b(?!\s+(?:" + "|".join(SHAPES) + r"|one)\s+but)", text)
        if match is None:
            return False
        colour = match.group("c")
        if any(t in COLOURS and t != colour for t in _tokens(text)) or _REVERT_CUE.search(text):
            return False  # "blue, not red" / "not red but blue": a plain edit
        toks = _tokens(text)
        holders = [s for s in self.shapes if s.colour == colour]
        named = [t for t in toks if t in SHAPES or t in ("it", "one")]
        targets = self._select(named) if named else holders
        targets = [s for s in targets if s.colour == colour] or (holders if not named else [])
        if not targets:
            if self.background == colour:
                new = self._unused_colour()
                if new is None:
                    return False
                self.background = new
                self._record("background", f"background → {new}")
                return True
            return not holders  # nothing is that colour (any more): already as asked
        for target in targets:
            new = self._unused_colour({colour})
            if new is None:
                return False
            target.colour = new
            self._record("colour", f"{target.shape} colour → {new}")
            self.last = target
        return True

    def _invert(self, toks: list[str]) -> bool:
        """"invert the colours" / "opposite colours": every colour becomes its opposite on the colour wheel."""
        if not (("invert" in toks or "inverse" in toks or "opposite" in toks or "complementary" in toks) and
                ("colour" in toks or "invert" in toks)):
            return False
        opposite = {"red": "green", "green": "red", "blue": "orange", "orange": "blue", "yellow": "purple",
                    "purple": "yellow", "white": "black", "black": "white"}
        for shape in self.shapes:
            shape.colour = opposite[shape.colour]
            self._record("colour", f"{shape.shape} colour → {shape.colour}")
        if self.background:
            self.background = opposite[self.background]
            self._record("background", f"background → {self.background}")
        return True

    def _stack(self, toks: list[str]) -> bool:
        """"stack them vertically" / "put them side by side": two shapes go top/bottom or left/right."""
        text = " ".join(toks)
        if len(self.shapes) != 2 or not re.search(r"\b(?:stack|vertical(?:ly)?|horizontal(?:ly)?|side by side|on top of each other|"
                                                  r"one above the other|in a row|next to each other|in a column|line (?:them |it )?top|"
                                                  r"line them|align(?: them)?)\b", text):
            return False
        vertical = re.search(r"\b(?:stack|vertical(?:ly)?|on top of each other|one above the other|in a column)\b", text) is not None
        first, second = ("top", "bottom") if vertical else ("left", "right")
        if {s.position for s in self.shapes} == {first, second}:
            return True  # already so
        a, b = sorted(self.shapes, key=lambda x: POSITIONS.index(x.position))
        for shape, pos in ((a, first), (b, second)):
            shape.position, shape.show_position = pos, True
            self._record("position", f"moved the {shape.shape} to the {pos}")
        return True

    def _move_anywhere(self, toks: list[str]) -> bool:
        """"move it", "move it somewhere else", "off centre", "other side": to the other side (the centre goes left)."""
        text = " ".join(toks)
        if not re.search(r"^(?:move|shift|put|place|nudge|relocate)\s+(?:it|the \w+)(?:\s+(?:somewhere else|elsewhere|"
                         r"somewhere|away|off center|else|around|over))?$|\b(?:off center|not in the center|not centered|"
                         r"somewhere else|elsewhere)$|^(?:(?:move|put|shift)\s+(?:it|the \w+)\s+)?(?:to\s+|on\s+)?"
                         r"(?:the\s+)?other (?:position|side)$", text):
            return False
        targets = self._select(toks)
        if len(targets) != 1:
            return False
        target = targets[0]
        others = {s.position for s in self.shapes if s is not target}
        new = next((p for p in (_OPPOSITE.get(target.position, "left"), "left", "right", "top", "bottom")
                    if p != target.position and p not in others), None)
        if new is None or (others and frozenset((new, *others)) not in COMPATIBLE_POSITIONS):
            return False
        target.position, target.show_position = new, True
        self._record("position", f"moved the {target.shape} to the {new}")
        self.last = target
        return True

    def _surprise(self, text: str) -> bool:
        """"surprise me", "change everything", "make it look different": new colours the scene does not use."""
        if not re.search(r"^(?:surprise me|change (?:everything|it all|all of it|something|anything)|"
                         r"make (?:it|everything) (?:look )?different|something (?:else|different|new)|"
                         r"(?:do|try) something (?:else|different|new|random)|randomi[sz]e(?: it| everything)?)$", text):
            return False
        for shape in self.shapes:
            new = self._unused_colour()
            if new is None:
                return False
            shape.colour = new
            self._record("colour", f"{shape.shape} colour → {new}")
        return True

    def _flip(self, toks: list[str]) -> bool:
        """"flip it" / "mirror it": left and right trade (top and bottom when it says vertically / upside down)."""
        shape = self.shapes[0]
        vertical = any(t in ("upside", "vertically", "vertical", "top", "bottom") for t in toks)
        pairs = {"top": "bottom", "bottom": "top"} if vertical else {"left": "right", "right": "left"}
        new = pairs.get(shape.position)
        if new is None:
            self.replies.append(f"The {shape.shape} is {'in the center' if shape.position == 'center' else 'at the ' + shape.position}, "
                                "so flipping the picture would look the same.")
            return True
        shape.position, shape.show_position = new, True
        self._record("position", f"moved the {shape.shape} to the {new}")
        return True

    def _shape_instead(self, toks: list[str]) -> bool:
        """"square instead", "i want a triangle instead" with one shape: its shape changes (not a second
        shape). With two shapes the redirect and edit rules read "instead" (they know which change it undoes)."""
        if "instead" not in toks or "of" in toks or len(self.shapes) != 1 or \
                any(t in ("add", "another", "second", "also", "plus") for t in toks) or _REVERT_CUE.search(" ".join(toks)):
            return False
        new = {t for t in toks if t in SHAPES and t != self.shapes[0].shape}
        if len(new) != 1:
            return False
        target = self.shapes[0]
        old, target.shape = target.shape, new.pop()
        for t in toks:  # "a big blue square instead"
            if _kind(t) in ("colour", "size") and t != self.background:
                setattr(target, _kind(t), t)
                target.show_size = target.show_size or _kind(t) == "size"
        self._record("shape", f"{old} shape → {target.shape}")
        self.last = target
        return True

    def _shade(self, toks: list[str], background: bool = False) -> bool:
        """"make the circle darker" / "a lighter background": the nearest painter colour of about the
        same hue that is darker (lighter); when there is none, say so and leave it."""
        words = [t for t in toks if t in _SHADES]
        # a colour word may name what is there already ("a darker red", "the red one lighter");
        # any other is a new colour ("dark blue" for a red circle: blue)
        there = {self.background} if background else {s.colour for s in self.shapes}
        if not words or any(t in COLOURS and t not in there for t in toks):
            return False
        darker = _SHADES[words[-1]]
        adjective = "darker" if darker else "lighter"
        if background:
            old = self.background
            new = shade(old, darker, {s.colour for s in self.shapes})
            if new is None:
                self.replies.append(f"The painter has no {adjective} {old} ({_PALETTE}), so the background stays {old}.")
                return True
            self.background = new
            self._record("background", f"background → {new}")
            self.replies.append(f"{new.capitalize()} is the nearest {adjective} colour the painter knows.")
            return True
        targets = self._select([t for t in toks if t not in _SHADES])
        if not targets:
            return False
        for target in targets:
            old = target.colour
            new = shade(old, darker, {self.background})
            if new is None:
                self.replies.append(f"The painter has no {adjective} {old} ({_PALETTE}), so the {target.shape} stays {old}.")
            else:
                target.colour = new
                self._record("colour", f"{target.shape} colour → {new}")
                self.replies.append(f"{new.capitalize()} is the nearest {adjective} colour the painter knows.")
            self.last = target
        return True

    def _named_and_other(self, match: re.Match) -> tuple[_Shape, _Shape] | None:
        """In a two-shape scene: the one shape the match's ``ref``/``ref2`` words name, and the other."""
        refs = {match.group("ref"), match.group("ref2")}
        named = [s for s in self.shapes if refs & {s.shape, s.colour}]
        if len(self.shapes) != 2 or len(named) != 1:
            return None
        return named[0], next(s for s in self.shapes if s is not named[0])

    def _copy_attribute(self, toks: list[str]) -> bool:
        """"make the square the same colour as the circle", "make it the size of the square"."""
        text = " ".join(toks)
        match = re.search(r"\b(?:same (?P<a>colour|size|shape) as|(?P<b>colour|size|shape) of|as (?P<c>big|small) as|"
                          r"match(?:es)?|like)\s+(?:the\s+)?(?P<ref>\w+)(?:\s+(?P<ref2>\w+))?$", text)
        if match and match.group("ref") == "background" and not match.group("c") and \
                (match.group("a") or match.group("b") or "colour") == "colour":
            target = self._select([t for t in toks if t in SHAPES or t in ("it", "one")])
            if target:
                self.replies.append("A shape can't have the background's colour (it would disappear), "
                                    f"so the {target[0].shape} stays {target[0].colour}.")
                return True
        if match and any(t in ("bigger", "smaller") for t in toks):
            return False  # "increase the size of the square" is a resize, not a copy
        if match and re.search(r"\b(?:i d|i|we|would|you d|d) like\b", text) and not match.group("a") and not match.group("b"):
            return False  # "i'd like the square orange" is a wish, not "like the square"
        pair = self._named_and_other(match) if match else None
        if pair is None:
            return False
        source, target = pair
        kind = match.group("a") or match.group("b") or ("size" if match.group("c") else "colour")
        return self._copy(source, target, kind)

    def _new_colour(self, toks: list[str], text: str = "") -> bool:
        """"recolour the circle", "a different colour for the square": a colour no other part uses
        ("recolour everything": one for each shape)."""
        if not ({"recolour", "different", "another", "new", "other", "change", "random", "some", "any", "whatever",
                 "else"} & set(toks) and "colour" in toks or
                toks[:1] == ["recolour"]) or any(t in COLOURS for t in toks) or _REVERT_CUE.search(" ".join(toks)):
            return False
        named = [t for t in toks if t in SHAPES or t in ("it", "one")]
        # "recolour everything", "give them new colours": every shape, none keeping an old colour
        every = not named and (any(t in _ALL or t in ("them", "shapes") for t in toks) or
                               re.search(r"\bcolou?rs\b", text) is not None)
        targets = self.shapes if every else self._select(named)
        if len(targets) != 1 and not every:
            return False
        old = {s.colour for s in targets}
        for target in targets:
            colour = self._unused_colour(old)
            if colour is None:
                return False
            target.colour = colour
            self._record("colour", f"{target.shape} colour → {colour}")
            self.last = target
        return True

    def _is_add(self, toks: list[str], adding: bool = False) -> bool:
        if any(t in ("add", "insert", "include", "another") for t in toks):
            return True
        if "copy" in toks and len(self.shapes) == 1 and not any(t in SHAPES and t != self.shapes[0].shape for t in toks):
            return True  # "duplicate it", "clone the triangle"
        shapes_named = [i for i, t in enumerate(toks) if t in SHAPES]
        if not shapes_named:
            return False
        i = shapes_named[0]
        before = toks[:i]
        existing = {s.shape for s in self.shapes}
        if not any(t in ("a", "an", "second", "new") for t in before):
            return False
        # "and a tiny green pyramid at the top as well", "throw in a red square", "plus a small
        # circle": a word that adds and no verb that changes
        adds = (adding or bool(_ADD_CUES & set(toks))) and not _CHANGE_VERBS & set(toks)
        # "put a red square on the right": a verb that places a kind of shape not there yet
        places = any(t in ("put", "place", "draw", "there", "want", "need", "give") for t in toks) and (
            toks[i] not in existing or len(self.shapes) == 1 and "another" in toks)
        if adds or places:
            # a new shape unless it names the existing one
            desc = [t for t in before if _kind(t) in ("colour", "size")]
            matches = [s for s in self.shapes if s.shape == toks[i] and all(d in (s.colour, s.size) for d in desc)]
            return not matches
        return False

    def _background(self, toks: list[str]) -> bool:
        colours = [t for t in toks if t in COLOURS]
        if not colours and ({"recolour", "different", "another", "new", "random", "change", "other"} & set(toks)) and \
                not any(t in SHAPES for t in toks) and not _REVERT_CUE.search(" ".join(toks)) and \
                ("colour" in toks or "recolour" in toks or toks[:2] == ["change", "the"] or toks[:1] == ["change"]):
            new = self._unused_colour()  # "recolor the backdrop", "a different background colour"
            if new is not None:
                self.background = new
                self._record("background", f"background → {new}")
                return True
        if not colours and self._shade(toks, background=True):
            return True
        if not colours and any(t in SHAPES for t in toks) and \
                re.search(r"\b(?:same|match|matches|like)\b", " ".join(toks)):
            # "the background the same colour as the square": the shape would vanish
            self.replies.append("A shape can't have the background's colour (it would disappear), "
                                f"so the background stays {self.background}.")
            return True
        new = [c for c in colours if c != self.background]
        if not new:
            return bool(colours)  # already that colour: understood, nothing to change
        colour = new[-1]
        self.background = colour
        # A shape cannot share the background's colour: nudge it to the old background's colour.
        self._record("background", f"background → {colour}")
        return True

    def _swap(self, toks: list[str]) -> bool:
        a, b = self.shapes
        if any(t == "colour" for t in toks):
            a.colour, b.colour = b.colour, a.colour
            self._record("colour", "swapped colours")
        elif "size" in toks or "sizes" in toks:
            a.size, b.size = b.size, a.size
            self._record("size", "swapped sizes")
        else:
            a.position, b.position = b.position, a.position
            self._record("position", "swapped places")
        return True

    def _remove(self, toks: list[str], target: _Shape | None = None) -> bool:
        targets = [target] if target is not None else self._select(toks)
        if not targets:
            return False
        everything = target is None and any(t in ("them", "shapes", "everything", "all", "both") for t in toks) and \
            not any(t in SHAPES or t in COLOURS for t in toks)
        if len(self.shapes) < 2 or len(targets) > 1 or everything:
            # the painter always draws a shape: say so rather than remove one of two, or invent an empty scene
            if len(self.shapes) < 2:
                self.replies.append(f"The painter always draws at least one shape, so the {self.shapes[0].colour} "
                                    f"{self.shapes[0].shape} stays; I can change its colour, size, shape or place, "
                                    "or say 'start over' with a new description.")
            else:
                self.replies.append("The painter always draws at least one shape, so I can't remove both; "
                                    "say which one to keep, or 'start over' with a new description.")
            return True
        target = targets[0]
        self.shapes.remove(target)
        self.last = self.shapes[0] if len(self.shapes) == 1 else None
        self._record("remove", f"removed the {target.colour} {target.shape}")
        self.removed.append(f"{target.colour} {target.shape}")
        return True

    def _add(self, toks: list[str], asked: bool = False) -> bool:
        """Add the shape ``toks`` describe; ``asked``: the message plainly adds one ("... too")."""
        if len(self.shapes) >= 2:
            # the painter draws at most two shapes: say so (a third would not be painted)
            if not asked and not any(t in ("add", "insert", "include", "another", "copy") for t in toks):
                return False
            new = next((t for t in toks if t in SHAPES), "shape")
            if new == "shape" and _UNSUPPORTED.search(" ".join(toks)):
                self.replies.append(_FLAT_ONLY)
                return True
            self.replies.append(f"The painter draws at most two shapes, so I didn't add {_an(new)} {new}; "
                                f"remove one first, or say e.g. 'replace the {self.shapes[-1].shape} with {_an(new)} {new}'.")
            return True
        attrs: dict[str, str] = {}
        for t in toks:
            kind = _kind(t)
            if kind and kind not in attrs:
                attrs[kind] = t
        other = self.shapes[0]
        if "shape" not in attrs:
            if not {"another", "one", "second", "copy", "same", "it"} & set(toks):
                return False
            # "add another one": a copy of the shape that is there, where there is room
            attrs["shape"] = other.shape
            attrs.setdefault("colour", other.colour)
            attrs.setdefault("size", other.size)
        text = " ".join(toks)
        # "add a square the same size as the circle": the attribute is copied, not a default
        if re.search(r"\b(?:same size|size of|as big as|as small as)\b", text):
            attrs["size"] = other.size
        if re.search(r"\bsame colou?r\b|\bcolou?r of\b", text):
            attrs["colour"] = other.colour
        position = attrs.get("position")
        room = room_for(position, other.position)
        if room is not None:
            # Two shapes share a picture side by side or one above the other (COMPATIBLE_POSITIONS),
            # never with one in the center or one at the top and one on the left: the painter never
            # saw such a pair, and big ones would overlap.
            self._make_room(other, room)
        elif not other.show_position and position not in (None, "center"):
            if position == other.position:  # the unplaced shape makes room, in the center (position is not)
                self._make_room(other, "center", say_place=False)
        elif position == "center" and other.position in OPPOSITE:  # beside a placed shape: no pair has one in the middle
            position = OPPOSITE[other.position]
            from chatimg.shapeworld.captions import POSITION_PHRASES

            self.replies.append(f"(Two shapes stand side by side or one above the other, never one in the middle, "
                                f"so the new {attrs['shape']} went {POSITION_PHRASES[position][0]}.)")
        elif position is None or position == other.position:
            asked, position, placed = position, _OPPOSITE.get(other.position, "right"), other.show_position
            if other.position == "center":
                self._make_room(other, "left")
                position = "right"
            if asked is not None:  # where the other one stands: say where the new one went instead
                from chatimg.shapeworld.captions import POSITION_PHRASES

                went = f"the new {attrs['shape']} went {POSITION_PHRASES[position][0]}"
                self.replies.append(f"(The {other.shape} was {POSITION_PHRASES[asked][0]}, so {went}.)" if placed else
                                    # its place was never said: say why it moved too
                                    f"(Two shapes stand side by side, never one in the middle, so {went} and the "
                                    f"{other.shape} {POSITION_PHRASES[other.position][0]}.)")
        colour = attrs.get("colour") or next(c for c in ("red", "blue", "yellow", "green") if c not in (self.background, other.colour))
        new = _Shape(attrs["shape"], colour, attrs.get("size", "big"), position,
                     show_size="size" in attrs or other.show_size, show_position="position" in attrs or other.show_position)
        self.shapes.append(new)
        self.last = new
        self._record("add", f"added a {new.size} {new.colour} {new.shape}")
        return True

    def _modify(self, toks: list[str]) -> bool:
        is_move = any(t in _MOVE for t in toks)
        if self._relational(toks):
            return True
        # "use a square instead of the circle", "back to black for the one in the middle"
        for i in range(len(toks) - 1):
            if (toks[i], toks[i + 1]) == ("instead", "of") or (toks[i] == "for" and i > 0 and toks[i + 1] in ("the", "it", "its")):
                skip = 2 if toks[i] == "instead" else 1
                value = [t for t in toks[:i] if _kind(t)]
                selector = toks[i + skip:]
                return self._change(selector, value, is_move=False)
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
            if is_move:
                positions = [k for k, t in enumerate(value) if _kind(t) == "position"]
                for k in positions[:-1]:
                    selector.append(value[k])
                value = [t for k, t in enumerate(value) if k not in positions[:-1]]
        return self._change(selector, value, is_move, toks)

    def _relational(self, toks: list[str]) -> bool:
        """"put the circle above the square" / "the disc to the left of the box"."""
        text = " ".join(toks)
        beside = re.search(r"\b(?:next to|beside|besides|alongside|close to|near|by)\s+(?:the\s+)?(?P<ref>\w+)(?:\s+(?P<ref2>\w+))?", text)
        pair = self._named_and_other(beside) if beside else None
        if pair is not None:  # two shapes always sit side by side (left/right or top/bottom)
            self.replies.append(f"The {pair[1].shape} is already next to the {pair[0].shape}.")
            return True
        match = re.search(r"\b(?P<pos>top|bottom|left|right)\s+(?:of\s+)?(?:the\s+)?(?P<ref>\w+)(?:\s+(?P<ref2>\w+))?", text)
        pair = self._named_and_other(match) if match else None
        if pair is None:
            return False
        other, target = pair
        pos = match.group("pos")
        target.position, other.position = pos, _OPPOSITE[pos]
        target.show_position = other.show_position = True
        self._record("position", f"moved the {target.shape} {'above' if pos == 'top' else 'below' if pos == 'bottom' else 'to the ' + pos + ' of'} the {other.shape}")
        self.last = target
        return True

    def _change(self, selector: list[str], value: list[str], is_move: bool, toks: list[str] | None = None) -> bool:
        toks = toks if toks is not None else selector + value
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
            # "violet square please", "have the circle at the bottom": words in the target part
            # that fit no shape in the scene are the new values
            present = {v for sh in self.shapes for v in sh.key()}
            loose = [t for t in selector if _kind(t) in ("colour", "size", "position") and t not in present]
            named = [x for x in self.shapes if x.shape in selector]
            if not loose and len(named) == 1 and sum(x.shape == named[0].shape for x in self.shapes) == 1 and \
                    not any(t in _MOVE for t in toks):
                # "huge square" when only the circle is big: the named shape's differing words are new values
                loose = [t for t in selector if _kind(t) in ("colour", "size") and t != getattr(named[0], _kind(t))]
            if loose and any(t in present for t in selector if _kind(t) == "shape" or t in ("it", "one")) or \
                    (loose and len(self.shapes) == 1):
                value = loose
                selector = [t for t in selector if t not in loose]
                for t in value:
                    changes[_kind(t)] = t
        shape_words = [t for t in selector if t in SHAPES]
        if not changes and not is_move and shape_words and selector[-1] == shape_words[-1]:
            # "make the box round" / "make it round": a final shape word that is not the target's shape
            first = next((t for t in selector if t in SHAPES or t in ("it", "one")), None)
            named = [x for x in self.shapes if x.shape == first] if first in SHAPES else \
                ([self.last] if self.last in self.shapes else [])
            if first is not None and len(named) == 1 and shape_words[-1] != named[0].shape and \
                    (first in ("it", "one") or len(shape_words) >= 2):
                changes["shape"] = shape_words[-1]
                selector = selector[:-1]
        if not changes:
            # "square on top please" when it is already on top: it describes the scene as it is
            described = [t for t in selector if _kind(t) in ("colour", "size", "position")]
            chosen = self._select(selector) if described else []
            return bool(chosen) and all(t in chosen[0].key() for t in described)
        targets = list(self.shapes) if any(t in _ALL for t in toks) else self._select(selector)
        if not targets:
            return False
        changed = False
        for target in targets:
            for kind, new in changes.items():
                attr = "colour" if kind == "colour" else kind
                if kind == "position":
                    if new == target.position:
                        if not target.show_position:
                            target.show_position = True
                            changed = True
                            self._record("position", f"moved the {target.shape} to the {new}")
                        changed = True  # already there: understood, nothing to change
                        continue
                    other = next((s for s in self.shapes if s is not target), None)
                    if other is not None and other.position == new and not other.show_position:
                        other.position = next(p for p in ("center", "left", "right", "top", "bottom")
                                              if p not in (new, target.position))
                    elif other is not None and other.position == new:
                        other.position = target.position  # trade places
                        other.show_position = True
                    target.position = new
                    target.show_position = True
                    changed = True
                    self._record("position", f"moved the {target.shape} to the {new}")
                    room = room_for(new, other.position) if other is not None else None
                    if room is not None:  # as for an add
                        self._make_room(other, room)
                elif getattr(target, attr) != new:
                    name = target.shape  # the reply names the shape as it was ("circle shape → square")
                    setattr(target, attr, new)
                    if kind == "size":
                        target.show_size = True
                    changed = True
                    self._record(kind, f"{name} {kind} → {new}")
                else:
                    changed = True  # already so: understood, nothing to change
                    if kind == "size":
                        target.show_size = True
                        if {"bigger", "smaller"} & set(toks):  # "make it bigger" on a big one: say why not
                            self.replies.append(f"The {target.shape} is already {new}: the painter draws two sizes, "
                                                "small and big.")
            self.last = target
        return changed


def _clean_both(text: str) -> str:
    return re.sub(r"^(?:(?:please|can you|could you|now|ok|okay|and)\s+)+|[.!?]+$|\s+please$", "", text.strip())


_REVERT_CUE = re.compile(r"\b(?:back|again|undo|revert|restore|previous|original|old|before|preferred|"
                         r"liked|used to|return|earlier|reset|ago|initial|originally|(?:looked|was|were|looks) (?:better|nicer))\b", re.I)


def _changed(before: list[_Shape], after: list[_Shape]) -> list[tuple[_Shape | None, _Shape | None, list[str]]]:
    """Pairs (old, new, changed attributes) between two scenes' shapes."""
    pairs = []
    left = list(before)
    for a in after:
        if not left:
            pairs.append((None, a, ["add"]))
            continue
        b = min(left, key=lambda x: sum(getattr(x, k) != getattr(a, k) for k in ("shape", "colour", "size", "position")))
        diffs = [k for k in ("shape", "colour", "size", "position") if getattr(b, k) != getattr(a, k)]
        if len(diffs) > 2:
            pairs.append((None, a, ["add"]))
            continue
        left.remove(b)
        if diffs:
            pairs.append((b, a, diffs))
    pairs += [(b, None, ["remove"]) for b in left]
    return pairs


def _history_scenes(history) -> list[tuple[str | None, list[_Shape]] | None]:
    return [scene_of(p) for _, p in history]


def _last_target(editor: _Editor, history) -> None:
    if len(history) < 2:
        return
    scenes = _history_scenes(history[-2:])
    if None in scenes:
        return
    for _old, new, _ in _changed(scenes[0][1], scenes[1][1]):
        if new is not None:
            match = next((s for s in editor.shapes if s.key() == new.key()), None)
            if match is not None:
                editor.last = match
                return


def _follow(shape: _Shape, scenes, index: int) -> _Shape | None:
    """The shape ``shape`` (as it was after turn ``index``) has become in the last scene."""
    for j in range(index + 1, len(scenes)):
        if scenes[j - 1] is None or scenes[j] is None:
            return None
        if any(s.key() == shape.key() for s in scenes[j][1]):
            continue
        step = next(((o, n) for o, n, _ in _changed(scenes[j - 1][1], scenes[j][1])
                     if o is not None and o.key() == shape.key()), None)
        if step is None or step[1] is None:
            return None
        shape = step[1]
    return shape


def _revert(editor: _Editor, toks: list[str], history, require_value: bool = False) -> bool:
    """Put back an earlier value: of the attribute the message names, else of the last change."""
    text = " ".join(toks)
    kind = None
    if "background" in toks:
        kind = "background"
    elif "colour" in toks:
        kind = "colour"
    elif re.search(r"\b(?:size|resize|resized|bigger|smaller|big|small)\b", text):
        kind = "size"
    elif any(t in SHAPES and all(s.shape != t for s in editor.shapes) for t in toks):
        kind = "shape"
    elif any(t in _MOVE for t in toks) or re.search(r"\b(?:where|spot|place|position|move)\b", text):
        kind = "position"
    elif re.search(r"\bshape\b(?!s)", text) and re.search(r"\b(?:change|shape before|old shape|previous shape|original shape|restore)\b", text):
        kind = "shape"
    scenes = _history_scenes(history)
    present = {v for sh in editor.shapes for v in sh.key()}
    selector = [t for t in toks if (_kind(t) and t in present) or t == "other"]
    selected = editor._select(selector) if selector else []
    for i in range(len(scenes) - 1, 0, -1):
        before, after = scenes[i - 1], scenes[i]
        if before is None or after is None:
            continue
        if kind in (None, "background") and before[0] != after[0] and before[0] and (
                not require_value or before[0] in toks):
            editor.background = before[0]
            editor._record("background", f"background back to {before[0]}")
            return True
        if kind == "background":
            continue
        for old, new, diffs in _changed(before[1], after[1]):
            if old is None or new is None or (kind is not None and kind not in diffs):
                continue
            attrs = [kind] if kind else diffs
            if require_value:
                attrs = [a for a in attrs if getattr(old, a) in toks and getattr(new, a) not in toks]
                if not attrs:
                    continue
            followed = _follow(new, scenes, i)
            current = next((s for s in editor.shapes if followed is not None and s.key() == followed.key()), None)
            if current is None and len(editor.shapes) == 1:
                current = editor.shapes[0]
            if current is None:
                candidates = [s for s in editor.shapes if all(getattr(s, k) == getattr(new, k) for k in
                              ("shape", "colour", "size", "position") if k not in attrs)]
                current = candidates[0] if len(candidates) == 1 else (selected[0] if selected else None)
            if current is None or (selected and current not in selected and len(editor.shapes) > 1):
                continue
            for attr in attrs:
                value, name = getattr(old, attr), current.shape
                if attr == "position":
                    other = next((s for s in editor.shapes if s is not current and s.position == value), None)
                    if other is not None:
                        other.position = current.position
                current.__setattr__(attr, value)
                if attr == "size":
                    current.show_size = True
                if attr == "position":
                    current.show_position = True
                editor._record(attr, f"{name} {attr} back to {value}")
            editor.last = current
            return True
    return False


def nothing_to_revert(prompt: str, message: str) -> str | None:
    """For a shape-world request to go back to an earlier value that nothing (rules or model) could
    answer ("change the background back" when it never changed): a reply saying so, else None."""
    parsed = scene_of(prompt)
    text, _ = _prepare(message, parsed[1] if parsed else [])
    if parsed is None or not _REVERT_CUE.search(text):
        return None
    toks = _tokens(text)
    if not any(t in SHAPES or t in COLOURS or t in SIZES or t in POSITIONS or t in ("background", "colour", "size", "position",
               "it", "them", "one", "shape", "bigger", "smaller") or t in _MOVE for t in toks):
        return None
    return _nothing_to_revert(toks, _Editor(*parsed))


def _nothing_to_revert(toks: list[str], editor: _Editor) -> str:
    text = " ".join(toks)
    if "background" in toks:
        what = "background colour"
    elif "colour" in toks or any(t in COLOURS for t in toks):
        what = "colour"
    elif re.search(r"\b(?:size|bigger|smaller|big|small)\b", text):
        what = "size"
    elif any(t in _MOVE for t in toks) or re.search(r"\b(?:where|position|place|spot|left|right|top|bottom|center)\b", text):
        what = "position"
    elif any(t in SHAPES and all(s.shape != t for s in editor.shapes) for t in toks):
        return "There was no such shape earlier in this picture, so nothing changed."
    else:
        return "I found no earlier version of that to go back to, so nothing changed; 'undo' steps back one turn."
    return f"The {what} hasn't changed yet, so there is nothing to go back to."


_REPEAT_CUE = re.compile(r"\b(?:too|as well|also|same|likewise|ditto|now the|and the|then the|other one|that one)\b", re.I)
_REDIRECT_CUE = re.compile(r"\b(?:not (?:that|this) one|not the \w+|wrong (?:one|shape)|meant the|actually the|"
                           r"^(?:oops|whoops|sorry|my bad|no|nope|ah|hmm|actually)[,!.]*\s+(?:i meant\s+|try\s+|do\s+)?the \w+$|"
                           r"(?:^|\bno,?\s+)the other one|i meant the other|other one instead|instead)\b", re.I)


def _repeat_last(prompt: str, message: str, history) -> ShapeEdit | None:
    """"the other one too" / "same for the square" (do the last change to another shape) and
    "not that one, the square" / "wrong one" (move the last change to another shape). Only when
    the message names no new value and the last turn changed one shape's colour, size or shape."""
    if len(history) < 2:
        return None
    repeat = re.search(r"\b(?:too|as well|also|same|likewise|ditto)\b", message, re.I)
    redirect = bool(_REDIRECT_CUE.search(message)) and not repeat
    if not redirect and not _REPEAT_CUE.search(message):
        return None
    scenes = _history_scenes(history[-2:])
    if None in scenes:
        return None
    (bg0, before), (bg1, after) = scenes
    now = scene_of(prompt)
    toks = _tokens(message)
    if now is not None and bg0 != bg1 and now[0] == bg1 and re.search(r"\b(?:instead|actually|rather|meant)\b", message, re.I):
        # "maybe black instead" right after a background change: a different background colour
        colours = [t for t in toks if t in COLOURS]
        if len(colours) == 1 and not any(t in SHAPES or t in ("it", "one", "shape", "shapes") for t in toks) \
                and colours[0] not in (bg1,) and all(x.colour != colours[0] for x in now[1]):
            return ShapeEdit(prompt=render(colours[0], now[1]), kinds=["background"],
                             notes=[f"background → {colours[0]}"], region=BACKGROUND)
    if now is None or len(now[1]) != 2 or bg0 != bg1 or "it" in toks:
        return None
    pairs = [(o, n, d) for o, n, d in _changed(before, after) if o is not None and n is not None]
    if len(pairs) != 1 or not set(pairs[0][2]) <= {"colour", "size", "shape"}:
        return None
    old, new, diffs = pairs[0]
    background, shapes = now
    shapes_before = copy.deepcopy(shapes)
    changed = next((x for x in shapes if x.key() == new.key()), None)
    if changed is None:
        return None
    other = next(x for x in shapes if x is not changed)
    # a value in the message ("make the square red too") is an ordinary edit, not a repeat; a
    # colour or size may only name a shape ("the blue one", "the small square")
    for i, t in enumerate(toks):
        naming = i + 1 < len(toks) and (toks[i + 1] in SHAPES or toks[i + 1] in ("one", "shape"))
        if _kind(t) in ("colour", "size") and not naming or _kind(t) == "position" or t in POSITIONS:
            return None
        if t in _MOVE or t in _REMOVE or (t in _ADD and t != "also") or t in _SWAP or t in ("bigger", "smaller", "background"):
            return None
    named = [t for t in toks if t in (other.shape, other.colour) and t not in (changed.shape, changed.colour)]
    if redirect and not named and any(t in (changed.shape, changed.colour) and t not in (other.shape, other.colour) for t in toks):
        return None  # "wrong one, the square" when the square is the one just changed: nothing to move
    if any(t in SHAPES and t not in (other.shape, changed.shape) for t in toks):
        return None
    if not named and not re.search(r"\b(?:other|that one|wrong|too|also|same)\b", message, re.I):
        return None
    notes, kinds = [], []
    for k in diffs:
        setattr(other, k, getattr(new, k))
        if k == "size":
            other.show_size = True
        kinds.append(k)
        notes.append(f"{other.shape} {k} → {getattr(new, k)}")
        if redirect:
            setattr(changed, k, getattr(old, k))
            notes.append(f"{changed.shape} {k} back to {getattr(old, k)}")
    for x in shapes:
        if x.colour == background:
            return None
    return ShapeEdit(prompt=render(background, shapes), kinds=kinds, notes=notes,
                     region=region_between(background, shapes_before, background, shapes))


#: Colours the painter does not know, as RGB, mapped to the nearest painter colour by hue
#: (saturated colours) or by lightness (greys): pink → red (a light red, not purple), magenta → purple.
_OTHER_COLOURS: dict[str, tuple[int, int, int]] = {
    "pink": (255, 160, 190), "rose": (240, 110, 140), "salmon": (250, 128, 114), "coral": (255, 127, 80),
    "magenta": (220, 0, 220), "fuchsia": (220, 0, 220), "lavender": (180, 150, 230), "indigo": (75, 0, 130),
    "maroon": (128, 0, 0), "burgundy": (128, 0, 32), "brown": (140, 80, 30), "tan": (210, 180, 140),
    "beige": (235, 225, 200), "cream": (255, 250, 220), "ivory": (255, 255, 240), "grey": (128, 128, 128),
    "silver": (200, 200, 200), "charcoal": (54, 69, 79), "teal": (0, 128, 128), "turquoise": (64, 224, 208),
    "cyan": (0, 220, 220), "aqua": (0, 230, 230), "olive": (128, 128, 0), "mint": (150, 240, 180),
    "peach": (255, 200, 160), "khaki": (195, 176, 145), "mustard": (225, 173, 1), "copper": (184, 115, 51),
    "bronze": (205, 127, 50), "tangerine": (242, 133, 0), "lemon": (255, 244, 79), "sky": (135, 206, 235),
    "cobalt": (0, 71, 171), "ruby": (224, 17, 95), "plum": (142, 69, 133), "mauve": (224, 176, 255),
    "gray": (128, 128, 128),
}
_TINTS = r"(?:light|dark|pale|bright|deep|hot|baby|pastel|neon|vivid|dusty|sky)"


def nearest_colour(name: str) -> str | None:
    """The painter colour nearest to ``name`` (a colour word the painter does not know), or None."""
    import colorsys

    rgb = _OTHER_COLOURS.get(name.lower())
    if rgb is None:
        return None
    h, lightness, s = colorsys.rgb_to_hls(*(c / 255 for c in rgb))
    if s * (1 - abs(2 * lightness - 1)) < 0.2:  # a grey, beige, cream: by lightness
        return "white" if lightness >= 0.5 else "black"
    best, dist = None, 9.0
    for colour, ref in COLOURS.items():
        if colour in ("white", "black"):
            continue
        rh = colorsys.rgb_to_hls(*(c / 255 for c in ref))[0]
        d = min(abs(h - rh), 1 - abs(h - rh))
        if d < dist:
            best, dist = colour, d
    return best


def _prepare(message: str, shapes: list[_Shape]) -> tuple[str, list[str]]:
    """Rewrite what the clause editor cannot read as it stands: colours the painter does not know
    (mapped to the nearest, said in the notes), "light blue", the background named indirectly
    ("the blue behind it"), "I'd rather have X than Y", "another triangle, a big purple one"."""
    notes = []
    text = message.lower()
    # a leading filler that is not a correction ("ugh, other side please", "great, now the background")
    text = re.sub(r"^\s*(?:ugh+|great|cool|perfect|ok(?:ay)?|yeah|yes|alright|meh|well|oh|thanks|thank you|thx|so|right|hey|hm+|"
                  r"nice|wow)\s*[,!.]+\s*(?=\S)", "", text)
    text = re.sub(rf"\b{_TINTS}[- ]+(?=(?:{'|'.join(list(COLOURS) + list(_OTHER_COLOURS))})\b)", "", text)

    def colour(match: re.Match) -> str:
        word = match.group(0)
        if SYNONYMS.get(word, word) in COLOURS:
            return word
        near = nearest_colour(word)
        if near is None:
            return word
        notes.append(f"used {near} for {word} (the nearest colour the painter knows)")
        return near
    text = re.sub(r"\b(?:" + "|".join(_OTHER_COLOURS) + r")(?:ish)?\b",
                  lambda m: colour(re.match(r"[a-z]+?(?=ish\b|$)", m.group(0)) or m), text)
    # "the blue behind it", "the colour behind the shapes", "what's behind them": the background
    colour_words = sorted(set(COLOURS) | {w for w, v in SYNONYMS.items() if v in COLOURS}, key=len, reverse=True)
    text = re.sub(r"(?:\bthe\s+|^|(?<=make\s)|(?<=change\s)|(?<=turn\s))(?:(?P<c>" + "|".join(colour_words) + r")\s+)?"
                  r"(?:(?:colou?r|thing|part|area|space|stuff|bit|one|backdrop)\s+)?behind\s+"
                  r"(?:it|them|everything|all|the\s+(?:shapes?|\w+))\b", lambda m: f"the background {m.group('c') or ''} ", text)
    # "put the square where the circle is" -> "put the square to the left"
    def where(m: re.Match) -> str:
        named = [x for x in shapes if _tokens(m.group("x"))[-1:] and _tokens(m.group("x"))[-1] in (x.shape, x.colour)]
        return f"to the {named[0].position}" if len(named) == 1 else m.group(0)
    text = re.sub(r"\b(?:where|in the (?:place|spot) (?:where|of))\s+the\s+(?P<x>[a-z]+(?:\s+[a-z]+)??)(?:\s+(?:is|was|sits|used to be)\b|(?=\s*$|\s*[,.]))", where, text)
    # "the square, orange" / "circle: white": one request, not two clauses
    text = re.sub(r"^(\s*(?:the\s+)?[a-z]+)\s*[,:=]\s*(?=[a-z]+(?:\s+(?:please|pls|now))?[.!]*\s*$)", r"\1 ", text)
    # "greenish", "reddish", "bluish", "orangey": the colour
    text = re.sub(r"\b(?:(?P<a>red)dish|(?P<b>blu)e?ish|(?P<c>purpl)(?:ish|y)|(?P<d>orang)(?:ish|ey|y)|"
                  r"(?P<e>green|yellow|white|black)(?:ish|y)|(?P<f>" + "|".join(COLOURS) + r")[- ]ish)\b",
                  lambda m: {"blu": "blue", "purpl": "purple", "orang": "orange"}.get(
                      next(g for g in m.groups() if g), next(g for g in m.groups() if g)), text)
    # "too dark" -> lighter, "too bright" -> darker
    text = re.sub(r"\b(?:is|looks|seems|'s)?\s*(?:way\s+|a bit\s+|much\s+)?too\s+(?:dark|dim|deep)\b", " lighter", text)
    text = re.sub(r"\b(?:is|looks|seems|'s)?\s*(?:way\s+|a bit\s+|much\s+)?too\s+(?:light|bright|pale)\b", " darker", text)
    # "the circle and the square" (the scene's two shapes) -> "both"
    names = {x.shape for x in shapes}
    if len(shapes) == 2 and len(names) == 2:
        canon = {**{w: v for w, v in {**SYNONYMS, **_EXTRA_SYNONYMS}.items() if v in SHAPES}, **{x: x for x in SHAPES}}
        nouns_re = "|".join(sorted(canon, key=len, reverse=True))
        text = re.sub(rf"\b(?:the\s+)?(?P<a>{nouns_re})s?\s+(?:and|&)\s+(?:the\s+)?(?P<b>{nouns_re})s?\b",
                      lambda m: "both" if {canon[m.group("a")], canon[m.group("b")]} == names else m.group(0), text)
    # "the square is too small" -> bigger; "too big" -> smaller
    text = re.sub(r"\b(?:is|looks|seems|'s)?\s*(?:way\s+|a bit\s+|much\s+)?too\s+(?:small|little|tiny)\b", " bigger", text)
    text = re.sub(r"\b(?:is|looks|seems|'s)?\s*(?:way\s+|a bit\s+|much\s+)?too\s+(?:big|large|huge)\b", " smaller", text)
    # "only the square", "just the circle" -> keep only it
    text = re.sub(r"^(?:only|just)\s+(?=the\s+\w+(?:\s+\w+)?$)", "keep only ", text.strip())
    # "i'd rather have a triangle than the square" -> "replace the square with a triangle"
    rather = re.match(r"^(?:i'?d|i would|we'?d)?\s*(?:rather|prefer)\s+(?:have\s+|see\s+)?(?P<new>.+?)\s+(?:than|over|instead of)\s+"
                      r"(?:the\s+|an?\s+)?(?P<old>.+?)[.!]*$", text)
    if rather:
        old = rather.group("old")
        here = re.fullmatch(r"(?:what'?s|what is|whatever'?s) (?:there|in there|in it|on it)(?: now)?|this|that|it|"
                            r"what i (?:have|got)(?: now)?|the current one|the one there", old)
        text = f"replace {'it' if here else 'the ' + old} with {rather.group('new')}"
    # "swap the red one for a triangle": a replacement ("swap the circle with the square" is a swap)
    text = re.sub(r"\b(?:swap|switch|exchange|trade)\s+(?P<x>.+?)\s+for\s+(?P<y>an?\s+.+)$",
                  lambda m: f"replace {m.group('x')} with {m.group('y')}", text)
    # "another triangle, a big purple one" -> "another big purple triangle"
    nouns = "|".join(sorted({w for w, v in {**SYNONYMS, **_EXTRA_SYNONYMS}.items() if v in SHAPES} | set(SHAPES), key=len, reverse=True))
    text = re.sub(rf"\b(?P<noun>{nouns})s?\s*,?\s+(?:an?|the)\s+(?P<attrs>(?:[a-z]+\s+){{1,3}}?)one\b",
                  lambda m: f"{m.group('attrs')}{m.group('noun')}"
                  if all(_kind(SYNONYMS.get(w, w)) in ("colour", "size") for w in m.group("attrs").split()) else m.group(0), text)
    return text, notes


def _both(editor: _Editor, text: str) -> bool:
    """"make both of them triangles", "turn them all blue": every shape gets the value."""
    match = re.match(r"^(?:make|turn|change|paint|colou?r)\s+(?:both(?:\s+of\s+them|\s+shapes|\s+of\s+the\s+shapes)?|them\s+(?:both|all)|"
                     r"all\s+of\s+them|all\s+(?:the\s+)?shapes|them|the\s+two(?:\s+shapes)?)\s+(?:into\s+|to\s+|in\s+)?(?P<v>.+)$", text)
    if not match or len(editor.shapes) != 2:
        return False
    values = {}
    for t in _tokens(match.group("v")):
        kind = _kind(t)
        if kind in ("shape", "colour", "size"):
            values[kind] = t
        elif t in ("bigger", "smaller"):
            values["size"] = "big" if t == "bigger" else "small"
        elif t not in ("a", "an", "the", "ones", "one", "both", "too", "as", "well", "please", "all"):
            return False
    if not values:
        return False
    for shape in editor.shapes:
        for kind, value in values.items():
            if getattr(shape, kind) != value:
                editor.notes.append(f"{shape.shape} {kind} → {value}")
                editor.kinds.append(kind)
                setattr(shape, kind, value)
                if kind == "size":
                    shape.show_size = True
    return True


def _pin_unsaid(editor: _Editor, prompt_before: str) -> None:
    """Say the places (and the background) the new prompt leaves unsaid when their defaults
    would now differ from where the picture has them. Unsaid means the shape world's default
    (``parse_prompt(defaults=True)``), and that default depends on the rest of the scene: "a
    yellow triangle" is drawn in the center, but "a big orange circle on the left and a yellow
    triangle" puts the triangle on the right, and a white shape turns an unsaid white backdrop
    black. Adding the circle must not move the triangle."""
    from chatimg.shapeworld.parse import parse_prompt

    scene = parse_prompt(render(editor.background, editor.shapes), defaults=True)
    if scene is None:
        return
    ordered = sorted(editor.shapes, key=lambda s: POSITIONS.index(s.position))  # as render() says them
    if any(not s.show_position and drawn.position != s.position for s, drawn in zip(ordered, scene.shapes)):
        for s in editor.shapes:
            s.show_position = True
    before = parse_prompt(prompt_before, defaults=True)
    if editor.background is None and before is not None and scene.background != before.background:
        if all(s.colour != before.background for s in editor.shapes):
            editor.background = before.background  # the backdrop the picture has
        else:  # a shape now has the backdrop's colour: the backdrop must change to show it
            editor.background = scene.background
            editor._record("background", f"background → {scene.background}")
            editor.replies.append(f"(The {before.background} background turns {scene.background}, "
                                  f"so the {before.background} shape shows.)")


def _says_no_value(toks: list[str]) -> bool:
    """True for a clause that names no shape, colour, size, place, move or background ("bring it
    back": "bring" and "put" are only the verb there)."""
    return not any(t in SHAPES or t in COLOURS or t in SIZES or t in POSITIONS or
                   (t in _MOVE and t not in ("bring", "put", "go", "goes")) or
                   t in ("background", "colour", "size", "position", "bigger", "smaller") for t in toks)


_MAKE_LEAD = re.compile(r"^\s*(?P<lead>(?:make|turn|paint|colou?r)\s+(?:it|them|both|the\s+\w+)\s+)", re.I)


def _carry_verb(clauses: list[str]) -> list[str]:
    """"make it green and round": the second clause, a bare value, is "make it round" too."""
    out: list[str] = []
    for clause in clauses:
        lead = _MAKE_LEAD.match(out[-1]) if out else None
        words = _tokens(clause)
        if lead and words and all(_kind(w) for w in words):
            clause = lead.group("lead") + clause.strip()
        out.append(clause)
    return out


def apply_message(prompt: str, message: str, history=()) -> ShapeEdit | None:
    """Apply ``message`` to the shape-world scene in ``prompt``; None if not a shape-world edit
    or not understood. ``history`` ((message, prompt) pairs, oldest first, ending with the
    current prompt) resolves "it", "the other one" and "change it back"."""
    parsed = scene_of(prompt)
    if parsed is None:
        return None
    background, shapes = parsed
    shapes_before = copy.deepcopy(shapes)
    editor = _Editor(background, shapes)
    history = list(history or [])
    if history and history[-1][1] != prompt:
        history.append(("", prompt))
    _last_target(editor, history)
    text, colour_notes = _prepare(message, shapes)
    if len(shapes) == 1:
        text = _one_more_of(text, shapes[0])
    repeated = _repeat_last(prompt, text, history)
    if repeated is not None:
        repeated.notes += colour_notes
        return repeated
    if re.search(r"\bswap|switch\b", text) and not re.search(r"\b(?:swap|switch)\s+\w+\s+(?:with|for)\b", text):
        clauses = [text]
    else:
        clauses = _carry_verb([c for c in _CLAUSE_SPLIT.split(text) if c and c.strip()])
    understood = 0
    if _both(editor, _clean_both(text)):
        understood, clauses = 1, []
    reverted = False
    adding = bool(_ADDING.search(text))
    for clause in clauses:
        toks = _tokens(clause)
        if reverted and _says_no_value(toks):
            continue  # "I liked the triangle better, bring it back": the second clause restates the first
        if _REVERT_CUE.search(clause):
            reverted = True
            # "go back to the triangle": restore the change whose old value is named; "make it
            # red again" also works as a plain edit; "change the colour back" names no value
            before = render(editor.background, editor.shapes)
            if _revert(editor, toks, history, require_value=True):
                understood += 1
                continue
            trial = copy.deepcopy(editor)
            if trial.apply(clause) and render(trial.background, trial.shapes) != before:
                editor = trial
                understood += 1
            elif _revert(editor, toks, history):
                understood += 1
            continue
        if editor.apply(clause, adding):
            understood += 1
    if not understood:
        return _cannot(prompt, text, shapes_before, background)
    # Repair colour clashes with the background, and say so.
    clashes = []
    for s in editor.shapes:
        if s.colour == editor.background:
            s.colour = next(c for c in ("white", "black", "red", "blue") if c != editor.background and all(
                c != o.colour for o in editor.shapes))
            clashes.append(s.shape)
            editor.notes = [n for n in editor.notes if n != f"{s.shape} colour → {editor.background}"]
            editor.notes.append(f"{s.shape} colour → {s.colour}")
    if clashes:
        editor.replies.append(f"(A shape can't match the {editor.background} background.)")
    positions = [s.position for s in editor.shapes]
    if len(set(positions)) != len(positions):
        return None
    _pin_unsaid(editor, prompt)
    return ShapeEdit(prompt=render(editor.background, editor.shapes), kinds=editor.kinds, notes=editor.notes + colour_notes,
                     region=region_between(background, shapes_before, editor.background, editor.shapes),
                     removed=editor.removed, reply=" ".join(dict.fromkeys(editor.replies)) or None)


#: Things people ask of a shape that the painter cannot draw (flat, solid shapes on a plain background).
_UNSUPPORTED = re.compile(
    r"\b(?:rotat\w*|turn(?:ed)? (?:it |the \w+ )?\d+|\d+ degrees|degrees|tilt\w*|spin|outlines?|hollow|empty inside|3d|three dimensional|"
    r"shiny|glossy|metallic|shadows?|transparent|see through|translucent|gradient|stripe[sd]?|pattern\w*|texture[sd]?|dots|polka|"
    r"glow\w*|blur\w*|sparkl\w*|rounded corners|oval|ellipse|stars?|hearts?|hexagons?|pentagons?|octagons?|diamonds?|crescent|"
    r"arrows?|crosses|rhombus|trapezoid|cube|sphere|pyramid shape|border|frame|faces?|eyes|smil\w*|text|words?|letters?|numbers?)\b", re.I)


_FLAT_ONLY = ("The painter draws only flat, solid circles, squares and triangles on a plain background; "
              "I can change their colour, size, shape or place.")


def _one_more_of(text: str, shape: _Shape) -> str:
    """"two circles" / "make it a pair of circles" with one circle in the picture: "add another
    circle" (a copy, where there is room), not a prompt the painter cannot draw."""
    for words in range(3):  # "two circles", "two red circles", "two small red circles"
        match = re.search(rf"\b(?:two|2|a pair of|a couple of)\s+((?:[a-z]+\s+){{{words}}})([a-z]+)\b", text)
        if match is not None and _tokens(match.group(2)) == [shape.shape]:
            return f"add another {match.group(1)}one{text[match.end():]}"
    return text


def _cannot(prompt: str, text: str, shapes: list[_Shape], background: str | None) -> ShapeEdit | None:
    """A reply for a shape-world request nothing understood but that is clearly about the shapes: what the
    painter cannot draw ("rotate the square", "a star"), or "and the square?" with no change to repeat."""
    toks = _tokens(text)
    named = [t for t in toks if t in SHAPES or t in COLOURS or t == "background"]
    if _UNSUPPORTED.search(text):
        return ShapeEdit(prompt=prompt, reply=_FLAT_ONLY)
    if re.search(r"\bcorners?\b", text):
        return ShapeEdit(prompt=prompt, reply="The painter places shapes on the left, right, top or bottom or in the center, "
                                              "not in a corner; say e.g. 'move it to the left'.")
    if len(shapes) == 1 and re.search(r"\b(?:other|both|them|they|swap|switch|match|each other|the two|second one)\b", text):
        return ShapeEdit(prompt=prompt, reply=f"There is only one shape in the picture (the {shapes[0].colour} {shapes[0].shape}); "
                                              "say e.g. 'add a square' for a second one.")
    missing = [t for t in toks if t in SHAPES and all(s.shape != t for s in shapes)]
    if missing and not _REVERT_CUE.search(text):
        return ShapeEdit(prompt=prompt, reply=f"There is no {missing[0]} in the picture; say 'add a {missing[0]}' or "
                                              f"'make it a {missing[0]}'.")
    more = re.fullmatch(r"(?:(?:a (?:bit|little|lot|tad)|even|much|way|slightly|some|just)\s+)*(?P<w>more|less|further|"
                        r"too much|not so much|too far|overdone|a bit too much)(?:\s+(?:please|pls))?[.!]*", text.strip())
    if more:
        if more.group("w") in ("more", "further"):
            return ShapeEdit(prompt=prompt, reply="The painter has no in-between or stronger values (two sizes, eight colours, "
                                                  "five places), so this is as far as it goes; say what to change next.")
        return ShapeEdit(prompt=prompt, reply="The painter has no in-between values (two sizes, eight colours, five places); "
                                              "say 'undo' to go back a step, or what to change.")
    words = set(re.findall(r"[a-z']+", text.lower()))
    if named and words <= {"oops", "whoops", "sorry", "wait", "no", "nope", "i", "meant", "mean", "actually", "wrong", "my", "bad",
                           "and", "what", "about", "now", "the", "as", "well", "too", "also", "same", "for", "other", "one",
                           "how", "then", "please", "that", "this", "with", "do", "it", "again", "thing", "shape", "just", "only",
                           "try", "great", "ok", "okay", "cool", "perfect", "alright", "meh", "hm", "hmm", "yeah", "keep"} | set(named) | \
            {w for w, v in {**SYNONYMS, **_EXTRA_SYNONYMS}.items() if v in SHAPES or v in COLOURS}:
        shape = next((t for t in toks if t in SHAPES or t == "background"), None) or "shape"
        if shape == "background":
            return ShapeEdit(prompt=prompt, reply=f"What colour should the background be? It is {background or 'unsaid'} now.")
        return ShapeEdit(prompt=prompt, reply=f"What should change on the {shape}? E.g. 'make the {shape} yellow', "
                                              f"'make the {shape} bigger' or 'move the {shape} to the top'.")
    return None


def _scene(background: str | None, shapes: list[_Shape], unsaid: str) -> Scene:
    return Scene(background or unsaid, tuple(Shape(s.shape, s.colour, s.size, s.position) for s in shapes))


def region_between(bg_before: str | None, before: list[_Shape], bg_after: str | None, after: list[_Shape]) -> str:
    """The region the app repaints to turn one scene into the other (``shapeworld.edit_region``),
    so a shape moved as a side effect (an add that pushes the centre shape aside) is painted too.
    An unsaid background stands for the same colour on both sides."""
    used = {s.colour for s in before + after}
    unsaid = next((c for c in COLOURS if c not in used), "white")
    try:
        scene_before, scene_after = _scene(bg_before, before, unsaid), _scene(bg_after, after, unsaid)
    except ValueError:  # not a valid scene (should not happen after the editor's checks)
        return WHOLE
    if scene_before == scene_after and bg_before == bg_after:
        # The same scene, said differently: an unsaid size now said ("make it big" on a shape
        # the painter drew at whatever size) repaints that shape only.
        said = [p for p in POSITIONS if _said(before, p) != _said(after, p)]
        if len(said) == 1:
            return said[0]
        # A place now said where the shape already is ("move it to the center" when the prompt
        # never said one): centre it on that anchor, a cut and paste, not a repaint.
        placed = [s.position for s in after if s.show_position and
                  any(b.position == s.position and not b.show_position for b in before)]
        return format_moves([(placed[0], placed[0])]) if not said and len(placed) == 1 else WHOLE
    return edit_region(scene_before, scene_after)


def _said(shapes: list[_Shape], position: str) -> tuple | None:
    """What the prompt says about the shape at ``position`` (an unsaid size is not said)."""
    shape = next((s for s in shapes if s.position == position), None)
    return None if shape is None else (shape.shape, shape.colour, shape.size if shape.show_size else None)


def prompt_region(before: str, after: str) -> str:
    """``region_between`` of two shape-world prompts; "whole" when either is not a scene."""
    a, b = scene_of(before), scene_of(after)
    return WHOLE if a is None or b is None else region_between(a[0], a[1], b[0], b[1])


def check_llm_prompt(candidate: str, expected: str) -> bool:
    """Whether an LLM's prompt describes the same scene as the deterministic result."""
    got = scene_of(candidate)
    want = scene_of(expected)
    return (got is not None and want is not None and got[0] == want[0]
            and sorted(s.key() for s in got[1]) == sorted(s.key() for s in want[1]))


def validated_llm_scene(prompt: str, candidate: str, message: str) -> str | None:
    """A model's answer for a shape-world request the editor did not understand, accepted only
    when it parses as a scene with the same shapes and every value it changed (colour, size,
    shape, position, background) is a word of the request. Returns the canonical prompt, or None."""
    now, got = scene_of(prompt), scene_of(candidate)
    if now is None or got is None or len(now[1]) != len(got[1]):
        return None
    asked = set(_tokens(message))
    changed = False
    if got[0] != now[0]:
        if got[0] not in asked:
            return None
        changed = True
    for old, new, diffs in _changed(now[1], got[1]):
        if old is None or new is None:
            return None
        for kind in diffs:
            if getattr(new, kind) not in asked:
                return None
            changed = True
    if not changed or len({s.position for s in got[1]}) != len(got[1]) or any(s.colour == got[0] for s in got[1]):
        return None
    return render(*got)
