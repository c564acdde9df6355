"""Live previews that cost next to nothing: a linear latent-to-RGB projection, throttled to
what a terminal can show, computed off the denoising thread.

A VAE decode per step added about a third to every turn. Instead, ``fit_projection`` learns
once (at warm-up, then cached on disk) a tiny per-pixel map from latent channels to RGB by
encoding a few synthetic colour fields with the model's own VAE, so it works for any 4-D
latent VAE; a preview is then two tiny matrix products. ``LatentPreviewer`` takes a copy of the latents
from the step callback and hands the picture to ``on_preview`` from its own thread; it keeps
only the newest one, and drops what is still pending when the paint ends, so a preview never
lands after the final image.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

#: Previews a second. Each one is a full redraw of the picture by the UI thread (Textual's
#: compositor: tens of ms on a busy CPU, and the GIL meanwhile), so a few a second look live
#: and leave the painting and the keyboard alone.
PREVIEW_FPS = 4.0


class PreviewThrottle:
    """Says when a step deserves a preview: at most ``fps`` a second, never the last step
    (the final image follows at once)."""

    def __init__(self, fps: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        fps = PREVIEW_FPS if fps is None else fps
        self.interval = 1.0 / fps if fps > 0 else float("inf")
        self._clock = clock
        self._last: float | None = None

    def due(self, step: int, total: int) -> bool:
        """``step`` counts from 1 to ``total``."""
        if step >= total:
            return False
        now = self._clock()
        if self._last is not None and now - self._last < self.interval:
            return False
        self._last = now
        return True


HIDDEN = 32  # width of the per-pixel map: enough for a VAE's curved colour space, still ~free


def vae_fingerprint(vae: Any) -> str:
    """A cheap identity for a VAE's weights (config and per-tensor sums, no full hash)."""
    import hashlib

    import torch

    digest = hashlib.sha256(vae.config.__repr__().encode())
    with torch.no_grad():
        for name, param in vae.named_parameters():
            digest.update(f"{name}{tuple(param.shape)}{float(param.float().sum()):.6e}".encode())
    return digest.hexdigest()[:20]


def fit_projection(vae: Any, size: int = 64, seed: int = 0, steps: int = 200, cache: Path | None = None):
    """Weights of a tiny per-pixel map (latent channels -> 32 -> RGB in 0..1) for latents as
    the pipeline sees them (shifted, scaled), fitted on synthetic blocky colour fields that
    ``vae`` encodes: the eight corners of the RGB cube and random mixtures. A plain linear
    map turned this VAE's green into grey. Saved in ``cache`` (a folder) and reused."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    target_file = None
    if cache is not None:
        target_file = cache / f"preview-v2-{vae_fingerprint(vae)}.safetensors"
        if target_file.is_file():
            from safetensors.torch import load_file

            try:
                return load_file(target_file)
            except Exception:  # noqa: BLE001 - a damaged cache entry is rebuilt
                pass
    generator = torch.Generator().manual_seed(seed)
    corners = torch.tensor([[(i >> b) & 1 for b in range(3)] for i in range(8)], dtype=torch.float32)
    solids = corners[:, :, None, None].expand(8, 3, 4, 4)
    colours = torch.cat([solids, torch.rand(16, 3, 4, 4, generator=generator)])
    images = F.interpolate(colours, size=(size, size), mode="nearest")
    param = next(vae.parameters())
    with torch.inference_mode():
        latents = vae.encode((images * 2 - 1).to(param.device, param.dtype)).latent_dist.mode().float().cpu()
    shift = getattr(vae.config, "shift_factor", None) or 0.0
    latents = (latents - shift) * vae.config.scaling_factor
    target = F.adaptive_avg_pool2d(images, latents.shape[-2:])
    x = latents.permute(0, 2, 3, 1).reshape(-1, latents.shape[1])
    y = target.permute(0, 2, 3, 1).reshape(-1, 3)
    with torch.enable_grad():
        torch.manual_seed(seed)
        model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], HIDDEN), torch.nn.SiLU(), torch.nn.Linear(HIDDEN, 3))
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-2)
        for _ in range(steps):
            loss = F.mse_loss(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    weights = {"w1": model[0].weight.detach().T.contiguous(), "b1": model[0].bias.detach().clone(),
               "w2": model[2].weight.detach().T.contiguous(), "b2": model[2].bias.detach().clone(),
               # The latents' range on real pictures: early, noisy steps are clipped to it, so
               # the map shows muted noise instead of extrapolating to garish colours.
               "lo": x.min(dim=0).values, "hi": x.max(dim=0).values}
    if target_file is not None:
        from safetensors.torch import save_file

        try:
            target_file.parent.mkdir(parents=True, exist_ok=True)
            temporary = target_file.with_suffix(".tmp")
            save_file(weights, temporary)
            temporary.replace(target_file)
        except OSError:
            pass  # no cache: fitted again next time
    return weights


def project(latents: Any, weights: dict, scale: int = 1) -> Image.Image:
    """The RGB picture ``weights`` (from ``fit_projection``) see in the first latent of a batch,
    enlarged ``scale`` times in blocks (the painting's own size; blocks draw cheaply). Plain numpy:
    a torch op here would wake torch's OpenMP pool, which on a busy CPU costs tens of ms."""
    pixels = _numpy(latents)[0].astype(np.float32).transpose(1, 2, 0)
    w = {k: _numpy(v) for k, v in weights.items()}
    if "lo" in w:
        pixels = np.clip(pixels, w["lo"], w["hi"])
    hidden = pixels @ w["w1"] + w["b1"]
    hidden = hidden / (1.0 + np.exp(-np.clip(hidden, -60, 60)))  # SiLU
    rgb = hidden @ w["w2"] + w["b2"]
    image = Image.fromarray((np.clip(rgb, 0, 1) * 255).round().astype(np.uint8))
    return image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST) if scale > 1 else image


def _numpy(value: Any) -> np.ndarray:
    return value if isinstance(value, np.ndarray) else value.detach().float().cpu().numpy()


def denoised_estimate(scheduler: Any, latents: Any) -> Any:
    """What the picture will look like, when the scheduler keeps its estimate of the clean
    latents (DPM-Solver++ keeps the model's x0 predictions); else ``latents`` themselves, which
    early on are mostly noise."""
    outputs = getattr(scheduler, "model_outputs", None)
    algorithm = getattr(getattr(scheduler, "config", None), "algorithm_type", "")
    if outputs and algorithm in ("dpmsolver++", "sde-dpmsolver++") and outputs[-1] is not None:
        estimate = outputs[-1]
        if getattr(estimate, "shape", None) == getattr(latents, "shape", None):
            return estimate
    return latents


class LatentPreviewer:
    """Projects latents to pictures in a background thread; use as a context manager around
    one paint. ``submit`` is all the denoising thread does (a copy of the latents)."""

    def __init__(self, weights: Any, on_preview: Callable[[int, int, Image.Image], None],
                 scale: int = 1) -> None:
        self.weights = None if weights is None else {k: _numpy(v) for k, v in weights.items()}
        self.on_preview, self.scale = on_preview, scale
        self._pending: tuple[int, int, Any] | None = None
        self._closed = False
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="chatimg-preview", daemon=True)
        self.shown = 0

    def __enter__(self) -> LatentPreviewer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._wake:
            self._closed, self._pending = True, None
            self._wake.notify()
        self._thread.join()

    def submit(self, step: int, total: int, latents: Any) -> None:
        copy = latents[:1].detach().float().cpu().numpy().copy()
        with self._wake:
            self._pending = (step, total, copy)  # an older one not yet shown is dropped
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._pending is None and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                step, total, latents = self._pending
                self._pending = None
            image = project(latents, self.weights, self.scale)
            with self._wake:
                if self._closed:
                    return
                # Under the lock: once the paint has closed us, no preview goes out any more.
                self.on_preview(step, total, image)
                self.shown += 1
