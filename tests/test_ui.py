"""The TUI, driven with Textual's pilot: type turns, see images, undo, cancel, resume."""

from __future__ import annotations

import pytest

pytest.importorskip("textual")

from textual.widgets import Input  # noqa: E402

from chatimg.core.store import SessionStore  # noqa: E402
from chatimg.engine import ChatEngine  # noqa: E402
from chatimg.ui.app import ChatApp  # noqa: E402
from chatimg.ui.widgets.image_view import HalfblockImage  # noqa: E402
from chatimg.ui.widgets.transcript import AssistantMessage, Note, UserMessage  # noqa: E402
from tests.fakes import AppendRewriter, SolidPainter  # noqa: E402


def make_engine(root, delay=0.0, painter=None):
    painter = painter or SolidPainter(delay=delay)
    return ChatEngine(SessionStore(root), rewriter_factory=lambda s: AppendRewriter(),
                      painter_factory=lambda s: painter, model_name="solid", llm_name="append")


async def wait_until(pilot, predicate, timeout=10.0):
    for _ in range(int(timeout / 0.05)):
        await pilot.pause(0.05)
        if predicate():
            return
    raise AssertionError("condition not reached")


async def say(pilot, app, text):
    app.query_one("#prompt", Input).value = text
    await pilot.press("enter")


async def test_type_a_turn_and_see_the_image(tmp_path):
    app = ChatApp(make_engine(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: str(app.query_one("#status").render()) == "ready")
        assert app.sub_title.endswith("0 turns")
        await say(pilot, app, "a red circle")
        await wait_until(pilot, lambda: len(app.query(AssistantMessage)) == 1)
        assert app.sub_title.endswith("1 turn")
        view = app.query_one("#image-slot").query_one(HalfblockImage)
        assert view.image.getpixel((0, 0)) == (220, 30, 30)
        await say(pilot, app, "make it green")
        await wait_until(pilot, lambda: len(app.query(AssistantMessage)) == 2)
        view = app.query_one("#image-slot").query_one(HalfblockImage)
        assert view.image.getpixel((0, 0)) == (30, 170, 50)
        assert "a red circle, make it green" in str(app.query(AssistantMessage).last().turn.edit.prompt)
        await say(pilot, app, "/undo")
        await pilot.pause(0.2)
        assert len(app.query(AssistantMessage)) == 1
        assert app.query_one("#image-slot").query_one(HalfblockImage).image.getpixel((0, 0)) == (220, 30, 30)


async def test_errors_are_shown_not_raised(tmp_path):
    app = ChatApp(make_engine(tmp_path))
    async with app.run_test() as pilot:
        await say(pilot, app, "/strength 7")
        await say(pilot, app, "/nonsense")
        await say(pilot, app, "/export /nonexistent-dir/x.png")
        await pilot.pause(0.2)
        errors = [n for n in app.query(Note) if n.has_class("error")]
        assert len(errors) == 3
        assert app.is_running


async def test_painter_failure_is_a_transcript_line(tmp_path):
    class Broken(SolidPainter):
        def paint(self, *a, **k):
            raise RuntimeError("GPU melted")

    app = ChatApp(make_engine(tmp_path, painter=Broken()), preload=False)
    async with app.run_test() as pilot:
        await say(pilot, app, "a red circle")
        await wait_until(pilot, lambda: any("GPU melted" in str(n.render()) for n in app.query(Note)))
        assert not app.busy and app.engine.session.turns == []


async def test_escape_cancels_a_running_turn(tmp_path):
    app = ChatApp(make_engine(tmp_path, delay=0.05), preload=False)
    async with app.run_test() as pilot:
        app.engine.session.settings.steps = 200
        await say(pilot, app, "a red circle")
        await wait_until(pilot, lambda: app.busy and "step" in str(app.query_one("#status").render()))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.busy)
        assert app.engine.session.turns == []
        assert any("cancelled" in str(n.render()) for n in app.query(Note))


async def test_resume_brings_the_transcript_and_image_back(tmp_path):
    engine = make_engine(tmp_path)
    engine.run_turn("a blue square")
    engine.run_turn("make it yellow")
    engine.close()  # one writer per session: the first window lets go
    resumed = make_engine(tmp_path)
    resumed.resume("latest")
    app = ChatApp(resumed, preload=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        users = [str(u.render()) for u in app.query(UserMessage)]
        assert users == ["a blue square", "make it yellow"]
        assert app.query_one("#image-slot").query_one(HalfblockImage).image.getpixel((0, 0)) == (245, 225, 30)


async def test_prompt_command_paints_without_the_llm(tmp_path):
    app = ChatApp(make_engine(tmp_path), preload=False)
    async with app.run_test() as pilot:
        await say(pilot, app, "/prompt a green square")
        await wait_until(pilot, lambda: len(app.query(AssistantMessage)) == 1)
        turn = app.engine.session.current()
        assert turn.edit.prompt == "a green square" and turn.llm is None


async def test_up_arrow_recalls_earlier_messages(tmp_path):
    app = ChatApp(make_engine(tmp_path), preload=False)
    async with app.run_test() as pilot:
        await say(pilot, app, "/seed 3")
        await say(pilot, app, "/steps 2")
        box = app.query_one("#prompt", Input)
        box.value = "draft"
        await pilot.press("up")
        assert box.value == "/steps 2"
        await pilot.press("up", "up")
        assert box.value == "/seed 3"
        await pilot.press("down", "down")
        assert box.value == "draft"


@pytest.mark.parametrize("mode", ["kitty", "sixel"])
async def test_graphics_protocol_previews_mount_their_own_widget(tmp_path, mode):
    from textual_image.widget import SixelImage, TGPImage

    app = ChatApp(make_engine(tmp_path), preview_mode=mode, preload=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await say(pilot, app, "a red circle")
        await wait_until(pilot, lambda: len(app.query(AssistantMessage)) == 1)
        widget = app.query_one("#image-slot").children[0]
        assert isinstance(widget, TGPImage if mode == "kitty" else SixelImage)
        assert widget.image.getpixel((0, 0)) == (220, 30, 30)


async def test_session_picker_opens_a_saved_session(tmp_path):
    old = make_engine(tmp_path)
    old.run_turn("a blue square")
    old.close()
    app = ChatApp(make_engine(tmp_path), preload=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await say(pilot, app, "/sessions")
        await pilot.pause(0.2)
        from chatimg.ui.screens.session_picker import SessionPicker

        assert isinstance(app.screen, SessionPicker)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.engine.session.id == old.session.id
        assert [str(u.render()) for u in app.query(UserMessage)] == ["a blue square"]
        assert app.query_one("#image-slot").query_one(HalfblockImage).image.getpixel((0, 0)) == (30, 70, 220)


def test_a_move_turn_is_described_as_a_move_not_a_strength():
    from rich.console import Console

    from chatimg.core.model import Edit, Turn
    from chatimg.ui.widgets.transcript import edit_table

    def shown(turn: Turn, compact: bool) -> str:
        console = Console(width=100, record=True)
        console.print(edit_table(turn, compact=compact))
        return console.export_text()

    move = Turn(index=1, parent=0, user="move it up", mode="move", seed=1, steps=1, guidance=2.0,
                edit=Edit(prompt="a red circle at the top", strength=0.85, region="left->top"))
    for compact in (True, False):
        assert "move left->top" in shown(move, compact) and "strength" not in shown(move, compact)
    paint = move.model_copy(update={"mode": "inpaint", "edit": move.edit.model_copy(update={"region": "left"})})
    assert "strength 0.85" in shown(paint, True) and "region left" in shown(paint, True)


def test_an_instruction_edit_shows_what_the_model_was_told():
    from rich.console import Console

    from chatimg.core.model import Edit, Turn
    from chatimg.ui.widgets.transcript import edit_table

    told = "Make the car blue; keep everything else as it is."
    turn = Turn(index=1, parent=0, user="make the car blue", mode="instruct", seed=1, steps=20, guidance=2.5,
                model_prompt=told, edit=Edit(prompt="a blue car", instruction="car → blue", strength=0.6))
    console = Console(width=120, record=True)
    console.print(edit_table(turn))
    text = console.export_text()
    assert "told" in text and told in text
    assert "instruct" in text and "strength" not in text


def test_a_closed_terminal_is_noticed():
    """Closing the window can leave no hang-up signal for the app (under `make run`), and
    Textual then polls the dead tty at full CPU; the app checks the tty and leaves."""
    import os
    import pty

    from chatimg.ui.app import terminal_alive

    master, slave = pty.openpty()
    try:
        assert terminal_alive(slave)
        os.close(master)
        assert not terminal_alive(slave)
    finally:
        os.close(slave)


class WarmingPainter(SolidPainter):
    """Counts warm-ups; ``loaded`` lets a test hold the load back to see the UI meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.warm_ups = 0

    def warm_up(self) -> float:
        self.warm_ups += 1
        return 0.0


async def test_first_frame_at_once_models_load_and_warm_up_while_the_user_types(tmp_path):
    import threading

    painter, release = WarmingPainter(), threading.Event()

    def slow_factory(status):
        release.wait(10)  # a painter that takes its time to load
        return painter

    engine = ChatEngine(SessionStore(tmp_path), painter_factory=slow_factory, model_name="solid", llm_name=None)
    app = ChatApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        assert "loading models" in str(app.query_one("#status").render()) and not app.models_ready
        await pilot.press("a", " ", "r", "e", "d")  # typing works while the models load
        assert app.query_one("#prompt", Input).value == "a red"
        release.set()
        await wait_until(pilot, lambda: app.models_ready)
        assert painter.warm_ups == 1 and str(app.query_one("#status").render()) == "ready"


async def test_a_live_preview_redraws_the_picture_in_place(tmp_path):
    from PIL import Image

    app = ChatApp(make_engine(tmp_path), preload=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await say(pilot, app, "a red circle")
        await wait_until(pilot, lambda: app.turns_done == 1)
        shown = app.query_one("#image-slot").query_one(HalfblockImage)
        app.show_image(Image.new("RGB", (16, 16), (0, 0, 255)), preview=True)
        await pilot.pause(0.05)
        assert app.query_one("#image-slot").query_one(HalfblockImage) is shown
        assert shown.image.getpixel((0, 0)) == (0, 0, 255)


async def test_open_a_picture_edit_it_and_export_the_conversation(tmp_path):
    from PIL import Image

    photo = tmp_path / "my photo.png"
    Image.new("RGB", (30, 20), (10, 200, 40)).save(photo)
    engine = make_engine(tmp_path / "sessions")
    app = ChatApp(engine, preload=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await say(pilot, app, "/open /nowhere/at/all.png")
        await wait_until(pilot, lambda: any(n.has_class("error") for n in app.query(Note)))
        assert engine.session.turns == [] and engine.store.list() == []
        await say(pilot, app, f'/open "{photo}"')
        await wait_until(pilot, lambda: len(app.query(AssistantMessage)) == 1)
        assert engine.session.current().mode == "import"
        view = app.query_one("#image-slot").query_one(HalfblockImage)
        assert view.image.size == (30, 20) and view.image.getpixel((0, 0)) == (10, 200, 40)
        await say(pilot, app, "make it red")
        await wait_until(pilot, lambda: len(app.query(AssistantMessage)) == 2)
        await say(pilot, app, f"/export {tmp_path / 'talk.gif'}")
        await say(pilot, app, f"/export {tmp_path / 'talk.gif'}")
        await say(pilot, app, f"/export {tmp_path / 'talk.md'} --strip")
        await pilot.pause(0.2)
        notes = [str(n.render()) for n in app.query(Note)]
        assert any("--force" in n for n in notes) and any("talk.md" in n for n in notes)
        assert Image.open(tmp_path / "talk.gif").n_frames == 2
        assert (tmp_path / "talk-turn-000.png").is_file() and (tmp_path / "talk-turn-001.png").is_file()
