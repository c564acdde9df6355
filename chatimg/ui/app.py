"""The chatimg TUI: transcript on the left, the current image large on the right.

Model loading and every turn run in thread workers; they report with messages
(``post_message`` is thread-safe), so the UI never blocks. The first frame comes at once:
models load, and run one tiny warm-up pass, while the user types the first message. Esc
cancels the running turn between denoising steps.
"""

from __future__ import annotations

import sys
import threading

from PIL import Image
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Header, Input, Label, ProgressBar, Static

from chatimg.commands import CommandError, is_command, run_command
from chatimg.engine import ChatEngine, TurnCallbacks
from chatimg.paint.painter import PaintCancelled
from chatimg.ui.messages import (
    ModelsReady,
    PictureOpened,
    TurnCancelled,
    TurnDone,
    TurnEdit,
    TurnFailed,
    TurnStatus,
    TurnStep,
)
from chatimg.ui.screens.session_picker import SessionPicker
from chatimg.ui.widgets.image_view import HalfblockImage, image_widget
from chatimg.ui.widgets.prompt_input import PromptInput
from chatimg.ui.widgets.transcript import AssistantMessage, Note, UserMessage, edit_table

WELCOME = ("Describe an image to start, e.g. “a big red circle on the left, blue background”, "
           "then say what to change. /help lists commands; Esc cancels a turn.")


def terminal_alive(fd: int) -> bool:
    """Whether the terminal on ``fd`` is still there: once its window is closed every tty call
    fails with EIO. (termios is POSIX-only: on Windows the terminal is taken as alive.)"""
    try:
        import termios
    except ImportError:
        return True
    try:
        termios.tcgetattr(fd)
    except (termios.error, OSError):
        return False
    return True


class ChatApp(App):
    TITLE = "chatimg"
    CSS = """
    #main { height: 1fr; }
    #transcript { width: 2fr; min-width: 40; padding: 0 1; }
    #stage { width: 3fr; border-left: solid $primary 40%; }
    #image-slot { height: 1fr; align: center middle; }
    #caption { height: auto; max-height: 4; padding: 0 1; color: $text-muted; }
    #progress-row { height: 1; padding: 0 1; }
    #status { width: 1fr; color: $text-muted; }
    #bar { width: 30; }
    #prompt { dock: bottom; margin: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel turn"),
        Binding("ctrl+z", "undo", "Undo"),
        Binding("ctrl+n", "new", "New session"),
        Binding("ctrl+o", "sessions", "Sessions"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(self, engine: ChatEngine, preview_mode: str = "halfblock", preload: bool = True) -> None:
        super().__init__()
        self.engine = engine
        self.preview_mode = preview_mode
        self.preload = preload
        self.busy = False
        self.models_ready = False
        self.turns_done = 0  # painted turns shown, for whoever waits on one (tests, the bench's probe)
        self._cancel = threading.Event()

    # -- layout -------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            yield VerticalScroll(id="transcript")
            with Vertical(id="stage"):
                yield Container(id="image-slot")
                yield Static("", id="caption")
                with Horizontal(id="progress-row"):
                    yield Label("", id="status")
                    yield ProgressBar(total=None, show_eta=False, id="bar")
        history = [t.user for t in self.engine.session.branch()]
        yield PromptInput(history, placeholder="Describe an image, or say what to change…  (/help)", id="prompt")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#bar", ProgressBar).display = False
        self.reload_session()
        self.query_one("#prompt", Input).focus()
        if sys.__stdin__ is not None and sys.__stdin__.isatty():
            self.set_interval(2.0, self._exit_if_terminal_closed)
        if self.preload:
            self.set_status("loading models…")
            self.load_models()

    def _exit_if_terminal_closed(self) -> None:
        """A terminal window closed without a hang-up signal reaching us (under `make run`, say)
        left the app polling a dead tty at full CPU: leave instead. Nothing is lost, every turn
        is saved as it ends."""
        if not terminal_alive(sys.__stdin__.fileno()):
            self.exit()

    # -- helpers ------------------------------------------------------------------------
    @property
    def transcript(self) -> VerticalScroll:
        return self.query_one("#transcript", VerticalScroll)

    def set_status(self, text: str) -> None:
        self.query_one("#status", Label).update(Text(text))

    def note(self, text: str, error: bool = False) -> None:
        self.transcript.mount(Note(text, error=error))
        self.transcript.scroll_end(animate=False)

    def show_image(self, image: Image.Image | None, preview: bool = False) -> None:
        """Swap in a fresh widget for ``image`` (never reuse one: no stale frames). A live
        preview in half-blocks redraws the widget already there instead: no layout pass."""
        slot = self.query_one("#image-slot", Container)
        current = slot.children[0] if len(slot.children) == 1 else None
        if preview and image is not None and isinstance(current, HalfblockImage):
            current.image = image
            current.refresh()
            return
        slot.remove_children()
        if image is not None:
            widget = image_widget(image, self.preview_mode, classes="image")
            if self.preview_mode != "halfblock":
                # Graphics protocols size from pixels; fill the slot's height, keep the aspect.
                widget.styles.height = max(1, slot.size.height)
                widget.styles.width = "auto"
            slot.mount(widget)

    def reload_session(self) -> None:
        """Rebuild the transcript and preview from the session (start, resume, undo)."""
        session = self.engine.session
        self.update_title()
        self.transcript.remove_children()
        self.transcript.mount(Note(WELCOME))
        for turn in session.branch():
            image = self.engine.store.load_image(session, turn) if turn.image else None
            self.transcript.mount(UserMessage(turn.user))
            self.transcript.mount(AssistantMessage(turn, image))
        current = session.current()
        self.show_image(self.engine.current_image())
        self.query_one("#caption", Static).update(edit_table(current) if current else "")
        self.transcript.scroll_end(animate=False)

    # -- input --------------------------------------------------------------------------
    @on(Input.Submitted, "#prompt")
    def submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        event.input.clear()
        if not text:
            return
        self.query_one("#prompt", PromptInput).remember(text)
        if is_command(text):
            self.command(text)
        elif self.busy:
            self.note("still painting the last turn — wait, or press Esc to cancel it", error=True)
        else:
            self.start_turn(text, direct=not self.engine.has_llm)

    def command(self, text: str) -> None:
        if self.busy and not text.lstrip("/").startswith(("help", "quit", "q")):
            self.note("a turn is running — Esc cancels it; commands wait until it is done", error=True)
            return
        self.transcript.mount(UserMessage(text))
        try:
            result = run_command(self.engine, text)
        except CommandError as exc:
            self.note(str(exc), error=True)
            return
        if result.action == "quit":
            self.exit()
            return
        if result.action == "reload":
            self.reload_session()
        if result.action == "sessions":
            self.open_session_picker()
            return
        if result.action == "paint":
            self.start_turn(result.text, direct=True, echo=False)
            return
        if result.action == "open":
            self.busy = True
            self.set_status(result.message)
            self.open_picture(result.text)
            return
        if result.message:
            self.note(result.message)

    def start_turn(self, text: str, direct: bool, echo: bool = True) -> None:
        if echo:
            self.transcript.mount(UserMessage(text))
            self.transcript.scroll_end(animate=False)
        self.busy = True
        self._cancel = threading.Event()
        bar = self.query_one("#bar", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        self.set_status("rewriting…" if not direct else "painting…")
        self.run_turn(text, direct, self._cancel)

    # -- workers ------------------------------------------------------------------------
    @work(thread=True, group="load", exit_on_error=False)
    def load_models(self) -> None:
        status = lambda text: self.post_message(TurnStatus(text))  # noqa: E731
        try:
            if self.engine.has_llm:
                self.engine.load_rewriter(status)
            painter = self.engine.load_painter(status)
            warm_up = getattr(painter, "warm_up", None)
            if callable(warm_up) and not self.busy:  # a turn already running warms it up anyway
                status("warming up…")
                warm_up()
        except Exception as exc:  # noqa: BLE001 - shown to the user, the app stays up
            self.post_message(TurnFailed(f"could not load models: {exc}"))
            return
        self.post_message(ModelsReady())

    @work(thread=True, exclusive=True, group="turn", exit_on_error=False)
    def run_turn(self, text: str, direct: bool, cancel: threading.Event) -> None:
        callbacks = TurnCallbacks(
            status=lambda s: self.post_message(TurnStatus(s)),
            edit=lambda e: self.post_message(TurnEdit(e)),
            step=lambda u: self.post_message(TurnStep(u)),
        )
        try:
            outcome = self.engine.run_turn(text, direct=direct, callbacks=callbacks, cancel=cancel)
        except PaintCancelled:
            self.post_message(TurnCancelled())
        except Exception as exc:  # noqa: BLE001 - every failure becomes a transcript line
            self.post_message(TurnFailed(f"{type(exc).__name__}: {exc}"))
        else:
            self.post_message(TurnDone(outcome))

    @work(thread=True, exclusive=True, group="turn", exit_on_error=False)
    def open_picture(self, path: str) -> None:
        try:
            outcome = self.engine.open_picture(path, status=lambda s: self.post_message(TurnStatus(s)))
        except Exception as exc:  # noqa: BLE001 - a bad file is a transcript line, the session stays
            self.post_message(TurnFailed(str(exc)))
        else:
            self.post_message(PictureOpened(outcome))

    # -- worker reports -----------------------------------------------------------------
    def on_picture_opened(self, message: PictureOpened) -> None:
        self.finish_turn("ready")
        self.reload_session()
        for note in message.outcome.notes:
            self.note(note)

    def on_turn_status(self, message: TurnStatus) -> None:
        self.set_status(message.text)

    def on_models_ready(self, message: ModelsReady) -> None:
        self.models_ready = True
        if not self.busy:
            self.set_status("ready")

    def on_turn_edit(self, message: TurnEdit) -> None:
        edit = message.edit
        self.query_one("#caption", Static).update(Text(f"→ {edit.prompt}  (strength {edit.strength:.2f})"))

    def on_turn_step(self, message: TurnStep) -> None:
        update = message.update
        if update.preview is not None:
            self.show_image(update.preview, preview=True)
        bar = self.query_one("#bar", ProgressBar)
        if update.step >= bar.progress or bar.total != update.total:  # a preview may come after later steps
            bar.update(total=update.total, progress=update.step)
            self.set_status(f"painting… step {update.step}/{update.total}")

    def on_turn_done(self, message: TurnDone) -> None:
        outcome = message.outcome
        self.finish_turn("ready")
        self.transcript.mount(AssistantMessage(outcome.turn, outcome.image, outcome.notes))
        self.transcript.scroll_end(animate=False)
        self.show_image(outcome.image)
        self.query_one("#caption", Static).update(edit_table(outcome.turn))
        self.update_title()
        self.turns_done += 1

    def update_title(self) -> None:
        session = self.engine.session
        count = len(session.turns)
        self.sub_title = f"{session.id}  ·  {count} turn{'' if count == 1 else 's'}"

    def on_turn_failed(self, message: TurnFailed) -> None:
        self.finish_turn("error")
        self.note(message.error, error=True)

    def on_turn_cancelled(self, message: TurnCancelled) -> None:
        self.finish_turn("cancelled")
        self.note("cancelled: nothing was saved")
        self.show_image(self.engine.current_image())

    def finish_turn(self, status: str) -> None:
        self.busy = False
        self.query_one("#bar", ProgressBar).display = False
        self.set_status(status)

    # -- actions ------------------------------------------------------------------------
    def action_cancel(self) -> None:
        if self.busy:
            self._cancel.set()
            self.set_status("cancelling…")

    def action_sessions(self) -> None:
        if self.busy:
            self.note("a turn is running — Esc cancels it first", error=True)
            return
        self.open_session_picker()

    def open_session_picker(self) -> None:
        summaries = self.engine.store.list()
        if not summaries:
            self.note(f"no saved sessions in {self.engine.store.root}")
            return

        def resume(session_id: str | None) -> None:
            if session_id:
                self.command(f"/resume {session_id}")

        self.push_screen(SessionPicker(summaries, self.engine.session.id), resume)

    def action_undo(self) -> None:
        self.command("/undo")

    def action_new(self) -> None:
        self.command("/new")
