"""Messages the turn worker posts to the app (``post_message`` is thread-safe)."""

from __future__ import annotations

from textual.message import Message

from chatimg.core.model import Edit
from chatimg.engine import TurnOutcome
from chatimg.paint.painter import StepUpdate


class TurnStatus(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class TurnEdit(Message):
    def __init__(self, edit: Edit) -> None:
        super().__init__()
        self.edit = edit


class TurnStep(Message):
    def __init__(self, update: StepUpdate) -> None:
        super().__init__()
        self.update = update


class TurnDone(Message):
    def __init__(self, outcome: TurnOutcome) -> None:
        super().__init__()
        self.outcome = outcome


class TurnFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class TurnCancelled(Message):
    pass


class ModelsReady(Message):
    pass


class PictureOpened(Message):
    """A picture the person opened is turn 0 of a new session."""

    def __init__(self, outcome: TurnOutcome) -> None:
        super().__init__()
        self.outcome = outcome
