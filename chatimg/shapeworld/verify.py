"""The shape-world checker as the self-check's judge: it reads a painted picture back into a
scene and compares it with the prompt, and with what the previous picture showed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PIL import Image

from chatimg.core.verdict import Verdict

_LOOKS = {"circle": "round", "square": "square", "triangle": "triangular"}
_WHERE = {"left": "on the left", "right": "on the right", "top": "at the top", "bottom": "at the bottom",
          "center": "in the center"}


def scene_attributes(scene: Any) -> dict[str, object]:
    """A scene or a checker reading, flat: the background, and per position whether it holds a
    shape and that shape's kind, colour and size."""
    from chatimg.shapeworld import POSITIONS

    flat: dict[str, object] = {"background": scene.background}
    for position in POSITIONS:
        here = [s for s in scene.shapes if s.position == position]
        flat[f"{position}.occupied"] = len(here)
        if here:
            flat[f"{position}.shape"] = here[0].shape
            flat[f"{position}.colour"] = here[0].colour
            flat[f"{position}.size"] = here[0].size
    return flat


class ShapeWorldVerifier:
    """The shape-world checker as a judge: every attribute the new prompt changed must read as
    the prompt says (a moved shape: as it looked before), every other one as the previous
    picture showed it. A first picture (no previous one) must show the prompt exactly."""

    name = "shape-world checker"

    def judge(self, prompt: str, image: Image.Image, *, before_prompt: str | None = None,
              before_image: Image.Image | None = None) -> Verdict | None:
        from chatimg.shapeworld import parse_prompt, read_image
        from chatimg.shapeworld.regions import rearrangement, touched_positions

        after = parse_prompt(prompt, defaults=True)
        if after is None:
            return None
        before = parse_prompt(before_prompt, defaults=True) if before_prompt and before_image is not None else None
        wanted, seen = scene_attributes(after), scene_attributes(read_image(image))
        if before is None:
            keys, changed, seen_before = set(wanted) | set(seen), set(wanted) | set(seen), {}
            moved_from: dict[str, str] = {}
        else:
            wanted_before, seen_before = scene_attributes(before), scene_attributes(read_image(before_image))
            keys = set(wanted) | set(wanted_before)
            changed = {k for k in keys if wanted.get(k) != wanted_before.get(k)}
            moved_from = {to: source for source, to in
                          rearrangement(before, after, touched_positions(before, after)) or []}

        def expected(key: str) -> object:
            position, _, attribute = key.partition(".")
            if position in moved_from and attribute in ("shape", "colour", "size"):
                return seen_before.get(f"{moved_from[position]}.{attribute}")
            return wanted.get(key)

        missed = sorted(k for k in changed if seen.get(k) != expected(k))
        lost = sorted(k for k in keys - changed if seen.get(k) != seen_before.get(k))
        checked = len(changed) + len(keys - changed)
        score = 1.0 - (len(missed) + len(lost)) / max(1, checked)
        misses = _describe(missed, wanted, seen, expected, changed_too=False)
        misses += _describe(lost, seen_before, seen, seen_before.get, changed_too=True)
        return Verdict(landed=not missed, kept=not lost, score=score, misses=misses)


def _describe(keys: list[str], reference: dict, seen: dict, expected: Callable[[str], object],
              changed_too: bool) -> list[str]:
    """Words for the attributes that read wrong, one phrase per position."""
    phrases, done = [], set()
    order = {"occupied": 0, "shape": 1, "colour": 2, "size": 3}
    for key in sorted(keys, key=lambda k: (k.partition(".")[0], order.get(k.partition(".")[2], 9))):
        position, _, attribute = key.partition(".")
        if position in done:
            continue
        done.add(position)
        if key == "background":
            phrases.append("the background changed too" if changed_too else
                           f"the background came out {seen.get(key)}, not {expected(key)}")
            continue
        thing = reference.get(f"{position}.shape") or seen.get(f"{position}.shape") or "shape"
        name = f"the {thing} {_WHERE[position]}"
        if attribute == "occupied":
            if expected(key):
                phrases.append(f"{name} {'went missing' if changed_too else 'did not appear'}")
            else:
                phrases.append(f"a {seen.get(f'{position}.shape', 'shape')} {'appeared' if changed_too else 'is still there'} "
                               f"{_WHERE[position]}")
        elif changed_too:
            phrases.append(f"{name} changed too (now {seen.get(key)})")
        elif attribute == "shape":
            phrases.append(f"the {expected(key)} came out {_LOOKS.get(str(seen.get(key)), seen.get(key))}")
        else:
            phrases.append(f"{name} came out {seen.get(key)}, not {expected(key)}")
    return phrases
