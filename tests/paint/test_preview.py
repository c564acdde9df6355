"""Half-block previews keep the aspect ratio and fit the space they are given."""

from __future__ import annotations

from PIL import Image
from rich.console import Console

from chatimg.paint.preview import fit_cells, halfblock
from chatimg.ui.graphics import detect_graphics


def render_lines(renderable, width=200) -> list[str]:
    console = Console(width=width, color_system="truecolor", record=True)
    console.print(renderable)
    return console.export_text().rstrip("\n").split("\n")


def test_fit_cells_keeps_aspect_ratio():
    assert fit_cells((64, 64), 80, 20) == (40, 20)     # square: limited by rows (2 pixels per row)
    assert fit_cells((64, 64), 30, 40) == (30, 15)     # limited by columns
    assert fit_cells((128, 64), 40, 40) == (40, 10)    # wide image


def test_halfblock_renders_two_pixel_rows_per_line():
    image = Image.new("RGB", (64, 64), (200, 0, 0))
    lines = render_lines(halfblock(image, 40, 10))
    assert len(lines) == 10 and all(len(line) == 20 for line in lines)


def test_halfblock_shows_top_and_bottom_colours():
    image = Image.new("RGB", (2, 2), (255, 0, 0))
    image.putpixel((0, 1), (0, 0, 255))
    image.putpixel((1, 1), (0, 0, 255))
    console = Console(width=10, color_system="truecolor", force_terminal=True)
    with console.capture() as capture:
        console.print(halfblock(image, 2, 1))
    ansi = capture.get()
    assert "255;0;0" in ansi and "0;0;255" in ansi


def test_detect_graphics_honours_explicit_choice_and_tmux(monkeypatch):
    assert detect_graphics("halfblock") == "halfblock"
    monkeypatch.setenv("TMUX", "/tmp/tmux-0/default,1,0")
    assert detect_graphics("auto") == "halfblock"
