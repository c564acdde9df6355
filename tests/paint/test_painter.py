"""The diffusers painter, on a tiny pipeline loaded through the user-model path."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image

from chatimg.paint.painter import DiffusersPainter, PaintCancelled, PainterError, PaintRequest, effective_steps
from chatimg.paint.retouch import Retouch


def test_txt2img_then_img2img(tiny_painter):
    first = tiny_painter.paint(PaintRequest(prompt="a red circle", seed=1))
    assert first.mode == "txt2img"
    assert first.image.size == (32, 32)
    second = tiny_painter.paint(PaintRequest(prompt="a green circle", init_image=first.image, strength=0.5, seed=1))
    assert second.mode == "img2img"
    assert second.image.size == first.image.size
    assert not np.array_equal(np.asarray(first.image), np.asarray(second.image))


def test_same_seed_same_pixels_and_other_seed_differs(tiny_painter):
    a = tiny_painter.paint(PaintRequest(prompt="a blue square", seed=42)).image
    b = tiny_painter.paint(PaintRequest(prompt="a blue square", seed=42)).image
    c = tiny_painter.paint(PaintRequest(prompt="a blue square", seed=43)).image
    assert np.array_equal(np.asarray(a), np.asarray(b))
    assert not np.array_equal(np.asarray(a), np.asarray(c))


def test_region_edit_uses_inpainting_and_keeps_the_other_side(tiny_painter):
    base = Image.new("RGB", (32, 32), (200, 30, 30))
    result = tiny_painter.paint(PaintRequest(prompt="x", init_image=base, strength=0.9, region="left", seed=3))
    assert result.mode == "inpaint"
    pixels = np.asarray(result.image).astype(int)
    assert (pixels[:, 24:] == np.array([200, 30, 30])).all()  # outside the mask: untouched
    changed = np.abs(pixels[:, :4] - np.array([200, 30, 30])).mean()
    assert changed > 0


def test_moves_then_a_region_cut_and_paste_first_then_inpaint(tiny_painter):
    """An add that makes room: the centre object is moved to the bottom exactly, then the top is painted."""
    base = Image.new("RGB", (32, 32), (20, 40, 200))
    base.paste((220, 30, 30), (12, 12, 20, 20))  # a red square in the centre of a flat blue backdrop
    result = tiny_painter.paint(PaintRequest(prompt="x", init_image=base, strength=0.9, region="center->bottom, top",
                                             seed=3))
    assert result.mode == "inpaint" and result.notes == ["moved center->bottom, then painted the top"]
    pixels = np.asarray(result.image).astype(int)
    assert (pixels[24:28, 12:20] == np.array([220, 30, 30])).all()  # the square, pasted at the bottom, untouched
    assert (pixels[24:28, :8] == np.array([20, 40, 200])).all()  # beside it the backdrop
    assert np.abs(pixels[:4] - np.array([20, 40, 200])).mean() > 0  # the top was repainted


def test_a_colour_only_edit_recolours_the_objects_pixels(tiny_painter):
    base = Image.new("RGB", (32, 32), (20, 40, 200))
    base.paste((220, 30, 30), (4, 12, 12, 20))  # a red square on the left of a flat blue backdrop
    result = tiny_painter.paint(PaintRequest(prompt="x", init_image=base, strength=0.9, region="left", seed=3,
                                             retouch=Retouch((("red", "yellow"),))))
    assert result.mode == "retouch" and result.steps == 0
    pixels = np.asarray(result.image).astype(int)
    assert (pixels[12:20, 4:12] == np.array([255, 255, 0])).all()  # CSS yellow: the tiny model has no palette
    assert (pixels[:, 16:] == np.array([20, 40, 200])).all() and (pixels[:10] == np.array([20, 40, 200])).all()


def test_a_resize_shrinks_the_cut_out_object(tiny_painter):
    base = Image.new("RGB", (32, 32), (20, 40, 200))
    base.paste((220, 30, 30), (8, 8, 24, 24))  # a red square in the centre
    result = tiny_painter.paint(PaintRequest(prompt="x", init_image=base, strength=0.9, region="center", seed=3,
                                             retouch=Retouch(scale=0.5)))
    assert result.mode == "retouch"
    red = (np.abs(np.asarray(result.image).astype(int) - np.array([220, 30, 30])).sum(axis=-1) < 40)
    ys, xs = np.nonzero(red)
    assert 7 <= xs.max() - xs.min() + 1 <= 9 and 7 <= ys.max() - ys.min() + 1 <= 9  # half the side
    assert abs(xs.mean() - 15.5) < 1 and abs(ys.mean() - 15.5) < 1  # about the same centre


def test_a_colour_only_edit_with_nothing_to_recolour_is_repainted(tiny_painter):
    busy = Image.fromarray(np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8))
    result = tiny_painter.paint(PaintRequest(prompt="x", init_image=busy, strength=0.9, region="left", seed=3,
                                             retouch=Retouch((("red", "yellow"),))))
    assert result.mode == "inpaint"


def test_named_object_region_falls_back_to_whole_image(tiny_painter):
    base = Image.new("RGB", (32, 32), (10, 10, 10))
    result = tiny_painter.paint(PaintRequest(prompt="x", init_image=base, strength=0.5, region="the dog", seed=3))
    assert result.mode == "img2img"
    assert any("the dog" in note for note in result.notes)


def test_background_region_repaints_around_the_objects_and_keeps_them(tiny_painter):
    base = Image.new("RGB", (32, 32), (30, 60, 200))
    base.paste((220, 30, 30), (10, 10, 22, 22))
    result = tiny_painter.paint(PaintRequest(prompt="x", init_image=base, strength=1.0, region="background", seed=3))
    assert result.mode == "inpaint" and not result.notes
    pixels = np.asarray(result.image).astype(int)
    assert (pixels[12:20, 12:20] == np.array([220, 30, 30])).all()  # the object: untouched
    assert np.abs(pixels[:4, :4] - np.array([30, 60, 200])).mean() > 0  # the backdrop: repainted


def test_background_region_on_a_busy_image_edits_the_whole_image(tiny_painter):
    busy = Image.fromarray(np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8))
    result = tiny_painter.paint(PaintRequest(prompt="x", init_image=busy, strength=0.5, region="background", seed=3))
    assert result.mode == "img2img"
    assert any("background" in note for note in result.notes)


def test_progress_reports_every_step_with_previews(tiny_painter, monkeypatch):
    monkeypatch.setattr("chatimg.paint.latent_preview.PREVIEW_FPS", 1e6)  # a preview on every step it may
    updates = []
    tiny_painter.paint(PaintRequest(prompt="a circle", seed=0, steps=4), on_step=updates.append)
    progress = [u for u in updates if u.preview is None]
    previews = [u for u in updates if u.preview is not None]
    assert [u.step for u in progress] == [1, 2, 3, 4] and all(u.total == 4 for u in updates)
    assert previews and all(u.step < 4 and u.preview.size == (32, 32) for u in previews)


def test_previews_are_throttled_and_never_decode_with_the_vae(tiny_painter, monkeypatch):
    vae = tiny_painter.pipeline("txt2img").vae
    decodes = []
    original = vae.decode
    monkeypatch.setattr(vae, "decode", lambda *a, **k: decodes.append(1) or original(*a, **k))
    monkeypatch.setattr("chatimg.paint.latent_preview.PREVIEW_FPS", 1e6)
    updates = []
    tiny_painter.paint(PaintRequest(prompt="a circle", seed=0, steps=6), on_step=updates.append)
    assert len(decodes) == 1  # the final image only: previews are a latent projection
    assert sum(u.preview is not None for u in updates) >= 1
    monkeypatch.setattr("chatimg.paint.latent_preview.PREVIEW_FPS", 1e-6)  # a terminal that shows one frame, ever
    updates.clear()
    tiny_painter.paint(PaintRequest(prompt="a circle", seed=0, steps=6), on_step=updates.append)
    assert sum(u.preview is not None for u in updates) == 1 and len(decodes) == 2


def test_warm_up_builds_every_pipeline_and_the_preview_projection(tiny_pipeline_dir, sessions_root):
    painter = DiffusersPainter(str(tiny_pipeline_dir), device="cpu").load()
    assert not painter.warmed_up and set(painter._pipes) == {"base"}
    painter.warm_up()
    assert painter.warmed_up and {"txt2img", "img2img", "inpaint"} <= set(painter._pipes)
    assert painter.preview_projection()["w1"].shape == (4, 32)


def test_cancel_discards_the_image(tiny_painter):
    cancel = threading.Event()
    seen = []

    def on_step(update):
        seen.append(update.step)
        cancel.set()

    with pytest.raises(PaintCancelled):
        tiny_painter.paint(PaintRequest(prompt="a circle", seed=0, steps=8), on_step=on_step, cancel=cancel)
    assert seen == [1]


def test_effective_steps_always_runs_at_least_one_step():
    assert effective_steps(4, 0.1) == 10
    assert effective_steps(25, 0.6) == 25


def test_bad_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(PainterError, match="model_index.json"):
        DiffusersPainter(str(tmp_path), device="cpu").load()


def test_chatimg_trained_folders_borrow_minilm_from_its_package(tmp_path, tiny_pipeline_dir):
    import json
    import shutil

    from chatimg.paint.painter import borrows_minilm

    assert not borrows_minilm(tiny_pipeline_dir)  # ships its own text encoder
    folder = tmp_path / "export"
    shutil.copytree(tiny_pipeline_dir, folder, ignore=shutil.ignore_patterns("text_encoder", "tokenizer"))
    index = json.loads((folder / "model_index.json").read_text())
    index["text_encoder"], index["tokenizer"] = ["transformers", "BertModel"], ["transformers", "BertTokenizer"]
    (folder / "model_index.json").write_text(json.dumps(index))
    assert borrows_minilm(folder)


def test_a_shapeworld_model_paints_the_completed_prompt(tmp_path, tiny_pipeline_dir):
    """A folder whose chatimg.json says its prompts are shape-world captions gets every prompt
    completed with the shape world's defaults, and the turn's notes say what was painted."""
    import json
    import shutil

    folder = tmp_path / "shapes"
    shutil.copytree(tiny_pipeline_dir, folder)
    (folder / "chatimg.json").write_text(json.dumps({"steps": 2, "guidance": 3.0, "prompts": "shapeworld"}))
    painter = DiffusersPainter(str(folder), device="cpu").load()
    seen = []
    pipe = painter.pipeline("txt2img")
    original = type(pipe).__call__
    try:
        type(pipe).__call__ = lambda self, *a, **k: seen.append(k["prompt"]) or original(self, *a, **k)
        result = painter.paint(PaintRequest(prompt="a yellow square", seed=0))
        complete = painter.paint(PaintRequest(prompt="a big red circle on the left, on a blue background", seed=0))
        other = painter.paint(PaintRequest(prompt="a dog on a sofa", seed=0))
    finally:
        type(pipe).__call__ = original
    assert seen == ["a big yellow square in the center, on a white background",
                    "a big red circle on the left, on a blue background", "a dog on a sofa"]
    assert result.notes == ["painted as: a big yellow square in the center, on a white background"]
    assert complete.notes == [] and other.notes == []
    # an edit is completed too, silently (the first picture's note said what unsaid means)
    edit = painter.paint(PaintRequest(prompt="a blue square", init_image=result.image, strength=0.5, seed=0))
    assert not any(n.startswith("painted as") for n in edit.notes)


def test_threads_are_chosen_again_before_every_paint(tiny_painter, monkeypatch):
    import torch

    before = torch.get_num_threads()
    try:
        for threads in (2, 1):
            monkeypatch.setenv("CHATIMG_THREADS", str(threads))
            tiny_painter.paint(PaintRequest(prompt="a circle", seed=0, steps=1))
            assert tiny_painter.thread_choice.threads == threads == torch.get_num_threads()
            assert tiny_painter.thread_choice.forced
    finally:
        torch.set_num_threads(before)


def test_native_size_and_sampler_name_come_from_the_pipeline(tiny_painter):
    assert tiny_painter.native_size() == (32, 32)  # UNet sample size 16 x VAE factor 2
    assert tiny_painter.sampler == "Euler"
    from chatimg.paint.picture_input import fit_for_model

    assert fit_for_model(Image.new("RGB", (640, 480)), tiny_painter).size == (40, 24)  # ~32x32 in multiples of 8


def test_offload_is_only_for_cuda(tiny_pipeline_dir):
    messages = []
    painter = DiffusersPainter(str(tiny_pipeline_dir), device="cpu", offload=True, progress=messages.append).load()
    assert not painter.offloaded and painter.family.name == "Stable Diffusion 1.x/2.x"
    assert "--offload only helps on a CUDA GPU: ignored" in messages
