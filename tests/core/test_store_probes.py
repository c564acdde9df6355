"""The session store against hostile files and folders: confinement, identity, checked loads,
one writer at a time, and the doctor. Every probe here once broke a session or the listing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from chatimg.core.model import Edit, Session, Turn
from chatimg.core.session_doctor import examine
from chatimg.core.store import BACKUP_FILE, SessionBusy, SessionDamaged, SessionStore, StoreError
from chatimg.engine import ChatEngine
from tests.fakes import AppendRewriter, SolidPainter

ROOT = Path(__file__).resolve().parents[2]


def saved_session(store: SessionStore, session_id: str, turns: int = 2) -> Session:
    session = Session(id=session_id)
    for i in range(turns):
        turn = Turn(index=i, parent=session.head, user=f"turn {i}", edit=Edit(prompt=f"prompt {i}"), seed=3,
                    steps=2, guidance=1.0)
        turn.image = store.save_image(session, i, Image.new("RGB", (4, 4), (i * 40, 0, 0)))
        session.add_turn(turn)
    store.save(session)
    return session


def write_raw(root: Path, name: str, content: str | bytes) -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    data = content.encode() if isinstance(content, str) else content
    (folder / "session.json").write_bytes(data)
    return folder


def edited(store: SessionStore, source: str, name: str, change) -> None:
    data = json.loads((store.root / source / "session.json").read_text())
    change(data)
    folder = store.root / name
    folder.mkdir()
    for png in (store.root / source).glob("*.png"):
        (folder / png.name).write_bytes(png.read_bytes())
    (folder / "session.json").write_text(json.dumps(data))


@pytest.fixture
def store(tmp_path) -> SessionStore:
    store = SessionStore(tmp_path / "parent" / "sessions")
    saved_session(store, "good")
    return store


# -- confinement --------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["", "..", "../sibling", "/abs/dir", ".", "a/b", "good/..", " good", "-rf"])
def test_delete_never_leaves_the_sessions_folder(store, tmp_path, bad):
    sibling = tmp_path / "parent" / "sibling"
    sibling.mkdir()
    (sibling / "session.json").write_text("{}")
    (tmp_path / "parent" / "session.json").write_text("{}")
    with pytest.raises(StoreError):
        store.delete(bad)
    assert (sibling / "session.json").exists() and (tmp_path / "parent" / "session.json").exists()
    assert store.load("good").turns


def test_delete_takes_the_whole_id_only_and_not_a_link(store, tmp_path):
    with pytest.raises(StoreError, match="no session"):
        store.delete("goo")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "session.json").write_text("{}")
    (store.root / "link").symlink_to(outside)
    with pytest.raises(StoreError, match="symbolic link"):
        store.delete("link")
    assert (outside / "session.json").exists()
    store.delete("good")
    assert not (store.root / "good").exists()


def test_ids_resolve_only_to_plain_names_inside_the_folder(store):
    for bad in ["..", "../x", "/etc", ""]:
        with pytest.raises(StoreError):
            store.load(bad)
    assert store.load("goo").id == "good"  # a unique prefix still opens


def test_a_turn_image_outside_the_folder_is_never_read(store, tmp_path):
    secret = tmp_path / "secret.png"
    Image.new("RGB", (4, 4)).save(secret)
    edited(store, "good", "abs", lambda d: d["turns"][0].update(image=str(secret)))
    edited(store, "good", "dotdot", lambda d: d["turns"][0].update(image="../good/turn-000.png"))
    edited(store, "good", "linked", lambda d: None)
    (store.root / "linked" / "turn-000.png").unlink()
    (store.root / "linked" / "turn-000.png").symlink_to(secret)
    damaged = {s.id: s.damaged for s in store.list()}
    assert "not a plain file name" in damaged["abs"] and "not a plain file name" in damaged["dotdot"]
    assert "not a plain file in the folder" in damaged["linked"]
    for name in ("abs", "dotdot", "linked"):
        with pytest.raises(SessionDamaged):
            store.load(name)


# -- identity -----------------------------------------------------------------------------
def test_a_copied_folder_is_its_own_session_and_the_original_keeps_its_turns(store):
    import shutil

    shutil.copytree(store.root / "good", store.root / "mine")
    before = {p.name: p.read_bytes() for p in (store.root / "good").iterdir()}
    engine = ChatEngine(store, rewriter_factory=lambda s: AppendRewriter(), painter_factory=lambda s: SolidPainter())
    engine.resume("mine")
    assert engine.session.id == "mine" and "copy of session good" in engine.notes[0]
    engine.run_turn("make it blue")
    assert (store.root / "mine" / "turn-002.png").is_file() and len(store.load("mine").turns) == 3
    assert {p.name: p.read_bytes() for p in (store.root / "good").iterdir()} == before
    assert json.loads((store.root / "mine" / "session.json").read_text())["id"] == "mine"


def test_a_session_without_an_id_keeps_its_folder_name(store):
    edited(store, "good", "noid", lambda d: d.pop("id"))
    assert [s.id for s in store.list()].count("noid") == 1
    assert [s.id for s in store.list()].count("noid") == 1
    assert store.load("noid").id == "noid"
    store.delete("noid")


# -- validation ---------------------------------------------------------------------------
@pytest.mark.parametrize("content, reason", [
    ("[]", "holds a list"),
    ("null", "holds null"),
    ('{"format": 0, "turns": []}', "format 0 is not"),
    ('{"format": 99, "turns": []}', "newer"),
    ('{"format": true, "turns": []}', "format True"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    (b'{"turns": [], "title": "\xff"}', "not UTF-8"),
    ('{"turns": [], "head": ' + "9" * 5000 + "}", "a number is too long"),
    ('{"turns": [], "head": NaN}', "not a session"),
    ('{"head": 0}', "no list of turns"),
    ('{"turns": [], "head": 3}', "head 3 is not a turn"),
    ('{"turns": [], "head": -1}', "head -1 is not a turn"),
    ("{not json", "not valid JSON"),
    ("", "not valid JSON"),
])
def test_a_bad_session_json_is_listed_as_damaged_and_the_others_still_list(store, content, reason):
    write_raw(store.root, "bad", content)
    listed = {s.id: s for s in store.list()}
    assert listed["good"].damaged is None and listed["good"].turns == 2
    assert reason in listed["bad"].damaged and "\n" not in listed["bad"].damaged
    with pytest.raises(SessionDamaged, match="session bad is damaged"):
        store.load("bad")
    assert store.load("latest").id == "good"


@pytest.mark.parametrize("change, reason", [
    (lambda d: d["turns"][0].update(parent=0), "parent 0 is not an earlier turn"),
    (lambda d: d["turns"][0].update(parent=1), "parent 1 is not an earlier turn"),
    (lambda d: d.update(head=-1), "head -1"),
    (lambda d: d["turns"][1].update(seed=10**23), "turn 1 seed"),
    (lambda d: d["turns"][1].pop("edit"), "turn 1 edit"),
    (lambda d: d["turns"][0].update(image="turn-007.png"), "turn-007.png is missing"),
])
def test_a_bad_turn_tree_or_turn_is_a_damaged_session_not_a_hang(store, change, reason):
    edited(store, "good", "bad", change)
    assert reason in {s.id: s.damaged for s in store.list()}["bad"]
    with pytest.raises(SessionDamaged, match=reason):
        ChatEngine(store).resume("bad")


def test_a_symlinked_folder_or_file_is_damaged_not_followed(store, tmp_path):
    (store.root / "alias").symlink_to(store.root / "good")
    write_raw(store.root, "filelink", "{}")
    (store.root / "filelink" / "session.json").unlink()
    (store.root / "filelink" / "session.json").symlink_to(store.root / "good" / "session.json")
    damaged = {s.id: s.damaged for s in store.list()}
    assert "symbolic link" in damaged["alias"] and "symbolic link" in damaged["filelink"]
    with pytest.raises(SessionDamaged, match="symbolic link"):
        ChatEngine(store).resume("alias")


def test_a_saved_seed_out_of_range_is_dropped_with_a_note_and_the_session_opens(store):
    edited(store, "good", "poisoned", lambda d: d["settings"].update(seed=99999999999999999999999))
    loaded = store.load_checked("poisoned")
    assert loaded.session.settings.seed is None and "ignored the saved seed" in loaded.notes[0]


def test_sessions_saved_by_the_previous_version_still_open(tmp_path):
    """A session.json as chatimg wrote it before these checks (format 1, an id, settings, times)."""
    legacy = {"format": 1, "id": "20261125-165012-3fa9", "title": "a red circle", "created": "2026-11-25T16:50:12Z",
              "updated": "2026-11-25T16:51:00.123456Z", "model": "builtin", "llm": "builtin",
              "settings": {"seed": 1234, "steps": None, "strength": None, "guidance": None},
              "turns": [{"index": 0, "parent": None, "user": "a red circle",
                         "edit": {"prompt": "a red circle", "instruction": "", "strength": 0.6, "region": "whole",
                                  "negative_prompt": "", "reply": "ok"},
                         "mode": "txt2img", "seed": 1234, "steps": 8, "guidance": 0.0, "model": "builtin",
                         "llm": "builtin", "image": "turn-000.png",
                         "timings": {"rewrite_s": 0.1, "paint_s": 0.2}, "created": "2026-11-25T16:50:30Z"}],
              "head": 0}
    store = SessionStore(tmp_path)
    folder = write_raw(tmp_path, legacy["id"], json.dumps(legacy))
    Image.new("RGB", (4, 4)).save(folder / "turn-000.png")
    loaded = store.load_checked(legacy["id"])
    assert loaded.notes == [] and loaded.session.current().user == "a red circle"


json_leaf = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
json_like = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=5) |
                         st.dictionaries(st.sampled_from(["id", "format", "turns", "head", "settings", "title",
                                                          "index", "parent", "edit", "prompt", "seed", "steps",
                                                          "guidance", "image", "user", "x"]), inner, max_size=6),
                         max_leaves=20)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=300) | json_like.map(lambda v: json.dumps(v).encode()))
def test_any_bytes_in_a_session_json_list_and_load_cleanly(tmp_path, content):
    store = SessionStore(tmp_path / "prop")
    write_raw(store.root, "x", content)
    listed = store.list()
    assert [s.id for s in listed] == ["x"]
    try:
        session = store.load("x")
    except StoreError as exc:
        assert listed[0].damaged and "\n" not in str(exc)
    else:
        assert listed[0].damaged is None and session.id == "x"
        session.branch()


# -- one writer at a time -------------------------------------------------------------------
def test_a_second_writer_is_refused_and_readers_never_wait(store):
    first = ChatEngine(store, rewriter_factory=lambda s: AppendRewriter(), painter_factory=lambda s: SolidPainter())
    first.resume("good")
    with pytest.raises(SessionBusy, match="open in another chatimg"):
        ChatEngine(store).resume("good")
    reader = ChatEngine(store)
    assert reader.resume("good", write=False).id == "good" and store.list()[0].turns == 2
    with pytest.raises(StoreError, match="open in another chatimg"):
        store.delete("good")
    first.run_turn("blue")
    with pytest.raises(StoreError, match="open in another chatimg"):
        reader.save()  # a reader that tries to write is refused too
    assert first.resume("good").id == "good" and len(first.session.turns) == 3  # its own session again: fine
    first.close()
    with pytest.raises(StoreError, match="changed by another chatimg"):
        reader.save()  # and after the writer left, its stale copy does not overwrite the new turn
    assert len(store.load("good").turns) == 3


RACER = textwrap.dedent("""
    import sys, json
    sys.path.insert(0, {root!r})
    from chatimg.engine import ChatEngine
    from chatimg.core.store import SessionStore, StoreError
    from tests.fakes import AppendRewriter, SolidPainter
    engine = ChatEngine(SessionStore({sessions!r}), rewriter_factory=lambda s: AppendRewriter(),
                        painter_factory=lambda s: SolidPainter(delay=0.02))
    done = []
    try:
        engine.resume("good")
        for text in sys.argv[1:]:
            done.append(engine.run_turn(text).turn.index)
    except StoreError as exc:
        print("refused:", exc, file=sys.stderr)
    print(json.dumps(done))
""")


def test_two_processes_racing_on_one_session_never_lose_a_turn(store, tmp_path):
    script = tmp_path / "racer.py"
    script.write_text(RACER.format(root=str(ROOT), sessions=str(store.root)))
    reported: list[int] = []
    for _ in range(3):
        racers = [subprocess.Popen([sys.executable, str(script), f"{name} one", f"{name} two", f"{name} three"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in "ab"]
        for racer in racers:
            out, err = racer.communicate(timeout=120)
            assert racer.returncode == 0, err
            reported += json.loads(out)
        saved = store.load("good")
        assert len(reported) == len(set(reported)), "two writers reported the same turn"
        assert sorted(reported) == [t.index for t in saved.turns[2:]], "a reported turn is not saved"
    assert len(reported) >= 9  # each round, at least one racer got through


# -- the doctor -----------------------------------------------------------------------------
def test_doctor_mends_links_removes_clutter_and_never_touches_a_good_turn(store, tmp_path):
    edited(store, "good", "headless", lambda d: d.update(head=-1))
    edited(store, "good", "cycle", lambda d: d["turns"][0].update(parent=1))
    write_raw(store.root, "hopeless", "{not json")
    good = store.root / "good"
    (good / ".session.json.abc123.tmp").write_text("half")
    Image.new("RGB", (4, 4)).save(good / "turn-005.png")  # a turn that never reached session.json
    (good / "notes.txt").write_text("mine")
    (store.root / "leftover").mkdir()
    Image.new("RGB", (4, 4)).save(store.root / "leftover" / "turn-000.png")
    (store.root / "stranger").mkdir()
    (store.root / "stranger" / "photo.jpg").write_text("x")
    good_json = (good / "session.json").read_bytes()

    report = {(f.kind, f.path): f for f in examine(store)}
    assert report[("damaged", "headless")].fix and report[("damaged", "cycle")].fix
    assert report[("damaged", "hopeless")].fix is None
    assert ("clutter", "good/.session.json.abc123.tmp") in report and ("clutter", "good/turn-005.png") in report
    assert ("clutter", "leftover") in report and ("unknown", "stranger") in report
    assert ("unknown", "good/notes.txt") in report
    assert not any(f.fixed for f in report.values())

    fixed = examine(store, fix=True)
    assert all(f.fixed for f in fixed if f.fix)
    assert store.load("headless").head == 1 and (store.root / "headless" / BACKUP_FILE).is_file()
    cycle = store.load("cycle")
    assert [t.user for t in cycle.turns] == ["turn 0", "turn 1"] and cycle.turns[0].parent is None
    assert (good / "session.json").read_bytes() == good_json
    assert sorted(p.name for p in good.iterdir() if p.name != ".lock") == [
        "notes.txt", "session.json", "turn-000.png", "turn-001.png"]
    assert not (store.root / "leftover").exists() and (store.root / "stranger" / "photo.jpg").exists()
    assert (store.root / "hopeless" / "session.json").read_text() == "{not json"
    assert {(f.kind, f.path) for f in examine(store) if f.kind != "unknown"} == {("damaged", "hopeless")}


def test_doctor_leaves_a_session_that_is_open_alone(store):
    (store.root / "good" / ".session.json.x.tmp").write_text("being written")
    writer = ChatEngine(store)
    writer.resume("good")
    findings = examine(store, fix=True)
    assert [(f.kind, f.path) for f in findings] == [("busy", "good")]
    assert (store.root / "good" / ".session.json.x.tmp").exists()


def test_a_sessions_folder_that_is_a_file_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    store = SessionStore(tmp_path / "file")
    assert store.list() == []
    with pytest.raises(StoreError, match="Not a directory"):
        examine(store)
    engine = ChatEngine(store, rewriter_factory=lambda s: AppendRewriter(), painter_factory=lambda s: SolidPainter())
    with pytest.raises(StoreError, match="it is a file, not a folder"):
        engine.run_turn("a red circle")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_pipe_in_place_of_a_file_never_hangs_the_listing(store):
    os.mkfifo(write_raw(store.root, "pipe", "{}") / "session.json.fifo")
    (store.root / "pipe" / "session.json").unlink()
    os.rename(store.root / "pipe" / "session.json.fifo", store.root / "pipe" / "session.json")
    edited(store, "good", "pipeimage", lambda d: None)
    (store.root / "pipeimage" / "turn-001.png").unlink()
    os.mkfifo(store.root / "pipeimage" / "turn-001.png")
    damaged = {s.id: s.damaged for s in store.list()}
    assert "not a regular file" in damaged["pipe"] and "not a plain file" in damaged["pipeimage"]
def test_a_new_turn_never_overwrites_an_image_another_turn_names(store):
    edited(store, "good", "crafted", lambda d: d["turns"][0].update(image="turn-002.png"))
    (store.root / "crafted" / "turn-002.png").write_bytes((store.root / "crafted" / "turn-000.png").read_bytes())
    before = (store.root / "crafted" / "turn-002.png").read_bytes()
    engine = ChatEngine(store, rewriter_factory=lambda s: AppendRewriter(), painter_factory=lambda s: SolidPainter())
    engine.resume("crafted")
    with pytest.raises(StoreError, match="already belongs to another turn"):
        engine.run_turn("make it blue")
    assert (store.root / "crafted" / "turn-002.png").read_bytes() == before
    assert len(store.load("crafted").turns) == 2
