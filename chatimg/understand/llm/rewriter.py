"""The LLM-backed rewriter: message + current prompt -> ``Edit``.

The model is asked for one thing only, the full new prompt, on one line; everything else in
the ``Edit`` (instruction, strength, region, negative prompt, reply) is derived
deterministically from what changed. Two deterministic helpers understand common requests
and check the model's answer:

* ``chatimg.shapeworld.edits`` for shape-world prompts (what the built-in painter draws);
* ``chatimg.understand.rules.general`` for add / remove / replace / recolour / style / time / weather / mood.

Modes (``mode=``):

* ``rules-first`` (default for the built-in 135M model): when the rules understand the
  request their prompt is used directly; the LLM answers only the rest, and its answer must
  pass the sanity checks.
* ``llm-first`` (default for other models): the LLM always answers; when the rules understood
  the request, the answer must agree with them (added things present, removed things gone,
  the rest kept; shape-world scenes must match exactly) or the rules' prompt replaces it.
* ``llm-only``: no rules at all, only parsing and sanity checks (to measure the bare model).

``rewrite`` never raises: when nothing usable comes back the previous prompt is kept and the
reply says the request was not understood.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from chatimg.core.model import STRENGTH_MIN, Edit
from chatimg.core.ops import Reroll, Restart, Revert, Talk, describe, imperative
from chatimg.shapeworld import edits as shapeworld_edits
from chatimg.understand import instructions
from chatimg.understand.apply import apply as apply_ops
from chatimg.understand.history import described_turn, returned_thing
from chatimg.understand.llm.output import end_sentence, make_edit, parse_output, shorten
from chatimg.understand.rules import general as edit_rules
from chatimg.understand.rules.typos import expand_shorthand, fix_typos

GenerateFn = Callable[[list[dict]], str]
MODES = ("rules-first", "llm-first", "llm-only")

#: img2img strength for general (non shape-world) edits, by kind of change.
GENERAL_STRENGTHS = {
    "new": 1.0, "add": 0.6, "remove": 0.6, "replace": 0.65, "colour": 0.55, "attribute": 0.55,
    "position": 0.65, "style": 0.75, "time": 0.65, "weather": 0.6, "season": 0.65, "lighting": 0.55,
    "mood": 0.55, "modifier": 0.55, "multi": 0.7, "llm": 0.6, "isolate": 0.75,
}


def prompts_dir() -> Path:
    from chatimg.locations import prompts_dir as _prompts_dir

    return _prompts_dir()


@dataclass
class PromptTemplates:
    """The system prompt, user templates and few-shot examples from ``prompts/``."""

    system: str
    user: str
    user_first: str
    examples: list[dict] = field(default_factory=list)

    @classmethod
    def load(cls, folder: Path | None = None) -> PromptTemplates:
        folder = Path(folder) if folder else prompts_dir()
        examples = []
        path = folder / "examples.jsonl"
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    examples.append(json.loads(line))
        return cls(
            system=(folder / "system.md").read_text(encoding="utf-8").strip(),
            user=(folder / "user.txt").read_text(encoding="utf-8").strip(),
            user_first=(folder / "user_first.txt").read_text(encoding="utf-8").strip(),
            examples=examples,
        )

    def without_examples(self, folder: Path | None = None) -> PromptTemplates:
        """The short zero-shot format the LoRA adapter is trained on (``system_short.md``)."""
        folder = Path(folder) if folder else prompts_dir()
        short = folder / "system_short.md"
        system = short.read_text(encoding="utf-8").strip() if short.is_file() else self.system
        return PromptTemplates(system, self.user, self.user_first, [])

    def user_text(self, message: str, prompt: str | None) -> str:
        template = self.user if prompt else self.user_first
        return template.replace("{prompt}", prompt or "").replace("{message}", " ".join(message.split()))

    def messages(self, message: str, prompt: str | None) -> list[dict]:
        chat = [{"role": "system", "content": self.system}]
        for example in self.examples:
            chat.append({"role": "user", "content": self.user_text(example["message"], example.get("prompt"))})
            chat.append({"role": "assistant", "content": example["output"]})
        chat.append({"role": "user", "content": self.user_text(message, prompt)})
        return chat


def _edit_strengths() -> tuple[dict[str, float], float]:
    from chatimg.shapeworld.strengths import DEFAULT_STRENGTH, EDIT_STRENGTHS

    return dict(EDIT_STRENGTHS), float(DEFAULT_STRENGTH)


@dataclass
class RewriteInfo:
    """How the last rewrite was made (for the benchmark and debugging)."""

    source: str = ""  # shape | rules | llm | fallback | direct
    raw: str = ""
    parsed_clean: bool = True  # the LLM answer needed no repair (True when no LLM ran)
    llm_ran: bool = False
    usable: bool = True  # False when the turn fell back to "not understood"
    seconds: float = 0.0


class LLMRewriter:
    """A rewriter around any ``generate(messages) -> text`` function (a real model or a fake)."""

    def __init__(self, generate: GenerateFn | None, *, name: str = "llm", mode: str = "llm-first",
                 templates: PromptTemplates | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; choose from {MODES}")
        self.generate = generate
        self.name = name
        self.mode = mode
        self.templates = templates or PromptTemplates.load()
        self.last = RewriteInfo()
        #: the built-in model reads English only: other scripts get an honest reply, not a guess
        self.english_only = False
        #: ``read_ops(prompt, message) -> [op] | None``: the model reading a request as an op under
        #: constrained decoding (``chatimg.understand.llm.ops``), for what the rules do not understand
        self.read_ops: Callable[[str, str], list | None] | None = None

    # ------------------------------------------------------------------------ public
    def rewrite(self, message: str, *, prompt: str | None, history: Sequence[tuple[str, str]] = ()) -> Edit:
        start = time.perf_counter()
        self.last = RewriteInfo()
        try:
            edit = self._rewrite(message, prompt, list(history or []))
        except Exception as error:  # never crash the turn
            self.last.source, self.last.usable = "fallback", False
            edit = self._not_understood(prompt, message, f"({type(error).__name__})")
        self.last.seconds = time.perf_counter() - start
        return self._typed(edit, prompt, list(history or []))

    def _typed(self, edit: Edit, prompt: str | None, history: list[tuple[str, str]]) -> Edit:
        """The edit with its ops, intent and source: the new prompt read against the old one, a
        picture from earlier in the conversation as a revert, an unchanged one as "keep"."""
        from chatimg.understand.rewriter import prompt_ops

        intent, source = edit.intent, self.last.source if self.last.source in ("llm", "history") else "rules"
        earlier = [p for _, p in history[:-1]]
        if intent == "reroll":
            ops: list = [Reroll()]
        elif prompt is not None and edit.prompt == prompt and edit.strength <= STRENGTH_MIN:
            intent, ops = "keep", [Talk(reply=edit.reply)]
        elif prompt is None or intent == "restart":
            intent, ops = "restart", [Restart(description=edit.prompt)]
        elif edit.prompt in earlier:
            intent, source, ops = "restore", "history", [Revert(description=edit.prompt)]
        else:
            ops = edit.ops or prompt_ops(prompt, edit.prompt)
        note = edit.instruction
        instruction = imperative(ops) if intent == "paint" else note
        return edit.model_copy(update={"ops": ops, "intent": intent, "source": source, "note": note,
                                       "instruction": instruction})

    # ---------------------------------------------------------------------- internals
    def _ask_llm(self, message: str, prompt: str | None) -> str | None:
        if self.generate is None:
            return None
        raw = self.generate(self.templates.messages(message, prompt))
        self.last.llm_ran = True
        self.last.raw = raw
        parsed = parse_output(raw)
        self.last.parsed_clean = parsed.prompt is not None and not parsed.repaired
        return parsed.prompt

    def _rewrite(self, message: str, prompt: str | None, history: list[tuple[str, str]]) -> Edit:
        text = " ".join((message or "").split())
        if _other_script(text):  # the rules read English only: a model that knows the language decides alone
            if self.english_only or self.generate is None:
                reply = ("I understand English only with the built-in model; for other languages start chatimg "
                         "with a multilingual --llm (e.g. Qwen/Qwen2.5-1.5B-Instruct).")
                if prompt is not None:
                    return self._no_change(prompt, reply)
                edit = self._first(text, text, "fallback")
                return edit.model_copy(update={"reply": reply + " Painting the words as they are."})
            candidate = self._ask_llm(text, prompt)
            if candidate and prompt is None:
                return self._first(candidate, text, "llm")
            before, after = edit_rules.content_words(prompt or ""), edit_rules.content_words(candidate or "")
            if candidate and candidate != prompt and len(before & after) >= 0.6 * len(before):
                return self._from_llm(candidate, prompt, text)  # its words cannot be checked against the request's
            self.last.source, self.last.usable = "fallback", False
            return self._not_understood(prompt, text)
        if text and self.mode != "llm-only":
            text = fix_typos(expand_shorthand(text), edit_rules.content_words(prompt or ""), describing=prompt is None)
        if not text:
            self.last.source = "fallback"
            return make_edit(prompt=prompt or "a blank canvas", instruction="nothing asked",
                             strength=STRENGTH_MIN if prompt else 1.0, reply="Tell me what you'd like to see.")[0]
        use_rules = self.mode != "llm-only"
        if use_rules and prompt is not None:  # not an edit of the scene: "try again", "thanks!", "what is this?"
            if edit_rules.is_reroll(text):
                self.last.source = "rules"  # "try again": the engine repaints the last turn with a new seed
                edit = make_edit(prompt=prompt, instruction="another take", strength=STRENGTH_MIN,
                                 reply="Another take on the last picture, with a new seed.")[0]
                return edit.model_copy(update={"intent": "reroll"})
            chat = edit_rules.small_talk(prompt, text)
            if chat is not None:
                return self._no_change(prompt, chat)
            if edit_rules.is_bare_restart(text):
                return self._no_change(prompt, "Starting over: what should the new picture show?")
        if use_rules and prompt is not None:
            text, _kept = instructions.strip_keep(text)  # "…, keep the bear unchanged": the rest is kept anyway
            again = returned_thing(text, prompt, history)
            if again == prompt:
                return self._no_change(prompt, "It already looks like that.")
            if again is not None and not shapeworld_edits.is_shapeworld_prompt(prompt):
                self.last.source = "history"  # "re-add the barn": the phrase as it was, the rest kept
                return make_edit(prompt=again, instruction="bring it back", strength=GENERAL_STRENGTHS["add"],
                                 reply="Brought it back as it was.", previous_prompt=prompt)[0]
            back = described_turn(text, prompt, history)
            if back is not None and not back.whole and shapeworld_edits.is_shapeworld_prompt(prompt):
                back = None  # "go back to yellow": the shape-world rules change that value alone
            if back is not None:
                self.last.source = "history"
                if not back.whole:  # "go back to digital art": that phrase again, the later changes kept
                    again = edit_rules._apply_scene_terms(prompt, back.phrase)
                    if again is not None and again.prompt != prompt:
                        return self._from_rule(again, prompt, "history")
                return make_edit(prompt=back.prompt, instruction="go back to an earlier picture", strength=0.7,
                                 reply=f"Back to the earlier picture: {_short(back.prompt)}.")[0]
            if not shapeworld_edits.is_shapeworld_prompt(prompt) and \
                    (ops := instructions.understand(prompt, text, it_is_subject=not self._just_added(history))) is not None:
                typed = self._from_ops(ops, prompt)
                if typed is not None:
                    return typed
        shape = rule = None
        if use_rules:
            if prompt is None:
                shape = shapeworld_edits.first_prompt(text)
            else:
                undo = edit_rules.apply_history(prompt, text, history)
                if undo is not None and undo.kind == "undo":
                    rule = undo
                elif (restart := edit_rules.restart_request(text, history)) is not None:
                    rule = restart  # "start over with a green triangle": not an edit of this scene
                elif shapeworld_edits.is_shapeworld_prompt(prompt):
                    shape = shapeworld_edits.apply_message(prompt, text, history)
                if shape is None and rule is None:
                    rule = undo or edit_rules.apply_rules(prompt, text, history=history)
                if rule is not None and rule.kind == "new":
                    fresh = shapeworld_edits.first_prompt(rule.prompt)
                    if fresh is not None:
                        shape, rule = fresh, None

        if self.mode == "rules-first":
            if shape is not None and prompt is not None and shape.prompt == prompt and not shape.kinds and not shape.reply:
                # understood but nothing changes ("it already looks like that"): the weakest reading,
                # so a model answer that changes the scene with words from the request is preferred
                candidate = self._ask_llm(text, prompt)
                if candidate and shapeworld_edits.scene_of(candidate) is not None and \
                        self._sane_followup(candidate, prompt, text):
                    shape.prompt = shapeworld_edits.render(*shapeworld_edits.scene_of(candidate))
                    if shape.prompt != prompt:
                        return self._from_llm(shape.prompt, prompt, text)
            if shape is not None:
                return self._from_shape(shape, prompt, text, "shape")
            if rule is not None:
                return self._from_rule(rule, prompt, "rules")
            if prompt is None:
                return self._first(edit_rules.first_prompt(text), text, "rules")
            if self.read_ops is not None and not shapeworld_edits.is_shapeworld_prompt(prompt):
                read = self._read_by_model(prompt, text)  # what the rules do not know, the model reads as an op
                if read is not None:
                    return read

        candidate = self._ask_llm(text, prompt)
        if shape is not None:
            if candidate and shapeworld_edits.check_llm_prompt(candidate, shape.prompt):
                shape.prompt = shapeworld_edits.render(*shapeworld_edits.scene_of(candidate))
                return self._from_shape(shape, prompt, text, "llm")
            return self._from_shape(shape, prompt, text, "shape")
        if rule is not None:
            if candidate and edit_rules.check_prompt(candidate, prompt, rule):
                rule.prompt = candidate
                return self._from_rule(rule, prompt, "llm")
            return self._from_rule(rule, prompt, "rules")
        if prompt is None:
            if candidate and self._sane_first(candidate, text):
                return self._first(candidate, text, "llm")
            if use_rules:
                return self._first(edit_rules.first_prompt(text), text, "rules")
            self.last.usable = False
            return self._first(edit_rules.first_prompt(text), text, "fallback")
        if candidate and use_rules and shapeworld_edits.is_shapeworld_prompt(prompt):
            # a shape scene: the answer must be the same shapes with only values the request names
            scene = shapeworld_edits.validated_llm_scene(prompt, candidate, text)
            if scene is not None:
                return self._from_llm(scene, prompt, text)
        if candidate and self._sane_followup(candidate, prompt, text):
            return self._from_llm(candidate, prompt, text)
        if candidate and use_rules:  # keep the scene, take only the new parts the request asked for
            grafted = self._graft(candidate, prompt, text)
            if grafted and self._sane_followup(grafted, prompt, text):
                self.last.parsed_clean = False
                return self._from_llm(grafted, prompt, text)
        if use_rules and not shapeworld_edits.is_shapeworld_prompt(prompt):  # shape scenes stay canonical
            part = edit_rules.apply_rules(prompt, text, partial=True)
            if part is not None:  # "make it night and <something unknown>": do what is understood, say what is not
                return self._from_rule(part, prompt, "rules")
            literal = edit_rules.literal_request(prompt, text)
            if literal is not None:
                self.last.source = "literal"
                edit = self._from_rule(literal, prompt, "literal")
                edit.reply = (f"I took that literally and added '{_short(literal.target, 60)}' to the prompt; "
                              "say 'undo' if you meant something else.")
                return edit
            answer = edit_rules.question_reply(prompt, text)
            if answer is not None:
                return self._no_change(prompt, answer)
        if use_rules and shapeworld_edits.is_shapeworld_prompt(prompt):
            # "change the background back" when it never changed: say there is nothing to go back to
            answer = shapeworld_edits.nothing_to_revert(prompt, text)
            if answer is not None:
                return self._no_change(prompt, answer)
        elif use_rules and edit_rules.is_revert_request(text):
            return self._no_change(prompt, "I found no earlier change like that to go back to, so the picture is unchanged; "
                                           "'undo' steps back one turn.")
        elif use_rules and (answer := edit_rules.image_operation_reply(text) or edit_rules.unclear_reference_reply(text)):
            # "rotate it", "crop it" (not a change of what it shows); "remove that" with nothing to point at
            return self._no_change(prompt, answer)
        self.last.source, self.last.usable = "fallback", False
        return self._not_understood(prompt, text)

    @staticmethod
    def _graft(candidate: str, prompt: str, message: str) -> str | None:
        """Repair an LLM answer that dropped or mangled part of the scene: the old prompt's phrases,
        plus the answer's new phrases whose words come from the request (style phrase kept last)."""
        asked = {_stem(w) for w in edit_rules.content_words(message)}
        old = [s.strip() for s in prompt.split(",") if s.strip()]
        known = {s.lower() for s in old}
        new = [s.strip() for s in candidate.split(",") if s.strip() and s.strip().lower() not in known]
        new = [s for s in new if {_stem(w) for w in edit_rules.content_words(s)} & asked]
        if not new:
            return None
        tail = [old.pop()] if len(old) > 1 and edit_rules.find_terms(old[-1]) and \
            any(c == "style" for _, c in edit_rules.find_terms(old[-1])) else []
        return ", ".join(old + new + tail)

    # sanity checks for answers the rules cannot verify
    @staticmethod
    def _sane_first(candidate: str, message: str) -> bool:
        words = edit_rules.content_words(candidate)
        asked = edit_rules.content_words(message)
        return bool(words) and len(words & asked) >= max(1, min(2, len(asked) // 2))

    @staticmethod
    def _sane_followup(candidate: str, prompt: str, message: str) -> bool:
        if candidate.strip().lower() == prompt.strip().lower():
            return False
        before = edit_rules.content_words(prompt)
        after = edit_rules.content_words(candidate)
        asked = edit_rules.content_words(message)
        kept = len(before & after) / max(1, len(before))
        new = after - before
        # it must keep most of the scene, and what it adds must come from the request
        return kept >= 0.6 and bool(new) and len(new & asked) >= max(1, len(new) // 2)

    # --------------------------------------------------------------------- edit makers
    def _first(self, new_prompt: str, message: str, source: str, *, restart: bool = False) -> Edit:
        self.last.source = source
        reply = end_sentence(f"Starting a new picture: {_short(new_prompt)}" if restart else f"Painting {_short(new_prompt)}")
        edit = make_edit(prompt=new_prompt, instruction="new picture", strength=1.0, region="whole", reply=reply)[0]
        return edit.model_copy(update={"intent": "restart"})

    def _from_shape(self, shape: shapeworld_edits.ShapeEdit, prompt: str | None, message: str, source: str) -> Edit:
        self.last.source = source
        strengths, default = _edit_strengths()
        if prompt is None or shape.kinds == ["new"]:
            return self._first(shape.prompt, message, source, restart=prompt is not None)
        strength = max((strengths.get(k, default) for k in shape.kinds), default=default)
        if shape.prompt == prompt:  # nothing to paint ("it already looks like that", "only two shapes")
            strength = STRENGTH_MIN
        notes = "; ".join(dict.fromkeys(shape.notes))
        reply = _sentence(notes) if shape.prompt != prompt else "It already looks like that."
        if shape.reply:  # what could not be done as asked, said honestly
            reply = shape.reply if shape.prompt == prompt or not notes else f"{reply.rstrip('.')}. {shape.reply}"
        return make_edit(prompt=shape.prompt, instruction=notes, strength=strength, region=shape.region,
                         negative_prompt=", ".join(shape.removed), reply=reply, default_strength=default)[0]

    def _from_rule(self, rule: edit_rules.RuleEdit, prompt: str | None, source: str) -> Edit:
        self.last.source = source
        if rule.kind == "new":
            return self._first(rule.prompt, rule.target, source, restart=prompt is not None)
        if rule.kind == "undo":
            changed = rule.prompt != prompt
            return make_edit(prompt=rule.prompt, instruction="undo the last change", strength=0.7 if changed else STRENGTH_MIN,
                             reply="Undid the last change." if changed else "There is nothing to undo yet.")[0]
        strength = GENERAL_STRENGTHS.get(rule.kind, 0.6)
        region = "whole"
        if rule.kind in ("colour", "attribute", "replace", "remove") and rule.target and ";" not in rule.target:
            region = edit_rules._head(rule.target.split(",")[0]) or "whole"
            region = region if prompt and re.search(rf"\b{re.escape(region)}", prompt, re.I) else "whole"
        elif rule.kind == "isolate":  # "keep only the car": everything but it changes
            region = "background"
        notes = "; ".join(dict.fromkeys(rule.notes))
        undone = [n[len("not done: "):] for n in rule.notes if n.startswith("not done: ")]
        if rule.prompt == prompt and not rule.negative:
            # nothing to paint: the note says why when there is one ("there is no hat to keep")
            reply = _sentence(notes) if rule.kind == "isolate" and notes else "It already looks like that."
            strength = STRENGTH_MIN if rule.kind == "isolate" else strength
        else:
            reply = _sentence("; ".join(n for n in dict.fromkeys(rule.notes) if not n.startswith("not done: ")))
        if undone:  # a multi-part request done in part: say which part was left out
            reply = reply.rstrip(".") + f"; I couldn't do '{_short(undone[0], 50)}'."
        return make_edit(prompt=rule.prompt, instruction=notes, strength=strength, region=region,
                         negative_prompt=", ".join(dict.fromkeys(rule.negative)), reply=reply,
                         previous_prompt=prompt)[0]

    def _from_llm(self, candidate: str, prompt: str, message: str) -> Edit:
        self.last.source = "llm"
        region = shapeworld_edits.prompt_region(prompt, candidate) if shapeworld_edits.is_shapeworld_prompt(prompt) else "whole"
        return make_edit(prompt=candidate, instruction=_short(message, 80), strength=GENERAL_STRENGTHS["llm"],
                         region=region, reply=end_sentence(f"Updated the picture: {_short(message, 60)}"))[0]

    @staticmethod
    def _just_added(history: list[tuple[str, str]]) -> bool:
        """Whether the last turn added a thing (then "it" is that thing, not the picture's subject)."""
        from chatimg.understand.rewriter import prompt_ops

        return len(history) >= 2 and any(op.op == "add" for op in prompt_ops(history[-2][1], history[-1][1]))

    def _read_by_model(self, prompt: str, text: str) -> Edit | None:
        """The model's op for a request, taken when it changes something and any aspect it sets is
        one the vocabulary knows for that slot (a 135M model without an op adapter guesses the slot)."""
        ops = self.read_ops(prompt, text)
        self.last.llm_ran = True
        if not ops or ops[0].op == "talk":
            return None
        if ops[0].op == "set_aspect":
            slots = {"light": "lighting", "medium": "style", "era": "style"}
            if not any(c == slots.get(ops[0].slot, ops[0].slot) for _, c in edit_rules.find_terms(ops[0].value)):
                return None
        edit = self._from_ops(ops, prompt, source="llm")
        return edit if edit is not None and edit.prompt != prompt else None

    def _from_ops(self, ops: list, prompt: str, source: str = "rules") -> Edit | None:
        """An edit read as ops, applied phrase by phrase; None when an op names nothing in the prompt."""
        if not ops:
            return self._no_change(prompt, "It already looks like that.")
        new = apply_ops(ops, prompt)
        if new is None:
            return None
        self.last.source = source
        kinds = {"recolour": "colour", "replace": "replace", "set_background": "style", "add": "add",
                 "remove": "remove", "resize": "attribute", "set_aspect": "style"}
        strength = max(GENERAL_STRENGTHS.get(kinds.get(op.op, ""), 0.6) for op in ops)
        region = "background" if [op.op for op in ops] == ["set_background"] else "whole"
        if len(ops) == 1 and ops[0].op in ("recolour", "replace"):
            thing = ops[0].target if ops[0].op == "recolour" else ops[0].old
            region = edit_rules._head(thing) or "whole"
        edit = make_edit(prompt=new, instruction=describe(ops), strength=strength, region=region,
                         reply=f"Done: {describe(ops)}.", previous_prompt=prompt)[0]
        return edit.model_copy(update={"ops": ops})

    def _no_change(self, prompt: str, reply: str) -> Edit:
        """An answer to something that is not an edit ("thanks!", "what is this?"): picture unchanged."""
        self.last.source = "chat"
        return make_edit(prompt=prompt, instruction="no change", strength=STRENGTH_MIN, reply=reply)[0]

    def _not_understood(self, prompt: str | None, message: str, detail: str = "") -> Edit:
        if prompt is None:
            first = edit_rules.first_prompt(message) or "a blank canvas"
            return make_edit(prompt=first, instruction="new picture", strength=1.0,
                             reply=end_sentence(f"Painting {_short(first)}"))[0]
        return make_edit(prompt=prompt, instruction="not understood", strength=STRENGTH_MIN,
                         reply=f"Sorry, I didn't understand that request, so the picture is unchanged{(' ' + detail) if detail else ''}. "
                               "Try e.g. 'add a …', 'remove the …', 'make it …'.".replace(". Try", "; try"))[0]


def _other_script(text: str) -> bool:
    """Whether most letters of ``text`` are outside the Latin alphabet ("車を青くして")."""
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(not ("a" <= c.lower() <= "z" or "\u00c0" <= c <= "\u024f") for c in letters) > len(letters) / 2


def _stem(word: str) -> str:
    """A crude stem for matching request words to answer words ("snowy"/"snow", "sleeping"/"sleep")."""
    word = word.lower()
    for suffix in ("ing", "ies", "es", "ed", "er", "y", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[:-len(suffix)]
    return word


def _short(text: str, limit: int = 70) -> str:
    return shorten(text, limit)


_SLOT_NAMES = {"time": "time of day", "camera": "view", "mood": "mood", "style": "style", "weather": "weather",
               "season": "season", "lighting": "lighting"}


def _phrase(note: str) -> str:
    """One note ("time: at night", "circle colour → blue") as words for the reply."""
    slot = re.match(r"^(\w+): (.+)$", note)
    if slot:
        return f"set the {_SLOT_NAMES.get(slot.group(1), slot.group(1))} to {_slot_value(slot.group(2))}"
    arrow = re.match(r"^(.+?) → (.+)$", note)
    if arrow:
        return f"changed the {arrow.group(1)} to {arrow.group(2)}"
    return note


def _slot_value(value: str) -> str:
    """A slot phrase as the object of "set ... to": "at night" -> "night", "in the rain" -> "rain",
    "in the style of monet" -> "monet", "lit by candlelight" -> "candlelight"."""
    value = value.strip()
    if re.match(r"^in the style of\s", value, re.I):
        return value[len("in the style of "):]
    stripped = re.sub(r"^(?:(?:at|in|during|on|under|lit by)\s+)(?:the\s+)?", "", value, flags=re.I)
    return stripped or value


def _sentence(notes: str) -> str:
    """A short reply from the change notes: "Set the time of day to at night and added a deer."."""
    parts = [_phrase(n.strip()) for n in notes.split(";") if n.strip()]
    if not parts:
        return "Done."
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    text = text[0].upper() + text[1:]
    return end_sentence(_short(text, 150).rstrip("."))


# ------------------------------------------------------------------ transformers backend
class TransformersGenerator:
    """Greedy, short, cached generation with a transformers causal LM.

    The fixed part of the chat (system prompt + few-shot examples) is run once and its KV
    cache reused for every call; prompt-lookup speculation proposes tokens copied from the
    input (a rewrite mostly copies the current prompt) and checks them in one forward pass.
    Stops at the first newline or end-of-turn token.
    """

    def __init__(self, model, tokenizer, *, max_new_tokens: int = 80, lookup: int = 8) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.max_new_tokens = max_new_tokens
        self.lookup = lookup
        self._lock = threading.Lock()
        self._prefix_ids: list[int] | None = None
        self._prefix_cache = None
        stops = {tokenizer.eos_token_id}
        for token in ("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>", "</s>"):
            tid = tokenizer.convert_tokens_to_ids(token) if token in tokenizer.get_vocab() else None
            if tid is not None:
                stops.add(tid)
        self.stop_ids = {s for s in stops if s is not None}

    def _encode(self, messages: list[dict]) -> list[int]:
        ids = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
        if isinstance(ids, dict) or hasattr(ids, "keys"):
            ids = ids["input_ids"]
        if ids and isinstance(ids[0], list):
            ids = ids[0]
        return list(ids)

    def _prefix(self, messages: list[dict]) -> list[int]:
        """Token ids of the fixed chat prefix (everything before the last user turn)."""
        fixed = messages[:-1]
        if not fixed:
            return []
        text = self.tokenizer.apply_chat_template(fixed, tokenize=False)
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def __call__(self, messages: list[dict]) -> str:
        import torch
        from transformers import DynamicCache

        ids = self._encode(messages)
        budget = self.max_new_tokens
        last = messages[-1].get("content", "") if messages else ""
        if last:  # a rewrite is about as long as the current prompt plus the change
            budget = min(self.max_new_tokens, len(self.tokenizer(last, add_special_tokens=False)["input_ids"]) + 24)
        with self._lock, torch.inference_mode():
            device = self.model.device
            prefix = self._prefix_ids
            if prefix is None or ids[:len(prefix)] != prefix:
                prefix = self._prefix(messages)
                if prefix and ids[:len(prefix)] == prefix and len(prefix) < len(ids):
                    cache = DynamicCache()
                    self.model(input_ids=torch.tensor([prefix], device=device), past_key_values=cache, use_cache=True)
                    self._prefix_ids, self._prefix_cache = prefix, cache
                else:
                    prefix = []
            cache = self._prefix_cache if prefix else DynamicCache()
            start_len = len(prefix)
            try:
                out = self._greedy(ids, start_len, cache, device, budget)
            finally:
                if prefix:
                    _crop(cache, start_len)
        return self.tokenizer.decode(out, skip_special_tokens=True)

    def _draft(self, seq: list[int]) -> list[int]:
        """Tokens that followed the last two tokens somewhere earlier in ``seq`` (prompt lookup)."""
        if self.lookup <= 0 or len(seq) < 3:
            return []
        a, b = seq[-2], seq[-1]
        for i in range(len(seq) - 3, 0, -1):
            if seq[i - 1] == a and seq[i] == b:
                return seq[i + 1:i + 1 + self.lookup]
        return []

    def _looping(self, out: list[int]) -> bool:
        """True once the answer repeats a comma-separated phrase (small models loop)."""
        if len(out) < 8 or len(out) % 4:
            return False
        parts = [p.strip().lower() for p in self.tokenizer.decode(out, skip_special_tokens=True).split(",")[:-1]]
        parts = [p for p in parts if p]
        return len(parts) != len(set(parts))

    def _greedy(self, ids: list[int], start_len: int, cache, device, budget: int) -> list[int]:
        import torch

        pending = ids[start_len:]
        logits = self.model(input_ids=torch.tensor([pending], device=device), past_key_values=cache, use_cache=True).logits
        token = int(logits[0, -1].argmax())
        out: list[int] = []
        newline = {i for i in (self.tokenizer.convert_tokens_to_ids("Ċ"),) if isinstance(i, int)}
        while len(out) < budget:
            if token in self.stop_ids:
                break
            out.append(token)
            if token in newline or "\n" in self.tokenizer.decode([token]) or self._looping(out):
                break
            draft = self._draft(ids + out)[: max(0, budget - len(out) - 1)]
            step = [token] + draft
            kept_len = cache.get_seq_length()
            logits = self.model(input_ids=torch.tensor([step], device=device), past_key_values=cache, use_cache=True).logits[0]
            preds = logits.argmax(-1).tolist()
            accepted = 0
            stop = False
            while accepted < len(draft) and draft[accepted] == preds[accepted]:
                tok = draft[accepted]
                accepted += 1
                if tok in self.stop_ids:
                    stop = True
                    break
                out.append(tok)
                if "\n" in self.tokenizer.decode([tok]) or self._looping(out):
                    stop = True
                    break
            _crop(cache, kept_len + 1 + accepted)
            if stop:
                break
            token = preds[accepted]
        return out


def _crop(cache, keep: int) -> None:
    extra = cache.get_seq_length() - keep
    if extra > 0:
        cache.crop(-extra)
