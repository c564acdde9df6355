"""Rewriter evaluation set and synthetic training data (issue 5).

Two products, both deterministic:

* ``build_eval()`` / ``write_eval()``: the evaluation files under
  ``chatimg/bench/data/rewriter_eval/`` (``single.jsonl`` and ``conversations.jsonl``).
  Run ``python -m chatimg.training.rewrite_data`` to regenerate them.
* ``synthetic_examples(n, seed, domain)``: training items shaped like ``single.jsonl``
  plus a gold ``target`` (full prompt, instruction, region, kind, reply).

Every item is produced by simulating a small world state (shape world: coloured shapes
on a background; general: a subject in a setting with objects, time, weather, style,
lighting, mood and camera slots), applying an edit, and deriving the checks from the
state before and after. Checks are: ``must_contain`` (phrases, or lists of alternative
phrases) and ``must_not_contain``, matched case-insensitively, as whole words/phrases,
whitespace collapsed (see :func:`phrase_in`, :func:`check`).

Split discipline: every phrasing template belongs to exactly one family: ``tune`` or
``heldout`` (plus ``train``-only families used by the synthetic generator). General
scenes are split too. Held-out items only use held-out scenes and may use held-out
phrasings that tune items and training data never use; the synthetic generator never
uses held-out templates, held-out synonyms or held-out scenes, and additionally drops
any example whose message equals a held-out message.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from chatimg.locations import evals_dir
from chatimg.shapeworld.scene import OPPOSITE, room_for
from chatimg.shapeworld.vocab import COLOURS, POSITIONS, SHAPES, SIZES, SYNONYMS

EVAL_DIR = evals_dir()
EVAL_SEED = 20261125
KINDS = ("colour", "background", "position", "size", "shape", "add", "remove", "style",
         "lighting", "time", "object", "other")

Check = str | list[str]

# ---------------------------------------------------------------------------------------
# Matching rule (the scorer uses the same one)
# ---------------------------------------------------------------------------------------


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


@lru_cache(maxsize=4096)
def _pattern(phrase: str) -> re.Pattern[str]:
    words = _norm(phrase).split(" ")
    body = r"\s+".join(re.escape(w) for w in words)
    return re.compile(r"(?<!\w)" + body + r"(?!\w)")


def phrase_in(phrase: str, text: str) -> bool:
    """Whole-word/phrase, case-insensitive, whitespace-collapsed containment."""
    return _pattern(phrase).search(_norm(text)) is not None


def check(text: str, must_contain: Sequence[Check], must_not_contain: Sequence[str]) -> list[str]:
    """Failed checks for ``text`` (empty list = pass)."""
    failures = []
    for entry in must_contain:
        options = [entry] if isinstance(entry, str) else list(entry)
        if not any(phrase_in(o, text) for o in options):
            failures.append("missing " + " | ".join(options))
    for phrase in must_not_contain:
        if phrase_in(phrase, text):
            failures.append("forbidden " + phrase)
    return failures


def passes(text: str, item: dict) -> bool:
    return not check(text, item["must_contain"], item["must_not_contain"])


# ---------------------------------------------------------------------------------------
# Shape-world vocabulary: alternatives and held-out / training synonyms
# ---------------------------------------------------------------------------------------

_SYN_BY_CANON: dict[str, list[str]] = {}
for _syn, _canon in SYNONYMS.items():
    _SYN_BY_CANON.setdefault(_canon, []).append(_syn)

#: Synonyms only held-out messages use (never in tune items or training data).
HELDOUT_SYNONYMS = {"violet", "crimson", "emerald", "azure", "huge", "tiny", "centre", "disc",
                    "pyramid", "block", "backdrop", "amber"}
#: Synonyms tune items / training data may use.
TUNE_SYNONYMS = {"lilac", "scarlet", "lime", "navy", "gold", "large", "little", "middle", "dot",
                 "box", "giant", "wedge"}

_EXCLUDED_ALTS = {"round"}  # too vague to count as naming a shape


def alts(word: str) -> list[str]:
    """Canonical word first, then vocabulary synonyms that name the same thing."""
    extra = {"center": ["centre", "middle", "centered", "centred"], "top": ["upper"],
             "bottom": ["lower"], "big": ["large", "huge", "giant"],
             "small": ["tiny", "little"]}.get(word)
    out = [word] + (extra or [s for s in _SYN_BY_CANON.get(word, []) if s not in _EXCLUDED_ALTS])
    if word == "circle":
        out += ["disk"] if "disk" not in out else []
    return list(dict.fromkeys(out))


def _say(word: str, rng: random.Random, split: str, p: float = 0.35) -> str:
    """How a user names ``word``: usually the word, sometimes a synonym allowed in ``split``."""
    allowed = HELDOUT_SYNONYMS if split == "heldout" else TUNE_SYNONYMS
    options = [s for s in _SYN_BY_CANON.get(word, []) if s in allowed]
    if word == "center" and split == "heldout":
        options.append("centre")
    if word == "center" and split != "heldout":
        options.append("middle")
    if word == "big" and split != "heldout":
        options += ["large"]
    if word == "small" and split != "heldout":
        options += ["little"]
    options = sorted(set(options))
    if options and rng.random() < p:
        return rng.choice(options)
    return word


POS_PHRASE = {"left": "on the left", "right": "on the right", "top": "at the top",
              "bottom": "at the bottom", "center": "in the center"}


def _pos_phrase(pos: str, said: str | None = None) -> str:
    said = said or pos
    if pos in ("left", "right"):
        return f"on the {said}"
    if pos == "center":
        return f"in the {said}"
    return f"at the {said}"


# ---------------------------------------------------------------------------------------
# Shape world state
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    sid: int
    colour: str
    shape: str
    size: str | None = None
    position: str | None = None


@dataclass(frozen=True)
class Scene:
    shapes: tuple[Shape, ...]
    background: str | None = None

    def get(self, sid: int) -> Shape | None:
        return next((s for s in self.shapes if s.sid == sid), None)

    def put(self, shape: Shape) -> Scene:
        return replace(self, shapes=tuple(shape if s.sid == shape.sid else s for s in self.shapes))

    def used_colours(self) -> set[str]:
        return {s.colour for s in self.shapes} | ({self.background} if self.background else set())


def _shape_text(s: Shape, size_word: str | None = None, shape_word: str | None = None) -> str:
    words = [w for w in (size_word or s.size, s.colour, shape_word or s.shape) if w]
    text = " ".join(words)
    text = ("an " if text[0] in "aeiou" else "a ") + text
    return text + (" " + POS_PHRASE[s.position] if s.position else "")


def render_canonical(scene: Scene) -> str:
    body = " and ".join(_shape_text(s) for s in scene.shapes)
    return body + (f", {scene.background} background" if scene.background else "")


_ALT_SHAPE = {"circle": "disc", "square": "box", "triangle": "triangle"}
_ALT_SIZE = {"big": "large", "small": "tiny"}


def render_alt(scene: Scene, variant: int) -> str:
    """Other ways a prompt may be phrased (e.g. by a previous rewriter or the user)."""
    def shape_alt(s: Shape) -> str:
        size = _ALT_SIZE.get(s.size or "", None)
        words = [w for w in (size, s.colour, _ALT_SHAPE[s.shape]) if w]
        text = ("an " if words[0][0] in "aeiou" else "a ") + " ".join(words)
        if s.position:
            text += {"left": " at the left", "right": " at the right", "top": " near the top",
                     "bottom": " near the bottom", "center": " in the middle"}[s.position]
        return text

    shapes = " and ".join(shape_alt(s) for s in scene.shapes)
    if variant % 3 == 0 and scene.background:
        return f"{scene.background} backdrop with {shapes}"
    if variant % 3 == 1:
        bg = f" against a plain {scene.background} background" if scene.background else ""
        return f"simple flat illustration of {shapes}{bg}"
    bg = f" on a {scene.background} backdrop" if scene.background else ""
    return f"{shapes}{bg}, minimalist"


def shape_checks(new: Scene, old: Scene | None, bind_size: int | None = None,
                 bind_pos: bool = False) -> tuple[list[Check], list[str]]:
    """Checks that the prompt for ``new`` passes (and, where it changed, ``old`` fails)."""
    must: list[Check] = []
    for s in new.shapes:
        must.append([f"{c} {w}" for c in alts(s.colour) for w in alts(s.shape)])
        if bind_pos and s.position:
            must.append([f"{c} {w} {prep} {p}" for c in alts(s.colour) for w in alts(s.shape)
                         for prep in ("on the", "at the", "in the", "near the", "to the") for p in alts(s.position)])
    for s in new.shapes:
        if s.size is None:
            continue
        if bind_size == s.sid and len(new.shapes) > 1:
            must.append([f"{z} {c} {w}" for z in alts(s.size) for c in alts(s.colour) for w in alts(s.shape)])
        else:
            must.append(alts(s.size))
    for s in new.shapes:
        if s.position:
            must.append(alts(s.position))
    if new.background:
        must.append(alts(new.background))
        must.append(["background", "backdrop"])
    # dedupe, keep order
    seen, uniq = set(), []
    for m in must:
        key = json.dumps(m)
        if key not in seen:
            seen.add(key)
            uniq.append(m)
    banned: list[str] = []
    if old is not None:
        def values(sc: Scene, attr: str) -> set[str]:
            return {getattr(s, attr) for s in sc.shapes if getattr(s, attr)}
        new_colours = new.used_colours()
        for c in sorted(old.used_colours() - new_colours):
            banned += alts(c)
        for attr in ("shape", "size", "position"):
            for v in sorted(values(old, attr) - values(new, attr)):
                banned += alts(v)
        if old.background and not new.background:
            banned += ["background", "backdrop"]
    return uniq, list(dict.fromkeys(banned))


# ---------------------------------------------------------------------------------------
# Templates. Each family: (split, template). Splits: "tune", "heldout", "train" (training only).
# Placeholders: {ref} reference to the target shape, {v} the new value as the user says it.
# ---------------------------------------------------------------------------------------

T = tuple[str, str]

SHAPE_TEMPLATES: dict[str, list[T]] = {
    "colour": [
        ("tune", "make {ref} {v}"), ("tune", "change {ref} to {v}"), ("tune", "{Ref} should be {v}"),
        ("tune", "turn {ref} {v}"), ("tune", "make {ref} {v} please"),
        ("heldout", "can you make {ref} {v}?"), ("heldout", "I'd like {ref} to be {v} please"),
        ("heldout", "no, {ref} should be {v}"), ("heldout", "paint {ref} {v} instead"),
        ("heldout", "could you recolour {ref} {v}?"), ("heldout", "hmm, try {ref} in {v}"),
        ("heldout", "{v} for {ref}"), ("heldout", "i want {ref} {v}"),
        ("train", "set the colour of {ref} to {v}"), ("train", "colour {ref} {v}"),
        ("train", "please make {ref} {v}"), ("train", "{ref} in {v} please"),
        ("train", "recolor {ref} to {v}"), ("train", "let's have {ref} {v}"),
    ],
    "size": [
        ("tune", "make {ref} {v}"), ("tune", "make {ref} {cmp}"), ("tune", "{Ref} should be {v}"),
        ("heldout", "can you make {ref} a bit {cmp}?"), ("heldout", "I'd like {ref} {v}"),
        ("heldout", "{ref} is too {opp}"), ("heldout", "{ref} {cmp} pls"),
        ("heldout", "could {ref} be {v}?"),
        ("train", "resize {ref} to {v}"), ("train", "make {ref} much {cmp}"),
        ("train", "please make {ref} {v}"), ("train", "{Ref} needs to be {cmp}"),
    ],
    "position": [
        ("tune", "move {ref} to the {v}"), ("tune", "put {ref} {vp}"), ("tune", "now {ref} goes {vp}"),
        ("heldout", "can you move {ref} over to the {v}?"), ("heldout", "I'd like {ref} moved to the {v}"),
        ("heldout", "shift {ref} to the {v} please"), ("heldout", "{ref} should sit {vp}"),
        ("heldout", "no, put {ref} {vp}"),
        ("train", "place {ref} {vp}"), ("train", "drag {ref} to the {v}"),
        ("train", "relocate {ref} to the {v}"), ("train", "please move {ref} to the {v}"),
    ],
    "shape": [
        ("tune", "make {ref} a {v}"), ("tune", "turn {ref} into a {v}"), ("tune", "change {ref} to a {v}"),
        ("heldout", "can you make {ref} a {v} instead?"), ("heldout", "I'd rather have a {v} than {ref}"),
        ("heldout", "swap {ref} for a {v}"), ("heldout", "no, {ref} should be a {v}"),
        ("heldout", "replace {ref} with a {v} of the same colour"),
        ("train", "reshape {ref} into a {v}"), ("train", "{Ref} should be a {v}"),
        ("train", "please make {ref} a {v}"), ("train", "use a {v} instead of {ref}"),
    ],
    "background": [
        ("tune", "make the background {v}"), ("tune", "change the background to {v}"),
        ("tune", "{v} background"), ("tune", "background {v} please"),
        ("heldout", "can you make the backdrop {v}?"), ("heldout", "I'd like a {v} background instead"),
        ("heldout", "paint the background {v}"), ("heldout", "hmm, {v} behind it"),
        ("heldout", "the background should be {v}"),
        ("train", "set the background to {v}"), ("train", "use a {v} background"),
        ("train", "please change the background colour to {v}"), ("train", "recolor the background {v}"),
    ],
    "add": [
        ("tune", "add a {new}"), ("tune", "also add a {new}"), ("tune", "put a {new} too"),
        ("heldout", "can you add a {new}?"), ("heldout", "I'd like another shape: a {new}"),
        ("heldout", "throw in a {new}"), ("heldout", "and a {new} as well"),
        ("train", "include a {new}"), ("train", "please add a {new}"), ("train", "add one more: a {new}"),
    ],
    "remove": [
        ("tune", "remove {ref}"), ("tune", "delete {ref}"), ("tune", "get rid of {ref}"),
        ("heldout", "can you take out {ref}?"), ("heldout", "I don't want {ref} anymore"),
        ("heldout", "lose {ref}"), ("heldout", "I don't need {ref}, just keep the other one"),
        ("train", "erase {ref}"), ("train", "please remove {ref}"), ("train", "drop {ref}"),
    ],
    "swap_colours": [
        ("tune", "swap the colours of the two shapes"),
        ("heldout", "can you switch their colours?"), ("heldout", "exchange the colours of the shapes"),
        ("train", "swap their colors"),
    ],
    "swap_positions": [
        ("tune", "swap the positions of the two shapes"),
        ("heldout", "switch places between the two shapes"), ("heldout", "can the shapes trade places?"),
        ("train", "swap where the two shapes are"),
    ],
    "colour_size": [
        ("tune", "make {ref} {sz} and {v}"),
        ("heldout", "I'd like {ref} {v} and {sz}"), ("heldout", "can {ref} be {sz} and {v}?"),
        ("train", "make {ref} {v} and {sz}"),
    ],
    # history-dependent reverts; {old} is the earlier value
    "revert_colour": [
        ("tune", "make {ref} {old} again"), ("tune", "undo the colour change"),
        ("heldout", "go back to {old}"), ("heldout", "change the colour back"),
        ("heldout", "actually, I preferred {ref} {old}"), ("heldout", "revert the colour please"),
        ("train", "back to {old} for {ref}"), ("train", "restore the previous colour"),
    ],
    "revert_shape": [
        ("tune", "go back to the {old}"), ("tune", "make it a {old} again"),
        ("heldout", "undo the shape change"), ("heldout", "I liked the {old} better, bring it back"),
        ("train", "change it back into a {old}"), ("train", "restore the {old} shape"),
    ],
    "revert_position": [
        ("tune", "put {ref} back {oldp}"), ("tune", "move {ref} back"),
        ("heldout", "put {ref} back where it was"), ("heldout", "undo the move"),
        ("train", "move {ref} back to the {old}"), ("train", "return {ref} to its old spot"),
    ],
    "revert_size": [
        ("tune", "make {ref} {old} again"),
        ("heldout", "back to the original size"), ("heldout", "undo the resize"),
        ("heldout", "{Ref} looked better {old}, change it back"),
        ("train", "restore the previous size of {ref}"),
    ],
    "revert_background": [
        ("tune", "change the background back"), ("tune", "make the background {old} again"),
        ("heldout", "undo the background change"), ("heldout", "I preferred the old backdrop"),
        ("train", "restore the previous background"),
    ],
    "undo_last": [
        ("tune", "undo that"), ("tune", "undo the last change"),
        ("heldout", "go back to how it was before"), ("heldout", "nah, revert that last edit"),
        ("train", "revert the last edit"),
    ],
    "correct_colour": [
        ("tune", "no, I meant {v}"),
        ("heldout", "sorry, I said that wrong, I meant {v}"), ("heldout", "not that colour, {v}!"),
        ("train", "wrong colour, make it {v}"),
    ],
    "other_one": [
        ("tune", "now make the other one {v}"),
        ("heldout", "and the other one {v} too"), ("heldout", "do the other shape in {v}"),
        ("train", "make the other shape {v} as well"),
    ],
    "first": [
        ("tune", "draw {scene}"), ("tune", "{scene}"), ("tune", "make an image of {scene}"),
        ("heldout", "can you paint {scene}?"), ("heldout", "I'd like {scene} please"),
        ("heldout", "hi! show me {scene}"), ("heldout", "give me {scene}"),
        ("train", "create {scene}"), ("train", "please draw {scene}"), ("train", "picture of {scene}"),
    ],
}

_TYPOS = {"make": "mkae", "change": "chnage", "background": "backgroud", "triangle": "triangel",
          "circle": "cirlce", "please": "pls", "square": "sqaure", "purple": "purpel",
          "yellow": "yelow", "the": "teh", "move": "mvoe", "green": "gren", "would": "woudl"}


def _typo(message: str, rng: random.Random) -> str:
    words = message.split(" ")
    idx = [i for i, w in enumerate(words) if w.lower().strip("?!,.") in _TYPOS]
    if not idx:
        return message
    i = rng.choice(idx)
    core = words[i].strip("?!,.")
    words[i] = words[i].replace(core, _TYPOS[core.lower()])
    return " ".join(words)


def _pick(family: str, split: str, rng: random.Random, table: dict[str, list[T]] | None = None,
          need: Sequence[str] = (), avoid: Sequence[str] = ()) -> str:
    """A template of ``family`` allowed in ``split``.

    Held-out items use held-out phrasings only; tune items tune phrasings only; the
    synthetic training data (``train``) tune and train-only phrasings. ``need`` /
    ``avoid``: placeholders the template must / must not contain.
    """
    table = table or SHAPE_TEMPLATES
    allowed = {"tune": ("tune",), "heldout": ("heldout",), "train": ("tune", "train")}[split]
    options = [t for s, t in table[family] if s in allowed
               and all("{" + n + "}" in t.lower() for n in need)
               and not any("{" + a + "}" in t.lower() for a in avoid)]
    if not options:
        raise LookupError(f"no {split} template for {family} with {need} and without {avoid}")
    return rng.choice(options)


def _fill(template: str, **kw: str) -> str:
    if "ref" in kw:
        kw["Ref"] = kw["ref"][:1].upper() + kw["ref"][1:]
    text = template.format(**kw)
    text = re.sub(r"\b([Aa]) (?=[aeiouAEIOU])", r"\1n ", text)
    return " ".join(text.split())


def _article(text: str) -> str:
    return ("an " if text[:1] in "aeiou" else "a ") + text


# ---------------------------------------------------------------------------------------
# Shape-world edit simulation
# ---------------------------------------------------------------------------------------


@dataclass
class Step:
    """One simulated turn: the message, the scene after it, and gold metadata."""
    message: str
    scene: Scene
    kind: str
    instruction: str
    region: str
    bind_size: int | None = None
    family: str = ""

    @property
    def bind_pos(self) -> bool:
        return self.family == "swap_positions"


@dataclass
class ShapeSim:
    rng: random.Random
    split: str
    scene: Scene | None = None
    steps: list[Step] = field(default_factory=list)
    last_target: int | None = None
    next_sid: int = 0
    #: (sid, attr) -> list of (step index, old value, new value) changes
    changes: list[tuple[int, int | None, str, object, object]] = field(default_factory=list)
    #: indices into ``changes`` made by undo / revert turns (never reverted again: ambiguous)
    reverts: set[int] = field(default_factory=set)

    # -- helpers ---------------------------------------------------------------------
    def say(self, word: str) -> str:
        return _say(word, self.rng, self.split)

    def ref(self, s: Shape) -> str:
        rng, scene = self.rng, self.scene
        assert scene is not None
        shape_word = self.say(s.shape)
        if len(scene.shapes) == 1:
            options = ["it", f"the {shape_word}", f"the {s.colour} {shape_word}", "the shape"]
            if self.split == "heldout":
                options += ["the thing", f"that {shape_word}"]
            return rng.choice(options)
        options = [f"the {shape_word}", f"the {s.colour} {shape_word}", f"the {s.colour} one"]
        if s.position:
            options.append(f"the one {_pos_phrase(s.position, self.say(s.position))}")
        return rng.choice(options)

    def region_of(self, s: Shape) -> str:
        return s.position or s.shape

    def free_colour(self, exclude: set[str] = frozenset()) -> str:
        assert self.scene is not None
        options = [c for c in COLOURS if c not in self.scene.used_colours() and c not in exclude]
        return self.rng.choice(options)

    def new_shape(self, used: Scene | None) -> Shape:
        rng = self.rng
        used_c = used.used_colours() if used else set()
        used_s = {s.shape for s in used.shapes} if used else set()
        used_p = {s.position for s in used.shapes} if used else set()
        sh = Shape(self.next_sid, rng.choice([c for c in COLOURS if c not in used_c]),
                   rng.choice([s for s in SHAPES if s not in used_s]), rng.choice(SIZES),
                   rng.choice([p for p in POSITIONS if p not in used_p]))
        self.next_sid += 1
        return sh

    def commit(self, step: Step, changes: Sequence[tuple[int | None, str, object, object]] = (),
               forward: bool = True) -> Step:
        idx = len(self.steps)
        for sid, attr, old, new in changes:
            self.changes.append((idx, sid, attr, old, new))
            if not forward:
                self.reverts.add(len(self.changes) - 1)
        self.steps.append(step)
        self.scene = step.scene
        return step

    # -- the first turn ----------------------------------------------------------------
    def first(self, full: bool = True) -> Step:
        rng = self.rng
        sh = self.new_shape(None)
        bg = rng.choice([c for c in COLOURS if c != sh.colour])
        if not full:
            drop = rng.choice(["size", "position", "background", "size+position", "all"])
            if "size" in drop or drop == "all":
                sh = replace(sh, size=None)
            if "position" in drop or drop == "all":
                sh = replace(sh, position=None)
            if drop in ("background", "all"):
                bg = None
        scene = Scene((sh,), bg)
        # the user's description of it
        words = [self.say(sh.size) if sh.size else None, self.say(sh.colour), self.say(sh.shape)]
        desc = _article(" ".join(w for w in words if w))
        if sh.position:
            desc += " " + _pos_phrase(sh.position, self.say(sh.position))
        if bg:
            desc += rng.choice([f" on a {self.say(bg)} background", f", {self.say(bg)} background",
                                f" with a {self.say(bg)} background"])
        msg = _fill(_pick("first", self.split, rng), scene=desc)
        return self.commit(Step(msg, scene, "other", "create the image", "whole", family="first"))

    # -- edits -----------------------------------------------------------------------
    def target(self) -> Shape:
        assert self.scene is not None
        return self.rng.choice(self.scene.shapes)

    def edit_colour(self) -> Step:
        s = self.target()
        new = self.free_colour()
        msg = _fill(_pick("colour", self.split, self.rng), ref=self.ref(s), v=self.say(new))
        self.last_target = s.sid
        return self.commit(Step(msg, self.scene.put(replace(s, colour=new)), "colour",
                                f"make the {s.shape} {new}", self.region_of(s), family="colour"),
                           [(s.sid, "colour", s.colour, new)])

    def edit_size(self) -> Step:
        s = self.target()
        new = "small" if s.size == "big" else "big" if s.size == "small" else self.rng.choice(SIZES)
        cmp_ = "bigger" if new == "big" else "smaller"
        opp = "small" if new == "big" else "big"
        template = _pick("size", self.split, self.rng, avoid=("cmp", "opp") if s.size is None else ())
        msg = _fill(template, ref=self.ref(s), v=self.say(new), cmp=cmp_, opp=opp)
        self.last_target = s.sid
        return self.commit(Step(msg, self.scene.put(replace(s, size=new)), "size",
                                f"make the {s.shape} {new}", self.region_of(s), bind_size=s.sid, family="size"),
                           [(s.sid, "size", s.size, new)])

    def edit_position(self) -> Step:
        s = self.target()
        used = {x.position for x in self.scene.shapes}
        new = self.rng.choice([p for p in POSITIONS if p not in used])
        said = self.say(new)
        msg = _fill(_pick("position", self.split, self.rng), ref=self.ref(s), v=said, vp=_pos_phrase(new, said))
        self.last_target = s.sid
        scene = self.scene.put(replace(s, position=new))
        changes = [(s.sid, "position", s.position, new)]
        other = next((x for x in self.scene.shapes if x.sid != s.sid), None)
        room = room_for(new, other.position) if other is not None else None
        if room is not None:  # as for an add: the other shape makes room
            scene = scene.put(replace(other, position=room))
            changes.append((other.sid, "position", other.position, room))
        return self.commit(Step(msg, scene, "position", f"move the {s.shape} to the {new}", "whole",
                                family="position"), changes)

    def edit_shape(self) -> Step:
        s = self.target()
        used = {x.shape for x in self.scene.shapes}
        new = self.rng.choice([p for p in SHAPES if p not in used])
        msg = _fill(_pick("shape", self.split, self.rng), ref=self.ref(s), v=self.say(new))
        msg = re.sub(r"\bthan it$", "than what's there now", msg)
        self.last_target = s.sid
        return self.commit(Step(msg, self.scene.put(replace(s, shape=new)), "shape",
                                f"turn the {s.shape} into a {new}", self.region_of(s), family="shape"),
                           [(s.sid, "shape", s.shape, new)])

    def edit_background(self) -> Step:
        new = self.free_colour()
        msg = _fill(_pick("background", self.split, self.rng), v=self.say(new))
        old = self.scene.background
        return self.commit(Step(msg, replace(self.scene, background=new), "background",
                                f"make the background {new}", "whole", family="background"),
                           [(None, "background", old, new)])

    def edit_add(self) -> Step:
        sh = self.new_shape(self.scene)
        desc = f"{self.say(sh.size)} {self.say(sh.colour)} {self.say(sh.shape)} " \
               f"{_pos_phrase(sh.position, self.say(sh.position))}"
        msg = _fill(_pick("add", self.split, self.rng), new=desc)
        self.last_target = sh.sid
        shapes = self.scene.shapes
        room = room_for(sh.position, shapes[0].position) if len(shapes) == 1 else None
        if room is not None:
            # Two shapes stand side by side or one above the other (shapeworld's
            # COMPATIBLE_POSITIONS), never one in the center or top beside left: the other makes room.
            shapes = (replace(shapes[0], position=room),)
        elif len(shapes) == 1 and shapes[0].position is None and sh.position == "center":
            # no pair has one in the center: the unplaced shape goes left and the new one right (as
            # the rules do, saying so), a pair the painter knows
            shapes, sh = (replace(shapes[0], position="left"),), replace(sh, position="right")
        elif len(shapes) == 1 and sh.position == "center" and shapes[0].position in OPPOSITE:  # opposite it, as the rules do
            sh = replace(sh, position=OPPOSITE[shapes[0].position])
        return self.commit(Step(msg, replace(self.scene, shapes=shapes + (sh,)), "add",
                                "add " + _article(f"{sh.colour} {sh.shape}"), sh.position, family="add"),
                           [(sh.sid, "exists", False, True)])

    def edit_remove(self) -> Step:
        s = self.target()
        ref = self.ref(s)
        msg = _fill(_pick("remove", self.split, self.rng), ref=ref)
        keep = tuple(x for x in self.scene.shapes if x.sid != s.sid)
        self.last_target = keep[0].sid
        return self.commit(Step(msg, replace(self.scene, shapes=keep), "remove",
                                f"remove the {s.shape}", self.region_of(s), family="remove"),
                           [(s.sid, "exists", True, False)])

    def edit_swap_colours(self) -> Step:
        a, b = self.scene.shapes
        msg = _fill(_pick("swap_colours", self.split, self.rng))
        scene = replace(self.scene, shapes=(replace(a, colour=b.colour), replace(b, colour=a.colour)))
        return self.commit(Step(msg, scene, "colour", "swap the shapes' colours", "whole", family="swap_colours"),
                           [(a.sid, "colour", a.colour, b.colour), (b.sid, "colour", b.colour, a.colour)])

    def edit_swap_positions(self) -> Step:
        a, b = self.scene.shapes
        msg = _fill(_pick("swap_positions", self.split, self.rng))
        scene = replace(self.scene, shapes=(replace(a, position=b.position), replace(b, position=a.position)))
        return self.commit(Step(msg, scene, "position", "swap the shapes' positions", "whole",
                                family="swap_positions"),
                           [(a.sid, "position", a.position, b.position), (b.sid, "position", b.position, a.position)])

    def edit_colour_size(self) -> Step:
        s = self.target()
        new_c = self.free_colour()
        new_z = "small" if s.size == "big" else "big"
        msg = _fill(_pick("colour_size", self.split, self.rng), ref=self.ref(s), v=self.say(new_c),
                    sz=self.say(new_z))
        self.last_target = s.sid
        return self.commit(Step(msg, self.scene.put(replace(s, colour=new_c, size=new_z)), "other",
                                f"make the {s.shape} {new_z} and {new_c}", self.region_of(s), bind_size=s.sid,
                                family="colour_size"),
                           [(s.sid, "colour", s.colour, new_c), (s.sid, "size", s.size, new_z)])

    # -- history-dependent -------------------------------------------------------------
    def last_change(self, attr: str) -> tuple[int, int | None, str, object, object] | None:
        for i in range(len(self.changes) - 1, -1, -1):
            ch = self.changes[i]
            if ch[2] == attr:
                return ch if ch[3] is not None and i not in self.reverts else None
        return None

    def can_revert(self, attr: str) -> bool:
        ch = self.last_change(attr)
        if ch is None:
            return False
        # the changed thing must still exist and the old value must be free to take back
        _, sid, _, old, new = ch
        if attr == "background":
            return self.scene.background == new and old not in {s.colour for s in self.scene.shapes}
        s = self.scene.get(sid)
        if s is None or getattr(s, attr) != new:
            return False
        others = [x for x in self.scene.shapes if x.sid != sid]
        if attr == "colour":
            return old not in {x.colour for x in others} and old != self.scene.background
        if attr in ("shape", "position"):
            return old not in {getattr(x, attr) for x in others}
        return True

    def edit_revert(self, attr: str) -> Step:
        _, sid, _, old, new = self.last_change(attr)
        family = "revert_" + attr
        if attr == "background":
            msg = _fill(_pick(family, self.split, self.rng), old=self.say(old))
            return self.commit(Step(msg, replace(self.scene, background=old), "background",
                                        f"change the background back to {old}", "whole", family=family),
                               [(None, "background", new, old)], forward=False)
        s = self.scene.get(sid)
        two = len(self.scene.shapes) > 1
        need = (("old",) if attr == "shape" else ("ref",)) if two else ()
        template = _pick(family, self.split, self.rng, need=need)
        ref = self.ref(s) if two else self.rng.choice(["it", "the shape", f"the {s.shape}"])
        said = self.say(old) if attr != "shape" else old
        oldp = _pos_phrase(old, said) if attr == "position" else ""
        msg = _fill(template, ref=ref, old=said, oldp=oldp)
        self.last_target = sid
        kind = {"colour": "colour", "shape": "shape", "position": "position", "size": "size"}[attr]
        region = "whole" if attr == "position" else (s.position or s.shape)
        return self.commit(Step(msg, self.scene.put(replace(s, **{attr: old})), kind,
                                f"change the {attr} back to {old}", region,
                                bind_size=sid if attr == "size" else None, family=family),
                           [(sid, attr, new, old)], forward=False)

    def edit_undo_last(self) -> Step:
        prev = self.steps[-2].scene
        msg = _fill(_pick("undo_last", self.split, self.rng))
        # record the reverse of the last step's changes
        last_idx = len(self.steps) - 1
        rev = [(sid, attr, new, old) for i, sid, attr, old, new in self.changes if i == last_idx]
        return self.commit(Step(msg, prev, self.steps[-1].kind, "undo the last change", self.steps[-1].region,
                                bind_size=self.steps[-1].bind_size, family="undo_last"), rev, forward=False)

    def edit_correct_colour(self) -> Step:
        _, sid, _, old, wrong = self.changes[-1]
        s = self.scene.get(sid)
        new = self.free_colour(exclude={old})
        msg = _fill(_pick("correct_colour", self.split, self.rng), v=self.say(new))
        return self.commit(Step(msg, self.scene.put(replace(s, colour=new)), "colour",
                                f"make the {s.shape} {new}", self.region_of(s), family="correct_colour"),
                           [(sid, "colour", wrong, new)])

    def edit_other_one(self) -> Step:
        other = next(x for x in self.scene.shapes if x.sid != self.last_target)
        new = self.free_colour()
        msg = _fill(_pick("other_one", self.split, self.rng), v=self.say(new))
        self.last_target = other.sid
        return self.commit(Step(msg, self.scene.put(replace(other, colour=new)), "colour",
                                f"make the {other.shape} {new}", self.region_of(other), family="other_one"),
                           [(other.sid, "colour", other.colour, new)])

    # -- choosing ----------------------------------------------------------------------
    def possible(self) -> dict[str, Callable[[], Step]]:
        sc = self.scene
        n = len(sc.shapes)
        ops: dict[str, Callable[[], Step]] = {
            "colour": self.edit_colour, "size": self.edit_size, "position": self.edit_position,
            "shape": self.edit_shape, "background": self.edit_background,
        }
        if n == 1:
            ops["add"] = self.edit_add
        if n == 2:
            ops["remove"] = self.edit_remove
            if all(s.position for s in sc.shapes):
                ops["swap_positions"] = self.edit_swap_positions
            ops["swap_colours"] = self.edit_swap_colours
            if self.last_target is not None and sc.get(self.last_target) is not None and \
                    self.steps[-1].family in ("colour", "size", "shape", "position", "colour_size"):
                ops["other_one"] = self.edit_other_one
        if all(s.size for s in sc.shapes):
            ops["colour_size"] = self.edit_colour_size
        return ops

    def history_ops(self) -> dict[str, Callable[[], Step]]:
        ops: dict[str, Callable[[], Step]] = {}
        for attr in ("colour", "shape", "position", "size", "background"):
            if self.can_revert(attr):
                ops["revert_" + attr] = (lambda a=attr: self.edit_revert(a))
        if len(self.steps) >= 2 and self.steps[-1].family not in ("first", "undo_last"):
            ops["undo_last"] = self.edit_undo_last
        if self.steps and self.steps[-1].family == "colour" and len(self.changes) and \
                self.changes[-1][2] == "colour":
            ops["correct_colour"] = self.edit_correct_colour
        return ops


def _render(scene: Scene, style: int | None) -> str:
    return render_canonical(scene) if style is None else render_alt(scene, style)


def _shape_item(sim: ShapeSim, step_index: int, style: int | None) -> dict:
    """single.jsonl item for ``sim.steps[step_index]`` with the earlier steps as history."""
    step = sim.steps[step_index]
    history = [[s.message, _render(s.scene, style)] for s in sim.steps[:step_index]]
    old = sim.steps[step_index - 1].scene if step_index else None
    must, banned = shape_checks(step.scene, old, step.bind_size, step.bind_pos)
    return {
        "split": sim.split, "domain": "shape", "history": history,
        "prompt": history[-1][1] if history else None, "message": step.message,
        "must_contain": must, "must_not_contain": banned,
        "_gold": render_canonical(step.scene), "_step": step,
    }


# ---------------------------------------------------------------------------------------
# General images
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Val:
    text: str            # how it appears in a prompt
    keys: tuple[str, ...]  # any of these shows it is there
    ban: tuple[str, ...]   # these must go when it is replaced
    words: tuple[str, ...]  # how users say it ("make it {word}")


def V(text: str, keys: str, ban: str, words: str) -> Val:
    split = lambda s: tuple(x.strip() for x in s.split("|") if x.strip())  # noqa: E731
    return Val(text, split(keys), split(ban), split(words))


SLOTS: dict[str, dict[str, Val]] = {
    "time": {
        "sunset": V("at sunset", "sunset|dusk|golden hour|evening", "sunset", "sunset|evening|dusk"),
        "night": V("at night", "night|nighttime|night-time|moonlit|moonlight|midnight|starry",
                   "night", "night|nighttime|night-time|midnight"),
        "dawn": V("at dawn", "dawn|sunrise|daybreak|early morning", "dawn", "dawn|sunrise|early morning"),
        "midday": V("at midday", "midday|noon|daytime|daylight|day|afternoon", "midday",
                    "daytime|midday|noon"),
    },
    "weather": {
        "rain": V("in the rain", "rain|rainy|raining|rainfall|downpour|rainstorm", "rain",
                  "rainy"),
        "snow": V("in falling snow", "snow|snowy|snowing|snowfall|snowflakes|snow-covered|blizzard", "snow",
                  "snowy"),
        "fog": V("in thick fog", "fog|foggy|mist|misty|haze|hazy", "fog", "foggy|misty"),
        "storm": V("during a thunderstorm", "storm|stormy|thunderstorm|lightning", "thunderstorm",
                   "stormy"),
    },
    "style": {
        "photo": V("photograph", "photo|photograph|photographic|photorealistic|realistic|photography",
                   "photograph", "a photo|a photograph"),
        "oil": V("oil painting", "oil painting|oil on canvas|oil", "oil painting", "an oil painting|oil painting"),
        "watercolor": V("watercolor painting", "watercolor|watercolour", "watercolor",
                        "a watercolor|a watercolor painting|a watercolour"),
        "pixel": V("pixel art", "pixel art|pixel-art|pixelated|8-bit|16-bit", "pixel art",
                   "pixel art|8-bit pixel art"),
        "anime": V("anime style", "anime|manga", "anime", "anime|an anime illustration"),
        "sketch": V("pencil sketch", "pencil|sketch|graphite|charcoal|drawing", "pencil sketch",
                    "a pencil sketch|a pencil drawing"),
        "render": V("3d render", "3d|cgi|render|rendered", "3d render", "a 3D render|a CGI render"),
        "cartoon": V("cartoon style", "cartoon|cartoonish|cartoony", "cartoon", "a cartoon|a cartoon drawing"),
    },
    "lighting": {
        "neon": V("neon lighting", "neon", "neon", "neon lights|neon lighting"),
        "candle": V("candlelight", "candle|candles|candlelight|candlelit|candle-lit|candle light", "candlelight",
                    "candlelight|candles"),
        "dramatic": V("dramatic lighting", "dramatic|chiaroscuro|high contrast|high-contrast", "dramatic",
                      "dramatic light|moody dramatic light"),
        "soft": V("soft diffused light", "soft|diffused|gentle", "soft diffused", "soft light|softer lighting"),
        "backlit": V("strong backlighting", "backlit|backlighting|backlight|back-lit|rim light|rim lighting|"
                     "silhouette|silhouetted", "backlighting", "backlighting|a backlit look"),
    },
    "mood": {
        "cozy": V("cozy atmosphere", "cozy|cosy|snug|inviting|homey|warm", "cozy", "cozy|cosy|cozier"),
        "eerie": V("eerie atmosphere", "eerie|spooky|creepy|ominous|haunting|haunted|sinister|unsettling|"
                   "menacing|dark", "eerie", "spooky|creepy|eerie|spookier|creepier"),
        "cheerful": V("cheerful mood", "cheerful|happy|joyful|playful|whimsical|bright|vibrant|festive|cheery",
                      "cheerful", "cheerful|happy|happier|more cheerful"),
        "calm": V("peaceful mood", "peaceful|calm|serene|tranquil|quiet", "peaceful", "calm|peaceful|calmer|serene"),
        "sad": V("melancholic mood", "melancholic|melancholy|sad|somber|sombre|gloomy|lonely|bleak|mournful",
                 "melancholic", "sad|sadder|melancholic|gloomy"),
    },
    "camera": {
        "closeup": V("close-up shot", "close-up|closeup|close up|macro|close shot|closer", "close-up",
                     "a close-up|a close-up shot"),
        "wide": V("wide shot", "wide shot|wide-angle|wide angle|wide view|panoramic|panorama|wide-shot|"
                  "establishing shot", "wide shot", "a wide shot|a wide-angle shot"),
        "aerial": V("aerial view", "aerial|from above|bird's-eye|birds-eye|bird's eye|overhead|top-down|"
                    "top down|drone", "aerial", "a bird's-eye view|an aerial view"),
        "low": V("low angle shot", "low angle|low-angle|from below|worm's-eye|worm's eye", "low angle",
                 "a low-angle shot|a worm's-eye view"),
    },
}
SLOT_ORDER = ("time", "weather", "lighting", "mood", "camera", "style")
SLOT_KIND = {"time": "time", "weather": "other", "style": "style", "lighting": "lighting", "mood": "other",
             "camera": "other"}


@dataclass(frozen=True)
class Obj:
    name: str            # short name users use ("umbrella")
    text: str            # in a prompt, without colour ("umbrella")
    keys: tuple[str, ...]
    ban: tuple[str, ...]
    colour: str | None = None
    article: str = "a"   # "a", "an", "" (plural / mass)

    def render(self) -> str:
        body = f"{self.colour} {self.text}" if self.colour else self.text
        if not self.article:
            return body
        return ("an " if body[0] in "aeiou" else "a ") + body

    def must(self) -> Check:
        if self.colour:
            return list(dict.fromkeys([f"{self.colour} {self.text}"] + [f"{self.colour} {k}" for k in self.keys]))
        return list(self.keys)


def O(  # noqa: E743 - short, like V and G, for the long tables below
        name: str, keys: str = "", ban: str = "", colour: str | None = None, text: str | None = None,
        article: str = "a") -> Obj:
    split = lambda s: tuple(x.strip() for x in s.split("|") if x.strip())  # noqa: E731
    keys_t = split(keys) or (name, name + "s")
    return Obj(name, text or name, keys_t, split(ban) or keys_t, colour, article)


@dataclass(frozen=True)
class GScene:
    gid: str
    split: str                 # tune | heldout | train
    subject: Obj
    setting: str
    setting_keys: tuple[str, ...]
    objects: tuple[Obj, ...] = ()
    slots: tuple[tuple[str, str], ...] = ()  # (slot, value) initially set
    replacements: tuple[Obj, ...] = ()
    addables: tuple[Obj, ...] = ()
    outdoor: bool = True

    def slot(self, name: str) -> str | None:
        return dict(self.slots).get(name)


def G(gid: str, split: str, subject: Obj, setting: str, setting_keys: str, objects: Sequence[Obj] = (),
      slots: str = "", replacements: Sequence[Obj] = (), addables: Sequence[Obj] = (),
      outdoor: bool = True) -> GScene:
    pairs = tuple(tuple(p.split("=")) for p in slots.split() if p)
    return GScene(gid, split, subject, setting, tuple(setting_keys.split("|")), tuple(objects), pairs,
                  tuple(replacements), tuple(addables), outdoor)


GENERAL_SCENES: tuple[GScene, ...] = (
    # ---- tune scenes
    G("lighthouse", "tune", O("lighthouse"), "on a rocky cliff above the sea", "cliff|cliffs",
      [O("seagulls", "seagull|seagulls|gulls", article="")], "time=sunset style=oil",
      [O("castle"), O("windmill")], [O("sailing boat", "boat|sailboat|sailing boat"), O("full moon", "moon")]),
    G("cat", "tune", O("cat", "cat|cats|kitten", "cat|cats|kitten"), "sleeping on a windowsill",
      "windowsill|window sill|window", [O("potted plant", "plant|potted plant")], "lighting=soft style=photo",
      [O("dog", "dog|puppy"), O("fox")], [O("steaming mug of coffee", "mug|coffee|cup"),
                                          O("stack of books", "books|book")], outdoor=False),
    G("car", "tune", O("car", "car|cars|automobile", colour="red", text="vintage car"),
      "parked on a cobblestone street", "street|cobblestone|cobblestones",
      [O("lamppost", "lamppost|lamp post|street lamp|streetlight")],
      "time=midday style=photo", [O("motorcycle", "motorcycle|motorbike"), O("bus")],
      [O("dog", "dog|puppy"), O("bicycle", "bicycle|bike")]),
    G("astronaut", "tune", O("astronaut", "astronaut|astronauts|spaceman"), "riding a horse on the moon",
      "horse", [O("earth in the sky", "earth", text="earth in the sky", article="")], "style=render",
      [O("robot"), O("knight")], [O("rocket", "rocket|spaceship"), O("flag")]),
    G("fruit", "tune", O("bowl of fruit", "fruit|fruits|bowl"), "on a wooden table", "table",
      [O("glass vase", "vase")], "style=oil lighting=soft", [O("basket of bread", "bread|basket"),
                                                            O("chess board", "chess|chessboard|chess board")],
      [O("candle", "candle|candles"), O("teapot", "teapot|tea pot")], outdoor=False),
    G("lake", "tune", O("mountain lake", "lake"), "surrounded by pine trees", "pine|pines|trees|forest",
      [O("canoe", "canoe", colour="red", text="wooden canoe")], "time=dawn style=photo",
      [], [O("deer"), O("wooden cabin", "cabin")]),
    G("knight", "tune", O("knight", "knight|knights"), "standing in front of a castle", "castle",
      [O("banner", "banner|flag")], "weather=storm style=anime", [O("dragon"), O("wizard")],
      [O("horse"), O("raven", "raven|crow")]),
    G("robot", "tune", O("robot", "robot|robots|android"), "reading a book in an old library", "library|bookshelves",
      [O("globe")], "lighting=candle style=render", [O("owl"), O("wizard")],
      [O("cat", "cat|kitten"), O("telescope")], outdoor=False),
    G("girl", "tune", O("girl", "girl|young woman|woman"), "walking down a city street", "street",
      [O("umbrella", "umbrella", colour="yellow")], "weather=rain time=night", [O("boy"), O("old man", "old man|man")],
      [O("dog", "dog|puppy"), O("bicycle", "bicycle|bike")]),
    G("boat", "tune", O("fishing boat", "boat|boats|fishing boat"), "resting on a sandy beach", "beach|sand|sandy",
      [O("palm trees", "palm|palms|palm trees", article="")], "time=midday style=watercolor",
      [O("canoe"), O("rowboat", "rowboat|rowing boat")], [O("crab", "crab|crabs"), O("beach umbrella", "umbrella")]),
    G("owl", "tune", O("owl", "owl|owls"), "perched on a mossy branch", "branch",
      [], "time=night camera=closeup", [O("hawk"), O("parrot")], [O("full moon", "moon"), O("mouse")]),
    G("alley", "tune", O("narrow alley", "alley|alleyway"), "in a futuristic city", "city|futuristic",
      [O("food stall", "stall|food stall|stand")], "lighting=neon weather=rain", [O("canal")],
      [O("robot"), O("cat", "cat|kitten")]),
    # ---- held-out scenes
    G("cabin", "heldout", O("log cabin", "cabin|cabins|log cabin"), "in a pine forest", "forest|pine|pines",
      [O("woodpile", "woodpile|firewood|logs|wood pile")], "time=dawn mood=cozy", [O("tent"), O("lodge")],
      [O("deer"), O("campfire", "campfire|fire|bonfire")]),
    G("dragon", "heldout", O("dragon", "dragon|dragons"), "flying over a medieval village", "village",
      [O("castle tower", "tower|castle")], "time=sunset style=oil", [O("griffin", "griffin|gryphon"), O("phoenix")],
      [O("knight"), O("hot air balloon", "balloon|hot air balloon|hot-air balloon")]),
    G("coffee", "heldout", O("cup of coffee", "coffee|cup|mug"), "on a cafe table", "table",
      [O("croissant", "croissant|croissants")], "camera=closeup lighting=soft",
      [O("cup of tea", "tea|teacup"), O("glass of orange juice", "juice")],
      [O("newspaper"), O("vase of flowers", "flowers|flower|vase")], outdoor=False),
    G("skyline", "heldout", O("city skyline", "skyline|skyscrapers|city"), "beside a wide river", "river",
      [O("bridge")], "time=night style=photo", [], [O("ferry", "ferry|boat"), O("fireworks", "fireworks", article="")]),
    G("treehouse", "heldout", O("treehouse", "treehouse|tree house|treehouses"), "in a giant oak tree",
      "oak|tree", [O("rope ladder", "ladder|rope ladder")], "mood=cheerful style=cartoon",
      [O("castle"), O("lighthouse")], [O("swing"), O("squirrel", "squirrel|squirrels")]),
    G("samurai", "heldout", O("samurai", "samurai|warrior"), "standing in a bamboo forest", "bamboo",
      [O("cherry blossoms", "cherry blossom|cherry blossoms|blossoms|sakura", article="")], "weather=fog style=sketch",
      [O("ninja", "ninja|ninjas"), O("monk", "monk|monks")],
      [O("shrine", "shrine|temple"), O("lantern", "lantern|lanterns")]),
    G("barn", "heldout", O("sunflower field", "sunflower|sunflowers"), "on rolling hills", "hills|hill|rolling",
      [O("barn", "barn", colour="red")], "time=midday style=photo", [O("lavender field", "lavender")],
      [O("tractor"), O("scarecrow")]),
    G("bridge", "heldout", O("steam train", "train|trains|locomotive"), "crossing a stone bridge over a valley",
      "bridge", [O("river", "river|stream")], "weather=fog camera=wide", [O("horse carriage", "carriage|stagecoach")],
      [O("hot air balloon", "balloon|hot air balloon|hot-air balloon"), O("castle")]),
    G("bakery", "heldout", O("bakery storefront", "bakery|shop|storefront"), "on a quiet street", "street",
      [O("bicycle", "bicycle|bike", colour="blue")], "mood=cozy style=watercolor",
      [O("flower shop", "flower shop|florist"), O("bookshop", "bookshop|bookstore|book shop")],
      [O("cat", "cat|kitten"), O("flower boxes", "flower box|flower boxes|flowers", article="")]),
    G("camels", "heldout", O("camel caravan", "camel|camels|caravan"), "crossing desert dunes", "desert|dunes|dune",
      [], "time=sunset camera=wide", [O("jeep", "jeep|jeeps|car")],
      [O("oasis", "oasis"), O("pyramid", "pyramid|pyramids")]),
    G("house", "heldout", O("old house", "house|mansion"), "on a lonely hill", "hill",
      [O("crooked fence", "fence")], "mood=eerie time=night", [O("chapel", "chapel|church")],
      [O("black cat", "cat|cats", text="black cat"), O("bats", "bat|bats", article="")]),
    G("fisherman", "heldout", O("old fisherman", "fisherman|fishermen|man"), "mending a net on a pier",
      "net|pier", [O("pipe", "pipe")], "lighting=dramatic style=oil", [O("old woman", "woman|old woman|lady")],
      [O("seagull", "seagull|seagulls|gull")]),
    G("kite", "heldout", O("child", "child|kid|boy|girl|children|kids", "child|kid"), "running in a green park", "park",
      [O("kite", "kite|kites", colour="red")], "time=midday mood=cheerful",
      [], [O("golden retriever", "dog|retriever"), O("picnic blanket", "blanket|picnic")]),
    G("waterfall", "heldout", O("waterfall", "waterfall|waterfalls|falls"), "in a tropical jungle", "jungle",
      [O("parrot", "parrot|parrots")], "style=photo camera=wide", [], [O("rainbow"), O("wooden bridge", "bridge")]),
    G("fox", "heldout", O("red fox", "fox|foxes"), "sitting among autumn leaves", "leaves|autumn|fall",
      [], "style=watercolor lighting=backlit", [O("wolf", "wolf|wolves"), O("hare", "hare|rabbit")],
      [O("mushrooms", "mushroom|mushrooms", article=""), O("owl")]),
    G("kitchen", "heldout", O("grandmother", "grandmother|grandma|old woman|woman"), "baking bread in a rustic kitchen",
      "kitchen|bread", [O("cat", "cat|kitten", colour="orange")], "lighting=soft mood=cozy",
      [O("chef", "chef|cook")], [O("dog", "dog|puppy"), O("window", "window")], outdoor=False),
    G("castle", "heldout", O("castle", "castle|castles|fortress"), "on a snowy mountain", "mountain|mountains",
      [O("flag", "flag|flags|banner")], "time=dawn style=pixel", [O("monastery"), O("observatory")],
      [O("dragon"), O("village", "village|houses")]),
    # ---- training-only scenes (never in eval)
    G("harbor", "train", O("small harbor", "harbor|harbour|port"), "with colorful houses", "houses",
      [O("sailboat", "sailboat|sailboats|boat")], "time=sunset style=oil", [O("marina")],
      [O("pelican", "pelican|pelicans"), O("lighthouse")]),
    G("teapot", "train", O("teapot", "teapot|teapots|tea pot"), "on a lace tablecloth", "tablecloth|table",
      [O("teacup", "teacup|cup")], "lighting=soft style=photo", [O("kettle")],
      [O("plate of cookies", "cookies|cookie|plate"), O("candle", "candle|candles")], outdoor=False),
    G("wolf", "train", O("wolf", "wolf|wolves"), "howling on a rocky ridge", "ridge|rocks|rocky",
      [], "time=night mood=eerie", [O("coyote"), O("lion")], [O("full moon", "moon"), O("pine tree", "pine|tree")]),
    G("garden", "train", O("garden gazebo", "gazebo"), "surrounded by rose bushes", "rose|roses|bushes",
      [O("bench", "bench", colour="white")], "time=midday style=watercolor", [O("fountain")],
      [O("butterflies", "butterfly|butterflies", article=""), O("cat", "cat|kitten")]),
    G("diver", "train", O("scuba diver", "diver|divers|scuba"), "exploring a coral reef", "reef|coral",
      [O("sea turtle", "turtle|turtles")], "style=photo camera=wide", [O("mermaid")],
      [O("shark"), O("school of fish", "fish")], outdoor=False),
    G("market", "train", O("busy market", "market|marketplace|bazaar"), "in an old town square", "square|town",
      [O("fruit stall", "stall|stalls")], "time=midday mood=cheerful", [O("carnival", "carnival|fair")],
      [O("street musician", "musician|guitarist"), O("pigeons", "pigeon|pigeons", article="")]),
)

GENERAL_TEMPLATES: dict[str, list[T]] = {
    "time": [
        ("tune", "make it {word}"), ("tune", "change it to {word}"), ("tune", "{word} please"),
        ("heldout", "can you make it {word}?"), ("heldout", "I'd like it to be {word} instead"),
        ("heldout", "could it be {word} instead?"), ("heldout", "what about {word}? do that"),
        ("heldout", "switch the time of day to {word}"),
        ("train", "make the time {word}"), ("train", "change the time of day to {word}"),
        ("train", "let it be {word}"),
    ],
    "weather": [
        ("tune", "make it {word}"), ("tune", "make the weather {word}"),
        ("heldout", "can we have it {word}?"), ("heldout", "I'd like {word} weather"),
        ("heldout", "change the weather: {word}"), ("heldout", "make it look {word} out"),
        ("train", "change the weather to {word}"), ("train", "let it be {word}"),
    ],
    "style": [
        ("tune", "make it {word}"), ("tune", "turn it into {word}"), ("tune", "change the style to {word}"),
        ("heldout", "can you redo it as {word}?"), ("heldout", "I'd prefer {word}"),
        ("heldout", "what would it look like as {word}? go with that"), ("heldout", "restyle it: {word}"),
        ("train", "render it as {word}"), ("train", "style: {word}"), ("train", "convert it to {word}"),
    ],
    "lighting": [
        ("tune", "add {word}"), ("tune", "use {word}"), ("tune", "change the lighting to {word}"),
        ("heldout", "can we get some {word}?"), ("heldout", "I'd like {word} instead"),
        ("heldout", "light it with {word}"), ("heldout", "give it {word}"),
        ("train", "relight it with {word}"), ("train", "lighting: {word}"),
    ],
    "mood": [
        ("tune", "make it {word}"), ("tune", "make it feel {word}"),
        ("heldout", "can you make the mood {word}?"), ("heldout", "I want it to feel {word}"),
        ("heldout", "give it a {word} vibe"), ("heldout", "hmm, more {word}"),
        ("train", "set a {word} mood"), ("train", "the atmosphere should be {word}"),
    ],
    "camera": [
        ("tune", "show it as {word}"), ("tune", "make it {word}"),
        ("heldout", "can you frame it as {word}?"), ("heldout", "I'd like {word} instead"),
        ("heldout", "try {word} instead"), ("heldout", "reframe: {word}"),
        ("train", "shoot it as {word}"), ("train", "camera angle: {word}"),
    ],
    "add": [
        ("tune", "add {obj}"), ("tune", "put {obj} in it"), ("tune", "also add {obj}"),
        ("heldout", "can you add {obj}?"), ("heldout", "I'd like {obj} in there too"),
        ("heldout", "throw in {obj}"), ("heldout", "it needs {obj}"),
        ("train", "include {obj}"), ("train", "please add {obj}"), ("train", "there should be {obj}"),
    ],
    "remove": [
        ("tune", "remove the {name}"), ("tune", "get rid of the {name}"), ("tune", "delete the {name}"),
        ("heldout", "can you take out the {name}?"), ("heldout", "I don't want the {name}"),
        ("heldout", "lose the {name}"), ("heldout", "no {name} please"),
        ("train", "erase the {name}"), ("train", "please remove the {name}"), ("train", "drop the {name}"),
    ],
    "recolour": [
        ("tune", "make the {name} {word}"), ("tune", "change the {name} to {word}"),
        ("heldout", "can the {name} be {word}?"), ("heldout", "I'd like a {word} {name} instead"),
        ("heldout", "paint the {name} {word}"),
        ("train", "recolor the {name} {word}"), ("train", "the {name} should be {word}"),
    ],
    "replace": [
        ("tune", "replace the {name} with {obj}"), ("tune", "make it {obj} instead of the {name}"),
        ("heldout", "can you swap the {name} for {obj}?"), ("heldout", "I'd rather have {obj} than the {name}"),
        ("heldout", "change the {name} into {obj}"),
        ("train", "swap the {name} out for {obj}"), ("train", "use {obj} instead of the {name}"),
    ],
    "revert_slot": [
        ("tune", "make it {word} again"), ("tune", "undo the {slotname} change"),
        ("heldout", "go back to the {old_text}"), ("heldout", "actually, change the {slotname} back"),
        ("heldout", "I preferred it {word}, revert that"),
        ("train", "restore the previous {slotname}"), ("train", "back to {word}"),
    ],
    "bring_back": [
        ("tune", "bring back the {name}"), ("tune", "put the {name} back"),
        ("heldout", "actually, I want the {name} again"), ("heldout", "hmm, re-add the {name}"),
        ("train", "add the {name} back in"),
    ],
    "undo_last": [
        ("tune", "undo that"), ("tune", "undo the last change"),
        ("heldout", "go back to how it was before"), ("heldout", "nah, revert that last edit"),
        ("train", "revert the last edit"),
    ],
    "first": [
        ("tune", "{scene}"), ("tune", "draw {scene}"), ("tune", "make an image of {scene}"),
        ("heldout", "can you paint {scene}?"), ("heldout", "I'd like {scene} please"),
        ("heldout", "hi! show me {scene}"), ("heldout", "give me {scene}"),
        ("train", "create {scene}"), ("train", "please draw {scene}"), ("train", "picture of {scene}"),
    ],
}

SLOT_NAME = {"time": "time of day", "weather": "weather", "style": "style", "lighting": "lighting",
             "mood": "mood", "camera": "camera angle"}

GENERAL_COLOURS = ("red", "blue", "green", "yellow", "purple", "orange", "white", "black", "pink")


@dataclass(frozen=True)
class GState:
    scene: GScene
    subject: Obj
    objects: tuple[Obj, ...]
    slots: tuple[tuple[str, str], ...]

    def slot(self, name: str) -> str | None:
        return dict(self.slots).get(name)

    def with_slot(self, name: str, value: str | None) -> GState:
        d = dict(self.slots)
        if value is None:
            d.pop(name, None)
        else:
            d[name] = value
        return replace(self, slots=tuple(sorted(d.items())))

    def render(self) -> str:
        head = f"{self.subject.render()} {self.scene.setting}"
        if self.objects:
            head += " with " + " and ".join(o.render() for o in self.objects)
        parts = [head] + [SLOTS[n][self.slot(n)].text for n in SLOT_ORDER if self.slot(n)]
        return ", ".join(parts)


def general_checks(new: GState, old: GState | None) -> tuple[list[Check], list[str]]:
    must: list[Check] = [new.subject.must(), list(new.scene.setting_keys)]
    must += [o.must() for o in new.objects]
    must += [list(SLOTS[n][new.slot(n)].keys) for n in SLOT_ORDER if new.slot(n)]
    banned: list[str] = []
    gold = new.render()
    if old is not None:
        if old.subject.name != new.subject.name:
            banned += old.subject.ban
        elif old.subject.colour != new.subject.colour and old.subject.colour:
            banned.append(old.subject.colour)
        new_names = {o.name: o for o in new.objects}
        for o in old.objects:
            if o.name not in new_names:
                banned += o.ban
            elif o.colour and new_names[o.name].colour != o.colour:
                banned.append(o.colour)
        for n in SLOT_ORDER:
            if old.slot(n) and old.slot(n) != new.slot(n):
                banned += SLOTS[n][old.slot(n)].ban
    # a banned word the new prompt legitimately contains would make the item unfair
    banned = [b for b in dict.fromkeys(banned) if not phrase_in(b, gold) or b in GENERAL_COLOURS]
    return must, banned


@dataclass
class GStep:
    message: str
    state: GState
    kind: str
    instruction: str
    region: str
    family: str


@dataclass
class GeneralSim:
    rng: random.Random
    split: str
    scene: GScene
    state: GState | None = None
    steps: list[GStep] = field(default_factory=list)
    removed: list[Obj] = field(default_factory=list)
    #: (slot, old, new, forward) in order; reverts are never reverted again (ambiguous)
    slot_changes: list[tuple[str, str | None, str | None, bool]] = field(default_factory=list)

    def pick(self, family: str) -> str:
        return _pick(family, self.split, self.rng, GENERAL_TEMPLATES)

    def commit(self, step: GStep) -> GStep:
        self.steps.append(step)
        self.state = step.state
        return step

    def first(self, drop_slots: bool = False) -> GStep:
        sc = self.scene
        slots = sc.slots
        if drop_slots and slots:
            slots = slots[:1] if self.rng.random() < 0.5 else ()
        state = GState(sc, sc.subject, sc.objects, tuple(sorted(slots)))
        text = state.render()
        msg = _fill(self.pick("first"), scene=text)
        return self.commit(GStep(msg, state, "other", "create the image", "whole", "first"))

    def edit_slot(self, name: str) -> GStep | None:
        st = self.state
        if name in ("time", "weather") and not self.scene.outdoor:
            return None
        options = [v for v in SLOTS[name] if v != st.slot(name)]
        if name == "weather":
            if st.slot("time") == "midday" and "storm" in options:
                options.remove("storm")
        value = self.rng.choice(options)
        word = self.rng.choice(SLOTS[name][value].words)
        if name == "style":
            word = word  # noun phrases ("a watercolor") fit the templates
        template = self.pick(name)
        if name == "time" and "at {word}" in template and word in ("daytime", "day"):
            word = "midday"
        msg = _fill(template, word=word)
        self.slot_changes.append((name, st.slot(name), value, True))
        instr = f"change the {SLOT_NAME[name]} to {SLOTS[name][value].text.removeprefix('at ')}"
        return self.commit(GStep(msg, st.with_slot(name, value), SLOT_KIND[name], instr, "whole", name))

    def edit_add(self) -> GStep | None:
        st = self.state
        have = {o.name for o in st.objects} | {st.subject.name}
        options = [o for o in self.scene.addables if o.name not in have]
        if not options or len(st.objects) >= 3:
            return None
        obj = self.rng.choice(options)
        msg = _fill(self.pick("add"), obj=obj.render())
        return self.commit(GStep(msg, replace(st, objects=st.objects + (obj,)), "add", f"add {obj.render()}",
                                 obj.name, "add"))

    def edit_remove(self) -> GStep | None:
        st = self.state
        if not st.objects:
            return None
        obj = self.rng.choice(st.objects)
        msg = _fill(self.pick("remove"), name=obj.name)
        self.removed.append(obj)
        return self.commit(GStep(msg, replace(st, objects=tuple(o for o in st.objects if o is not obj)), "remove",
                                 f"remove the {obj.name}", obj.name, "remove"))

    def edit_recolour(self) -> GStep | None:
        st = self.state
        coloured = [o for o in st.objects if o.colour] + ([st.subject] if st.subject.colour else [])
        if not coloured:
            return None
        obj = self.rng.choice(coloured)
        text = st.render()
        new = self.rng.choice([c for c in GENERAL_COLOURS if c != obj.colour and not phrase_in(c, text)])
        msg = _fill(self.pick("recolour"), name=obj.name, word=new)
        new_obj = replace(obj, colour=new)
        if obj is st.subject:
            state = replace(st, subject=new_obj)
        else:
            state = replace(st, objects=tuple(new_obj if o is obj else o for o in st.objects))
        return self.commit(GStep(msg, state, "object", f"make the {obj.name} {new}", obj.name, "recolour"))

    def edit_replace(self) -> GStep | None:
        st = self.state
        options = [o for o in self.scene.replacements if o.name != st.subject.name]
        if not options or st.subject.name != self.scene.subject.name:
            return None
        new = self.rng.choice(options)
        msg = _fill(self.pick("replace"), name=st.subject.name, obj=new.render())
        return self.commit(GStep(msg, replace(st, subject=new), "object",
                                 f"replace the {st.subject.name} with {new.render()}", st.subject.name, "replace"))

    def edit_revert_slot(self) -> GStep | None:
        st = self.state
        latest: dict[str, tuple[str | None, str | None, bool]] = {}
        for name, old, new, forward in self.slot_changes:
            latest.pop(name, None)
            latest[name] = (old, new, forward)
        for name, (old, new, forward) in reversed(list(latest.items())):
            if old is None or st.slot(name) != new or not forward:
                continue
            val = SLOTS[name][old]
            avoid = ("word",) if name in ("camera", "lighting", "style") else ()
            template = _pick("revert_slot", self.split, self.rng, GENERAL_TEMPLATES, avoid=avoid)
            word = self.rng.choice(val.words)
            msg = _fill(template, word=word, slotname=SLOT_NAME[name], old_text=val.text.removeprefix("at "))
            self.slot_changes.append((name, new, old, False))
            return self.commit(GStep(msg, st.with_slot(name, old), SLOT_KIND[name],
                                     f"change the {SLOT_NAME[name]} back to {val.text.removeprefix('at ')}", "whole",
                                     "revert_slot"))
        return None

    def edit_bring_back(self) -> GStep | None:
        st = self.state
        if not self.removed or self.steps[-1].family != "remove" or len(st.objects) >= 3:
            return None
        obj = self.removed[-1]
        msg = _fill(self.pick("bring_back"), name=obj.name)
        return self.commit(GStep(msg, replace(st, objects=st.objects + (obj,)), "add", f"add the {obj.name} back",
                                 obj.name, "bring_back"))

    def edit_undo_last(self) -> GStep | None:
        if len(self.steps) < 2 or self.steps[-1].family in ("first", "undo_last", "revert_slot", "bring_back"):
            return None
        prev = self.steps[-2].state
        msg = _fill(self.pick("undo_last"))
        last = self.steps[-1]
        return self.commit(GStep(msg, prev, last.kind, "undo the last change", last.region, "undo_last"))

    def random_edit(self, history_ok: bool) -> GStep:
        ops: list[Callable[[], GStep | None]] = [
            lambda: self.edit_slot("time"), lambda: self.edit_slot("weather"), lambda: self.edit_slot("style"),
            lambda: self.edit_slot("lighting"), lambda: self.edit_slot("mood"), lambda: self.edit_slot("camera"),
            self.edit_add, self.edit_remove, self.edit_recolour, self.edit_replace,
        ]
        if history_ok:
            ops += [self.edit_revert_slot, self.edit_bring_back, self.edit_undo_last] * 2
        for _ in range(100):
            step = self.rng.choice(ops)()
            if step is not None:
                return step
        raise RuntimeError("no applicable edit")


def _general_item(sim: GeneralSim, i: int) -> dict:
    step = sim.steps[i]
    history = [[s.message, s.state.render()] for s in sim.steps[:i]]
    old = sim.steps[i - 1].state if i else None
    must, banned = general_checks(step.state, old)
    return {
        "split": sim.split, "domain": "general", "history": history,
        "prompt": history[-1][1] if history else None, "message": step.message,
        "must_contain": must, "must_not_contain": banned,
        "_gold": step.state.render(), "_step": step,
    }


# ---------------------------------------------------------------------------------------
# Hand-written general items: edits the slot simulation cannot express
# ---------------------------------------------------------------------------------------

_PHOTO = "photo|photograph|photographic|photorealistic|realistic|photography"
_SOFT = "soft|diffused|gentle"

#: (split, current prompt, message, must_contain ("|" = alternatives), must_not_contain, gold prompt)
HAND_GENERAL: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...], str], ...] = (
    ("tune", "a golden retriever lying on a porch, afternoon light, photograph", "put a red bandana on the dog",
     ("golden retriever|retriever|dog", "porch", "red bandana", _PHOTO), (),
     "a golden retriever wearing a red bandana lying on a porch, afternoon light, photograph"),
    ("heldout", "a cozy reading nook with an armchair and a floor lamp, warm light, digital painting",
     "make it winter outside the window",
     ("armchair", "lamp", "winter|snow|snowy|snowing|wintry", "window", "digital painting|digital"), (),
     "a cozy reading nook with an armchair and a floor lamp, a window showing a snowy winter landscape, "
     "warm light, digital painting"),
    ("heldout", "a portrait of a young woman with short black hair, studio lighting, photograph",
     "give her long red hair",
     ("woman", "long red hair|long, red hair|long flowing red hair|long wavy red hair", "studio", _PHOTO),
     ("short black hair", "black hair", "short hair"),
     "a portrait of a young woman with long red hair, studio lighting, photograph"),
    ("tune", "a vase of sunflowers on a kitchen table, oil painting", "swap the sunflowers for tulips",
     ("vase", "tulip|tulips", "table", "oil painting|oil"), ("sunflower", "sunflowers"),
     "a vase of tulips on a kitchen table, oil painting"),
    ("heldout", "a busy city street at night with neon signs, cyberpunk style",
     "make it look like the 1950s instead",
     ("street", "night|nighttime|night-time", "1950s|50s|fifties|1950's"), ("cyberpunk",),
     "a busy city street at night with neon signs, 1950s retro style"),
    ("tune", "a snowman in a backyard, daytime, children's book illustration", "give the snowman a top hat",
     ("snowman", "top hat|hat", "backyard|yard|garden", "illustration"), (),
     "a snowman wearing a top hat in a backyard, daytime, children's book illustration"),
    ("heldout", "a wooden sailboat on a calm lake, morning mist, watercolor", "more boats please",
     ("sailboats|boats", "lake", "mist|misty|fog|foggy", "watercolor|watercolour"), (),
     "several wooden sailboats on a calm lake, morning mist, watercolor"),
    ("tune", "a bowl of ramen on a wooden counter, close-up, photograph", "add chopsticks",
     ("ramen", "chopsticks", "counter", "close-up|closeup|close up|macro", _PHOTO), (),
     "a bowl of ramen with chopsticks on a wooden counter, close-up, photograph"),
    ("heldout", "an elephant walking across the savanna at sunset, photograph", "make the elephant a baby elephant",
     ("baby elephant|elephant calf|young elephant", "savanna|savannah", "sunset", _PHOTO), (),
     "a baby elephant walking across the savanna at sunset, photograph"),
    ("heldout", "an empty medieval tavern interior with wooden tables, candlelight, oil painting",
     "fill it with people",
     ("tavern", "people|crowd|patrons|crowded|customers|villagers|drinkers|guests|revelers|revellers",
      "candle|candles|candlelight|candlelit|candle-lit", "oil painting|oil"), ("empty",),
     "a crowded medieval tavern interior full of people at wooden tables, candlelight, oil painting"),
    ("tune", "a red sports car on a mountain road, daytime, photograph", "make it a convertible",
     ("convertible", "red", "road", _PHOTO), (),
     "a red convertible sports car on a mountain road, daytime, photograph"),
    ("heldout", "a koi pond in a japanese garden, spring, watercolor", "change the season to autumn",
     ("koi", "garden", "autumn|fall|autumnal", "watercolor|watercolour"), ("spring",),
     "a koi pond in a japanese garden, autumn, watercolor"),
    ("tune", "a desk with a laptop and a coffee mug, soft morning light, photograph", "remove the laptop",
     ("desk", "mug|coffee", _SOFT, _PHOTO), ("laptop", "laptops"),
     "a desk with a coffee mug, soft morning light, photograph"),
    ("heldout", "a white cat sitting on a red sofa, photograph",
     "actually the sofa should be green and the cat black",
     ("green sofa|green couch", "black cat|black kitten", _PHOTO), ("red", "white"),
     "a black cat sitting on a green sofa, photograph"),
    ("heldout", "a castle on a hill, fantasy art", "zoom out so we see the whole valley",
     ("castle", "hill|hills", "valley", "fantasy"), (),
     "a wide view of a castle on a hill above a vast valley, fantasy art"),
    ("tune", "a hot air balloon over green fields, daytime, photograph", "make the sky pink",
     ("balloon", "field|fields", "pink sky|pink skies|sky is pink|pink-tinted sky|pink clouds", _PHOTO), (),
     "a hot air balloon over green fields under a pink sky, photograph"),
    ("heldout", "a robot chef cooking in a restaurant kitchen, 3d render", "I want the robot to look rusty and old",
     ("robot", "rusty|rusted|rust|corroded", "kitchen", "3d|cgi|render|rendered"), (),
     "a rusty old robot chef cooking in a restaurant kitchen, 3d render"),
    ("heldout", "a lone tree in a wheat field, overcast sky, photograph", "get rid of the clouds, clear blue sky",
     ("tree", "wheat", "clear|cloudless|blue sky"), ("overcast",),
     "a lone tree in a wheat field, clear blue sky, photograph"),
    ("tune", "a family of ducks swimming in a pond, spring, watercolor", "add a frog on a lily pad",
     ("duck|ducks|ducklings", "pond", "frog", "lily pad|lilypad|lily pads|lily-pad", "watercolor|watercolour"),
     (), "a family of ducks swimming in a pond with a frog on a lily pad, spring, watercolor"),
    ("heldout", "a girl reading under a tree, anime style", "make her older, like a grandmother",
     ("grandmother|old woman|elderly woman|grandma|older woman|old lady|elderly lady", "reading", "tree", "anime"),
     ("girl",), "an elderly woman reading under a tree, anime style"),
    ("tune", "a pirate ship on stormy seas, oil painting", "calm the sea down",
     ("ship", "calm|tranquil|still|peaceful|gentle", "sea|seas|ocean|water|waters", "oil painting|oil"),
     ("stormy", "storm"), "a pirate ship on calm seas, oil painting"),
    ("heldout", "a mountain village covered in snow, night, christmas lights", "no more snow, make it summer",
     ("village", "mountain|mountains", "summer|summertime", "night|nighttime|night-time"),
     ("snow", "snowy", "covered in snow"), "a mountain village in summer, night, christmas lights"),
    ("tune", "a bicycle leaning against a brick wall, photograph", "paint the wall blue",
     ("bicycle|bike", "blue wall|blue brick wall|blue-painted brick wall|blue painted wall|blue bricks", _PHOTO),
     (), "a bicycle leaning against a blue brick wall, photograph"),
    ("heldout", "two kittens playing with a ball of yarn, soft light, photograph", "only one kitten",
     ("kitten|cat", "yarn", _SOFT, _PHOTO), ("two kittens", "kittens", "two"),
     "a kitten playing with a ball of yarn, soft light, photograph"),
    ("tune", "a futuristic city with flying cars, daytime, concept art", "make it rainy and dark",
     ("city", "flying cars|flying car", "rain|rainy|raining|rainfall|downpour", "dark|night|nighttime|gloomy|dim",
      "concept art"), ("daytime",), "a futuristic city with flying cars, dark and rainy, concept art"),
    ("heldout", "a bouquet of red roses in a glass vase, photograph", "make the roses white instead",
     ("white roses|white rose", "vase", _PHOTO), ("red",),
     "a bouquet of white roses in a glass vase, photograph"),
    ("heldout", "an old man fishing from a small boat on a lake, dawn, oil painting", "add his dog in the boat",
     ("old man|man|fisherman", "dog", "boat", "lake", "dawn|sunrise", "oil painting|oil"), (),
     "an old man and his dog fishing from a small boat on a lake, dawn, oil painting"),
    ("tune", "a cup of tea on a saucer, top view, photograph", "add a slice of lemon",
     ("tea", "lemon", "saucer", "top view|from above|overhead|top-down|top down", _PHOTO), (),
     "a cup of tea with a slice of lemon on a saucer, top view, photograph"),
    ("heldout", "a mountain landscape at dawn, photograph", "can you make it look like a van gogh painting?",
     ("mountain|mountains", "van gogh", "dawn|sunrise"), ("photograph", "photo", "photorealistic"),
     "a mountain landscape at dawn, painting in the style of van gogh"),
    ("tune", "a dog running on a beach, photograph", "the dog should be a dalmatian",
     ("dalmatian", "beach", _PHOTO), (), "a dalmatian running on a beach, photograph"),
    ("heldout", "a wizard casting a spell in a dark forest, fantasy illustration", "make the magic blue",
     ("wizard", "forest", "blue", "magic|spell|magical"), (),
     "a wizard casting a blue magic spell in a dark forest, fantasy illustration"),
    ("tune", "a plate of pancakes with syrup, photograph", "add blueberries on top",
     ("pancakes|pancake", "blueberries|blueberry", "syrup", _PHOTO), (),
     "a plate of pancakes with syrup and blueberries on top, photograph"),
    ("heldout", "a small cottage by a river, summer, impressionist painting", "make it look abandoned",
     ("cottage", "river", "abandoned|derelict|ruined|overgrown|dilapidated|decaying|deserted",
      "impressionist|impressionism"), (),
     "an abandoned, overgrown small cottage by a river, summer, impressionist painting"),
    ("heldout", "a beach at sunset with palm trees, photograph", "more dramatic clouds pls",
     ("beach", "sunset", "palm|palms", "cloud|clouds|cloudy|cloudscape", "dramatic"), (),
     "a beach at sunset with palm trees under dramatic clouds, photograph"),
    ("tune", "a teddy bear sitting on a bed, soft light, photograph", "make it a stuffed bunny instead",
     ("bunny|rabbit", "bed", _SOFT, _PHOTO), ("teddy", "bear"),
     "a stuffed bunny sitting on a bed, soft light, photograph"),
    ("heldout", "a street market in marrakech, midday, photograph", "Could you make it evening, with lanterns lit?",
     ("market", "marrakech", "evening|dusk|sunset|night", "lantern|lanterns"), ("midday",),
     "a street market in marrakech in the evening with lit lanterns, photograph"),
)


def _hand_items() -> list[dict]:
    items = []
    for split, prompt, message, must, ban, gold in HAND_GENERAL:
        must_contain: list[Check] = [m.split("|") if "|" in m else m for m in must]
        items.append({
            "split": split, "domain": "general", "history": [[prompt, prompt]], "prompt": prompt,
            "message": message, "must_contain": must_contain, "must_not_contain": list(ban), "_gold": gold,
            "_step": GStep(message, None, "other", message, "whole", "hand"),
        })
    return items


# ---------------------------------------------------------------------------------------
# Building the evaluation set
# ---------------------------------------------------------------------------------------

SHAPE_SINGLE_KINDS = ("colour", "size", "position", "shape", "background", "add", "remove",
                      "swap_colours", "swap_positions", "colour_size")
HISTORY_KINDS = ("revert_colour", "revert_shape", "revert_position", "revert_size", "revert_background",
                 "undo_last", "correct_colour", "other_one")


def _shape_single(rng: random.Random, split: str, want: str, prompt_style: int | None) -> dict | None:
    """One shape-world single item whose final step is of family ``want``."""
    sim = ShapeSim(rng, split)
    sim.first(full=rng.random() < 0.85)
    # warm-up turns that set up the wanted edit
    two = want in ("remove", "swap_colours", "swap_positions", "other_one") or rng.random() < 0.35
    if want == "add":
        two = False
    if two:
        sim.edit_add()
    for _ in range(rng.choice([0, 0, 1, 2])):
        ops = sim.possible()
        ops.pop("add", None)
        ops.pop("remove", None)
        ops[rng.choice(sorted(ops))]()
    if want.startswith("revert_") or want == "correct_colour":
        attr = want.removeprefix("revert_") if want != "correct_colour" else "colour"
        attr_op = {"colour": sim.edit_colour, "shape": sim.edit_shape, "position": sim.edit_position,
                   "size": sim.edit_size, "background": sim.edit_background}[attr]
        if attr in ("position", "size") and any(getattr(s, attr) is None for s in sim.scene.shapes):
            return None
        if attr == "background" and not sim.scene.background:
            return None
        attr_op()
        if want != "correct_colour" and rng.random() < 0.6:
            ops = sim.possible()
            for k in list(ops):
                if k not in ("colour", "size", "position", "shape", "background") or k == attr:
                    ops.pop(k)
            ops[rng.choice(sorted(ops))]()
        ops = sim.history_ops()
        if want not in ops:
            return None
        ops[want]()
    elif want == "undo_last":
        sim.possible()[rng.choice(["colour", "size", "position", "shape", "background"])]()
        ops = sim.history_ops()
        if want not in ops:
            return None
        ops[want]()
    elif want == "other_one":
        sim.edit_colour() if rng.random() < 0.6 else sim.edit_size()
        ops = sim.possible()
        if want not in ops:
            return None
        ops[want]()
    else:
        ops = sim.possible()
        if want not in ops:
            return None
        ops[want]()
    return _shape_item(sim, len(sim.steps) - 1, prompt_style)


def _shape_conversation(rng: random.Random, split: str, n_turns: int) -> list[dict]:
    sim = ShapeSim(rng, split)
    sim.first(full=rng.random() < 0.6)
    while len(sim.steps) < n_turns:
        hist = sim.history_ops()
        ops = sim.possible()
        if hist and rng.random() < 0.35:
            hist[rng.choice(sorted(hist))]()
        else:
            name = rng.choice(sorted(ops))
            if name == "add" and rng.random() < 0.5:
                name = "add"
            ops[name]()
    turns = []
    for i, step in enumerate(sim.steps):
        old = sim.steps[i - 1].scene if i else None
        must, banned = shape_checks(step.scene, old, step.bind_size, step.bind_pos)
        turns.append({"message": step.message, "must_contain": must, "must_not_contain": banned,
                      "_gold": render_canonical(step.scene)})
    return turns


def _general_single(rng: random.Random, scene: GScene, split: str, history_kind: bool) -> dict | None:
    sim = GeneralSim(rng, split, scene)
    sim.first(drop_slots=rng.random() < 0.2)
    for _ in range(rng.choice([0, 0, 1, 2])):
        sim.random_edit(history_ok=False)
    if history_kind:
        kind = rng.choice(["revert_slot", "bring_back", "undo_last"])
        if kind == "revert_slot":
            name = rng.choice(["time", "style", "lighting", "mood", "camera", "weather"])
            if sim.state.slot(name) is None or sim.edit_slot(name) is None:
                return None
            if rng.random() < 0.5:
                sim.random_edit(history_ok=False)
            if sim.edit_revert_slot() is None:
                return None
        elif kind == "bring_back":
            if sim.edit_remove() is None or sim.edit_bring_back() is None:
                return None
        else:
            sim.random_edit(history_ok=False)
            if sim.edit_undo_last() is None:
                return None
    else:
        sim.random_edit(history_ok=False)
    return _general_item(sim, len(sim.steps) - 1)


def _general_conversation(rng: random.Random, scene: GScene, split: str, n_turns: int) -> list[dict]:
    sim = GeneralSim(rng, split, scene)
    sim.first(drop_slots=rng.random() < 0.4)
    while len(sim.steps) < n_turns:
        sim.random_edit(history_ok=len(sim.steps) >= 2)
    turns = []
    for i, step in enumerate(sim.steps):
        old = sim.steps[i - 1].state if i else None
        must, banned = general_checks(step.state, old)
        turns.append({"message": step.message, "must_contain": must, "must_not_contain": banned,
                      "_gold": step.state.render()})
    return turns


def _apply_typos(item: dict, rng: random.Random, p: float) -> None:
    if item["split"] == "heldout" and rng.random() < p:
        item["message"] = _typo(item["message"], rng)


def _valid(item: dict) -> bool:
    """The gold prompt passes; the previous prompt (if any) does not; checks are non-trivial."""
    if not item["must_contain"] or not passes(item["_gold"], item):
        return False
    if item.get("prompt") is not None and passes(item["prompt"], item):
        return False
    return True


def build_eval(seed: int = EVAL_SEED, with_gold: bool = False) -> tuple[list[dict], list[dict]]:
    """(single items, conversations) exactly as written to the eval files.

    ``with_gold`` keeps a ``_gold`` reference prompt on each item / turn (not written).
    """
    rng = random.Random(seed)
    singles: list[dict] = []
    seen: set[tuple] = set()

    def add_single(item: dict | None, id_prefix: str) -> bool:
        if item is None or not _valid(item):
            return False
        _apply_typos(item, rng, 0.12)
        if not item["message"] or not _valid(item):
            return False
        key = (item["prompt"], _norm(item["message"]))
        if key in seen:
            return False
        seen.add(key)
        item["id"] = f"{id_prefix}-{len(singles):04d}"
        singles.append(item)
        return True

    # --- shape world singles: per family a quota, 40 % tune
    quotas = {"colour": 32, "size": 22, "position": 24, "shape": 22, "background": 22, "add": 20, "remove": 18,
              "swap_colours": 6, "swap_positions": 6, "colour_size": 10,
              "revert_colour": 14, "revert_shape": 9, "revert_position": 9, "revert_size": 7,
              "revert_background": 8, "undo_last": 10, "correct_colour": 8, "other_one": 9}
    for want, count in quotas.items():
        made, tries = 0, 0
        while made < count and tries < count * 60:
            tries += 1
            split = "tune" if made < round(count * 0.4) else "heldout"
            style = None if rng.random() < 0.8 else rng.randrange(3)
            if add_single(_shape_single(rng, split, want, style), "shape"):
                made += 1
        if made < count:
            raise RuntimeError(f"could only make {made}/{count} {want} items")
    # --- first turns (no image yet)
    for k in range(14):
        split = "tune" if k < 6 else "heldout"
        sim = ShapeSim(rng, split)
        sim.first(full=rng.random() < 0.6)
        add_single(_shape_item(sim, 0, None), "shape")

    # --- general singles: every scene, mostly plain edits, some history-dependent
    for scene in GENERAL_SCENES:
        if scene.split == "train":
            continue
        made, tries = 0, 0
        target = 6 if scene.split == "tune" else 7
        while made < target and tries < 200:
            tries += 1
            item = _general_single(rng, scene, scene.split, history_kind=made >= target - 2)
            if add_single(item, "general"):
                made += 1
        sim = GeneralSim(rng, scene.split, scene)
        sim.first(drop_slots=rng.random() < 0.3)
        add_single(_general_item(sim, 0), "general")
    for item in _hand_items():
        if not _valid(item):
            raise ValueError(f"hand-written item fails its own checks: {item['message']!r}")
        item["id"] = f"general-{len(singles):04d}"
        seen.add((item["prompt"], _norm(item["message"])))
        singles.append(item)

    # --- conversations
    convs: list[dict] = []
    for k in range(24):
        split = "tune" if k < 10 else "heldout"
        for _ in range(50):
            turns = _shape_conversation(rng, split, rng.randint(5, 10))
            if all(_turn_valid(t, i, turns) for i, t in enumerate(turns)):
                break
        else:
            raise RuntimeError("could not build a valid shape conversation")
        convs.append({"id": f"conv-shape-{k:03d}", "split": split, "domain": "shape", "turns": turns})
    gscenes = [s for s in GENERAL_SCENES if s.split == "tune"][:6] + \
        [s for s in GENERAL_SCENES if s.split == "heldout"][:10]
    for k, scene in enumerate(gscenes):
        for _ in range(50):
            turns = _general_conversation(rng, scene, scene.split, rng.randint(5, 8))
            if all(_turn_valid(t, i, turns) for i, t in enumerate(turns)):
                break
        else:
            raise RuntimeError("could not build a valid general conversation")
        convs.append({"id": f"conv-general-{k:03d}", "split": scene.split, "domain": "general", "turns": turns})

    return [_finish_single(i, with_gold) for i in singles], [_finish_conv(c, with_gold) for c in convs]


def _turn_valid(turn: dict, i: int, turns: list[dict]) -> bool:
    if not turn["must_contain"] or not passes(turn["_gold"], turn):
        return False
    if i and passes(turns[i - 1]["_gold"], turn) and not turn["message"].lower().startswith("undo"):
        return False
    return True


SINGLE_KEYS = ("id", "split", "domain", "history", "prompt", "message", "must_contain", "must_not_contain")
TURN_KEYS = ("message", "must_contain", "must_not_contain")


def _finish_single(item: dict, with_gold: bool) -> dict:
    out = {k: item[k] for k in SINGLE_KEYS}
    if with_gold:
        out["_gold"] = item["_gold"]
    return out


def _finish_conv(conv: dict, with_gold: bool) -> dict:
    turns = []
    for t in conv["turns"]:
        out = {k: t[k] for k in TURN_KEYS}
        if with_gold:
            out["_gold"] = t["_gold"]
        turns.append(out)
    return {"id": conv["id"], "split": conv["split"], "domain": conv["domain"], "turns": turns}


def dumps_jsonl(items: Sequence[dict]) -> str:
    return "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items)


def write_eval(directory: Path | str = EVAL_DIR, seed: int = EVAL_SEED) -> tuple[Path, Path]:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    singles, convs = build_eval(seed)
    a, b = directory / "single.jsonl", directory / "conversations.jsonl"
    a.write_text(dumps_jsonl(singles), encoding="utf-8")
    b.write_text(dumps_jsonl(convs), encoding="utf-8")
    return a, b


def load_eval(directory: Path | str = EVAL_DIR) -> tuple[list[dict], list[dict]]:
    directory = Path(directory)

    def read(path: Path) -> list[dict]:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    return read(directory / "single.jsonl"), read(directory / "conversations.jsonl")


# ---------------------------------------------------------------------------------------
# Synthetic training data
# ---------------------------------------------------------------------------------------



@lru_cache(maxsize=1)
def heldout_keys() -> tuple[frozenset[str], frozenset[tuple[str, str | None]]]:
    """Normalised held-out messages, and held-out (message, prompt) pairs (singles + conversation turns)."""
    singles, convs = build_eval()
    messages, pairs = set(), set()
    for item in singles:
        if item["split"] == "heldout":
            messages.add(_norm(item["message"]))
            pairs.add((_norm(item["message"]), item["prompt"]))
    for conv in convs:
        if conv["split"] == "heldout":
            for t in conv["turns"]:
                messages.add(_norm(t["message"]))
    return frozenset(messages), frozenset(pairs)


_ING = {"make": "Making", "change": "Changing", "move": "Moving", "turn": "Turning", "add": "Adding",
        "remove": "Removing", "swap": "Swapping", "undo": "Undoing", "replace": "Replacing"}


def _reply(instruction: str) -> str:
    """``make the circle green`` -> ``Making the circle green.``"""
    verb, _, rest = instruction.partition(" ")
    if verb == "create":
        return "Painting it."
    if verb in _ING:
        return f"{_ING[verb]} {rest}."
    return instruction[:1].upper() + instruction[1:] + "."


def _target(item: dict, step: Step | GStep) -> dict:
    instruction = step.instruction
    return {"prompt": item["_gold"], "instruction": instruction, "region": step.region, "kind": step.kind,
            "reply": _reply(instruction)}


def synthetic_examples(n: int, seed: int = 0, domain: str = "all") -> list[dict]:
    """``n`` training items shaped like single.jsonl plus a gold ``target``.

    Only tune/train phrasings, tune/train general scenes, never held-out synonyms, and
    never a message that appears in the held-out eval items.
    """
    if domain not in ("all", "shape", "general"):
        raise ValueError(f"domain must be all, shape or general, not {domain!r}")
    rng = random.Random(f"synthetic-{seed}-{domain}")
    held_messages, held_pairs = heldout_keys()
    gscenes = [s for s in GENERAL_SCENES if s.split in ("tune", "train")]
    shape_wants = list(SHAPE_SINGLE_KINDS) * 3 + list(HISTORY_KINDS) + ["first"]
    out: list[dict] = []
    seen: set[tuple] = set()
    attempts = 0
    while len(out) < n:
        attempts += 1
        if attempts > n * 50 + 1000:
            raise RuntimeError("could not generate enough synthetic examples")
        use_shape = domain == "shape" or (domain == "all" and rng.random() < 0.6)
        if use_shape:
            want = rng.choice(shape_wants)
            if want == "first":
                sim = ShapeSim(rng, "train")
                sim.first(full=rng.random() < 0.7)
                item = _shape_item(sim, 0, None)
            else:
                style = None if rng.random() < 0.75 else rng.randrange(3)
                item = _shape_single(rng, "train", want, style)
        else:
            scene = rng.choice(gscenes)
            if rng.random() < 0.08:
                sim = GeneralSim(rng, "train", scene)
                sim.first(drop_slots=rng.random() < 0.3)
                item = _general_item(sim, 0)
            else:
                item = _general_single(rng, scene, "train", history_kind=rng.random() < 0.2)
        if item is None or not _valid(item):
            continue
        msg = _norm(item["message"])
        if msg in held_messages or (msg, item["prompt"]) in held_pairs:
            continue
        key = (item["prompt"], msg)
        if key in seen:
            continue
        seen.add(key)
        step = item["_step"]
        ex = {k: item[k] for k in SINGLE_KEYS if k != "id"}
        ex = {"id": f"syn-{seed}-{len(out):06d}", **ex, "target": _target(item, step)}
        out.append(ex)
    return out


if __name__ == "__main__":  # pragma: no cover
    for path in write_eval():
        print("wrote", path)
