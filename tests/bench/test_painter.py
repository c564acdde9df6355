"""The painter benchmark paints edits the way the app does: the app's painter, its region."""

from __future__ import annotations

import json

import numpy as np
from click.testing import CliRunner

from chatimg.bench.painter import app_image_size, bench_edits, paint_edit, painter_command, score_edit
from chatimg.paint.masks import region_mask
from chatimg.shapeworld import Scene, Shape, render

CIRCLE = Shape("circle", "red", "big", "left")
SQUARE = Shape("square", "green", "small", "right")
BEFORE = Scene("blue", (CIRCLE, SQUARE))
RECOLOURED = BEFORE.replace_shape(CIRCLE, Shape("circle", "yellow", "big", "left"))
RESHAPED = BEFORE.replace_shape(CIRCLE, Shape("triangle", "red", "big", "left"))


def test_app_path_inpaints_the_region_and_keeps_every_pixel_outside_it(tiny_painter):
    size = app_image_size(tiny_painter)
    assert size == (32, 32)
    result, region = paint_edit(tiny_painter, BEFORE, RESHAPED, 1.0, "app", seed=3, steps=2, guidance=3.0,
                                size=size)
    assert region == "left" and result.mode == "inpaint"
    source = np.asarray(render(BEFORE, seed=3, size=32)).astype(int)
    painted = np.asarray(result.image).astype(int)
    outside = np.asarray(region_mask("left", size)) == 0  # the right half, past the soft edge
    assert outside[:, 20:].all() and outside.sum() > 300
    assert (painted[outside] == source[outside]).all()
    assert (painted[:, :14] != source[:, :14]).any()


def test_app_path_retouches_a_colour_only_edit_as_the_app_does(tiny_painter):
    from chatimg.shapeworld import read_image

    result, region = paint_edit(tiny_painter, BEFORE, RECOLOURED, 0.85, "app", seed=3, steps=2, guidance=3.0,
                                size=(64, 64))
    assert region == "left" and result.mode == "retouch"
    score = score_edit(BEFORE, RECOLOURED, "colour", read_image(result.image))
    assert score.changed and score.kept  # CSS yellow still reads as yellow


def test_img2img_path_repaints_the_whole_image(tiny_painter):
    result, region = paint_edit(tiny_painter, BEFORE, RECOLOURED, 0.5, "img2img", seed=3, steps=2, guidance=3.0,
                                size=(32, 32))
    assert region == "whole" and result.mode == "img2img"
    source = np.asarray(render(BEFORE, seed=3, size=32)).astype(int)
    assert (np.asarray(result.image).astype(int)[:, 19:] != source[:, 19:]).any()


def test_bench_edits_reports_the_region_share(tiny_painter):
    colour = bench_edits(tiny_painter, "colour", 0.8, 2, seed=1, steps=2, guidance=3.0, path="app")
    assert colour["path"] == "app" and colour["n"] == 2 and colour["region_share"] == 1.0
    moved = bench_edits(tiny_painter, "position", 0.8, 2, seed=1, steps=2, guidance=3.0, path="app")
    assert moved["region_share"] == 1.0  # a move is a cut and paste on the flat backdrop, as in the app
    assert moved["changed"] == moved["kept"] == 1.0  # ... and keeps the shape exactly, whatever the model
    assert colour["changed"] == colour["kept"] == 1.0  # a colour edit recolours the cut-out shape: the same
    assert all(0.0 <= colour[k] <= 1.0 for k in ("changed", "kept", "both", "rest"))


def test_score_edit_of_a_perfect_image():
    from chatimg.shapeworld import read_image

    score = score_edit(BEFORE, RECOLOURED, "colour", read_image(render(RECOLOURED, seed=0)))
    assert score.changed and score.kept and score.rest
    score = score_edit(BEFORE, RECOLOURED, "colour", read_image(render(BEFORE, seed=0)))
    assert not score.changed and score.kept and score.rest
    reshaped = Scene("blue", (Shape("square", "yellow", "big", "left"), SQUARE))  # colour right, kind wrong
    score = score_edit(BEFORE, RECOLOURED, "colour", read_image(render(reshaped, seed=0)))
    assert score.changed and not score.kept and score.rest
    lost = Scene("blue", (RECOLOURED.shapes[0],))  # the untouched square is gone
    score = score_edit(BEFORE, RECOLOURED, "colour", read_image(render(lost, seed=0)))
    assert score.changed and not score.kept and not score.rest


def test_command_compares_both_paths_in_one_run(tiny_pipeline_dir, tmp_path):
    out = tmp_path / "report.json"
    result = CliRunner().invoke(painter_command, [
        "--model", str(tiny_pipeline_dir), "--edits", "1", "--kinds", "colour", "--strengths", "0.6,1.0",
        "--path", "app", "--path", "img2img", "--steps", "2", "--threads", "1", "--skip", "t2i",
        "--skip", "timing", "--json", str(out),
    ])
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text())["edits"]["colour"]
    assert [(r["path"], r["strength"]) for r in rows] == [("app", 0.6), ("img2img", 0.6), ("app", 1.0),
                                                           ("img2img", 1.0)]
    assert "colour      app" in result.output and "colour      img2img" in result.output
