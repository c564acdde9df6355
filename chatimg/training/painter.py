"""Train the built-in painter from a seed: ``python -m chatimg.training.painter all``.

Phases, each resumable and skipped once done (everything lives under ``--run``, git-ignored):

1. ``data``   render the shape-world training set once (images + varied captions) and cache it;
2. ``vae``    train a small AutoencoderKL 64x64x3 -> 16x16x4;
3. ``text``, ``latents``: encode every caption once with the frozen MiniLM text encoder and
              every image once with the frozen VAE encoder (the UNet trains on these caches only);
4. ``unet``   train a small UNet2DConditionModel (x0-prediction, zero-terminal-SNR schedule,
              cross-attention on MiniLM tokens + attention-pooled text added to the time embedding,
              caption dropout for classifier-free guidance, EMA), checkpointing every few hundred
              steps; interrupt it any time and run the same command again to resume;
5. ``export`` write the EMA weights as a diffusers pipeline folder (``--out``).

``all`` runs them in order. On a 2-core CPU the UNet phase takes hours, so it is meant to run
in the background; on a GPU (``--device cuda``) minutes. The shipped weights are the wide UNet
(``--channels 64,128,192``) that ``scripts/gpu/train_painter.sh`` trains on a lent GPU, with
the decoder tuned to it (docs/painter.md has every sitting's commands).
"""

from __future__ import annotations

import json
import math
import random
import shutil
import time
from pathlib import Path

import click
import numpy as np

from chatimg.shapeworld import caption, random_scene, render
from chatimg.shapeworld.builtin import (
    BUILTIN_PAINTER_DIR,
    DEFAULT_GUIDANCE,
    DEFAULT_STEPS,
    IMAGE_SIZE,
    MAX_TOKENS,
    _load,
    encode_prompts,
    make_scheduler,
)

DEFAULT_RUN = Path("runs/painter")
DECODER_STEPS = 1200

VAE_CONFIG = dict(
    in_channels=3, out_channels=3,
    down_block_types=("DownEncoderBlock2D",) * 3, up_block_types=("UpDecoderBlock2D",) * 3,
    block_out_channels=(16, 32, 64), layers_per_block=1, latent_channels=4, norm_num_groups=8,
    sample_size=64, mid_block_add_attention=False,
)
UNET_CONFIG = dict(
    sample_size=16, in_channels=4, out_channels=4, block_out_channels=(32, 64, 128), layers_per_block=1,
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
    up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
    cross_attention_dim=384, attention_head_dim=4, norm_num_groups=16,
    addition_embed_type="text", addition_embed_type_num_heads=8,
)
# The same UNet with cross-attention at 16x16 too, where a small square's corners live.
FULL_RES_ATTENTION = dict(down_block_types=("CrossAttnDownBlock2D",) * 3, up_block_types=("CrossAttnUpBlock2D",) * 3)


def unet_config(weights: dict | None = None, full_res_attention: bool = False,
                channels: tuple[int, ...] | None = None) -> dict:
    """The UNet layout: the default, with cross-attention at full latent resolution and
    ``channels`` per level when asked, or as ``weights`` (a state dict) already have them, so
    checkpoints of any layout load."""
    if weights is not None:
        full_res_attention = full_res_attention or any(k.startswith("down_blocks.0.attentions.") for k in weights)
        channels = tuple(int(weights[f"down_blocks.{i}.resnets.0.conv1.weight"].shape[0])
                         for i in range(len(UNET_CONFIG["block_out_channels"])))
    config = {**UNET_CONFIG, **FULL_RES_ATTENTION} if full_res_attention else dict(UNET_CONFIG)
    if channels:
        config["block_out_channels"] = tuple(channels)
    return config


def grow_full_res_attention(weights: dict):
    """A UNet with cross-attention at 16x16 that computes exactly what ``weights`` (the default
    layout) compute: the new attention blocks are residual and their output projections start at
    zero, so each adds nothing until training gives it something to add. Capacity is added
    where the x0 UNet was losing detail without throwing away what it had learned."""
    torch = _torch()
    from diffusers import UNet2DConditionModel

    unet = UNet2DConditionModel(**unet_config(weights, full_res_attention=True))
    missing, unexpected = unet.load_state_dict(weights, strict=False)
    if unexpected or any(".attentions." not in k for k in missing):
        raise click.ClickException(f"cannot grow these weights: unexpected {unexpected[:3]}, missing {missing[:3]}")
    with torch.no_grad():
        for block in (unet.down_blocks[0], unet.up_blocks[-1]):
            for attention in block.attentions:
                attention.proj_out.weight.zero_()
                attention.proj_out.bias.zero_()
    return unet


def grow_vae_depth(vae, layers_per_block: int):
    """The same VAE with ``layers_per_block`` resnets per block (the decoder gets one more per
    block, as diffusers builds it), computing exactly what ``vae`` computes: each added resnet is
    residual and its last convolution starts at zero. The encoder's added resnets stay that
    identity (decoder tuning freezes the encoder, so cached latents and UNets stay valid); the
    decoder's give it depth to tell a small square's soft corners from a circle's."""
    torch = _torch()
    from diffusers import AutoencoderKL

    if layers_per_block <= vae.config.layers_per_block:
        return vae
    grown = AutoencoderKL.from_config({**vae.config, "layers_per_block": layers_per_block})
    missing, unexpected = grown.load_state_dict(vae.state_dict(), strict=False)
    if unexpected or any(".resnets." not in k for k in missing):
        raise click.ClickException(f"cannot deepen this VAE: unexpected {unexpected[:3]}, missing {missing[:3]}")
    new = {k.rsplit(".conv2.", 1)[0] for k in missing if ".conv2." in k}
    with torch.no_grad():
        for name, module in grown.named_modules():
            if name in new:
                module.conv2.weight.zero_()
                module.conv2.bias.zero_()
    return grown


def _torch():
    import torch

    return torch


def _save_json(path: Path, data: object) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)


# --------------------------------------------------------------------------- data


def _render_array(job: tuple) -> np.ndarray:
    scene, seed = job
    return np.asarray(render(scene, seed=seed))


def scene_plan(seed: int, n_captions: int, renders: int, tokenizer):
    """The training set's draws, in order from ``seed``: for each of ``n_captions`` random
    scenes, one varied caption that fits in ``MAX_TOKENS`` and ``renders`` render seeds
    (different jitter). Anything that must know the set without rendering it reads this."""
    rng = random.Random(seed)
    for _ in range(n_captions):
        scene = random_scene(rng, split="train")
        text = caption(scene, rng)
        while len(tokenizer(text)["input_ids"]) > MAX_TOKENS:
            text = caption(scene, rng)
        yield scene, text, [rng.getrandbits(32) for _ in range(renders)]


def make_dataset(run: Path, seed: int, n_captions: int, renders: int, workers: int = 1) -> None:
    """Render ``scene_plan``; ``workers`` processes render the same set as one."""
    data = run / "data"
    if (data / "done.json").exists():
        return
    data.mkdir(parents=True, exist_ok=True)
    _, tokenizer = _load(text_encoder=False)
    captions, scenes, jobs, caption_index = [], [], [], []
    from tqdm import tqdm

    plan = scene_plan(seed, n_captions, renders, tokenizer)
    for i, (scene, text, render_seeds) in enumerate(tqdm(plan, total=n_captions, desc="scenes", unit="scene")):
        captions.append(text)
        scenes.append(repr(scene))
        for render_seed in render_seeds:
            jobs.append((scene, render_seed))
            caption_index.append(i)
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            images = list(pool.map(_render_array, jobs, chunksize=512))
    else:
        images = [_render_array(job) for job in tqdm(jobs, desc="render", unit="image")]
    np.save(data / "images.npy", np.stack(images))
    np.save(data / "caption_index.npy", np.array(caption_index, dtype=np.int64))
    _save_json(data / "captions.json", {"captions": captions, "scenes": scenes})
    _save_json(data / "done.json", {"seed": seed, "n_captions": n_captions, "renders": renders})


def _images_tensor(images: np.ndarray):
    torch = _torch()
    return torch.tensor(images).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)  # a copy: mmap rows are read-only


# --------------------------------------------------------------------------- vae


def train_vae(run: Path, seed: int, steps: int, batch: int, lr: float) -> None:
    torch = _torch()
    from diffusers import AutoencoderKL
    from tqdm import tqdm

    out = run / "vae"
    start = 0
    if (out / "done.json").exists():
        done = json.loads((out / "done.json").read_text())
        start = done["steps"]
        if start >= steps or done.get("adopted_from"):
            return
    torch.manual_seed(seed + start)
    images = np.load(run / "data" / "images.npy", mmap_mode="r")
    # A larger --vae-steps continues a finished VAE (fresh optimizer, cosine over the new steps).
    vae = AutoencoderKL.from_pretrained(out) if start else AutoencoderKL(**VAE_CONFIG)
    opt = torch.optim.AdamW(vae.parameters(), lr=lr, weight_decay=0.0)
    rng = np.random.default_rng(seed + start)
    log = open(run / "vae_loss.log", "a", buffering=1)
    bar = tqdm(range(start, steps), desc="vae", unit="step", initial=start, total=steps)
    warmup = 100 if start == 0 else 10
    for step in bar:
        progress = (step - start) / (steps - start)
        for group in opt.param_groups:
            group["lr"] = lr * min(1.0, (step - start + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))
        x = _images_tensor(np.asarray(images[rng.integers(0, len(images), batch)]))
        posterior = vae.encode(x).latent_dist
        # The posterior mean (plus a little noise) learns far faster than sampling at the initial
        # unit variance; the UNet only ever sees means, and KL keeps their scale in check.
        recon = vae.decode(posterior.mean + 0.05 * torch.randn_like(posterior.mean)).sample
        rec = (recon - x).abs().mean() + ((recon - x) ** 2).mean()
        kl = posterior.kl().mean() / (16 * 16 * 4)
        loss = rec + 1e-4 * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        bar.set_postfix(rec=f"{rec.item():.4f}", kl=f"{kl.item():.2f}")
        log.write(f"{step} {rec.item():.5f} {kl.item():.4f}\n")
    log.close()
    # Scale latents to unit variance, as Stable Diffusion does.
    with torch.no_grad():
        x = _images_tensor(np.asarray(images[:512]))
        z = vae.encode(x).latent_dist.mean
    vae.register_to_config(scaling_factor=float(1.0 / z.std()))
    vae.save_pretrained(out, safe_serialization=True)
    accuracy = vae_checker_accuracy(vae, seed + 1)
    print(f"vae: checker reads {accuracy:.1%} of reconstructions right")
    _save_json(out / "done.json", {"steps": steps, "final_rec": rec.item(), "checker_accuracy": accuracy,
                                   "continued_from": start})


def vae_checker_accuracy(vae, seed: int, n: int = 200) -> float:
    """Share of held-out renders whose VAE reconstruction the checker still reads right."""
    torch = _torch()
    from chatimg.shapeworld import check_image

    rng = random.Random(seed)
    scenes = [random_scene(rng, split="held_out") for _ in range(n)]
    x = _images_tensor(np.stack([np.asarray(render(s, seed=i)) for i, s in enumerate(scenes)])).to(vae.device)
    with torch.no_grad():
        recon = vae.decode(vae.encode(x).latent_dist.mean).sample
    images = ((recon.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()
    return sum(check_image(img) == s for img, s in zip(images, scenes)) / n


# --------------------------------------------------------------------------- caches


def encode_text(run: Path, batch: int = 256, device: str = "cpu") -> None:
    """Embed every caption (and the empty prompt, row 0) once with the frozen MiniLM."""
    from tqdm import tqdm

    cache = run / "cache"
    if (cache / "text_done.json").exists():
        return
    cache.mkdir(parents=True, exist_ok=True)
    captions = json.loads((run / "data" / "captions.json").read_text())["captions"]
    text_encoder, tokenizer = _load()
    text_encoder.to(device)
    embeds = np.zeros((len(captions) + 1, MAX_TOKENS, text_encoder.config.hidden_size), dtype=np.float16)
    texts = [""] + captions  # row 0: the empty prompt, for caption dropout / guidance
    for start in tqdm(range(0, len(texts), batch), desc="text", unit="batch"):
        embeds[start:start + batch] = encode_prompts(texts[start:start + batch], text_encoder, tokenizer).cpu().numpy()
    np.save(cache / "text.npy", embeds)
    _save_json(cache / "text_done.json", {"captions": len(captions)})


def encode_latents(run: Path, batch: int = 256, device: str = "cpu") -> None:
    """Encode every training image once with the frozen VAE encoder (posterior mean, scaled)."""
    torch = _torch()
    from diffusers import AutoencoderKL
    from tqdm import tqdm

    cache = run / "cache"
    if (cache / "latents_done.json").exists():
        return
    cache.mkdir(parents=True, exist_ok=True)
    vae = AutoencoderKL.from_pretrained(run / "vae").eval().to(device)
    images = np.load(run / "data" / "images.npy", mmap_mode="r")
    latents = np.zeros((len(images), 4, 16, 16), dtype=np.float32)
    with torch.no_grad():
        for start in tqdm(range(0, len(images), batch), desc="latents", unit="batch"):
            x = _images_tensor(np.asarray(images[start:start + batch])).to(device)
            latents[start:start + batch] = (vae.encode(x).latent_dist.mean * vae.config.scaling_factor).cpu().numpy()
    np.save(cache / "latents.npy", latents)
    _save_json(cache / "latents_done.json", {"images": len(images)})


def edge_weights(x, weight: float):
    """Per-pixel loss weights, ``1 + weight`` near edges: shape outlines are a sliver of the
    image, yet they alone tell a circle from a square, so a plain mean under-trains them."""
    torch = _torch()
    dx = (x[..., :, 1:] - x[..., :, :-1]).abs().amax(dim=1, keepdim=True)  # any channel: red on green too
    dy = (x[..., 1:, :] - x[..., :-1, :]).abs().amax(dim=1, keepdim=True)
    edges = torch.nn.functional.pad(dx, (0, 1)) + torch.nn.functional.pad(dy, (0, 0, 0, 1))
    near = torch.nn.functional.max_pool2d((edges > 0.1).float(), 5, stride=1, padding=2)
    return 1.0 + weight * near


def painted_latents(pipe, latents, text, uncond, generator, guidance: float = DEFAULT_GUIDANCE,
                    steps_left: int = 1, spread: int = 25):
    """What the painter makes of these latents in its last ``steps_left`` sampling steps: each is
    noised to that point of the default schedule (± ``spread`` timesteps, per latent) and
    sampled from there as the app paints (DPM-Solver++, classifier-free guided), ending at x0.
    The decoder never sees exact encoder latents at paint time, only such results, and they
    are a little off (a small square's corners are soft in them)."""
    torch = _torch()
    sampling = make_scheduler(prediction_type=pipe.scheduler.config.prediction_type)
    sampling.set_timesteps(DEFAULT_STEPS)
    timesteps = sampling.timesteps[-steps_left:]
    first = int(timesteps[0])
    noised_at = torch.randint(max(1, first - spread), first + spread + 1, (len(latents),), generator=generator)
    noised_at = noised_at.to(latents.device)
    noise = torch.randn(latents.shape, generator=generator).to(latents.device)
    x = make_scheduler(training=True).add_noise(latents, noise, noised_at)
    context = torch.cat([uncond.expand_as(text), text])
    with torch.no_grad():
        for i, t in enumerate(timesteps):
            unet_t = torch.cat([noised_at, noised_at]) if i == 0 else t
            plain, cond = pipe.unet(torch.cat([x, x]), unet_t, encoder_hidden_states=context).sample.chunk(2)
            x = sampling.step(plain + guidance * (cond - plain), t, x).prev_sample
    return x


def finetune_decoder(run: Path, seed: int, steps: int, batch: int, lr: float, edge_weight: float = 0.0,
                     painter: Path | None = None, painted_share: float = 0.5, painted_steps: int = 1,
                     layers_per_block: int | None = None, mse_weight: float = 1.0, device: str = "cpu") -> None:
    """Train the VAE decoder further on the cached latents; the encoder (and so every cached
    latent and every UNet checkpoint) stays valid. Saves into ``run/vae`` when done.

    With ``painter`` (an exported pipeline folder), ``painted_share`` of each batch is decoded
    from what that painter makes of the exact latents in its last 1 to ``painted_steps``
    sampling steps (``painted_latents``), with the rendered image still the target: the decoder
    learns to draw what the UNet means, crisp, from what the UNet actually produces.

    ``layers_per_block`` deepens the VAE first (``grow_vae_depth``). The loss is L1 plus
    ``mse_weight`` times MSE: where a latent leaves a corner pixel in doubt, MSE is least for a
    blend of shape and background (a rounded corner), L1 for whichever is likelier."""
    torch = _torch()
    from diffusers import AutoencoderKL
    from tqdm import tqdm

    out = run / "vae"
    state = json.loads((out / "done.json").read_text())
    start = state.get("decoder_steps", 0)
    if start >= steps:
        return
    vae = AutoencoderKL.from_pretrained(out)
    if layers_per_block is not None:
        vae = grow_vae_depth(vae, layers_per_block)  # its config records the depth
    vae.to(device)
    vae.encoder.requires_grad_(False)
    vae.quant_conv.requires_grad_(False)
    params = [p for p in vae.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    images = np.load(run / "data" / "images.npy", mmap_mode="r")
    latents = np.load(run / "cache" / "latents.npy", mmap_mode="r")
    rng = np.random.default_rng(seed + 7 + start)
    pipe = None
    if painter is not None:
        from chatimg.shapeworld.builtin import load_builtin_pipeline

        pipe = load_builtin_pipeline(painter).to(device)
        text = torch.from_numpy(np.load(run / "cache" / "text.npy")).to(device)
        caption_index = np.load(run / "data" / "caption_index.npy") + 1  # row 0 = ""
        generator = torch.Generator().manual_seed(seed + 11 + start)
        state["painter"] = str(painter)
    log = open(run / "decoder_loss.log", "a", buffering=1)
    bar = tqdm(range(start, steps), desc="decoder", unit="step", initial=start, total=steps)
    for step in bar:
        progress = (step - start) / (steps - start)
        for group in opt.param_groups:
            group["lr"] = lr * min(1.0, (step - start + 1) / 10) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))
        idx = np.sort(rng.integers(0, len(images), batch))
        x = _images_tensor(np.asarray(images[idx])).to(device)
        z = torch.from_numpy(np.asarray(latents[idx])).to(device)
        if pipe is not None:
            n = int(round(painted_share * batch))
            captions = torch.from_numpy(caption_index[idx[:n]]).to(device)
            z[:n] = painted_latents(pipe, z[:n], text[captions].float(), text[0:1].float(), generator,
                                    steps_left=int(rng.integers(1, painted_steps + 1)) if painted_steps > 1 else 1)
        recon = vae.decode(z / vae.config.scaling_factor).sample
        w = edge_weights(x, edge_weight)
        loss = ((recon - x).abs() * w).mean() + mse_weight * (((recon - x) ** 2) * w).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        bar.set_postfix(rec=f"{loss.item():.4f}", refresh=False)
        log.write(f"{step} {loss.item():.5f}\n")
        if (step + 1) % 200 == 0 or step + 1 == steps:
            vae.save_pretrained(out, safe_serialization=True)
            state["decoder_steps"] = step + 1
            _save_json(out / "done.json", state)
    state["checker_accuracy_after_decoder"] = vae_checker_accuracy(vae, seed + 1)
    print(f"vae: checker reads {state['checker_accuracy_after_decoder']:.1%} of reconstructions right")
    _save_json(out / "done.json", state)


# --------------------------------------------------------------------------- unet


def _latest_checkpoint(ckpts: Path) -> Path | None:
    found = sorted(ckpts.glob("step-*"), key=lambda p: int(p.name.split("-")[1]))
    found = [p for p in found if (p / "state.json").exists()]
    return found[-1] if found else None


def save_checkpoint(path: Path, unet, ema: dict, opt, step: int, extra: dict) -> None:
    torch = _torch()
    from safetensors.torch import save_file

    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file({k: v.detach().cpu().contiguous() for k, v in unet.state_dict().items()}, tmp / "unet.safetensors")
    save_file({k: v.detach().cpu().contiguous() for k, v in ema.items()}, tmp / "ema.safetensors")
    torch.save(opt.state_dict(), tmp / "optimizer.pt")  # read back with weights_only=True
    _save_json(tmp / "state.json", {"step": step, **extra})
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)


def sample_timesteps(batch: int, generator, high_share: float = 0.5):
    """Timesteps, ``1 - high_share`` uniform and ``high_share`` from the noisiest half, where the
    text decides the image."""
    torch = _torch()
    t = torch.randint(0, 1000, (batch,), generator=generator)
    high = torch.rand(batch, generator=generator) < high_share
    t[high] = torch.randint(500, 1000, (int(high.sum()),), generator=generator)
    return t


PREDICTION_TYPES = ("sample", "v_prediction")


def unet_loss(unet, scheduler, latents, text, generator, uncond, drop: float = 0.1,
              prediction_type: str = "sample", high_share: float = 0.5, pixels: PixelLoss | None = None):
    """MSE against x0 (``sample``) or v for one batch; ``drop`` of the captions are replaced by
    the empty one; with ``pixels``, plus that loss on the decoded x0 guesses."""
    torch = _torch()
    batch, device = latents.shape[0], latents.device
    # Random draws come from ``generator`` (CPU) wherever the batch lives, so a run's draws
    # are the same on any device.
    dropped = (torch.rand(batch, generator=generator) < drop).to(device)
    text = torch.where(dropped[:, None, None], uncond.expand_as(text), text)
    t = sample_timesteps(batch, generator, high_share).to(device)
    noise = torch.randn(latents.shape, generator=generator).to(device)
    noisy = scheduler.add_noise(latents, noise, t)
    pred = unet(noisy, t, encoder_hidden_states=text).sample
    target = latents if prediction_type == "sample" else scheduler.get_velocity(latents, noise, t)
    loss = ((pred - target) ** 2).mean()
    if pixels is not None:
        x0 = pred
        if prediction_type == "v_prediction":
            alpha = scheduler.alphas_cumprod[t].sqrt()[:, None, None, None]
            x0 = alpha * noisy - (1 - alpha ** 2).sqrt() * pred
        loss = loss + pixels(x0, t)
    return loss


class PixelLoss:
    """The UNet's x0 guesses decoded by the frozen decoder and compared with the rendered images,
    outlines weighted up (``edge_weights``), for timesteps below ``below``: latent MSE barely
    notices the small error that rounds a small square's corners, the image does. Above
    ``below`` the guess is rightly a blurred average and is left to the latent loss. (Tried on
    the shipped UNet: 3,000 steps at weight 0.3 gained nothing; docs/painter.md.)"""

    def __init__(self, vae, weight: float, edge_weight: float = 4.0, below: int = 500) -> None:
        self.vae, self.weight, self.edge_weight, self.below = vae, weight, edge_weight, below
        self.images = None  # the batch's rendered images, set before each step

    def __call__(self, x0, t):
        keep = t < self.below
        if not bool(keep.any()):
            return x0.sum() * 0.0
        target = self.images[keep]
        recon = self.vae.decode(x0[keep] / self.vae.config.scaling_factor).sample
        w = edge_weights(target, self.edge_weight)
        per_image = (((recon - target).abs() + (recon - target) ** 2) * w).mean()
        return self.weight * per_image * keep.float().mean()


def switch_to_v_prediction(unet, ema: dict) -> None:
    """Turn an x0-predicting UNet into the start of a v-predicting one by negating its output
    layer: v = alpha * noise - sigma * x0 is -x0 at the noisiest steps (zero terminal SNR), so
    the layout the model learned there carries over, and only the low-noise end (v close to the
    noise) has to be learned anew. Why switch at all: an x0 model must redraw the whole latent at
    every step, and its error at the last step rounds a small square's corners; a v model's
    error reaches x0 scaled by sigma, small at the last steps. (Tried from step 17,500: after
    6,000 steps it was still below the x0 model; docs/painter.md.)"""
    torch = _torch()
    with torch.no_grad():
        for name in ("conv_out.weight", "conv_out.bias"):
            ema[name] = -ema[name]
        unet.conv_out.weight.neg_()
        unet.conv_out.bias.neg_()


def adopt_vae(run: Path, folder: Path) -> None:
    """Make an exported pipeline folder's VAE ``run``'s finished VAE (unless it has one). Its
    decoder counts as fine-tuned already (``DECODER_STEPS``); a larger --decoder-steps continues it."""
    if not (run / "vae" / "done.json").exists():
        shutil.copytree(folder / "vae", run / "vae", dirs_exist_ok=True)
        _save_json(run / "vae" / "done.json", {"steps": 0, "decoder_steps": DECODER_STEPS, "adopted_from": str(folder)})


def adopt_pipeline(run: Path, folder: Path) -> None:
    """Start ``run`` from an exported pipeline folder instead of from scratch: its VAE becomes the
    run's finished VAE (``adopt_vae``) and its UNet the first checkpoint (weights = EMA, fresh
    optimizer), so training continues where that export left off. Data and caches are rebuilt as
    usual (the latents are re-encoded with the adopted VAE)."""
    torch = _torch()
    from diffusers import UNet2DConditionModel

    adopt_vae(run, folder)
    ckpts = run / "unet"
    if _latest_checkpoint(ckpts) is not None:
        return
    meta = json.loads((folder / "training.json").read_text())
    step = meta["unet_step"]
    unet = UNet2DConditionModel.from_pretrained(folder / "unet")
    state = {k: v.detach().clone() for k, v in unet.state_dict().items()}
    opt = torch.optim.AdamW(unet.parameters(), lr=1e-3, weight_decay=0.01)
    predicts = json.loads((folder / "scheduler" / "scheduler_config.json").read_text()).get("prediction_type", "sample")
    save_checkpoint(ckpts / f"step-{step}", unet, state, opt, step,
                    {"adopted_from": str(folder), "seed": meta.get("seed"), "loss": meta.get("loss"),
                     "prediction_type": predicts})
    print(f"adopted {folder} (UNet step {step})")


def learning_rate(step: int, lr: float, decay_from: int | None, steps: int, warmup_from: int = 0) -> float:
    """Warm-up over 200 steps (from ``warmup_from``, where the optimizer state starts fresh),
    constant, then from ``decay_from`` a linear decay to a tenth at ``steps``."""
    scale = min(1.0, (step - warmup_from + 1) / 200)
    if decay_from is not None and step >= decay_from and steps > decay_from:
        scale *= 1.0 - 0.9 * (step - decay_from) / (steps - decay_from)
    return lr * scale


def train_unet(run: Path, seed: int, steps: int, batch: int, lr: float, ema_decay: float,
               checkpoint_every: int, export_every: int, out: Path | None, decay_from: int | None = None,
               prediction_type: str = "sample", high_share: float = 0.5, pixel_weight: float = 0.0,
               full_res_attention: bool = False, channels: tuple[int, ...] | None = None,
               device: str = "cpu", time_budget: float | None = None, decay_share: float | None = None) -> None:
    """Train (or resume) the UNet to ``steps``. ``time_budget`` (seconds) lowers ``steps`` to
    what fits, timed over this run's steps 20 to 100; ``decay_share`` then puts the
    learning-rate decay on the last share of whatever ``steps`` ends up as. The log says the
    step count reached, so ``--unet-steps`` reproduces a budgeted run."""
    torch = _torch()
    from diffusers import UNet2DConditionModel
    from tqdm import tqdm

    ckpts = run / "unet"
    ckpts.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    latest = _latest_checkpoint(ckpts)
    weights = None
    if latest is not None:
        from safetensors.torch import load_file

        weights, ema = load_file(latest / "unet.safetensors"), load_file(latest / "ema.safetensors")
    config = unet_config(weights, full_res_attention, channels)
    if weights is not None and channels and tuple(channels) != config["block_out_channels"]:
        raise click.ClickException(f"{latest} has {config['block_out_channels']} channels, not {tuple(channels)}")
    grow = weights is not None and config != unet_config(weights)
    # Growing starts from the EMA weights (the ones worth keeping); the live weights restart from them.
    unet = grow_full_res_attention(ema) if grow else UNet2DConditionModel(**config)
    if weights is not None and not grow:
        unet.load_state_dict(weights)
    else:  # a fresh or a grown UNet: its EMA starts as its weights
        ema = {k: v.detach().clone() for k, v in unet.state_dict().items()}
    if grow:
        print(f"{latest}: cross-attention added at 16x16 (output projections at zero)")
    unet.to(device)
    ema = {k: v.to(device) for k, v in ema.items()}
    opt = torch.optim.AdamW(unet.parameters(), lr=lr, weight_decay=0.01)
    start = fresh_optimizer_at = 0
    if latest is not None:
        state = json.loads((latest / "state.json").read_text())
        start = state["step"]
        was = state.get("prediction_type", "sample")
        if was != prediction_type:
            if (was, prediction_type) != ("sample", "v_prediction"):
                raise click.ClickException(f"{latest} predicts {was}; it cannot be trained to predict {prediction_type}")
            switch_to_v_prediction(unet, ema)
            print(f"{latest} predicted x0: its output layer is negated to start v-prediction")
        # A new schedule (--decay-share) on a run that ended decayed warms up again: jumping
        # straight back from a tenth to the full rate made the loss spike 6x on the GPU run.
        if state.get("adopted_from") or was != prediction_type or grow or decay_share is not None:
            fresh_optimizer_at = start
        else:
            opt.load_state_dict(torch.load(latest / "optimizer.pt", weights_only=True, map_location=device))
        print(f"resuming from {latest} (step {start})")
    if start >= steps:
        return
    text = torch.from_numpy(np.load(run / "cache" / "text.npy")).to(device)
    latents = torch.from_numpy(np.load(run / "cache" / "latents.npy")).to(device)
    caption_index = (torch.from_numpy(np.load(run / "data" / "caption_index.npy")) + 1).to(device)  # row 0 = ""
    uncond = text[0:1].float()
    scheduler = make_scheduler(training=True)
    generator = torch.Generator().manual_seed(seed * 1_000_003 + start)
    pixels = images = None
    if pixel_weight > 0:
        from diffusers import AutoencoderKL

        vae = AutoencoderKL.from_pretrained(run / "vae").eval().to(device)
        vae.requires_grad_(False)
        pixels = PixelLoss(vae, pixel_weight)
        images = np.load(run / "data" / "images.npy", mmap_mode="r")
    log = open(run / "unet_loss.log", "a", buffering=1)
    unet.train()
    live = unet.state_dict()  # shares storage with the parameters the optimizer updates
    floats = [k for k, v in live.items() if v.dtype.is_floating_point]
    ema_floats, live_floats = [ema[k] for k in floats], [live[k] for k in floats]  # updated in place
    others = [k for k in live if k not in floats]
    bar = tqdm(total=steps, desc="unet", unit="step", initial=start)
    running, timed_from, began = None, None, time.perf_counter()
    for step in range(start, steps):
        if step >= steps:  # a time budget has lowered it
            break
        if time_budget is not None and step - start == 20:  # past warm-up: time the steady state
            timed_from = time.perf_counter()
        if time_budget is not None and step - start == 100:
            per_step = (time.perf_counter() - timed_from) / 80
            steps = min(steps, max(step + 1, step + int((time_budget - (time.perf_counter() - began)) / per_step)))
            bar.total = steps
            print(f"time budget: {1 / per_step:.1f} steps/s, training to step {steps}", flush=True)
        # --decay-share follows ``steps``, which a time budget may have lowered
        decay_at = decay_from if decay_share is None else steps - int(decay_share * (steps - start))
        for group in opt.param_groups:
            group["lr"] = learning_rate(step, lr, decay_at, steps, fresh_optimizer_at)
        idx = torch.randint(0, len(latents), (batch,), generator=generator)
        if pixels is not None:
            pixels.images = _images_tensor(np.asarray(images[idx.numpy()])).to(device)
        idx = idx.to(device)
        loss = unet_loss(unet, scheduler, latents[idx], text[caption_index[idx]].float(), generator, uncond,
                         prediction_type=prediction_type, high_share=high_share, pixels=pixels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        opt.step()
        decay = min(ema_decay, (1 + step) / (10 + step))
        with torch.no_grad():
            torch._foreach_mul_(ema_floats, decay)
            torch._foreach_add_(ema_floats, live_floats, alpha=1 - decay)
            for k in others:
                ema[k].copy_(live[k])
        bar.update(1)
        value = loss.item()  # one device sync a step, not two
        running = value if running is None else 0.98 * running + 0.02 * value
        bar.set_postfix(loss=f"{running:.4f}", refresh=False)
        log.write(f"{step + 1} {value:.5f} {time.time():.0f}\n")
        done = step + 1
        if done % checkpoint_every == 0 or done == steps:
            log.flush()
            save_checkpoint(ckpts / f"step-{done}", unet, ema, opt, done,
                            {"loss": running, "seed": seed, "prediction_type": prediction_type})
            for old in sorted(ckpts.glob("step-*"), key=lambda p: int(p.name.split("-")[1]))[:-3]:
                if not export_every or int(old.name.split("-")[1]) % export_every:  # keep every export_every-th
                    shutil.rmtree(old, ignore_errors=True)
            if out is not None and export_every and done % export_every == 0:
                export(run, out / f"step-{done}", done)
    bar.close()
    log.close()


# --------------------------------------------------------------------------- export


def export(run: Path, out: Path, step: int | None = None, dtype: str = "float16") -> Path:
    """Write VAE + EMA UNet + scheduler as a diffusers folder (MiniLM is not copied: it is a
    dependency, passed in by ``load_builtin_components``). Weights are stored as ``dtype``:
    float16 halves the folder, and ``from_pretrained`` loads them back as float32."""
    torch = _torch()
    from diffusers import AutoencoderKL, StableDiffusionPipeline, UNet2DConditionModel
    from safetensors.torch import load_file

    ckpts = run / "unet"
    ckpt = ckpts / f"step-{step}" if step is not None else _latest_checkpoint(ckpts)
    if ckpt is None or not ckpt.exists():
        raise click.ClickException(f"no UNet checkpoint in {ckpts}")
    weights = load_file(ckpt / "ema.safetensors")
    unet = UNet2DConditionModel(**unet_config(weights))
    unet.load_state_dict(weights)
    state = json.loads((ckpt / "state.json").read_text())
    vae = AutoencoderKL.from_pretrained(run / "vae")
    unet.to(getattr(torch, dtype))
    vae.to(getattr(torch, dtype))
    text_encoder, tokenizer = _load()
    pipe = StableDiffusionPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, safety_checker=None,
        scheduler=make_scheduler(prediction_type=state.get("prediction_type", "sample")),
        feature_extractor=None, requires_safety_checker=False,
    )
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    pipe.save_pretrained(tmp, safe_serialization=True)
    shutil.rmtree(tmp / "text_encoder", ignore_errors=True)
    shutil.rmtree(tmp / "tokenizer", ignore_errors=True)
    vae_state = json.loads((run / "vae" / "done.json").read_text()) if (run / "vae" / "done.json").exists() else {}
    _save_json(tmp / "training.json", {
        "unet_step": state["step"], "seed": state.get("seed"), "loss": state.get("loss"), "weights": "EMA",
        "prediction_type": state.get("prediction_type", "sample"),
        # a decoder tuned on a painter's own predictions belongs with that painter's UNet
        "decoder_steps": vae_state.get("decoder_steps"), "decoder_painter": vae_state.get("painter"),
        "vae_layers_per_block": vae.config.layers_per_block,
    })
    # Read by chatimg.paint.painter for any folder: the settings this painter was benchmarked with.
    _save_json(tmp / "chatimg.json", {"steps": DEFAULT_STEPS, "guidance": DEFAULT_GUIDANCE,
                                      "width": IMAGE_SIZE, "height": IMAGE_SIZE, "prompts": "shapeworld"})
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


# --------------------------------------------------------------------------- cli


@click.command()
@click.argument("phase", type=click.Choice(["all", "data", "vae", "text", "latents", "decoder", "unet", "export"]),
                default="all")
@click.option("--run", "run", type=click.Path(path_type=Path), default=DEFAULT_RUN, show_default=True,
              help="Folder for caches, checkpoints and logs.")
@click.option("--seed", default=0, show_default=True)
@click.option("--captions", "n_captions", default=16_000, show_default=True, help="Training scenes/captions.")
@click.option("--renders", default=2, show_default=True, help="Renders (jitter) per training caption.")
@click.option("--workers", default=1, show_default=True, help="data: processes that render (same images).")
@click.option("--vae-steps", default="600,1600", show_default=True,
              help="VAE steps; comma-separated stages continue the previous one with a fresh optimizer.")
@click.option("--vae-batch", default=16, show_default=True)
@click.option("--decoder-steps", default=DECODER_STEPS, show_default=True,
              help="Further decoder-only steps on the cached latents (can run beside the UNet phase).")
@click.option("--decoder-edge-weight", default=0.0, show_default=True,
              help="Extra decoder loss weight near shape edges (see edge_weights).")
@click.option("--decoder-painter", type=click.Path(path_type=Path, exists=True, file_okay=False), default=None,
              help="decoder: also train on this exported painter's own last-step predictions (half of each "
                   "batch), so the decoder draws crisp what that UNet produces.")
@click.option("--decoder-painted-steps", default=1, show_default=True,
              help="decoder: those predictions come from the painter's last 1..N sampling steps.")
@click.option("--decoder-layers", type=int, default=None,
              help="decoder: deepen the VAE to this many resnets per block first (function-preserving).")
@click.option("--decoder-mse-weight", default=1.0, show_default=True,
              help="decoder: weight of MSE beside L1 (lower: corners decided, not blended).")
@click.option("--unet-steps", default=20_000, show_default=True)
@click.option("--decay-from", type=int, default=None,
              help="Step from which the UNet learning rate decays linearly to a tenth at --unet-steps.")
@click.option("--init-from", type=click.Path(path_type=Path, exists=True, file_okay=False), default=None,
              help="Continue from an exported pipeline folder (e.g. chatimg/builtin/painter): its VAE and "
                   "UNet replace the vae phase and the first UNet checkpoint.")
@click.option("--init-vae-from", type=click.Path(path_type=Path, exists=True, file_okay=False), default=None,
              help="Take only the VAE of an exported pipeline folder (a new UNet under the shipped VAE); "
                   f"its decoder counts as tuned {DECODER_STEPS} steps, so --decoder-steps beyond that continues it.")
@click.option("--prediction-type", type=click.Choice(PREDICTION_TYPES), default="sample", show_default=True,
              help="What the UNet predicts. Continuing an x0 (sample) run with v_prediction switches it over.")
@click.option("--noisy-share", default=0.5, show_default=True,
              help="Share of UNet timesteps drawn from the noisiest half (the rest are uniform).")
@click.option("--pixel-loss", "pixel_weight", default=0.0, show_default=True,
              help="unet: also decode the x0 guesses of the less noisy half and weigh their pixel error "
                   "(outlines 5x) by this much (see PixelLoss).")
@click.option("--channels", default=None, help="unet: channels per level of a new UNet, e.g. 64,128,192 "
              "(default 32,64,128); a checkpoint keeps its own.")
@click.option("--time-budget", type=float, default=None,
              help="unet: stop by then (seconds of training), lowering --unet-steps to what fits.")
@click.option("--decay-share", type=float, default=None,
              help="unet: decay the learning rate over this last share of the steps (instead of --decay-from).")
@click.option("--device", default="auto", show_default=True, help="torch device: auto, cpu, cuda, mps.")
@click.option("--export-dtype", type=click.Choice(["float16", "float32"]), default="float16", show_default=True,
              help="export: how weights are stored (loaded back as float32 either way).")
@click.option("--full-res-attention", is_flag=True,
              help="unet: cross-attention at 16x16 too; a checkpoint without it grows it, computing the same at first.")
@click.option("--batch", default=32, show_default=True)
@click.option("--lr", default=1e-3, show_default=True)
@click.option("--ema", "ema_decay", default=0.998, show_default=True)
@click.option("--checkpoint-every", default=250, show_default=True)
@click.option("--export-every", default=1000, show_default=True,
              help="Also export a pipeline folder under RUN/exports every N steps (for the benchmark curve).")
@click.option("--step", type=int, default=None, help="export: which checkpoint (default: latest).")
@click.option("--out", type=click.Path(path_type=Path), default=BUILTIN_PAINTER_DIR, show_default=True,
              help="export: pipeline folder to write.")
@click.option("--threads", default=1, show_default=True, help="torch CPU threads (1 is fastest on a busy 2-core box).")
def main(phase: str, run: Path, seed: int, n_captions: int, renders: int, vae_steps: str, vae_batch: int,
         decoder_steps: int,
         unet_steps: int, batch: int, lr: float, ema_decay: float, checkpoint_every: int, export_every: int,
         step: int | None, out: Path, threads: int, decoder_edge_weight: float, decay_from: int | None, init_from: Path | None,
         init_vae_from: Path | None, prediction_type: str, noisy_share: float, decoder_painter: Path | None,
         decoder_painted_steps: int, pixel_weight: float, full_res_attention: bool, decoder_layers: int | None,
         decoder_mse_weight: float, channels: str | None, time_budget: float | None, decay_share: float | None,
         device: str, export_dtype: str, workers: int) -> None:
    """Train the built-in shape-world painter (resumable; run again to continue)."""
    from chatimg.devices import resolve_device

    torch = _torch()
    torch.set_num_threads(threads)
    try:
        device = resolve_device(device)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--device") from error
    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    levels = tuple(int(c) for c in channels.split(",")) if channels else None
    run.mkdir(parents=True, exist_ok=True)
    if init_from is not None and init_vae_from is not None:
        raise click.UsageError("--init-from already adopts the folder's VAE: give one of --init-from, --init-vae-from")
    if init_from is not None:
        adopt_pipeline(run, init_from)
    elif init_vae_from is not None:
        adopt_vae(run, init_vae_from)
    if phase in ("all", "data"):
        make_dataset(run, seed, n_captions, renders, workers)
    if phase in ("all", "vae"):
        for stage in [int(x) for x in str(vae_steps).split(",") if x.strip()]:
            train_vae(run, seed, stage, vae_batch, lr=2e-3)
    if phase in ("all", "text"):
        encode_text(run, device=device)
    if phase in ("all", "latents"):
        encode_latents(run, device=device)
    if phase in ("all", "decoder"):
        finetune_decoder(run, seed, decoder_steps, vae_batch, lr=1e-3, edge_weight=decoder_edge_weight,
                         painter=decoder_painter, painted_steps=decoder_painted_steps,
                         layers_per_block=decoder_layers, mse_weight=decoder_mse_weight, device=device)
    if phase in ("all", "unet"):
        train_unet(run, seed, unet_steps, batch, lr, ema_decay, checkpoint_every, export_every, run / "exports",
                   decay_from, prediction_type, noisy_share, pixel_weight, full_res_attention, levels,
                   device, time_budget, decay_share)
    if phase in ("all", "export"):
        click.echo(f"exported {export(run, out, step, export_dtype)}")


if __name__ == "__main__":
    main()
