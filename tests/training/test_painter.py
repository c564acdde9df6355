"""Training the built-in painter: data set, a few UNet steps lowering the loss, checkpoints."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from chatimg.shapeworld import check_image, is_held_out, parse_prompt  # noqa: E402
from chatimg.shapeworld.builtin import make_scheduler  # noqa: E402
from chatimg.training import painter as pt  # noqa: E402


def _tiny_unet():
    """The painter's UNet layout with fewer channels, so the test is quick on a busy CPU."""
    from diffusers import UNet2DConditionModel

    torch.manual_seed(0)
    torch.set_num_threads(1)
    config = {**pt.UNET_CONFIG, "block_out_channels": (16, 32, 32), "norm_num_groups": 8}
    return UNet2DConditionModel(**config)


def test_dataset_is_rendered_once_with_matching_captions(tmp_path) -> None:
    pt.make_dataset(tmp_path, seed=3, n_captions=12, renders=2)
    images = np.load(tmp_path / "data" / "images.npy")
    index = np.load(tmp_path / "data" / "caption_index.npy")
    meta = json.loads((tmp_path / "data" / "captions.json").read_text())
    assert images.shape == (24, 64, 64, 3) and images.dtype == np.uint8
    assert list(index) == [i // 2 for i in range(24)]
    for i, text in enumerate(meta["captions"]):
        scene = parse_prompt(text)
        assert scene is not None and not is_held_out(scene)  # held-out scenes never train
        assert check_image(images[2 * i]) == scene == check_image(images[2 * i + 1])
    stamp = (tmp_path / "data" / "images.npy").stat().st_mtime_ns
    pt.make_dataset(tmp_path, seed=3, n_captions=12, renders=2)  # cached: not rendered again
    assert (tmp_path / "data" / "images.npy").stat().st_mtime_ns == stamp


def test_a_few_steps_lower_the_loss_on_a_tiny_batch() -> None:
    unet = _tiny_unet()
    scheduler = make_scheduler(training=True)
    g = torch.Generator().manual_seed(0)
    latents = torch.randn(4, 4, 16, 16, generator=g)
    text = torch.randn(4, 32, 384, generator=g)
    uncond = torch.zeros(1, 32, 384)

    def fixed_loss() -> float:
        with torch.no_grad():
            return pt.unet_loss(unet, scheduler, latents, text, torch.Generator().manual_seed(1), uncond,
                                drop=0.0).item()

    before = fixed_loss()
    opt = torch.optim.AdamW(unet.parameters(), lr=1e-3)
    for step in range(25):
        loss = pt.unet_loss(unet, scheduler, latents, text, torch.Generator().manual_seed(100 + step), uncond)
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = fixed_loss()
    assert after < 0.8 * before


def test_timesteps_favour_the_noisy_half() -> None:
    t = pt.sample_timesteps(4000, torch.Generator().manual_seed(0))
    assert t.min() >= 0 and t.max() <= 999
    assert 0.7 < (t >= 500).float().mean() < 0.8


def test_checkpoint_round_trip(tmp_path) -> None:
    from safetensors.torch import load_file

    unet = _tiny_unet()
    ema = {k: v.clone() * 0.5 for k, v in unet.state_dict().items()}
    opt = torch.optim.AdamW(unet.parameters(), lr=1e-3)
    unet(torch.randn(1, 4, 16, 16), torch.tensor([10]), torch.randn(1, 32, 384)).sample.mean().backward()
    opt.step()
    pt.save_checkpoint(tmp_path / "step-5", unet, ema, opt, 5, {"loss": 0.1})
    pt.save_checkpoint(tmp_path / "step-10", unet, ema, opt, 10, {"loss": 0.1})
    latest = pt._latest_checkpoint(tmp_path)
    assert latest is not None and latest.name == "step-10"
    restored = load_file(latest / "ema.safetensors")
    assert all(torch.equal(restored[k], ema[k]) for k in ema)
    state = torch.load(latest / "optimizer.pt", weights_only=True)
    fresh = torch.optim.AdamW(_tiny_unet().parameters(), lr=1e-3)
    fresh.load_state_dict(state)
    assert json.loads((latest / "state.json").read_text())["step"] == 10


@pytest.mark.slow
def test_the_command_trains_resumes_and_exports(tmp_path) -> None:
    from click.testing import CliRunner
    from diffusers import StableDiffusionPipeline

    from chatimg.shapeworld.builtin import load_builtin_components

    run, out = tmp_path / "run", tmp_path / "painter"
    args = ["all", "--run", str(run), "--out", str(out), "--captions", "40", "--renders", "1",
            "--vae-steps", "3,5", "--decoder-steps", "2", "--vae-batch", "4", "--batch", "4", "--checkpoint-every", "2", "--export-every", "0"]
    result = CliRunner().invoke(pt.main, [*args, "--unet-steps", "2"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(pt.main, [*args, "--unet-steps", "4"])
    assert result.exit_code == 0, result.output
    assert "resuming from" in result.output
    assert [int(x) for x in (run / "unet_loss.log").read_text().split()[::3]] == [1, 2, 3, 4]
    assert not (out / "text_encoder").exists()
    pipe = StableDiffusionPipeline.from_pretrained(out, **load_builtin_components())
    image = pipe("a big red circle in the center, on a blue background", num_inference_steps=2,
                 height=64, width=64).images[0]
    assert image.size == (64, 64)


def test_learning_rate_warms_up_holds_and_decays() -> None:
    assert pt.learning_rate(0, 1e-3, None, 100) == pytest.approx(1e-3 / 200)
    assert pt.learning_rate(500, 1e-3, None, 1000) == pytest.approx(1e-3)
    assert pt.learning_rate(800, 1e-3, 800, 1000) == pytest.approx(1e-3)
    assert pt.learning_rate(900, 1e-3, 800, 1000) == pytest.approx(0.55e-3)
    # a fresh optimizer (adopted weights) warms up again from where it starts
    assert pt.learning_rate(3000, 1e-3, None, 5000, warmup_from=3000) == pytest.approx(1e-3 / 200)


def test_training_can_continue_from_the_shipped_painter(tmp_path) -> None:
    from diffusers import UNet2DConditionModel
    from safetensors.torch import load_file

    from chatimg.shapeworld.builtin import BUILTIN_PAINTER_DIR

    pt.adopt_pipeline(tmp_path, BUILTIN_PAINTER_DIR)
    shipped_step = json.loads((BUILTIN_PAINTER_DIR / "training.json").read_text())["unet_step"]
    latest = pt._latest_checkpoint(tmp_path / "unet")
    assert latest is not None and latest.name == f"step-{shipped_step}"
    shipped = UNet2DConditionModel.from_pretrained(BUILTIN_PAINTER_DIR / "unet").state_dict()
    ema = load_file(latest / "ema.safetensors")
    assert all(torch.equal(ema[k], shipped[k]) for k in shipped)
    assert json.loads((tmp_path / "vae" / "done.json").read_text())["adopted_from"]
    pt.train_vae(tmp_path, seed=0, steps=10, batch=2, lr=1e-3)  # adopted VAE: nothing to train
    assert not (tmp_path / "vae_loss.log").exists()


def test_a_run_can_take_only_the_shipped_vae(tmp_path) -> None:
    """--init-vae-from: a new UNet under the shipped VAE, its decoder counted as tuned."""
    from click.testing import CliRunner

    from chatimg.shapeworld.builtin import BUILTIN_PAINTER_DIR

    result = CliRunner().invoke(pt.main, ["export", "--run", str(tmp_path), "--init-vae-from", str(BUILTIN_PAINTER_DIR),
                                          "--init-from", str(BUILTIN_PAINTER_DIR)])
    assert result.exit_code != 0 and "one of --init-from, --init-vae-from" in result.output
    pt.adopt_vae(tmp_path, BUILTIN_PAINTER_DIR)
    done = json.loads((tmp_path / "vae" / "done.json").read_text())
    assert done["decoder_steps"] == pt.DECODER_STEPS and done["adopted_from"] == str(BUILTIN_PAINTER_DIR)
    shipped = (BUILTIN_PAINTER_DIR / "vae" / "diffusion_pytorch_model.safetensors").read_bytes()
    assert (tmp_path / "vae" / "diffusion_pytorch_model.safetensors").read_bytes() == shipped
    assert not (tmp_path / "unet").exists()  # no UNet adopted


def test_decoder_edge_weights_mark_outlines_only() -> None:
    from chatimg.shapeworld import Scene, Shape, render

    scene = Scene(background="green", shapes=(Shape(shape="square", colour="red", size="big", position="center"),))
    x = pt._images_tensor(np.asarray(render(scene, seed=0))[None].copy())
    w = pt.edge_weights(x, 4.0)[0, 0]
    assert w[0, 0] == 1.0 and w[32, 32] == 1.0  # far corner and the square's middle
    assert w.max() == 5.0
    assert 0.02 < (w > 1).float().mean() < 0.3  # a band around the outline


def test_v_prediction_loss_targets_the_velocity() -> None:
    """With v-prediction the loss is zero exactly for a model that outputs alpha*noise - sigma*x0."""
    scheduler = make_scheduler(training=True)
    g = torch.Generator().manual_seed(0)
    latents = torch.randn(3, 4, 16, 16, generator=g)
    text = torch.randn(3, 32, 384, generator=g)
    seen = {}

    class Oracle(torch.nn.Module):
        def forward(self, noisy, t, encoder_hidden_states):
            # recover the noise from the noisy latent, as a perfect model would
            a, s = scheduler.alphas_cumprod[t].sqrt()[:, None, None, None], (1 - scheduler.alphas_cumprod[t]).sqrt()[:, None, None, None]
            noise = (noisy - a * latents) / s
            seen["t"] = t
            return type("Out", (), {"sample": scheduler.get_velocity(latents, noise, t)})()

    loss = pt.unet_loss(Oracle(), scheduler, latents, text, torch.Generator().manual_seed(1), text[:1], drop=0.0,
                        prediction_type="v_prediction", high_share=0.0)
    assert loss.item() < 1e-8
    x0_loss = pt.unet_loss(Oracle(), scheduler, latents, text, torch.Generator().manual_seed(1), text[:1], drop=0.0,
                           prediction_type="sample", high_share=0.0)
    assert x0_loss.item() > 0.01  # the same outputs are wrong as x0 predictions


def test_switching_to_v_prediction_negates_the_output_layer() -> None:
    unet = _tiny_unet()
    ema = {k: v.clone() for k, v in unet.state_dict().items()}
    x, t, text = torch.randn(1, 4, 16, 16), torch.tensor([999]), torch.randn(1, 32, 384)
    with torch.no_grad():
        before = unet(x, t, text).sample
        pt.switch_to_v_prediction(unet, ema)
        after = unet(x, t, text).sample
    # at the noisiest step v = -x0, so the negated x0 prediction is the v prediction
    assert torch.allclose(after, -before, atol=1e-6)
    assert torch.equal(ema["conv_out.weight"], unet.conv_out.weight)


@pytest.mark.slow
def test_an_x0_run_continues_as_v_prediction_and_exports_a_v_scheduler(tmp_path) -> None:
    from click.testing import CliRunner
    from diffusers import StableDiffusionPipeline

    from chatimg.shapeworld.builtin import load_builtin_components

    run, out = tmp_path / "run", tmp_path / "painter"
    args = ["--run", str(run), "--out", str(out), "--captions", "20", "--renders", "1", "--vae-steps", "3",
            "--decoder-steps", "1", "--vae-batch", "4", "--batch", "4", "--checkpoint-every", "2", "--export-every", "0"]
    assert CliRunner().invoke(pt.main, ["all", *args, "--unet-steps", "2"]).exit_code == 0
    result = CliRunner().invoke(pt.main, ["all", *args, "--unet-steps", "4", "--prediction-type", "v_prediction"])
    assert result.exit_code == 0, result.output
    assert "negated to start v-prediction" in result.output
    state = json.loads((run / "unet" / "step-4" / "state.json").read_text())
    assert state["prediction_type"] == "v_prediction"
    pipe = StableDiffusionPipeline.from_pretrained(out, **load_builtin_components())
    assert pipe.scheduler.config.prediction_type == "v_prediction"
    # and a v run cannot silently go back to x0
    back = CliRunner().invoke(pt.main, ["unet", *args, "--unet-steps", "6"])
    assert back.exit_code != 0 and "cannot be trained to predict sample" in back.output


def test_growing_full_res_attention_keeps_what_the_unet_computes() -> None:
    from diffusers import UNet2DConditionModel

    from chatimg.shapeworld.builtin import BUILTIN_PAINTER_DIR

    torch.set_num_threads(1)
    torch.manual_seed(0)
    shipped = UNet2DConditionModel(**pt.UNET_CONFIG)  # the layout before growing, random weights
    weights = shipped.state_dict()
    assert pt.unet_config(weights) == pt.UNET_CONFIG  # the layout, read from the weights
    # the shipped UNet was grown this way (docs/painter.md): its layout is read from its weights too
    grown_shipped = UNet2DConditionModel.from_pretrained(BUILTIN_PAINTER_DIR / "unet").state_dict()
    assert pt.unet_config(grown_shipped)["down_block_types"][0] == "CrossAttnDownBlock2D"
    grown = pt.grow_full_res_attention(weights)
    assert pt.unet_config(grown.state_dict())["down_block_types"][0] == "CrossAttnDownBlock2D"
    assert len(grown.down_blocks[0].attentions) == 1 and len(grown.up_blocks[-1].attentions) == 2
    g = torch.Generator().manual_seed(0)
    x, text = torch.randn(3, 4, 16, 16, generator=g), torch.randn(3, 32, 384, generator=g)
    t = torch.tensor([20, 500, 990])
    with torch.no_grad():
        assert torch.allclose(grown(x, t, text).sample, shipped(x, t, text).sample, atol=1e-6)
    # and the new blocks do learn: one step moves their output projections off zero
    grown(x, t, text).sample.pow(2).mean().backward()
    assert grown.down_blocks[0].attentions[0].proj_out.weight.grad.abs().sum() > 0


def test_a_deepened_vae_computes_what_it_did_and_its_new_resnets_learn() -> None:
    torch = pytest.importorskip("torch")
    from diffusers import AutoencoderKL

    torch.set_num_threads(1)
    torch.manual_seed(0)
    vae = AutoencoderKL(**pt.VAE_CONFIG).eval()
    deep = pt.grow_vae_depth(vae, 3).eval()
    assert deep.config.layers_per_block == 3
    assert [len(b.resnets) for b in deep.decoder.up_blocks] == [4, 4, 4]  # diffusers: one more than the encoder
    assert [len(b.resnets) for b in deep.encoder.down_blocks] == [3, 3, 3]
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(1)) * 2 - 1
    with torch.no_grad():
        z = vae.encode(x).latent_dist.mode()
        assert torch.equal(deep.encode(x).latent_dist.mode(), z)  # cached latents stay valid
        assert torch.allclose(deep.decode(z).sample, vae.decode(z).sample, atol=1e-6)
    assert pt.grow_vae_depth(deep, 2) is deep  # never shallower
    deep.train()
    deep.decode(z).sample.pow(2).mean().backward()
    assert deep.decoder.up_blocks[0].resnets[-1].conv2.weight.grad.abs().sum() > 0


def test_a_run_grows_full_res_attention_and_keeps_it(tmp_path) -> None:
    from click.testing import CliRunner
    from diffusers import StableDiffusionPipeline
    from safetensors.torch import load_file

    from chatimg.shapeworld.builtin import load_builtin_components

    run, out = tmp_path / "run", tmp_path / "painter"
    args = ["--run", str(run), "--out", str(out), "--captions", "20", "--renders", "1", "--vae-steps", "3",
            "--decoder-steps", "1", "--vae-batch", "4", "--batch", "4", "--checkpoint-every", "2", "--export-every", "0"]
    assert CliRunner().invoke(pt.main, ["all", *args, "--unet-steps", "2"]).exit_code == 0
    result = CliRunner().invoke(pt.main, ["all", *args, "--unet-steps", "4", "--full-res-attention"])
    assert result.exit_code == 0, result.output
    assert "cross-attention added at 16x16" in result.output
    pipe = StableDiffusionPipeline.from_pretrained(out, **load_builtin_components())
    assert pipe.unet.config.down_block_types[0] == "CrossAttnDownBlock2D"
    # resuming without the flag keeps the layout the weights have
    result = CliRunner().invoke(pt.main, ["unet", *args, "--unet-steps", "6"])
    assert result.exit_code == 0 and "added" not in result.output, result.output
    assert any(k.startswith("down_blocks.0.attentions.") for k in load_file(run / "unet" / "step-6" / "ema.safetensors"))


@pytest.mark.slow
def test_painted_latents_are_the_shipped_painters_own_guesses() -> None:
    """The decoder's extra training inputs: close to the true latent (the UNet denoised them),
    not equal to it (the UNet's own error is what the decoder learns to draw through); starting
    a few sampling steps earlier leaves the sampler more room to wander from it."""
    from chatimg.shapeworld import canonical_prompt, random_scene, render
    from chatimg.shapeworld.builtin import BUILTIN_PAINTER_DIR, encode_prompts, load_builtin_pipeline

    torch.set_num_threads(1)
    pipe = load_builtin_pipeline(BUILTIN_PAINTER_DIR)
    scenes = [random_scene(i) for i in range(4)]
    x = pt._images_tensor(np.stack([np.asarray(render(s, seed=i)) for i, s in enumerate(scenes)]))
    with torch.no_grad():
        z = pipe.vae.encode(x).latent_dist.mean * pipe.vae.config.scaling_factor
    text = encode_prompts([canonical_prompt(s) for s in scenes], pipe.text_encoder, pipe.tokenizer)
    uncond = encode_prompts([""], pipe.text_encoder, pipe.tokenizer)
    painted = {k: pt.painted_latents(pipe, z, text, uncond, torch.Generator().manual_seed(0), steps_left=k)
               for k in (1, 3)}
    assert painted[1].shape == z.shape
    errors = {k: ((p - z) ** 2).mean().item() for k, p in painted.items()}
    assert 1e-5 < errors[1] < errors[3] < 0.2 * (z ** 2).mean().item()


def test_pixel_loss_grows_when_a_squares_latent_is_blurred() -> None:
    """A slightly blurred latent of squares decodes worse, and the pixel loss says so; the noisy
    half of the batch is left out."""
    from diffusers import AutoencoderKL

    from chatimg.shapeworld import Scene, Shape, render
    from chatimg.shapeworld.builtin import BUILTIN_PAINTER_DIR

    torch.set_num_threads(1)
    vae = AutoencoderKL.from_pretrained(BUILTIN_PAINTER_DIR / "vae").eval()
    vae.requires_grad_(False)
    scenes = [Scene("green", (Shape("square", "red", "small", "left"), Shape("square", "blue", "small", "right"))),
              Scene("white", (Shape("square", "black", "big", "center"),))]
    images = pt._images_tensor(np.stack([np.asarray(render(s, seed=0)) for s in scenes]))
    with torch.no_grad():
        z = vae.encode(images).latent_dist.mean * vae.config.scaling_factor
    blurred = torch.nn.functional.avg_pool2d(z, 3, stride=1, padding=1, count_include_pad=False)
    loss = pt.PixelLoss(vae, weight=1.0)
    loss.images = images
    low = torch.tensor([100, 100])
    exact, soft = loss(z, low).item(), loss(blurred, low).item()
    assert soft > 1.3 * exact
    assert loss(blurred, torch.tensor([800, 900])).item() == 0.0
    assert loss(blurred, torch.tensor([100, 900])).item() < soft


def test_render_workers_make_the_same_data_set(tmp_path) -> None:
    pt.make_dataset(tmp_path / "one", seed=5, n_captions=10, renders=2)
    pt.make_dataset(tmp_path / "two", seed=5, n_captions=10, renders=2, workers=2)
    for name in ("images.npy", "caption_index.npy"):
        assert np.array_equal(np.load(tmp_path / "one" / "data" / name), np.load(tmp_path / "two" / "data" / name))
    assert (tmp_path / "one" / "data" / "captions.json").read_text() == (tmp_path / "two" / "data" / "captions.json").read_text()


def _tiny_caches(run, n: int = 8) -> None:
    g = np.random.default_rng(0)
    (run / "cache").mkdir(parents=True)
    (run / "data").mkdir()
    np.save(run / "cache" / "text.npy", g.standard_normal((n + 1, 32, 384)).astype(np.float16))
    np.save(run / "cache" / "latents.npy", g.standard_normal((n, 4, 16, 16)).astype(np.float32))
    np.save(run / "data" / "caption_index.npy", np.arange(n, dtype=np.int64))


def test_a_time_budget_ends_training_where_it_runs_out_and_channels_are_kept(tmp_path) -> None:
    """A budget of no time stops right after the steps that time the run; the checkpoint and the
    export keep the asked-for channels; the export is stored in float16 and loads as float32."""
    import shutil

    from diffusers import UNet2DConditionModel
    from safetensors.torch import load_file

    from chatimg.shapeworld.builtin import BUILTIN_PAINTER_DIR

    torch.set_num_threads(1)
    run = tmp_path / "run"
    _tiny_caches(run)
    pt.train_unet(run, seed=0, steps=100_000, batch=2, lr=1e-3, ema_decay=0.99, checkpoint_every=1000,
                  export_every=0, out=None, channels=(16, 32, 32), time_budget=0.0, decay_share=0.3)
    latest = pt._latest_checkpoint(run / "unet")
    assert latest is not None and latest.name == "step-101"
    assert len((run / "unet_loss.log").read_text().splitlines()) == 101
    weights = load_file(latest / "ema.safetensors")
    assert pt.unet_config(weights)["block_out_channels"] == (16, 32, 32)
    with pytest.raises(Exception, match="channels"):  # a checkpoint keeps its own channels
        pt.train_unet(run, seed=0, steps=102, batch=2, lr=1e-3, ema_decay=0.99, checkpoint_every=1000,
                      export_every=0, out=None, channels=(32, 64, 128))
    shutil.copytree(BUILTIN_PAINTER_DIR / "vae", run / "vae")
    out = pt.export(run, tmp_path / "painter")
    stored = load_file(out / "unet" / "diffusion_pytorch_model.safetensors")
    assert {v.dtype for v in stored.values()} == {torch.float16}
    unet = UNet2DConditionModel.from_pretrained(out / "unet")
    assert unet.dtype == torch.float32 and tuple(unet.config.block_out_channels) == (16, 32, 32)
    assert torch.equal(unet.state_dict()["conv_in.weight"], weights["conv_in.weight"].half().float())
