"""Exports: every format opens, shows every turn of the branch, keeps or strips provenance."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image, ImageSequence

from chatimg.core import provenance
from chatimg.core.exports import ExportError, export_session, format_for
from chatimg.core.store import SessionStore
from chatimg.engine import ChatEngine
from tests.fakes import AppendRewriter, SolidPainter


@pytest.fixture
def engine(tmp_path):
    rewriter, painter = AppendRewriter(), SolidPainter()
    eng = ChatEngine(SessionStore(tmp_path / "sessions"), rewriter_factory=lambda status: rewriter,
                     painter_factory=lambda status: painter, model_name="solid", llm_name="append")
    for text in ["a red circle", "make it green", "make it blue"]:
        eng.run_turn(text)
    return eng


def export(engine, destination, **options) -> list[Path]:
    return export_session(engine.store, engine.session, destination, **options)


def test_gif_and_webp_animate_the_branch(engine, tmp_path):
    engine.undo()
    engine.run_turn("yellow")  # a branch: red, green, yellow (blue is off it)
    gif = export(engine, tmp_path / "talk.gif")[0]
    with Image.open(gif) as image:
        frames = [frame.convert("RGB").getpixel((5, 5)) for frame in ImageSequence.Iterator(image)]
        assert image.size == (256, 256) and image.info["loop"] == 0
    assert frames == [(220, 30, 30), (30, 170, 50), (245, 225, 30)]
    webp = export(engine, tmp_path / "talk.webp")[0]
    with Image.open(webp) as image:
        assert image.n_frames == 3 and b"trainedAlgorithmicMedia" in image.info["xmp"]


def test_the_contact_sheet_shows_each_turn_with_its_message_and_carries_provenance(engine, tmp_path):
    sheet = export(engine, tmp_path, fmt="sheet")[0]
    assert sheet.name == f"{engine.session.id}-sheet.png"
    with Image.open(sheet) as image:
        assert image.width > 3 * 256
        colours = {image.getpixel((12 + n * 268 + 100, 40 + 100)) for n in range(3)}
        assert colours == {(220, 30, 30), (30, 170, 50), (30, 70, 220)}
    found = provenance.read(sheet)
    assert found.lineage["export"]["turns"] == [0, 1, 2] and found.parameters.startswith("a red circle")


def test_markdown_links_every_turn_image_written_beside_it(engine, tmp_path):
    written = export(engine, tmp_path / "page" / "talk.md")
    page = written[0]
    text = page.read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert links == ["talk-turn-000.png", "talk-turn-001.png", "talk-turn-002.png"]
    for link in links:
        assert (page.parent / link).is_file() and (page.parent / link) in written
        assert provenance.read(page.parent / link).lineage["session"] == engine.session.id
    assert "**You:** make it green" in text and "**chatimg:** ok: make it green" in text


def test_png_keeps_its_chunks_and_strip_removes_them(engine, tmp_path):
    kept = export(engine, tmp_path / "kept.png")[0]
    assert kept.read_bytes() == engine.image_path(engine.session.current()).read_bytes()
    stripped = export(engine, tmp_path / "plain.png", strip=True)[0]
    assert provenance.read(stripped).empty
    with Image.open(stripped) as a, Image.open(kept) as b:
        assert a.tobytes() == b.tobytes()
    page = export(engine, tmp_path / "plain.md", strip=True)
    assert all(provenance.read(p).empty for p in page[1:])
    assert "xmp" not in Image.open(export(engine, tmp_path / "plain.webp", strip=True)[0]).info


def test_one_turn_by_index(engine, tmp_path):
    first = export(engine, tmp_path / "first.png", turn=engine.session.turns[0])[0]
    assert Image.open(first).getpixel((0, 0)) == (220, 30, 30)


def test_existing_files_and_the_sessions_folder_are_refused(engine, tmp_path):
    target = tmp_path / "talk.md"
    export(engine, target)
    before = target.read_bytes()
    (tmp_path / "talk-turn-001.png").write_bytes(b"mine")
    with pytest.raises(ExportError, match="--force"):
        export(engine, target)
    assert target.read_bytes() == before
    (tmp_path / "talk.md").unlink()
    with pytest.raises(ExportError, match="talk-turn-00"):  # an image beside it would be overwritten
        export(engine, target)
    assert not target.exists() and (tmp_path / "talk-turn-001.png").read_bytes() == b"mine"
    export(engine, target, force=True)
    folder = engine.store.path(engine.session.id)
    original = (folder / "turn-002.png").read_bytes()
    for destination in [folder / "turn-002.png", folder, engine.store.root / "x.gif"]:
        with pytest.raises(ExportError, match="sessions folder"):
            export(engine, destination, force=True)
    assert (folder / "turn-002.png").read_bytes() == original


def test_the_format_comes_from_the_extension_or_is_refused():
    assert [format_for(name, None) for name in ["a.png", "a.GIF", "a.webp", "a.md", "a"]] == \
        ["png", "gif", "webp", "md", "png"]
    assert format_for("a.png", "sheet") == "sheet"
    with pytest.raises(ExportError, match=".jpg"):
        format_for("a.jpg", None)
    with pytest.raises(ExportError, match="unknown export format"):
        format_for("a", "tiff")


def test_a_mismatched_extension_and_an_empty_session_are_refused(engine, tmp_path):
    with pytest.raises(ExportError, match="does not end"):
        export(engine, tmp_path / "talk.png", fmt="gif")
    engine.new_session()
    with pytest.raises(ExportError, match="nothing to export"):
        export(engine, tmp_path / "empty.gif")
