"""Session model and store: round-trip, atomic writes, undo, listing, migration guard."""

from __future__ import annotations

import json
import os

import pytest
from PIL import Image

from chatimg.core.model import Edit, Session, Turn
from chatimg.core.store import SessionStore, StoreError, atomic_write_bytes


def make_turn(session: Session, text: str) -> Turn:
    return Turn(index=session.next_index(), parent=session.head, user=text,
                edit=Edit(prompt=text, strength=0.4), seed=7, steps=4, guidance=2.0)


def test_round_trip_keeps_everything(tmp_path):
    store = SessionStore(tmp_path)
    session = Session()
    session.add_turn(make_turn(session, "a red circle"))
    turn = make_turn(session, "make it green")
    turn.image = store.save_image(session, turn.index, Image.new("RGB", (8, 8), (0, 255, 0)))
    session.add_turn(turn)
    store.save(session)
    loaded = store.load(session.id)
    assert loaded == session
    assert loaded.title == "a red circle"
    assert json.loads((tmp_path / session.id / "session.json").read_text())["format"] == 1
    assert store.load_image(loaded, loaded.current()).getpixel((0, 0)) == (0, 255, 0)


def test_undo_moves_head_and_next_turn_branches():
    session = Session()
    session.add_turn(make_turn(session, "one"))
    session.add_turn(make_turn(session, "two"))
    assert session.undo().user == "one"
    session.add_turn(make_turn(session, "three"))
    assert [t.user for t in session.branch()] == ["one", "three"]
    assert session.turns[2].parent == 0 and len(session.turns) == 3
    session.undo()
    session.undo()
    assert session.current() is None
    with pytest.raises(ValueError):
        session.undo()


def test_edit_repairs_whitespace_and_region_aliases_and_rejects_bad_strength():
    edit = Edit(prompt="  a   red\n circle ", region="Centre")
    assert edit.prompt == "a red circle" and edit.region == "center"
    with pytest.raises(ValueError):
        Edit(prompt="x", strength=1.5)
    with pytest.raises(ValueError):
        Edit(prompt="")


def test_a_move_region_is_written_one_way():
    from chatimg.core.model import parse_moves

    assert Edit(prompt="x", region="Left to right").region == "left->right"
    assert Edit(prompt="x", region="centre -> top").region == "center->top"
    assert Edit(prompt="x", region="left to right and right to left").region == "left->right, right->left"
    assert parse_moves("left->right") == [("left", "right")]
    assert parse_moves("left->right;right->left") == [("left", "right"), ("right", "left")]
    for bad in ("left->left, right->top", "the dog", "left", "left->right, left->top", "left->top, right->top",
                "left->right, x"):
        assert parse_moves(bad) is None, bad


def test_a_move_to_its_own_anchor_centres_the_object_there():
    """ "Move it to the center" when the picture has it there or nearby: a move, not a repaint."""
    from chatimg.core.model import parse_moves

    assert parse_moves("center->center") == [("center", "center")]
    assert Edit(prompt="x", region="centre to centre").region == "center->center"


def test_moves_then_one_more_region():
    """An add that makes room: move the centre shape aside, then paint where the new one goes."""
    from chatimg.core.model import split_moves

    assert split_moves("center->bottom, top") == ([("center", "bottom")], "top")
    assert Edit(prompt="x", region="centre to bottom and top").region == "center->bottom, top"
    for not_that in ("left->right", "top", "center->top, top", "center->left, whole", "center->left, the dog",
                     "center->left, right, top"):
        assert split_moves(not_that) is None, not_that


def test_atomic_write_leaves_old_file_when_the_write_fails(tmp_path, monkeypatch):
    target = tmp_path / "session.json"
    atomic_write_bytes(target, b"old")

    def boom(fd):
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["session.json"]  # no temp file left


def test_list_latest_prefix_and_delete(tmp_path):
    store = SessionStore(tmp_path)
    first, second = Session(id="20260101-000000-aaaa"), Session(id="20260102-000000-bbbb")
    for s in (first, second):
        s.add_turn(make_turn(s, f"hello {s.id}"))
    second.updated = second.updated.replace(year=2030)
    store.save(first)
    store.save(second)
    (tmp_path / "garbage").mkdir()
    (tmp_path / "garbage" / "session.json").write_text("{not json")
    assert [s.id for s in store.list() if not s.damaged] == [second.id, first.id]
    assert [s.damaged for s in store.list() if s.id == "garbage"] == [
        "session.json is not valid JSON (Expecting property name enclosed in double quotes, line 1 column 2)"]
    assert store.load("latest").id == second.id
    assert store.load("20260101").id == first.id
    with pytest.raises(StoreError, match="ambiguous"):
        store.load("2026")
    store.delete(first.id)
    with pytest.raises(StoreError, match="no session"):
        store.load(first.id)


def test_unreadable_and_future_sessions_are_clear_errors(tmp_path):
    store = SessionStore(tmp_path)
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "session.json").write_text(json.dumps({"format": 99, "id": "x"}))
    with pytest.raises(StoreError, match="damaged: session format 99 is newer"):
        store.load("x")
    with pytest.raises(ValueError):
        Session(id="../escape")
