"""Painting on an image-generation server: the AUTOMATIC1111 / Forge / SD.Next ``sdapi/v1`` API.

For laptops too small for a diffusion model: ``--model http://host:7860`` paints on the server
the person already runs. ``SdapiPainter`` is the diffusers painter with the pipeline swapped for
``SdapiPipeline``, an object called the way a diffusers pipeline is called, so every turn takes
the same path (regions inpainted and pasted back, moves and retouches done on the pixels here)
and only the denoising happens on the server: ``txt2img``, and ``img2img`` with a ``mask`` for
inpainting. Images travel as base64 PNG; HTTP is the standard library's.
"""

from __future__ import annotations

import base64
import io
import threading
from collections.abc import Callable
from typing import Any

from PIL import Image

from chatimg.core.http import ServerError, request_json
from chatimg.paint.painter import DiffusersPainter, PaintDefaults, PainterError

#: How often a running request's progress is asked for (seconds).
POLL_S = 0.5
#: Sensible settings for an SD 1.5 / SDXL server when the session says nothing.
SERVER_DEFAULTS = PaintDefaults(steps=20, guidance=7.0)


def encode_png(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def decode_png(data: str) -> Image.Image:
    if "," in data[:64] and data.startswith("data:"):
        data = data.split(",", 1)[1]
    return Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")


class _Output:
    def __init__(self, images: list[Image.Image]) -> None:
        self.images = images


class SdapiPipeline:
    """A server's ``sdapi/v1`` behind a diffusers pipeline's call: ``image`` makes it img2img,
    ``mask_image`` an inpaint; the generator's seed is the server's seed. While the request runs
    the server's progress reaches ``callback_on_step_end``; setting ``_interrupt`` there (a
    cancelled turn) interrupts the server."""

    vae_scale_factor = 8

    def __init__(self, url: str, timeout: float = 600.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.dtype = None
        self._interrupt = False
        self.last_payload: dict | None = None

    def set_progress_bar_config(self, **_kwargs: Any) -> None:
        """Nothing to configure: no progress bar is drawn here."""

    def __call__(self, prompt: str, num_inference_steps: int = 20, guidance_scale: float = 7.0, generator: Any = None,
                 callback_on_step_end: Callable | None = None, image: Image.Image | None = None,
                 strength: float | None = None, mask_image: Image.Image | None = None, width: int | None = None,
                 height: int | None = None, negative_prompt: str | None = None, **_ignored: Any) -> _Output:
        payload: dict[str, Any] = {
            "prompt": prompt, "negative_prompt": negative_prompt or "", "steps": int(num_inference_steps),
            "cfg_scale": float(guidance_scale), "seed": int(generator.initial_seed()) if generator is not None else -1,
            "batch_size": 1, "n_iter": 1, "send_images": True, "save_images": False,
        }
        if width and height:
            payload.update(width=int(width), height=int(height))
        endpoint = "txt2img"
        if image is not None:
            endpoint = "img2img"
            payload.update(init_images=[encode_png(image.convert("RGB"))], width=image.width, height=image.height,
                           denoising_strength=float(0.75 if strength is None else strength))
            if mask_image is not None:
                # Repaint inside the mask from the original's content; the painter pastes it back.
                payload.update(mask=encode_png(mask_image.convert("L")), inpainting_fill=1, inpaint_full_res=False,
                               mask_blur=0, inpainting_mask_invert=0)
        self.last_payload = payload
        self._interrupt = False
        answer = self._run(f"{self.url}/sdapi/v1/{endpoint}", payload, callback_on_step_end)
        images = answer.get("images") if isinstance(answer, dict) else None
        if not images:
            raise PainterError(f"{self.url} sent no image back")
        return _Output([decode_png(images[0])])

    def _run(self, url: str, payload: dict, callback: Callable | None) -> dict:
        """POST in a thread; meanwhile report the server's steps and pass on a cancel."""
        done: dict[str, Any] = {}

        def post() -> None:
            try:
                done["answer"] = request_json(url, payload, timeout=self.timeout)
            except ServerError as exc:
                done["error"] = exc

        worker = threading.Thread(target=post, daemon=True)
        worker.start()
        reported, interrupted = -1, False
        while worker.is_alive():
            worker.join(POLL_S)
            if not worker.is_alive() or callback is None:
                continue
            step = self._step()
            if step is not None and step > reported:
                reported = step
                callback(self, step, None, {})
            if self._interrupt and not interrupted:
                interrupted = True
                try:
                    request_json(f"{self.url}/sdapi/v1/interrupt", {}, timeout=10)
                except ServerError:
                    pass  # the answer is thrown away anyway
        if "error" in done:
            raise PainterError(str(done["error"]))
        return done["answer"]

    def _step(self) -> int | None:
        try:
            progress = request_json(f"{self.url}/sdapi/v1/progress?skip_current_image=true", timeout=5)
        except ServerError:
            return None
        state = progress.get("state", {}) if isinstance(progress, dict) else {}
        step = state.get("sampling_step")
        return int(step) if isinstance(step, int | float) else None


class SdapiPainter(DiffusersPainter):
    """The painter for ``--model http://host:port``: an AUTOMATIC1111 / Forge / SD.Next server."""

    def __init__(self, url: str, progress: Callable[[str], None] | None = None, timeout: float = 600.0) -> None:
        super().__init__(url, device=None, progress=progress)
        self.url = url.rstrip("/")
        self._timeout = timeout

    def load(self) -> SdapiPainter:
        with self._lock:
            if self._pipes:
                return self
            self._progress(f"connecting to {self.url}…")
            try:
                options = request_json(f"{self.url}/sdapi/v1/options", timeout=15)
            except ServerError as exc:
                raise PainterError(f"{exc} (is it an AUTOMATIC1111 / Forge / SD.Next server started with --api?)") \
                    from None
            checkpoint = options.get("sd_model_checkpoint") if isinstance(options, dict) else None
            self.device = "remote"
            self.defaults = SERVER_DEFAULTS
            self._pipes["base"] = SdapiPipeline(self.url, self._timeout)
            self._progress(f"painter ready: {checkpoint or 'the server model'} on {self.url}")
            self.checkpoint = checkpoint
        return self

    def pipeline(self, mode: str) -> SdapiPipeline:
        """The same server for every mode: it has txt2img, img2img and inpainting."""
        self.load()
        return self._pipes["base"]


def load_server_painter(url: str, progress: Callable[[str], None] | None = None) -> SdapiPainter:
    """The painter for ``--model http://host:port``, connected (a ``PainterError`` if it is not there)."""
    return SdapiPainter(url, progress=progress).load()
