"""A verdict on a painted picture: did the edit land, was the rest kept (the self-check).

A ``Verifier`` looks at one take of a turn; the shape world's checker and a CLIP model are two
(``chatimg.shapeworld.verify``, ``chatimg.paint.verify``); ``chatimg.paint.verify.paint_checked``
paints a turn again while its take misses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class Verdict:
    """One take judged: ``landed`` (the change asked for shows), ``kept`` (nothing else changed),
    ``score`` (higher is better; compares takes of one turn) and ``misses`` in words."""

    landed: bool
    kept: bool
    score: float
    misses: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.landed and self.kept


class Verifier(Protocol):
    name: str

    def judge(self, prompt: str, image: Any, *, before_prompt: str | None = None,
              before_image: Any = None) -> Verdict | None:
        """``None`` when this verifier cannot tell (e.g. a prompt outside its world)."""
        ...
