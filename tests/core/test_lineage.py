"""A conversation read back from a PNG's lineage chunk."""

from __future__ import annotations

import json
import shutil

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from chatimg.core.lineage import LineageError, turns_from_png
from chatimg.core.store import SessionStore
from chatimg.engine import ChatEngine
from tests.fakes import AppendRewriter, SolidPainter


def make_engine(root):
    rewriter, painter = AppendRewriter(), SolidPainter()
    return ChatEngine(SessionStore(root), rewriter_factory=lambda status: rewriter,
                      painter_factory=lambda status: painter, model_name="solid", llm_name="append")


def test_the_branch_comes_back_from_the_png_alone_and_repaints_the_same(tmp_path):
    engine = make_engine(tmp_path / "sessions")
    engine.set_setting("seed", 9)
    for text in ["a red circle", "make it green", "make it blue"]:
        engine.run_turn(text)
    engine.undo()
    engine.run_turn("yellow")
    kept = tmp_path / "kept.png"
    shutil.copyfile(engine.image_path(engine.session.current()), kept)
    recorded = engine.session.branch()
    shutil.rmtree(engine.store.path(engine.session.id))  # the session is gone

    found = turns_from_png(kept)
    assert found.session == engine.session.id
    assert [t.user for t in found.turns] == ["a red circle", "make it green", "yellow"]
    assert [t.model_dump(exclude={"created", "timings", "image"}) for t in found.turns] == \
        [t.model_dump(exclude={"created", "timings", "image"}) for t in recorded]

    again = make_engine(tmp_path / "sessions")
    for turn in found.turns:
        outcome = again.replay_turn(turn)
    assert outcome.image.tobytes() == Image.open(kept).convert("RGB").tobytes()
    assert [t.edit.prompt for t in again.session.branch()] == [t.edit.prompt for t in recorded]


def test_an_opened_picture_is_found_while_its_session_is_there(tmp_path):
    engine = make_engine(tmp_path / "sessions")
    photo = tmp_path / "photo.png"
    Image.new("RGB", (20, 10), "purple").save(photo)
    engine.open_picture(photo)
    engine.run_turn("make it green")
    found = turns_from_png(engine.image_path(engine.session.current()))
    original = found.original_in(engine.store.root)
    assert found.turns[0].mode == "import" and original.read_bytes() == photo.read_bytes()
    assert found.original_in(tmp_path / "elsewhere") is None


def test_a_png_without_lineage_or_with_a_bad_one_is_one_clear_error(tmp_path):
    plain = tmp_path / "plain.png"
    Image.new("RGB", (4, 4)).save(plain)
    with pytest.raises(LineageError, match="no chatimg lineage"):
        turns_from_png(plain)
    info = PngInfo()
    info.add_text("chatimg", json.dumps({"turn": 0, "user": "x"}))
    partial = tmp_path / "partial.png"
    Image.new("RGB", (4, 4)).save(partial, pnginfo=info)
    with pytest.raises(LineageError, match="incomplete or invalid"):
        turns_from_png(partial)
    with pytest.raises(LineageError, match="no such file"):
        turns_from_png(tmp_path / "nope.png")


def test_names_from_the_file_never_leave_the_sessions_folder(tmp_path):
    engine = make_engine(tmp_path / "sessions")
    photo = tmp_path / "photo.png"
    Image.new("RGB", (8, 8)).save(photo)
    engine.open_picture(photo)
    found = turns_from_png(engine.image_path(engine.session.current()))
    found.session = "../outside"
    assert found.original_in(engine.store.root) is None
