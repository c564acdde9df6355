"""What a turn asks for, as typed operations: the contract from words to pixels.

An understander (the LLM, the rules, or the diff of two prompts typed in full) turns a message
into a list of ``EditOp``; ``apply`` turns them into the next prompt and the painter plans its
edit from them, so no later stage re-reads the user's words. ``EDIT_OPS_SCHEMA`` is the JSON
schema an LLM is asked to emit under constrained decoding.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

#: The aspects of a whole picture that ``SetAspect`` may set.
ASPECT_SLOTS = ("time", "weather", "season", "light", "style", "medium", "era", "camera", "mood")

#: Where a thing can be put or moved to ("" = wherever it fits).
PLACES = ("left", "right", "top", "bottom", "center")


class _Op(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def describe(self) -> str:
        """A few words for the transcript."""
        raise NotImplementedError

    def imperative(self) -> str:
        """The op as an imperative clause a person or an instruction-edit model can act on."""
        raise NotImplementedError


class Recolour(_Op):
    op: Literal["recolour"] = "recolour"
    target: str
    colour: str

    def describe(self) -> str:
        return f"recolour {self.target} → {self.colour}"

    def imperative(self) -> str:
        return f"make {_the(self.target)} {self.colour}"


class Resize(_Op):
    op: Literal["resize"] = "resize"
    target: str
    size: str

    def describe(self) -> str:
        return f"resize {self.target} → {self.size}"

    def imperative(self) -> str:
        return f"make {_the(self.target)} {self.size}"


class Move(_Op):
    op: Literal["move"] = "move"
    target: str
    to: str

    def describe(self) -> str:
        return f"move {self.target} → {self.to}"

    def imperative(self) -> str:
        return f"move {_the(self.target)} to the {self.to}"


class Swap(_Op):
    op: Literal["swap"] = "swap"
    a: str
    b: str

    def describe(self) -> str:
        return f"swap {self.a} ↔ {self.b}"

    def imperative(self) -> str:
        return f"swap the places of {_the(self.a)} and {_the(self.b)}"


class Add(_Op):
    op: Literal["add"] = "add"
    thing: str
    where: str = ""

    def describe(self) -> str:
        return f"add {self.thing}" + (f" @ {self.where}" if self.where else "")

    def imperative(self) -> str:
        where = f" {_place(self.where)}" if self.where else ""
        return f"add {self.thing}{where}"


class Remove(_Op):
    op: Literal["remove"] = "remove"
    target: str

    def describe(self) -> str:
        return f"remove {self.target}"

    def imperative(self) -> str:
        return f"remove {_the(self.target)}"


class Replace(_Op):
    op: Literal["replace"] = "replace"
    old: str
    new: str

    def describe(self) -> str:
        return f"replace {self.old} → {self.new}"

    def imperative(self) -> str:
        return f"replace {_the(self.old)} with {self.new}"


class SetBackground(_Op):
    op: Literal["set_background"] = "set_background"
    value: str

    def describe(self) -> str:
        return f"background → {self.value}"

    def imperative(self) -> str:
        return f"make the background {self.value}"


class SetAspect(_Op):
    op: Literal["set_aspect"] = "set_aspect"
    slot: Literal["time", "weather", "season", "light", "style", "medium", "era", "camera", "mood"]
    value: str

    def describe(self) -> str:
        return f"{self.slot} → {self.value}"

    def imperative(self) -> str:
        return f"make it {self.value}" if self.slot != "style" else f"render it {_as(self.value)}"


class Restart(_Op):
    op: Literal["restart"] = "restart"
    description: str

    def describe(self) -> str:
        return f"new picture: {self.description}"

    def imperative(self) -> str:
        return f"paint {self.description}"


class Revert(_Op):
    op: Literal["revert"] = "revert"
    turn: int | None = None
    description: str = ""

    def describe(self) -> str:
        return "revert to " + (f"turn {self.turn}" if self.turn is not None else self.description or "the last picture")

    def imperative(self) -> str:
        return "go back to " + (f"turn {self.turn}" if self.turn is not None else self.description or "the previous picture")


class Reroll(_Op):
    op: Literal["reroll"] = "reroll"

    def describe(self) -> str:
        return "another take"

    def imperative(self) -> str:
        return "paint the last picture again with a new seed"


class Talk(_Op):
    op: Literal["talk"] = "talk"
    reply: str = ""

    def describe(self) -> str:
        return "no change"

    def imperative(self) -> str:
        return "change nothing"


EditOp = Annotated[
    Recolour | Resize | Move | Swap | Add | Remove | Replace | SetBackground | SetAspect | Restart | Revert | Reroll | Talk,
    Field(discriminator="op"),
]
EditOps = TypeAdapter(list[EditOp])
#: The JSON schema of one turn's ops, as an LLM is asked to emit them.
EDIT_OPS_SCHEMA = EditOps.json_schema()

#: What the engine does with a turn. ``paint``: paint the new prompt; ``keep``: nothing to change
#: (the picture stands); ``restore``: show an earlier turn's picture as it was; ``reroll``: the
#: last turn once more with a new seed; ``restart``: a new picture from text.
Intent = Literal["paint", "keep", "restore", "reroll", "restart"]
#: What produced a turn's ops.
Source = Literal["llm", "rules", "direct", "history"]


def intent_of(ops: list) -> Intent:
    """The engine's intent for a list of ops (an empty list changes nothing)."""
    kinds = {op.op for op in ops}
    if not kinds or kinds == {"talk"}:
        return "keep"
    if "reroll" in kinds:
        return "reroll"
    if "revert" in kinds:
        return "restore"
    if "restart" in kinds:
        return "restart"
    return "paint"


def describe(ops: list) -> str:
    """The ops in a few words, for the transcript."""
    return "; ".join(op.describe() for op in ops) or "no change"


def imperative(ops: list) -> str:
    """One imperative sentence for the ops ("Make the car blue; keep everything else as it is.")."""
    clauses = [op.imperative() for op in ops if op.op not in ("talk",)]
    if not clauses:
        return "Keep the picture as it is."
    sentence = "; ".join(clauses)
    sentence = sentence[0].upper() + sentence[1:]
    if any(op.op in ("restart", "reroll", "revert") for op in ops):
        return sentence + "."
    return sentence + "; keep everything else as it is."


def _the(thing: str) -> str:
    words = thing.split()
    if words and words[0].lower() in ("a", "an", "the", "this", "that", "these", "those", "my", "his", "her", "its", "their"):
        words = words[1:]
    return "the " + " ".join(words) if words else "it"


def _a(thing: str) -> str:
    words = thing.split()
    if not words or words[0].lower() in ("a", "an", "the", "some"):
        return thing
    return ("an " if words[0][0].lower() in "aeiou" else "a ") + thing


def _place(where: str) -> str:
    return f"in the {where}" if where == "center" else f"on the {where}" if where in PLACES else where


def _as(style: str) -> str:
    lowered = style.lower()
    return style if lowered.startswith(("as ", "in ")) else f"as {_a(style)}"
