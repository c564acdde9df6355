"""The conversation's data model: what was asked, what was painted, how they link.

Plain pydantic models with no I/O; ``chatimg.core.store`` owns the files. Turns form a
tree through ``parent`` so undo is "move the head to the parent" and branching is
"add a turn whose parent is not the newest one".
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chatimg.core.ops import EditOp, Intent, Source

FORMAT_VERSION = 1

#: Seeds are 32-bit everywhere (torch generators, the CLI, ``/seed``, saved turns).
SEED_MAX = 2**32 - 1

#: A session id, and every file name a session names, is a plain name: no separators, no leading
#: dot, nothing a shell or a file system reads specially. Ids are resolved inside the sessions folder.
PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}


def is_plain_name(value: object) -> bool:
    return (isinstance(value, str) and PLAIN_NAME.fullmatch(value) is not None and ".." not in value
            and value.split(".")[0].upper() not in _RESERVED)


def parse_seed(value: object) -> int:
    """A seed from a number or its text, 0 to ``SEED_MAX``; ``ValueError`` says what is wrong."""
    text = str(value).strip()
    digits = text.replace("_", "")
    shown = text[:30] + ("…" if len(text) > 30 else "")
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"a seed is a whole number from 0 to {SEED_MAX} (got {shown!r})")
    if len(digits.lstrip("0")) > len(str(SEED_MAX)) or int(digits) > SEED_MAX:
        raise ValueError(f"a seed is at most {SEED_MAX} (got {shown})")
    return int(digits)


def check_text(value: str, what: str = "text") -> str:
    """``value`` if it can be written as UTF-8 (a lone surrogate from undecodable input cannot)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{what} is not valid UTF-8 text (at character {exc.start})") from None
    return value


#: Regions a masked edit can target without naming an object. ``background`` is everything but
#: the objects in front of it (found by colour, so only for flat backdrops; else the whole image).
NAMED_REGIONS = ("whole", "left", "right", "top", "bottom", "center", "background")

#: A move is the region ``"<from>-><to>"`` of two named sides or the centre ("left->right"):
#: the object at the first is moved to the second. Several moves (a swap) are comma-separated.
#: A move to where the object already is ("center->center") centres it on that anchor: "move
#: it to the center" when the prompt never said a place and the picture has it there or nearby.
MOVE_ARROW = "->"
_MOVE = re.compile(r"^(left|right|top|bottom|center)\s*(?:->|→|>|to)\s*(left|right|top|bottom|center)$")

STRENGTH_MIN = 0.05
STRENGTH_MAX = 1.0


def _region_parts(region: str) -> list[str]:
    """The parts of a region between commas, semicolons and "and": lower-case, single-spaced,
    "centre" spelled "center"."""
    parts = re.split(r"[,;]|\band\b", region.lower().replace("centre", "center"))
    return [" ".join(part.split()) for part in parts if part.strip()]


def _moves(parts: list[str]) -> list[tuple[str, str]] | None:
    """``[(from, to), ...]`` when every part is a move and no two share a source or a target;
    a move to its own place ("center->center") only on its own."""
    matches = [_MOVE.match(part) for part in parts]
    if not matches or not all(matches):
        return None
    pairs = [(m[1], m[2]) for m in matches]
    sources, targets = [a for a, _ in pairs], [b for _, b in pairs]
    if (len(pairs) > 1 and any(a == b for a, b in pairs)) or len(set(sources)) < len(pairs) or \
            len(set(targets)) < len(pairs):
        return None
    return pairs


def parse_moves(region: str) -> list[tuple[str, str]] | None:
    """``[(from, to), ...]`` when ``region`` names moves ("left->right", "left to right",
    "left->right, right->left"), else ``None``."""
    return _moves(_region_parts(region))


def split_moves(region: str) -> tuple[list[tuple[str, str]], str] | None:
    """``(moves, region)`` for moves plus one more named region to repaint ("center->bottom,
    top": move the centre shape to the bottom, then paint the top; an add that makes room),
    else ``None``."""
    parts = _region_parts(region)
    rest = [part for part in parts if not _MOVE.match(part)]
    if len(rest) != 1 or len(parts) < 2:
        return None
    named = REGION_ALIASES.get(rest[0], rest[0])
    moves = _moves([part for part in parts if part != rest[0]])
    if moves is None or named not in NAMED_REGIONS or named in ("whole", "background") or \
            named in {b for _, b in moves}:
        return None
    return moves, named


def format_moves(moves: list[tuple[str, str]]) -> str:
    return ", ".join(f"{a}{MOVE_ARROW}{b}" for a, b in moves)


#: Other words for the named regions.
REGION_ALIASES = {"centre": "center", "middle": "center", "all": "whole", "everything": "whole",
                  "full": "whole", "image": "whole", "none": "whole"}


def canonical_region(region: str) -> str:
    """A lower-case, single-spaced region written one way: aliases resolved, moves formatted."""
    moves = parse_moves(region)
    if moves:
        return format_moves(moves)
    split = split_moves(region)
    return f"{format_moves(split[0])}, {split[1]}" if split else REGION_ALIASES.get(region, region)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime) -> datetime:
    """Times without a zone are UTC (as chatimg writes them), so any two compare."""
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


class Edit(BaseModel):
    """One structured edit: what the rewriter decided the user's words mean.

    ``prompt`` is always the *full* updated image description (never a diff), so any
    turn can be repainted from scratch. ``strength`` is how much of the previous
    image may change (img2img strength); ``region`` restricts the change to part of
    the image (``whole``, a side, ``center``, ``background`` or the name of an object) or
    names a move (``left->right``).
    """

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    prompt: str = Field(min_length=1, description="Full updated image prompt.")
    instruction: str = Field("", description="The change, in a few words.")
    strength: float = Field(0.6, ge=STRENGTH_MIN, le=STRENGTH_MAX)
    region: str = Field("whole", description="whole | left | right | top | bottom | center | background | "
                                              "<from>-><to> (a move, e.g. left->right; a swap: left->right, right->left) | "
                                              "an object name")
    negative_prompt: str = Field("", description="What the image must not show.")
    reply: str = Field("", description="One short sentence for the user.")
    note: str = Field("", description="The change in a few words, for the transcript.")
    ops: list[EditOp] = Field(default_factory=list, description="What was asked, as typed operations.")
    source: Source | None = Field(None, description="What understood the message: llm, rules, direct or history.")
    intent: Intent = Field("paint", description="What the engine does: paint, keep, restore, reroll or restart.")

    @field_validator("prompt", "instruction", "negative_prompt", "reply", "note", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return " ".join(value.split()) if isinstance(value, str) else value

    @field_validator("*", mode="after")
    @classmethod
    def _utf8(cls, value: object) -> object:
        return check_text(value) if isinstance(value, str) else value

    @field_validator("region", mode="before")
    @classmethod
    def _normalise_region(cls, value: object) -> object:
        if value is None:
            return "whole"
        if isinstance(value, str):
            return canonical_region(" ".join(value.lower().split()) or "whole")
        return value


#: How a turn's picture was made; "keep": the edit changed nothing ("thanks!", "it already
#: looks like that"), so the previous picture stands as it was instead of being repainted;
#: "import": a picture the person opened, the root of its session; "instruct": an
#: instruction-edit model (Kontext, Qwen-Image-Edit) followed an instruction.
PaintMode = Literal["txt2img", "img2img", "inpaint", "instruct", "move", "retouch", "restore", "keep", "none", "import"]
#: The modes that paint from noise, so another seed gives another picture ("try again").
SEEDED_MODES = ("txt2img", "img2img", "inpaint", "instruct")


class Timings(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)

    rewrite_s: float = 0.0
    paint_s: float = 0.0


class Turn(BaseModel):
    """One exchange: the user's words, the edit chosen, and the image it produced."""

    model_config = ConfigDict(allow_inf_nan=False)

    index: int = Field(ge=0)
    parent: int | None = Field(None, ge=0)
    user: str
    edit: Edit
    mode: PaintMode = "txt2img"
    seed: int = Field(ge=0, le=SEED_MAX)
    steps: int = Field(ge=1, le=10_000)
    guidance: float = Field(ge=0.0, le=100.0)
    model: str = ""
    llm: str | None = None
    image: str | None = Field(None, description="PNG file name inside the session folder.")
    source: str | None = Field(None, description="An opened picture: its untouched copy inside the session folder.")
    #: The exact text the painter model received: the full prompt, or an instruction-edit
    #: model's instruction ("" when no model painted).
    model_prompt: str = ""
    timings: Timings = Field(default_factory=Timings)
    created: datetime = Field(default_factory=utcnow)

    @field_validator("*", mode="after")
    @classmethod
    def _utf8(cls, value: object) -> object:
        return check_text(value) if isinstance(value, str) else value

    @field_validator("created", mode="after")
    @classmethod
    def _zoned(cls, value: datetime) -> datetime:
        return _aware(value)

    @field_validator("image")
    @classmethod
    def _plain_image_name(cls, value: str | None) -> str | None:
        if value is not None and not is_plain_name(value):
            raise ValueError(f"image {value[:60]!r} is not a plain file name inside the session folder")
        return value

    @property
    def prompt(self) -> str:
        return self.edit.prompt

    def painted_how(self, sep: str = "  ", steps: bool = True) -> str:
        """How the picture was made, in words, for the TUI and the CLI alike: a move is a cut and
        paste, a retouch recolours or resizes objects' pixels, a restore or a keep shows an earlier
        picture: none has a strength or seed to show."""
        if self.mode in ("move", "retouch"):
            return f"{self.mode} {self.edit.region}"
        if self.mode == "restore":
            return "restore: an earlier picture, as it was"
        if self.mode == "keep":
            return "keep: nothing to change, the picture as it was"
        if self.mode == "import":
            return "opened: your picture, as the first turn"
        parts = [self.mode]
        if self.mode not in ("txt2img", "instruct"):  # text to image starts from noise alone: a strength would say nothing
            parts.append(f"strength {self.edit.strength:.2f}")
        parts.append(f"seed {self.seed}")
        parts += [f"steps {self.steps}"] if steps else []
        parts += [f"region {self.edit.region}"] if self.edit.region != "whole" else []
        return sep.join(parts)


class Settings(BaseModel):
    """Per-session knobs the user sets with slash commands (``/seed``, ``/steps``...).

    ``None`` means "let the rewriter / painter default decide".
    """

    model_config = ConfigDict(allow_inf_nan=False)

    seed: int | None = Field(None, ge=0, le=SEED_MAX)
    steps: int | None = Field(None, ge=1, le=200)
    strength: float | None = Field(None, ge=STRENGTH_MIN, le=STRENGTH_MAX)
    guidance: float | None = Field(None, ge=0.0, le=30.0)


def new_session_id() -> str:
    """Sortable, readable and unique enough: ``20261125-165012-3fa9``."""
    return utcnow().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


class Session(BaseModel):
    """A conversation: a tree of turns and a head pointing at the current one."""

    format: int = FORMAT_VERSION
    id: str = Field(default_factory=new_session_id)
    title: str = ""
    created: datetime = Field(default_factory=utcnow)
    updated: datetime = Field(default_factory=utcnow)
    model: str = ""
    llm: str | None = None
    settings: Settings = Field(default_factory=Settings)
    turns: list[Turn] = Field(default_factory=list)
    head: int | None = None

    @field_validator("id")
    @classmethod
    def _safe_id(cls, value: str) -> str:
        if not is_plain_name(value):
            raise ValueError(f"not a valid session id: {value[:60]!r} (letters, digits, '-', '_' and '.')")
        return value

    @field_validator("title", "model", "llm", mode="after")
    @classmethod
    def _utf8(cls, value: object) -> object:
        return check_text(value) if isinstance(value, str) else value

    @field_validator("created", "updated", mode="after")
    @classmethod
    def _zoned(cls, value: datetime) -> datetime:
        return _aware(value)

    @model_validator(mode="after")
    def _a_tree(self) -> Session:
        """Turn ``i`` sits at position ``i`` and its parent is an earlier turn, so every walk
        towards the root ends; the head is a turn or nothing."""
        for position, turn in enumerate(self.turns):
            if turn.index != position:
                raise ValueError(f"turn at position {position} says it is turn {turn.index}")
            if turn.parent is not None and not turn.parent < position:
                raise ValueError(f"turn {position}'s parent {turn.parent} is not an earlier turn")
        if self.head is not None and not 0 <= self.head < len(self.turns):
            raise ValueError(f"head {self.head} is not a turn (the session has {len(self.turns)})")
        return self

    # -- navigation -------------------------------------------------------------------
    def current(self) -> Turn | None:
        return None if self.head is None else self.turns[self.head]

    def branch(self, index: int | None = None) -> list[Turn]:
        """Turns from the root to ``index`` (default: the head), oldest first. Parents are
        earlier turns, so the walk takes at most one step per turn."""
        chain: list[Turn] = []
        cursor = self.head if index is None else index
        while cursor is not None:
            if not 0 <= cursor < len(self.turns) or len(chain) >= len(self.turns):
                raise ValueError(f"the turn tree is broken at turn {cursor}")
            turn = self.turns[cursor]
            chain.append(turn)
            cursor = turn.parent
        return chain[::-1]

    def history(self) -> list[tuple[str, str]]:
        """(user text, resulting prompt) pairs along the current branch, for the rewriter."""
        return [(t.user, t.edit.prompt) for t in self.branch()]

    def current_prompt(self) -> str | None:
        turn = self.current()
        return turn.edit.prompt if turn else None

    # -- mutation -----------------------------------------------------------------------
    def add_turn(self, turn: Turn) -> Turn:
        """Append ``turn`` as a child of the head and make it the head."""
        if turn.index != len(self.turns):
            raise ValueError(f"turn index {turn.index} != next index {len(self.turns)}")
        if turn.parent != self.head:
            raise ValueError(f"turn parent {turn.parent} != head {self.head}")
        self.turns.append(turn)
        self.head = turn.index
        self.updated = utcnow()
        if not self.title:
            self.title = turn.user[:60]
        return turn

    def undo(self) -> Turn | None:
        """Move the head back to its parent; the undone turn stays on disk (a branch)."""
        turn = self.current()
        if turn is None:
            raise ValueError("nothing to undo")
        self.head = turn.parent
        self.updated = utcnow()
        return self.current()

    def checkout(self, index: int) -> Turn:
        """Make any earlier turn the head (the next turn branches from it)."""
        if not 0 <= index < len(self.turns):
            raise ValueError(f"no turn {index}; this session has {len(self.turns)}")
        self.head = index
        self.updated = utcnow()
        return self.turns[index]

    def next_index(self) -> int:
        return len(self.turns)
