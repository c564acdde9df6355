"""The engine: rewrite -> paint -> save, commands, export, resume — with real files."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image

from chatimg.commands import CommandError, run_command
from chatimg.core.store import SessionStore
from chatimg.engine import ChatEngine, TurnCallbacks
from chatimg.paint.painter import PaintCancelled
from chatimg.paint.retouch import SIZE_STEP, Retouch
from tests.fakes import AppendRewriter, SolidPainter


@pytest.fixture
def engine(tmp_path):
    rewriter, painter = AppendRewriter(), SolidPainter()
    eng = ChatEngine(SessionStore(tmp_path / "sessions"), rewriter_factory=lambda status: rewriter,
                     painter_factory=lambda status: painter, model_name="solid", llm_name="append")
    eng.fake_rewriter, eng.fake_painter = rewriter, painter
    return eng


def test_turns_flow_history_and_previous_image(engine):
    edits, steps = [], []
    first = engine.run_turn("a red circle", callbacks=TurnCallbacks(edit=edits.append, step=steps.append))
    assert first.turn.mode == "txt2img" and first.turn.image == "turn-000.png"
    second = engine.run_turn("make it green")
    assert second.turn.edit.prompt == "a red circle, make it green"
    assert engine.fake_rewriter.calls[1][1] == "a red circle"
    assert engine.fake_rewriter.calls[1][2] == [("a red circle", "a red circle")]
    assert engine.fake_painter.requests[1].init_image is not None
    assert second.turn.seed == first.turn.seed  # a session keeps its seed
    assert [e.prompt for e in edits] == ["a red circle"] and [s.step for s in steps] == [1, 2, 3]
    reloaded = SessionStore(engine.store.root).load(engine.session.id)
    assert [t.user for t in reloaded.branch()] == ["a red circle", "make it green"]


def test_going_back_to_an_earlier_prompt_shows_that_picture_as_it_was(engine):
    first = engine.run_turn("a red circle", direct=True)
    engine.run_turn("a blue circle", direct=True)
    back = engine.run_turn("a red circle", direct=True)
    assert back.turn.mode == "restore" and len(engine.fake_painter.requests) == 2  # nothing repainted
    assert back.image.tobytes() == engine.store.load_image(engine.session, first.turn).tobytes()
    assert back.turn.image == "turn-002.png" and any("turn 0" in note for note in back.notes)
    again = engine.run_turn("a red circle", direct=True)  # the same prompt as now: a repaint, not a restore
    assert again.turn.mode == "img2img" and len(engine.fake_painter.requests) == 3


def test_a_colour_or_size_only_turn_asks_the_painter_to_retouch(engine):
    engine.run_turn("a small red square on the left", direct=True)
    engine.run_turn("a small blue square on the left", direct=True)
    engine.run_turn("a big blue square on the left", direct=True)
    engine.run_turn("a big blue circle on the left", direct=True)
    assert [r.retouch for r in engine.fake_painter.requests] == [None, Retouch((("red", "blue"),)), Retouch(
        (), ("blue",), SIZE_STEP), None]


def test_a_whole_picture_at_full_strength_is_painted_from_text(engine):
    """Nothing of the old picture is wanted, so none is handed over (img2img at 1.0 still shows
    it through on most schedules); a region edit at 1.0 still needs the picture it edits."""
    engine.run_turn("a red circle")
    run_command(engine, "/strength 1")
    fresh = engine.run_turn("a green triangle")
    assert fresh.turn.mode == "txt2img" and engine.fake_painter.requests[-1].init_image is None
    assert fresh.turn.painted_how() == f"txt2img  seed {fresh.turn.seed}  steps 3"  # no strength to show
    run_command(engine, "/strength 0.9")
    assert engine.run_turn("blue").turn.mode == "img2img"


def test_try_again_repaints_the_last_turn_with_a_new_seed_as_its_sibling(engine):
    from chatimg.core.model import Edit

    first = engine.run_turn("a red circle")
    second = engine.run_turn("make it green")
    engine.fake_rewriter.rewrite = lambda message, *, prompt, history=(): Edit(
        prompt=prompt, strength=0.05, reply="Another take.", intent="reroll")
    again = engine.run_turn("try again")
    assert again.turn.parent == first.turn.index and again.turn.seed != second.turn.seed
    assert again.turn.edit.prompt == second.turn.edit.prompt and again.turn.edit.strength == second.turn.edit.strength
    assert again.turn.edit.reply == "Another take."
    request = engine.fake_painter.requests[-1]
    assert request.seed == again.turn.seed and request.init_image.tobytes() == \
        engine.store.load_image(engine.session, first.turn).tobytes()  # from the picture turn 1 started from
    assert engine.session.head == again.turn.index and len(engine.session.turns) == 3  # the old take is kept
    assert "reroll" not in (engine.store.root / engine.session.id / "session.json").read_text()


def test_try_again_after_thanks_takes_the_picture_before_it_again(engine):
    from chatimg.core.model import Edit

    first = engine.run_turn("a red circle")
    second = engine.run_turn("make it green")
    engine.fake_rewriter.rewrite = lambda message, *, prompt, history=(): Edit(prompt=prompt, strength=0.05, intent="keep")
    assert engine.run_turn("thanks!").turn.mode == "keep"
    engine.fake_rewriter.rewrite = lambda message, *, prompt, history=(): Edit(
        prompt=prompt, strength=0.05, reply="Another take.", intent="reroll")
    again = engine.run_turn("try again")
    assert again.turn.parent == first.turn.index and again.turn.edit.prompt == second.turn.edit.prompt
    assert again.turn.mode == "img2img" and again.turn.seed != second.turn.seed


def test_try_again_after_a_picture_without_a_seed_says_so(engine):
    from chatimg.core.model import Edit

    engine.run_turn("a red circle", direct=True)
    engine.run_turn("a blue circle", direct=True)
    back = engine.run_turn("a red circle", direct=True)  # shown as it was: no seed made it
    assert back.turn.mode == "restore"
    engine.fake_rewriter.rewrite = lambda message, *, prompt, history=(): Edit(
        prompt=prompt, strength=0.05, reply="Another take.", intent="reroll")
    again = engine.run_turn("try again")
    assert again.turn.mode == "keep" and "new seed would give the same" in again.turn.edit.reply


def test_a_turn_that_changes_nothing_keeps_the_picture(engine):
    """"thanks!" (intent keep) repaints nothing, whatever strength the session has set."""
    from chatimg.core.model import Edit

    first = engine.run_turn("a red circle")
    engine.set_setting("strength", 0.6)
    engine.fake_rewriter.rewrite = lambda message, *, prompt, history=(): Edit(
        prompt=prompt, instruction="no change", strength=0.05, reply="You're welcome!", intent="keep")
    thanks = engine.run_turn("thanks!")
    assert thanks.turn.mode == "keep" and len(engine.fake_painter.requests) == 1
    assert thanks.image.tobytes() == engine.store.load_image(engine.session, first.turn).tobytes()
    assert thanks.turn.painted_how() == "keep: nothing to change, the picture as it was"


def test_direct_turn_skips_the_llm(engine):
    outcome = engine.run_turn("a blue square", direct=True)
    assert outcome.turn.edit.prompt == "a blue square" and outcome.turn.llm is None
    assert engine.fake_rewriter.calls == []


def test_rewrite_only_paints_nothing(engine):
    outcome = engine.run_turn("a red circle", paint=False)
    assert outcome.image is None and outcome.turn.image is None and outcome.turn.mode == "none"


def test_cancel_saves_nothing(engine):
    cancel = threading.Event()
    engine.fake_painter.delay = 0.01
    with pytest.raises(PaintCancelled):
        engine.run_turn("a red circle", callbacks=TurnCallbacks(step=lambda u: cancel.set()), cancel=cancel)
    assert engine.session.turns == []
    assert not (engine.store.root / engine.session.id / "session.json").exists()


def test_commands_change_settings_and_undo(engine, tmp_path):
    engine.run_turn("a red circle")
    engine.run_turn("green")
    assert "seed set to 42" in run_command(engine, "/seed 42").message
    run_command(engine, "/strength 0.3")
    third = engine.run_turn("blue")
    assert third.turn.seed == 42 and third.turn.edit.strength == 0.3
    result = run_command(engine, "/undo")
    assert result.action == "reload" and engine.session.current().user == "green"
    assert run_command(engine, "/prompt a yellow star").action == "paint"
    for bad in ["/strength 3", "/steps x", "/bogus", "/export", "/goto 99"]:
        with pytest.raises(CommandError):
            run_command(engine, bad)
    assert "/undo" in run_command(engine, "/help").message
    engine.run_turn("yellow")  # branches from "green"
    listing = run_command(engine, "/turns").message.splitlines()
    assert listing[0].startswith("•") and listing[2].startswith(" ") and listing[3].startswith("▶")
    assert "(after 1)" in listing[3]


def test_export_writes_the_current_png(engine, tmp_path):
    with pytest.raises(ValueError):
        engine.export(tmp_path / "x.png")
    engine.run_turn("a green circle")
    path = engine.export(tmp_path / "out" / "circle.png")
    from PIL import Image

    assert np.asarray(Image.open(path))[0, 0].tolist() == [30, 170, 50]
    assert run_command(engine, f"/export {tmp_path}/").message.startswith("exported ")


def test_resume_and_sessions_listing(engine):
    engine.run_turn("a red circle")
    sid = engine.session.id
    run_command(engine, "/new")
    assert engine.session.id != sid and engine.session.turns == []
    assert sid in run_command(engine, "/sessions").message
    assert run_command(engine, "/resume latest").action == "reload"
    assert engine.session.id == sid and engine.current_image() is not None


def test_real_tiny_pipeline_end_to_end(tmp_path, tiny_painter):
    eng = ChatEngine(SessionStore(tmp_path), rewriter_factory=lambda s: AppendRewriter(),
                     painter_factory=lambda s: tiny_painter, model_name="tiny")
    eng.run_turn("a red circle")
    second = eng.run_turn("make it green")
    assert second.turn.mode == "img2img" and second.image.size == (32, 32)
    assert (tmp_path / eng.session.id / "turn-001.png").is_file()


def test_replay_reproduces_pixels_with_the_same_model(tmp_path, tiny_painter):
    store = SessionStore(tmp_path)
    original = ChatEngine(store, rewriter_factory=lambda s: AppendRewriter(), painter_factory=lambda s: tiny_painter)
    original.run_turn("a red circle")
    original.run_turn("make it green")
    copy = ChatEngine(store, painter_factory=lambda s: tiny_painter)
    for turn in original.session.branch():
        copy.replay_turn(turn)
    assert [t.edit for t in copy.session.turns] == [t.edit for t in original.session.turns]
    for a, b in zip(original.session.turns, copy.session.turns):
        pa = np.asarray(store.load_image(original.session, a))
        pb = np.asarray(store.load_image(copy.session, b))
        assert np.array_equal(pa, pb)


def test_an_opened_picture_is_turn_0_and_the_next_message_edits_it(engine, tmp_path):
    from PIL import Image

    from chatimg.paint.picture_input import UNKNOWN_PROMPT

    photo = tmp_path / "photo.png"
    Image.new("RGBA", (40, 30), (200, 10, 10, 255)).save(photo)
    opened = engine.open_picture(photo)
    turn = opened.turn
    assert turn.index == 0 and turn.mode == "import" and turn.edit.prompt == UNKNOWN_PROMPT
    folder = engine.store.path(engine.session.id)
    assert (folder / turn.source).read_bytes() == photo.read_bytes()  # kept untouched
    assert Image.open(folder / turn.image).size == (40, 30) and Image.open(folder / turn.image).mode == "RGB"
    edit = engine.run_turn("make it green")
    request = engine.fake_painter.requests[-1]
    assert edit.turn.parent == 0 and edit.turn.mode == "img2img" and request.init_image is not None
    assert request.init_image.getpixel((0, 0)) == (200, 10, 10)


def test_an_opened_picture_is_never_thrown_away_by_a_full_strength_edit(engine, tmp_path):
    from PIL import Image

    photo = tmp_path / "photo.png"
    Image.new("RGB", (16, 16), "white").save(photo)
    engine.open_picture(photo)
    engine.set_setting("strength", 1.0)
    described = engine.run_turn("a white cat").turn  # a whole description of an undescribed picture
    assert described.mode == "keep" and described.edit.prompt == "a picture, a white cat"
    assert "shows" in described.edit.reply and len(engine.fake_painter.requests) == 0
    assert engine.run_turn("a red cat").turn.mode == "img2img"  # still from the opened picture
    assert engine.run_turn("a blue cat").turn.mode == "txt2img"  # after a painted turn: from text again


def test_a_bad_picture_changes_nothing(engine, tmp_path):
    from chatimg.paint.picture_input import PictureError

    engine.run_turn("a red circle")
    before = engine.session
    bad = tmp_path / "bad.png"
    bad.write_text("no")
    with pytest.raises(PictureError):
        engine.open_picture(bad)
    assert engine.session is before and [s.id for s in engine.store.list()] == [before.id]


def test_open_reads_a_shape_world_picture_into_its_prompt(tmp_path):
    from chatimg.shapeworld import Scene, Shape, render

    engine = ChatEngine(SessionStore(tmp_path / "sessions"), painter_factory=lambda status: SolidPainter(),
                        model_name="builtin", llm_name=None)
    picture = tmp_path / "shapes.png"
    render(Scene(background="white", shapes=(Shape(shape="square", colour="green", size="big",
                                                   position="center"),)), size=128).save(picture)
    turn = engine.open_picture(picture).turn
    assert turn.edit.prompt == "a big green square in the center, on a white background"
    assert engine.painter is None  # read without loading the painter


def test_open_uses_the_captioner_when_there_is_one(engine, tmp_path):
    from PIL import Image

    class Describer:
        name = "describer"

        def caption(self, image):
            return f"a {image.width} pixel wide picture"

    photo = tmp_path / "photo.webp"
    Image.new("RGB", (24, 24), "orange").save(photo)
    engine.captioner_factory = lambda status: Describer()
    turn = engine.open_picture(photo).turn
    assert turn.edit.prompt == "a 24 pixel wide picture" and turn.llm == "describer"
    assert turn.source == "original.webp"


def test_export_formats_and_refusals(engine, tmp_path):
    engine.run_turn("a red circle")
    engine.run_turn("make it blue")
    gif = engine.export(tmp_path / "talk.gif")
    from PIL import Image

    assert Image.open(gif).n_frames == 2
    with pytest.raises(ValueError, match="--force"):
        engine.export(tmp_path / "talk.gif")
    assert engine.export(tmp_path / "talk.gif", force=True) == gif
    with pytest.raises(ValueError, match="sessions folder"):
        engine.export(engine.store.path(engine.session.id) / "turn-000.png", force=True)


def test_a_replayed_opening_keeps_the_prompt_it_had(engine, tmp_path):
    from PIL import Image

    photo = tmp_path / "photo.png"
    Image.new("RGB", (8, 8), "white").save(photo)
    engine.captioner_factory = lambda status: pytest.fail("a replay reads no picture again")
    turn = engine.open_picture(photo, prompt="a white card").turn
    assert turn.edit.prompt == "a white card" and turn.llm is None


def test_export_reads_only_the_session_and_writes_only_outside_it(engine, tmp_path):
    from chatimg.core.store import StoreError

    engine.run_turn("a green circle")
    folder = engine.store.folder(engine.session.id)
    own = (folder / "turn-000.png").read_bytes()
    for inside in (folder / "turn-000.png", folder / "copy.png", engine.store.root / "x.png"):
        with pytest.raises((StoreError, ValueError), match="sessions folder"):
            engine.export(inside)
    assert (folder / "turn-000.png").read_bytes() == own and not (folder / "copy.png").exists()
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"not a session's picture")
    (folder / "turn-000.png").unlink()
    (folder / "turn-000.png").symlink_to(secret)  # swapped after the session was opened
    with pytest.raises(StoreError, match="not a plain file"):
        engine.export(tmp_path / "out.png")
    assert not (tmp_path / "out.png").exists()


def test_a_new_session_never_takes_over_an_existing_folder(engine):
    from chatimg.core.model import Session

    engine.run_turn("a red circle")
    taken = engine.session.id
    engine.close()
    other = ChatEngine(engine.store, rewriter_factory=lambda s: AppendRewriter(), painter_factory=lambda s: SolidPainter(),
                       session=Session(id=taken))
    other.run_turn("a blue square")
    assert other.session.id != taken and len(engine.store.load(taken).turns) == 1


def test_an_opened_picture_keeps_its_own_size_through_its_edits(engine, tmp_path):
    """The painter works at its own size (16x16 here); what it paints on an opened 40x30 picture
    comes back at 40x30, so the conversation's pictures stay one size."""
    photo = tmp_path / "photo.png"
    Image.new("RGB", (40, 30), (10, 200, 40)).save(photo)
    opened = engine.open_picture(photo)
    edited = engine.run_turn("make it red")
    assert opened.image.size == edited.image.size == (40, 30) and edited.turn.mode == "img2img"
    assert engine.store.load_image(engine.session, edited.turn).size == (40, 30)
