"""The shipped built-in painter and the fidelity benchmark's scoring."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from chatimg.bench.painter import attributes, changed_keys, edit_cases, score_edit
from chatimg.shapeworld import Scene, Shape, check_image, parse_prompt, read_image, render
from chatimg.shapeworld.builtin import BUILTIN_PAINTER_DIR, MAX_TOKENS


def test_shipped_folder_is_a_small_safetensors_pipeline() -> None:
    index = json.loads((BUILTIN_PAINTER_DIR / "model_index.json").read_text())
    assert index["_class_name"] == "StableDiffusionPipeline"
    assert index["text_encoder"] == ["transformers", "BertModel"]
    files = [p for p in BUILTIN_PAINTER_DIR.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) <= 30 * 1024 * 1024
    weights = [p for p in files if p.parent.name in ("unet", "vae") and "config" not in p.name]
    assert weights and all(p.suffix == ".safetensors" for p in weights)
    assert not (BUILTIN_PAINTER_DIR / "text_encoder").exists()  # MiniLM comes from its package


def test_scoring_a_perfect_and_a_wrong_edit() -> None:
    before = Scene("blue", (Shape("circle", "red", "big", "left"), Shape("square", "green", "small", "right")))
    after = Scene("blue", (Shape("circle", "yellow", "big", "left"), Shape("square", "green", "small", "right")))
    assert changed_keys(before, after, "colour") == {"left.colour"}
    perfect = score_edit(before, after, "colour", read_image(render(after, seed=0)))
    assert perfect.changed and perfect.kept
    unchanged = score_edit(before, after, "colour", read_image(render(before, seed=0)))
    assert not unchanged.changed and unchanged.kept
    moved = Scene("blue", (Shape("circle", "red", "big", "top"),))
    alone = Scene("blue", (Shape("circle", "red", "big", "left"),))
    assert changed_keys(alone, moved, "position") == {"left.occupied", "top.occupied"}
    wrong_colour = Scene("blue", (Shape("circle", "white", "big", "top"),))
    score = score_edit(alone, moved, "position", read_image(render(wrong_colour, seed=0)))
    assert score.changed and not score.kept


def test_benchmark_cases_are_held_out_one_attribute_edits() -> None:
    for kind in ("colour", "background", "position", "size", "shape", "add", "remove"):
        for before, after in edit_cases(kind, 10, seed=1):
            assert before != after
            flat_b, flat_a = attributes(before), attributes(after)
            diff = {k for k in set(flat_a) | set(flat_b) if flat_a.get(k) != flat_b.get(k)}
            assert diff, kind
            if kind in ("colour", "background", "size", "shape"):
                assert len(diff) == 1


def test_components_come_from_the_minilm_package() -> None:
    torch = pytest.importorskip("torch")
    from transformers import BertModel

    from chatimg.shapeworld.builtin import encode_prompts, load_builtin_components

    components = load_builtin_components()
    encoder, tokenizer = components["text_encoder"], components["tokenizer"]
    assert isinstance(encoder, BertModel) and tokenizer.model_max_length == MAX_TOKENS
    assert encoder.config.use_attention_mask
    a = encode_prompts(["a red circle", "a big blue square on the left, on a white background"], encoder, tokenizer)
    assert a.shape == (2, MAX_TOKENS, 384)
    # With the attention mask, padding does not change the real tokens' embeddings.
    n = len(tokenizer("a red circle")["input_ids"])
    b = encoder(**tokenizer(["a red circle"], return_tensors="pt"))[0]
    assert torch.allclose(a[0, :n], b[0], atol=1e-4)


@pytest.fixture(scope="module")
def pipe():
    pytest.importorskip("torch")
    from chatimg.shapeworld.builtin import load_builtin_pipeline

    return load_builtin_pipeline()


@pytest.mark.slow
def test_builtin_paints_simple_prompts(pipe) -> None:
    import torch

    from chatimg.shapeworld.builtin import DEFAULT_GUIDANCE, DEFAULT_STEPS

    torch.set_num_threads(2)
    prompts = ["a big red circle in the center, on a blue background",
               "a big yellow square on the left, on a black background",
               "a big white triangle at the top, on a green background"]
    right = 0
    for prompt in prompts:
        expected = parse_prompt(prompt)
        want = [(s.colour, s.size, s.position) for s in expected.shapes]
        for seed in range(3):
            image = pipe(prompt, num_inference_steps=DEFAULT_STEPS, guidance_scale=DEFAULT_GUIDANCE, height=64,
                         width=64, generator=torch.Generator().manual_seed(seed)).images[0]
            assert image.size == (64, 64)
            reading = read_image(image)
            # Background, colour, size and position must always be right; the kind of shape is
            # the painter's weakest attribute (docs/painter.md): whole scene right in 6 of 9.
            assert reading.background == expected.background, (prompt, seed, reading)
            assert [(s.colour, s.size, s.position) for s in reading.shapes] == want, (prompt, seed, reading)
            right += check_image(image) == expected
    assert right >= 6


@pytest.mark.slow
def test_builtin_draws_unsaid_attributes_as_the_shape_world_defaults() -> None:
    """"a yellow square" is painted big, in the center, on white: the built-in painter completes
    prompts (its chatimg.json says so); the raw prompt, never seen in training, was right in 1 of
    30 such prompts, the completed one in 26."""
    from chatimg.paint.painter import PaintRequest, load_painter

    painter = load_painter("builtin", device="cpu")
    right = 0
    for seed, text in enumerate(["a yellow square", "a red circle", "a blue triangle on a white background"] * 2):
        result = painter.paint(PaintRequest(prompt=text, seed=seed))
        right += check_image(result.image) == parse_prompt(text, defaults=True)
        assert result.notes and result.notes[0].startswith("painted as: a big")
    assert right >= 4


@pytest.mark.slow
def test_builtin_serves_img2img_and_inpainting(pipe) -> None:
    import torch
    from diffusers import StableDiffusionImg2ImgPipeline, StableDiffusionInpaintPipeline
    from PIL import Image

    from chatimg.shapeworld import EDIT_STRENGTHS
    from chatimg.shapeworld.builtin import DEFAULT_GUIDANCE, DEFAULT_STEPS

    source = render(Scene("blue", (Shape("circle", "red", "big", "center"),)), seed=0)
    img2img = StableDiffusionImg2ImgPipeline(**pipe.components)
    edited = img2img("a big yellow circle in the center, on a blue background", image=source,
                     strength=EDIT_STRENGTHS["colour"], num_inference_steps=DEFAULT_STEPS,
                     guidance_scale=DEFAULT_GUIDANCE, generator=torch.Generator().manual_seed(0)).images[0]
    reading = read_image(edited)
    assert reading.background == "blue" and [s.colour for s in reading.shapes] == ["yellow"]
    inpaint = StableDiffusionInpaintPipeline(**pipe.components)
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (0, 0, 64, 64))
    out = inpaint("a big red circle in the center, on a blue background", image=source, mask_image=mask,
                  height=64, width=64, num_inference_steps=DEFAULT_STEPS, guidance_scale=DEFAULT_GUIDANCE,
                  generator=torch.Generator().manual_seed(0)).images[0]
    assert out.size == (64, 64) and np.asarray(out).std() > 5


@pytest.mark.slow
def test_shipped_decoder_draws_square_corners_from_the_unets_own_latents(pipe) -> None:
    """The decoder is tuned to the UNet's last-step output (docs/painter.md): squares the UNet
    paints from a noised square's latent read right in about two thirds of held-out scenes
    (39 of 60 for the pair shipped first, 17 of these 24 for the grown UNet and its decoder);
    the untuned decoder got about a third right (19 of 60)."""

    import torch

    from chatimg.shapeworld import canonical_prompt, random_scene
    from chatimg.shapeworld.builtin import encode_prompts
    from chatimg.training.painter import _images_tensor, painted_latents

    torch.set_num_threads(2)
    rng = random.Random(11)
    scenes = []
    while len(scenes) < 24:
        scene = random_scene(rng, split="held_out", two_shape_share=0.0)
        if scene.shapes[0].shape == "square":
            scenes.append(scene)
    x = _images_tensor(np.stack([np.asarray(render(s, seed=i)) for i, s in enumerate(scenes)]))
    with torch.no_grad():
        z = pipe.vae.encode(x).latent_dist.mean * pipe.vae.config.scaling_factor
        text = encode_prompts([canonical_prompt(s) for s in scenes], pipe.text_encoder, pipe.tokenizer)
        uncond = encode_prompts([""], pipe.text_encoder, pipe.tokenizer)
        painted = painted_latents(pipe, z, text, uncond, torch.Generator().manual_seed(0))
        decoded = pipe.vae.decode(painted / pipe.vae.config.scaling_factor).sample
    images = ((decoded.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    squares = sum(check_image(image) == scene for image, scene in zip(images, scenes))
    print(f"{squares} of {len(scenes)} painted squares read right")
    assert squares >= len(scenes) // 2
