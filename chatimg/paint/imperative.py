"""The imperative sentence an instruction-edit model reads ("Make the car blue; keep everything
else as it is."), built from what an ``Edit`` carries.

Instruction-edit models (FLUX.1 Kontext, Qwen-Image-Edit, InstructPix2Pix) were trained on
commands, not on descriptions or change notes like "car → blue" or "added a dog". This module
is the only place that turns one into the other.
"""

from __future__ import annotations

import re

KEEP_THE_REST = "keep everything else as it is"

#: Verbs an instruction starts with.
IMPERATIVE_VERBS = frozenset(
    "add remove delete erase replace swap change make turn put place move give paint colour color recolour "
    "recolor draw fill cover dress set convert transform let keep use show hide zoom rotate flip shrink enlarge "
    "grow brighten darken lighten bring take render restyle apply insert drop crop extend widen narrow raise "
    "lower shift push pull mirror blur sharpen clean fix".split())

#: Change notes in the past tense, and the verb that commands the same change.
_PAST = {"added": "add", "removed": "remove", "deleted": "delete", "erased": "erase", "replaced": "replace",
         "swapped": "swap", "changed": "change", "made": "make", "turned": "turn", "moved": "move",
         "put": "put", "placed": "place", "recoloured": "recolour", "recolored": "recolor", "enlarged": "enlarge",
         "shrank": "shrink", "shrunk": "shrink", "painted": "paint", "gave": "give", "set": "set",
         "coloured": "colour", "colored": "color", "darkened": "darken", "brightened": "brighten"}

#: Rewriter notes that say nothing about what to change.
_NOT_A_CHANGE = {"", "new picture", "another take", "no change", "not understood", "nothing asked",
                 "undo the last change", "set the prompt directly"}

_ARROW = re.compile(r"^(?P<what>.+?)\s*(?:→|->)\s*(?P<to>.+)$")


def is_imperative(text: str) -> bool:
    words = text.strip().lower().split()
    return bool(words) and words[0].strip(",.;:!") in IMPERATIVE_VERBS


def imperative_instruction(instruction: str, prompt: str, message: str = "") -> str:
    """One imperative sentence for an instruction-edit model.

    ``instruction`` is the rewriter's note on the change, ``prompt`` the full updated
    description and ``message`` what the person typed. The first that can be said as a command
    is used; when none can, the model is told to make the picture match the description."""
    for text in (instruction, message):
        command = _as_command(" ".join(text.split()))
        if command:
            return _sentence(command)
    return _sentence(f"Change the picture so that it shows {prompt.strip().rstrip('.')}")


def canvas_instruction(prompt: str) -> str:
    """What an instruction-edit model that cannot paint from text is told on the first turn,
    given a blank canvas."""
    return f"Turn this blank canvas into a picture of {prompt.strip().rstrip('.')}."


def _as_command(text: str) -> str | None:
    if text.lower() in _NOT_A_CHANGE:
        return None
    arrow = _ARROW.match(text)
    if arrow:
        what, to = arrow["what"].strip(), arrow["to"].strip()
        what = what if what.lower().startswith(("the ", "a ", "an ")) else f"the {what}"
        if to.lower().startswith(("a ", "an ")):
            return f"Turn {what} into {to}"
        return f"Make {what} {to}"
    first, _, rest = text.partition(" ")
    verb = _PAST.get(first.lower())
    if verb and rest:
        return f"{verb} {rest}"
    if is_imperative(text):
        return text
    return None


def _sentence(command: str) -> str:
    command = command.strip().rstrip(".!;")
    command = command[0].upper() + command[1:]
    if KEEP_THE_REST in command.lower():
        return f"{command}."
    return f"{command}; {KEEP_THE_REST}."
