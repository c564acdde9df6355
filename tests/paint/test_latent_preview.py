"""Cheap live previews: a throttle, a fitted latent->RGB projection, a background previewer."""

from __future__ import annotations

import threading

import pytest

from chatimg.paint.latent_preview import LatentPreviewer, PreviewThrottle, fit_projection, project


def test_throttle_keeps_to_the_frame_rate_and_skips_the_last_step():
    now = [0.0]
    throttle = PreviewThrottle(fps=8, clock=lambda: now[0])
    due = []
    for step in range(1, 17):  # 16 steps of 50 ms: 0.8 s
        now[0] += 0.05
        if throttle.due(step, 16):
            due.append(step)
    assert due == [1, 4, 7, 10, 13]  # one per 125 ms at most (8 a second), and never step 16


def test_projection_of_the_builtin_vae_sees_the_colours_and_is_cached(tmp_path):
    torch = pytest.importorskip("torch")
    from diffusers import AutoencoderKL

    from chatimg.shapeworld.builtin import BUILTIN_PAINTER_DIR

    vae = AutoencoderKL.from_pretrained(BUILTIN_PAINTER_DIR / "vae").eval()
    weights = fit_projection(vae, cache=tmp_path)
    cached = list(tmp_path.glob("preview-*.safetensors"))
    assert len(cached) == 1
    again = fit_projection(vae, cache=tmp_path, steps=0)  # read back, not refitted
    assert all(torch.equal(weights[k], again[k]) for k in weights)
    for rgb in [(1.0, 0.0, 0.0), (0.0, 0.0, 1.0), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1.0, 1.0, 0.0)]:
        image = torch.tensor(rgb).view(1, 3, 1, 1).expand(1, 3, 64, 64) * 2 - 1
        with torch.inference_mode():
            latents = vae.encode(image).latent_dist.mode() * vae.config.scaling_factor
        seen = project(latents, weights)
        assert seen.size == tuple(latents.shape[-2:])
        mean = [sum(channel) / len(channel) / 255 for channel in zip(*seen.getdata())]
        assert max(abs(a - b) for a, b in zip(mean, rgb)) < 0.3, (rgb, mean)


def test_previewer_shows_the_newest_and_nothing_after_it_closes():
    """Latents submitted faster than they are shown: older ones are dropped, the newest is shown,
    each at most once and in order, and nothing arrives once the paint has closed the previewer."""
    torch = pytest.importorskip("torch")
    weights = {"w1": torch.zeros(4, 8), "b1": torch.zeros(8), "w2": torch.zeros(8, 3), "b2": torch.full((3,), 0.5)}
    shown: list[int] = []
    previewer = LatentPreviewer(weights, lambda step, total, image: shown.append(step), scale=4)
    with previewer:
        for step in range(1, 6):
            previewer.submit(step, 9, torch.zeros(1, 4, 2, 2))
        for _ in range(1000):  # the newest one always comes, however slow the machine
            if shown and shown[-1] == 5:
                break
            threading.Event().wait(0.01)
    after = list(shown)
    assert after[-1] == 5 and after == sorted(set(after))
    previewer.submit(6, 9, torch.zeros(1, 4, 2, 2))  # after closing: dropped
    threading.Event().wait(0.1)
    assert shown == after  # closed: nothing more arrives


@pytest.mark.slow
def test_builtin_previews_show_the_picture_to_come_not_noise(monkeypatch, tmp_path):
    """DPM-Solver++ keeps the model's estimate of the clean picture: the preview shows that, so
    even the first one looks like the final image (the noisy latents would show confetti)."""
    np = pytest.importorskip("numpy")
    from chatimg.paint.painter import DiffusersPainter, PaintRequest

    monkeypatch.setenv("CHATIMG_CACHE", str(tmp_path))
    monkeypatch.setattr("chatimg.paint.latent_preview.PREVIEW_FPS", 1e6)
    painter = DiffusersPainter("builtin", device="cpu").load()
    updates = []
    result = painter.paint(PaintRequest(prompt="a big red circle on the left, blue background", seed=3, steps=8),
                           on_step=updates.append)
    final = np.asarray(result.image, dtype=float)
    previews = [u.preview for u in updates if u.preview is not None]
    assert len(previews) == 7  # every step but the last
    differences = [np.abs(np.asarray(p.resize(result.image.size), dtype=float) - final).mean() for p in previews]
    assert differences[0] < 50 and differences[-1] < 35, differences
