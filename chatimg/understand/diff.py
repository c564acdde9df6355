"""The ops between two free-text prompts, phrase by phrase.

A prompt is read as its comma-separated phrases; a phrase that stayed is kept, one that went is
a ``Remove``, a new one an ``Add``, and one that took another's place a ``Replace``. Used for
prompts typed in full and to describe what any understander changed.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from chatimg.core.ops import Add, EditOp, Remove, Replace, Restart


def phrases(prompt: str) -> list[str]:
    return [" ".join(part.split()) for part in prompt.split(",") if part.strip()]


def ops_between(before: str, after: str) -> list[EditOp]:
    """Ops that turn ``before`` into ``after``; a ``Restart`` when hardly anything of it stays."""
    old, new = phrases(before), phrases(after)
    keys_old, keys_new = [p.lower().rstrip(".") for p in old], [p.lower().rstrip(".") for p in new]
    if keys_old == keys_new:
        return []
    words = SequenceMatcher(a=before.lower().split(), b=after.lower().split(), autojunk=False)
    if words.ratio() < 0.3:  # hardly a word stays: a new picture, not an edit of this one
        return [Restart(description=", ".join(new))]
    matcher = SequenceMatcher(a=keys_old, b=keys_new, autojunk=False)
    ops: list[EditOp] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        gone, came = old[i1:i2], new[j1:j2]
        for a, b in zip(gone, came):
            ops.append(Replace(old=_core(a, b), new=_core(b, a)))
        ops += [Remove(target=a) for a in gone[len(came):]]
        ops += [Add(thing=b) for b in came[len(gone):]]
    return ops


def _core(phrase: str, other: str) -> str:
    """``phrase`` without the trailing clause it shares with ``other`` (three words or more: "…
    sitting on a porch"), so a replace names the thing that changed, not its whole phrase."""
    words, others = phrase.split(), other.split()
    shared = 0
    while shared < min(len(words), len(others)) - 1 and words[-1 - shared].lower() == others[-1 - shared].lower():
        shared += 1
    return " ".join(words[:-shared]) if shared >= 3 else phrase
