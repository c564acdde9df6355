"""Masks by words: a CLIPSeg model masks the thing an edit names; the painter inpaints it and
pastes it back, so the rest of the picture stays as it was."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter

from chatimg.paint.painter import DiffusersPainter, PaintRequest
from chatimg.paint.segment import ClipSegSegmenter, SegmentingPainter, describe_mask, names_a_thing


@pytest.fixture(scope="module")
def tiny_clipseg_dir(tmp_path_factory):
    from tests.tiny_vision_models import build_tiny_clipseg

    return build_tiny_clipseg(tmp_path_factory.mktemp("tiny-clipseg"))


def photo(size: int = 64) -> Image.Image:
    """A picture with no flat backdrop (nothing to cut out by colour)."""
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8))


def test_which_regions_name_a_thing():
    assert names_a_thing("cat") and names_a_thing("red car")
    assert not any(names_a_thing(r) for r in ("whole", "left", "center", "background", "left->right",
                                              "center->bottom, top"))


def test_the_note_says_how_much_and_where():
    mask = Image.new("L", (100, 100), 0)
    mask.paste(255, (0, 40, 20, 60))
    assert describe_mask(mask, "cat") == "masked 'cat': 4% of the picture, on the left"


@pytest.mark.slow
def test_a_named_thing_is_masked_shown_inpainted_and_pasted_back(tiny_pipeline_dir, tiny_clipseg_dir):
    segmenter = ClipSegSegmenter(str(tiny_clipseg_dir))
    statuses, steps = [], []
    painter = SegmentingPainter(DiffusersPainter(str(tiny_pipeline_dir), device="cpu").load(), segmenter,
                                status=statuses.append)
    picture = photo()
    result = painter.paint(PaintRequest(prompt="a black cat on a sofa", init_image=picture, strength=0.8,
                                        region="cat", seed=3), on_step=steps.append)
    mask = segmenter.mask(picture, "cat")
    found = np.asarray(mask) > 127
    assert 0.05 < found.mean() < 0.95  # a real region: neither nothing nor everything
    assert result.mode == "inpaint" and result.notes[0] == describe_mask(mask, "cat")
    assert statuses == [result.notes[0]]
    # Shown before painting: the picture with the mask tinted, then the denoising steps.
    assert steps[0].step == 0 and steps[0].preview is not None and all(s.step > 0 for s in steps[1:])
    before, after = (np.asarray(im, dtype=np.int16) for im in (picture, result.image))
    seam = np.asarray(Image.fromarray(found.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(9))) > 0
    assert np.abs(after - before)[~seam].max() <= 2  # outside the mask and a 4-pixel seam: unchanged
    assert np.abs(after - before)[found].max() > 10  # inside: repainted


@pytest.mark.slow
def test_the_app_wraps_its_painter_with_the_segmenter(tmp_path, tiny_pipeline_dir, tiny_clipseg_dir):
    from chatimg.wiring import make_engine

    engine = make_engine(str(tiny_pipeline_dir), "builtin", "cpu", str(tmp_path), no_llm=True,
                         segmenter=str(tiny_clipseg_dir))
    painter = engine.load_painter()
    assert isinstance(painter, SegmentingPainter) and isinstance(painter.segmenter, ClipSegSegmenter)
    assert painter.defaults.steps == 4  # the wrapped painter's own settings show through


@pytest.mark.slow
def test_a_thing_the_segmenter_cannot_find_edits_the_whole_picture(tiny_painter, tiny_clipseg_dir):
    painter = SegmentingPainter(tiny_painter, ClipSegSegmenter(str(tiny_clipseg_dir), threshold=1.0))
    result = painter.paint(PaintRequest(prompt="a black cat", init_image=photo(), strength=0.5, region="cat", seed=1))
    assert result.mode == "img2img" and result.notes[0] == "the segmenter found no 'cat': edited the whole image"


def test_without_a_segmenter_the_note_says_how_to_get_one(tiny_painter):
    result = tiny_painter.paint(PaintRequest(prompt="a black cat", init_image=photo(), strength=0.5, region="cat",
                                             seed=1, steps=2))
    assert result.mode == "img2img"
    assert any("no segmenter for 'cat'" in note and "--segmenter" in note for note in result.notes)


def test_a_folder_that_is_not_a_clipseg_model_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="cannot load segmenter .* as a CLIPSeg model"):
        ClipSegSegmenter(str(tmp_path))


class BoxSegmenter:
    """Finds every thing in the picture's top-left quarter; counts how often it is asked."""

    def __init__(self) -> None:
        self.calls = 0

    def mask(self, image, target):
        self.calls += 1
        mask = Image.new("L", image.size, 0)
        mask.paste(255, (0, 0, image.width // 2, image.height // 2))
        return mask


def test_a_repaint_of_the_same_picture_reuses_the_mask():
    from tests.fakes import SolidPainter

    inner, segmenter = SolidPainter(), BoxSegmenter()
    painter = SegmentingPainter(inner, segmenter)
    picture = photo()
    for seed in (1, 2):  # the self-check painting the turn again
        painter.paint(PaintRequest(prompt="a red cat", init_image=picture, region="cat", seed=seed))
    assert segmenter.calls == 1 and all(r.mask is not None for r in inner.requests)
    painter.paint(PaintRequest(prompt="a red cat", init_image=photo(), region="cat", seed=3))  # a new picture
    assert segmenter.calls == 2
    assert painter.name == "solid" and painter.defaults.steps == 3
