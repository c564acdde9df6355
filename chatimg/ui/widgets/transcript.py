"""Chat transcript entries: the person's words, the assistant's edit, notes."""

from __future__ import annotations

from PIL import Image
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from chatimg.core.model import Turn
from chatimg.core.ops import describe
from chatimg.core.terminal_text import printable
from chatimg.paint.preview import fit_cells, halfblock


class UserMessage(Static):
    DEFAULT_CSS = """
    UserMessage { margin: 1 0 0 6; padding: 0 1; background: $primary 20%; color: $text; }
    """

    def __init__(self, text: str) -> None:
        super().__init__(Text(printable(text)))


class Note(Static):
    """Command output and errors, dimmed or red, never a crash."""

    DEFAULT_CSS = """
    Note { margin: 1 0 0 0; padding: 0 1; color: $text-muted; }
    Note.error { color: $error; }
    """

    def __init__(self, text: str, error: bool = False) -> None:
        super().__init__(Text(printable(text, keep_newlines=True)), classes="error" if error else "")


def edit_table(turn: Turn, compact: bool = False) -> Table:
    """The edit a turn chose; ``compact`` for the narrow transcript column."""
    edit = turn.edit
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    table.add_row("prompt", Text(printable(edit.prompt)))
    table.add_row("edit", Text(printable(turn.painted_how(" · ", steps=False) if compact else turn.painted_how())))
    if edit.ops:
        table.add_row("ops", Text(printable(f"{describe(edit.ops)}  ({edit.source})" if edit.source else describe(edit.ops))))
    elif edit.instruction and edit.instruction != edit.prompt:
        table.add_row("change", Text(printable(edit.instruction)))
    if turn.mode == "instruct" and turn.model_prompt and turn.model_prompt != edit.prompt:  # what an instruction-edit model was told
        table.add_row("told", Text(printable(turn.model_prompt)))
    if edit.negative_prompt:
        table.add_row("avoid", Text(printable(edit.negative_prompt)))
    if not compact:
        table.add_row("time", Text(f"rewrite {turn.timings.rewrite_s:.2f}s  paint {turn.timings.paint_s:.2f}s",
                                   style="dim"))
    return table


class AssistantMessage(Vertical):
    """One assistant turn: its reply, the edit it chose and a thumbnail of the result."""

    DEFAULT_CSS = """
    AssistantMessage { height: auto; margin: 1 6 0 0; padding: 0 1; border-left: thick $accent; }
    AssistantMessage .reply { text-style: bold; }
    AssistantMessage Horizontal { height: auto; }
    AssistantMessage .thumb { width: auto; margin-right: 1; }
    AssistantMessage .details { width: 1fr; }
    """

    def __init__(self, turn: Turn, image: Image.Image | None, notes: list[str] | None = None) -> None:
        super().__init__(classes=f"turn-{turn.index}")
        self.turn = turn
        self.image = image
        self.notes = notes or []

    def compose(self) -> ComposeResult:
        reply = self.turn.edit.reply or "Done."
        yield Static(Text(f"#{self.turn.index}  {printable(reply)}"), classes="reply")
        with Horizontal():
            if self.image is not None:
                cols, rows = fit_cells(self.image.size, 12, 6)
                thumb = Static(halfblock(self.image, cols, rows), classes="thumb")
                thumb.styles.width, thumb.styles.height = cols, rows
                yield thumb
            yield Static(edit_table(self.turn, compact=True), classes="details")
        for note in self.notes:
            yield Static(Text(f"note: {printable(note)}", style="italic"), classes="note")
