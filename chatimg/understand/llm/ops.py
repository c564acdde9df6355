"""The model reads a request into one ``EditOp``, choosing among the ops this prompt and message
allow: targets are the prompt's things, values are words of the request. Decoding is constrained
to those candidates' JSON (``constrained.choose``), so the answer always parses and never invents
a thing the prompt lacks or a value nobody asked for.
"""

from __future__ import annotations

import json
import re

from chatimg.core.ops import (
    ASPECT_SLOTS,
    Add,
    EditOp,
    EditOps,
    Recolour,
    Remove,
    Replace,
    Resize,
    SetAspect,
    SetBackground,
    Talk,
)
from chatimg.understand.lexicon import is_colour

SYSTEM = ("You edit image prompts. Given the current prompt and a request, answer with the one edit operation the "
          "request asks for, as JSON: recolour, resize, add, remove, replace, set_background, set_aspect (time, "
          "weather, season, light, style, medium, era, camera, mood) or talk when nothing should change.")
#: (prompt, request, op) shown to the model before the turn.
EXAMPLES = (
    ("a red car parked on a street", "make the car blue", Recolour(target="car", colour="blue")),
    ("a cat sleeping on a sofa", "add a small dog", Add(thing="a small dog")),
    ("a cabin in the woods, photo", "make it night time", SetAspect(slot="time", value="night")),
    ("a bowl of fruit on a table", "swap the bowl for a basket", Replace(old="bowl", new="basket")),
    ("a man with a hat, portrait", "get rid of the hat", Remove(target="hat")),
    ("a lighthouse on a cliff", "thanks, looks great", Talk()),
)
_STOP = {"a", "an", "the", "to", "of", "and", "it", "its", "make", "add", "put", "please", "can", "you", "could",
         "now", "with", "in", "on", "at", "into", "for", "is", "be", "me", "some", "i", "want", "like", "would",
         "change", "turn", "set", "remove", "replace", "swap", "get", "rid", "more", "less", "bit", "little", "so",
         "that", "this", "them", "there", "should", "instead", "also", "too", "just", "let's", "lets", "give"}
_LINKS = r",|;|\b(?:with|and|on|in|at|next to|holding|wearing|carrying|under|over|near|beside|behind|by|from)\b"
_SIZES = {"bigger", "smaller", "larger", "big", "small", "huge", "tiny", "large", "giant"}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z][a-z'-]*", text.lower())


def things(prompt: str) -> list[str]:
    """The noun phrases of ``prompt`` without their articles, and their head words."""
    phrases = []
    for part in re.split(_LINKS, prompt.lower()):
        words = [w for w in _words(part) if w not in ("a", "an", "the", "some", "two", "three", "four")]
        while len(words) > 1 and words[-1].endswith("ed"):  # "a car parked": the car
            words.pop()
        if words and len(words) <= 4 and not words[-1].endswith("ing"):
            phrases += [" ".join(words), words[-1]]
    return list(dict.fromkeys(phrases))


def values(message: str) -> list[str]:
    """Runs of one to four words of the request that neither start nor end with a function word."""
    words = _words(message)
    runs = [" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, min(i + 5, len(words) + 1))]
    return list(dict.fromkeys(r for r in runs if r.split()[0] not in _STOP and r.split()[-1] not in _STOP))


def candidates(prompt: str, message: str) -> list[EditOp]:
    found, asked = things(prompt), values(message)
    said = set(_words(message))
    ops: list[EditOp] = [Talk()]
    ops += [Recolour(target=t, colour=v) for t in found if " " not in t for v in asked if is_colour(v)]
    ops += [Resize(target=t, size=w) for t in found if " " not in t for w in said & _SIZES]
    ops += [Remove(target=t) for t in found if set(t.split()) & said]
    ops += [Add(thing=v) for v in asked]
    ops += [Replace(old=t, new=v) for t in found for v in asked if v != t]
    ops += [SetBackground(value=v) for v in asked]
    ops += [SetAspect(slot=s, value=v) for s in ASPECT_SLOTS for v in asked if len(v.split()) <= 3]
    return ops


def _turn(prompt: str, message: str) -> str:
    return f"Prompt: {prompt}\nRequest: {message}"


def messages(prompt: str, message: str) -> list[dict]:
    chat = [{"role": "system", "content": SYSTEM}]
    for example_prompt, example_message, op in EXAMPLES:
        chat += [{"role": "user", "content": _turn(example_prompt, example_message)},
                 {"role": "assistant", "content": op.model_dump_json()}]
    return chat + [{"role": "user", "content": _turn(prompt, message)}]


class OpReader:
    """A chat model that reads a request into an op (``reader(prompt, message) -> [op] | None``)."""

    def __init__(self, model, tokenizer) -> None:
        from chatimg.understand.llm.constrained import PrefixCache

        self.model, self.tokenizer = model, tokenizer
        self._prefix = PrefixCache()

    def __call__(self, prompt: str, message: str) -> list[EditOp] | None:
        from chatimg.understand.llm.constrained import choose

        options = [op.model_dump_json() for op in candidates(prompt, message)]
        chosen = choose(self.model, self.tokenizer, messages(prompt, message), options, prefix_cache=self._prefix)
        return None if chosen is None else EditOps.validate_python([json.loads(chosen)])
