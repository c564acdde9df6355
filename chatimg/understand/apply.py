"""Ops applied to a free-text prompt, phrase by phrase: what changes is rewritten where it stands,
never appended beside the old description."""

from __future__ import annotations

import re

from chatimg.core.ops import EditOp
from chatimg.understand.lexicon import ON_PLACES

#: Phrases that say where a scene is, and so are what a new background replaces.
_SETTING = re.compile(r"^(?:set\s+)?(?:in|at|inside)\s+(?:a|an|the)\s+", re.I)


def _segments(prompt: str) -> list[str]:
    return [s.strip() for s in prompt.split(",") if s.strip()]


def _set_background(prompt: str, value: str) -> str:
    """The prompt with ``value`` as its background: said in place where the prompt names one ("on
    a white background"), else in place of the setting ("in a kitchen"), else added."""
    from chatimg.understand.rules.general import _new_background, _split_style_tail, find_terms

    value = " ".join(value.split())
    segments, tail = _split_style_tail(_segments(prompt))
    named = [i for i, s in enumerate(segments) if re.search(r"\b(?:background|backdrop)\b", s, re.I)]
    if named:
        segments[named[0]] = _new_background(segments[named[0]], re.sub(r"^(?:a|an|the)\s+", "", value, flags=re.I))
        return ", ".join(segments + tail)
    kept = [s for i, s in enumerate(segments) if i == 0 or not _SETTING.match(s) or find_terms(s)]
    first = kept[0]
    inside = re.search(r"\s+(?:in|at|inside)\s+(?:a|an|the)\s+[\w' -]+$", first, re.I)
    if inside and len(first[:inside.start()].split()) >= 2 and not find_terms(inside.group(0)):
        kept[0] = first[:inside.start()]  # "a chair in a kitchen": the kitchen was the background
    article = re.match(r"^(?:a|an|the)\s+", value, re.I)
    on = value.lower().split()[-1] in ON_PLACES
    kept.append(f"{'on' if on else 'in'} {value}" if article else f"{value} background")
    return ", ".join(kept + tail)


def _add(prompt: str, phrase: str) -> str:
    from chatimg.understand.rules.general import _split_style_tail

    segments, tail = _split_style_tail(_segments(prompt))
    return ", ".join(segments + [phrase] + tail)


def apply(ops: list[EditOp], prompt: str) -> str | None:
    """The prompt with every op applied, or None when an op names nothing in it."""
    from chatimg.understand.rules.general import _apply_scene_terms, _recolour, remove_object

    for op in ops:
        if op.op == "replace":
            at = prompt.lower().find(op.old.lower())
            if at < 0:
                return None
            prompt = prompt[:at] + op.new + prompt[at + len(op.old):]
        elif op.op in ("recolour", "resize"):  # both give the thing an adjective in its place
            done = _recolour(prompt, op.target, op.colour if op.op == "recolour" else op.size)
            if done is None:
                return None
            prompt = done.prompt
        elif op.op == "set_background":
            prompt = _set_background(prompt, op.value)
        elif op.op == "remove":
            prompt, found = remove_object(prompt, op.target)
            if not found:
                return None
        elif op.op == "add":
            prompt = _add(prompt, f"{op.thing} {op.where}".strip() if op.where in ("", None) or " " in op.where
                          else f"{op.thing} on the {op.where}")
        elif op.op == "set_aspect":
            done = _apply_scene_terms(prompt, op.value)  # a known time, weather, style…: replaces the old one
            prompt = done.prompt if done is not None else _add(prompt, op.value)
        else:
            return None
    return prompt
