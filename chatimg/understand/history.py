"""Going back by description: "go back to the blue one", "I liked the red hair better", "I liked it
better at night" name an earlier picture of this branch by what it showed, not by its turn."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_ASKS = [re.compile(p, re.I) for p in (
    r"^(?:(?:ok|okay|no|hmm+|actually|please|sorry),?\s+)*(?:can you\s+|could you\s+|let'?s\s+|please\s+)?"
    r"(?:go|switch|change it|get|take it|take me|revert|return|undo it|undo)\s+back\s+to\s+(?P<d>.+?)(?:\s+please)?$",
    r"^(?:(?:ok|okay|no|hmm+|actually),?\s+)*(?:revert|return|undo)\s+to\s+(?P<d>.+?)$",
    r"^(?:(?:ok|okay|no|hmm+|actually),?\s+)*i\s+(?:liked|preferred|loved|prefer|like)\s+(?P<d>.+?)\s+(?:better|more)"
    r"(?:\s+(?P<e>.+?))?$",
    r"^(?:(?:ok|okay|no|hmm+|actually),?\s+)*(?P<d>the\s+.+?)\s+(?:was|were|looked|is|looks)\s+better$",
)]
_VAGUE = {"it", "that", "this", "them", "one", "ones", "version", "picture", "image", "pic", "before", "earlier",
          "previous", "last", "way", "look", "looked", "the", "a", "an", "of", "with", "more", "better", "again",
          "was", "were", "is", "how", "when", "had"}


def _words(text: str) -> set[str]:
    return {w.rstrip("s") for w in re.findall(r"[a-z][a-z'-]*", text.lower())}


@dataclass(frozen=True)
class GoingBack:
    """An earlier prompt the message points at; ``whole``: the picture ("the blue one"), else what
    it described ("go back to digital art", "the wide shot": that phrase again, the later changes
    kept, when it is a phrase that can be set again)."""

    prompt: str
    phrase: str
    whole: bool


def described_turn(message: str, prompt: str, history: Sequence[tuple[str, str]]) -> GoingBack | None:
    """The newest earlier prompt of the branch that shows what ``message`` describes and the current
    one does not; None when the message does not ask to go back, or nothing matches."""
    text = " ".join(message.split()).rstrip(" .!?")
    for pattern in _ASKS:
        if match := pattern.match(text):
            said = f"{match['d']} {match.groupdict().get('e') or ''}".strip()
            wanted = _words(said) - _VAGUE
            break
    else:
        return None
    if not wanted or wanted <= _words(prompt):
        return None
    earlier = [p for _, p in history[:-1]] if history and history[-1][1] == prompt else [p for _, p in history]
    found = next((p for p in reversed(earlier) if p != prompt and wanted <= _words(p)), None)
    if found is None:
        return None
    phrase = next((s.strip() for s in found.split(",") if wanted <= _words(s)), "")
    whole = not phrase or bool(re.search(r"\b(?:one|ones|version|picture|image|pic)\b", said, re.I))
    return GoingBack(prompt=found, phrase=phrase, whole=whole)
