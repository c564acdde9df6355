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


_BACK_AGAIN = [re.compile(p, re.I) for p in (
    r"^(?:(?:ok|okay|no|hmm+|actually|wait),?\s+)*(?:please\s+)?(?:re-?add|bring back|put back|restore)\s+(?P<x>.+?)"
    r"(?:\s+(?:again|please))?$",
    r"^(?:(?:ok|okay|no|hmm+|actually|wait),?\s+)*i\s+(?:want|need|miss|liked)\s+(?P<x>.+?)\s+(?:again|back)$",
    r"^(?:(?:ok|okay|no|hmm+|actually|wait),?\s+)*(?:give me|can i have|can we have)\s+(?P<x>.+?)\s+back$",
)]


def returned_thing(message: str, prompt: str, history: Sequence[tuple[str, str]]) -> str | None:
    """"Re-add the barn", "I want the bicycle again": the prompt with the newest earlier phrase
    that had it put back in place of the phrase it was removed from (so "a red barn" comes back
    as it was); the prompt itself when it is there now; None when nothing earlier had it."""
    text = " ".join(message.split()).rstrip(" .!?")
    for pattern in _BACK_AGAIN:
        if match := pattern.match(text):
            wanted = _words(match["x"]) - _VAGUE
            break
    else:
        return None
    if not wanted:
        return None
    if wanted <= _words(prompt):
        return prompt  # it is there already
    segments = [s.strip() for s in prompt.split(",") if s.strip()]
    for _, earlier in reversed(list(history)):
        for phrase in (s.strip() for s in earlier.split(",")):
            if wanted <= _words(phrase):
                # the current segment it was taken out of: the one sharing most of its other words
                scores = [len(_words(seg) & (_words(phrase) - wanted)) for seg in segments]
                best = max(range(len(segments)), key=scores.__getitem__) if segments else None
                if best is not None and scores[best] >= 2:
                    segments[best] = phrase
                else:
                    segments.insert(len(segments) - 1 if len(segments) > 1 else len(segments), phrase)
                return ", ".join(segments)
    return None
