"""A modal list of saved sessions: Enter opens one, Esc goes back."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from chatimg.core.store import SessionSummary
from chatimg.core.terminal_text import printable


class SessionPicker(ModalScreen[str | None]):
    """Dismisses with the chosen session id, or None."""

    DEFAULT_CSS = """
    SessionPicker { align: center middle; }
    SessionPicker > Vertical { width: 90; max-width: 95%; height: auto; max-height: 80%;
                               border: thick $accent; background: $surface; padding: 0 1; }
    SessionPicker OptionList { height: auto; max-height: 30; }
    """
    BINDINGS = [Binding("escape", "dismiss_none", "Back")]

    def __init__(self, summaries: list[SessionSummary], current: str | None = None) -> None:
        super().__init__()
        self.summaries = summaries
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Saved sessions — Enter opens, Esc goes back")
            options = []
            for s in self.summaries:
                if s.damaged:  # listed, with the reason, but it cannot be opened
                    line = Text(f"{printable(s.id)}  damaged: {printable(s.damaged)}", style="dim")
                    options.append(Option(line, id=s.id, disabled=True))
                    continue
                line = Text(f"{s.updated.astimezone():%Y-%m-%d %H:%M}  {s.turns:>3} turns  ", style="dim")
                line.append(printable(s.title) or "(untitled)", style="bold" if s.id == self.current else "")
                options.append(Option(line, id=s.id))
            yield OptionList(*options)

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
