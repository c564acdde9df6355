"""A conversation read back from a PNG's ``chatimg`` lineage chunk, for ``chatimg replay FILE.png``.

The chunk holds the picture's own turn and every earlier turn of its branch (what was said,
the edit, seed, steps, guidance, models), so the conversation can be repainted after its
session folder is gone. Nothing in the file is trusted: the turns go through the same
validation as a saved session, and names from it never leave the sessions folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from chatimg.core.model import Edit, Turn
from chatimg.core.provenance import read


class LineageError(Exception):
    """The file has no usable lineage; the message says why, in one line."""


@dataclass
class FoundLineage:
    session: str | None
    title: str
    turns: list[Turn]  # oldest first, the picture's own turn last

    def original_in(self, sessions_root: Path) -> Path | None:
        """Where the picture that turn 0 opened is kept, if its session is still in ``sessions_root``."""
        first = self.turns[0] if self.turns else None
        if not (first and first.mode == "import" and first.source and self.session):
            return None
        if not all(_plain_name(n) for n in (self.session, first.source)):
            return None
        path = sessions_root / self.session / first.source
        return path if path.is_file() else None


def _plain_name(name: str) -> bool:
    return bool(name) and not any(c in name for c in "/\\\0") and not name.startswith(".")


def _turn(record: dict[str, Any]) -> Turn:
    return Turn(index=record["turn"], parent=record.get("parent"), user=record["user"],
                edit=Edit.model_validate(record["edit"]), mode=record.get("mode", "txt2img"),
                seed=record["seed"], steps=record["steps"], guidance=record["guidance"],
                model=record.get("model") or "", llm=record.get("llm"), source=record.get("source"))


def turns_from_png(path: str | Path) -> FoundLineage:
    """The branch that made the picture at ``path``; raises ``LineageError`` when it carries none."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise LineageError(f"no such file: {path}")
    try:
        found = read(path)
    except (OSError, ValueError, SyntaxError) as exc:
        raise LineageError(f"{path} is not a readable image: {exc}") from None
    if found.lineage_error:
        raise LineageError(f"{path}: {found.lineage_error}")
    data = found.lineage
    if not data:
        raise LineageError(f"{path} carries no chatimg lineage (not made by chatimg, or stripped): "
                           "nothing to replay")
    records = [*(data.get("history") or []), data]
    try:
        turns = [_turn(record) for record in records]
    except (KeyError, TypeError, ValidationError) as exc:
        raise LineageError(f"{path}: the chatimg lineage is incomplete or invalid ({type(exc).__name__}: "
                           f"{str(exc).splitlines()[0]})") from None
    session = data.get("session")
    return FoundLineage(session=session if isinstance(session, str) else None,
                        title=str(data.get("title") or ""), turns=turns)
