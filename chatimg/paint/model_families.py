"""Which diffusers families chatimg paints with, and how each is meant to be called.

A pipeline folder names its class in ``model_index.json`` (``_class_name``); that class picks
the family. A family says whether the model reads a description of the picture (prompt-
conditioned: the full prompt for text-to-image, img2img and inpaint) or an instruction plus the
previous picture (instruction-edit), and its own settings: how guidance works, the dtype on a
GPU, default steps and size. No torch here: the table is plain data, read before loading.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Kind = Literal["prompt", "instruction"]
#: "cfg": classifier-free guidance through ``guidance_scale`` (with a negative prompt);
#: "distilled": ``guidance_scale`` is an embedded, distilled strength (no negative prompt);
#: "true_cfg": ``true_cfg_scale`` with a negative prompt (Qwen-Image), ``guidance_scale`` unused.
Guidance = Literal["cfg", "distilled", "true_cfg"]


@dataclass(frozen=True)
class Family:
    name: str
    kind: Kind
    classes: tuple[str, ...]
    guidance_kind: Guidance
    guidance: float
    steps: int
    #: default picture side in pixels; ``None``: the pipeline's own default
    size: int | None
    #: dtype on CUDA and MPS (float32 on the CPU)
    gpu_dtype: Literal["float16", "bfloat16"]
    #: the pipeline can paint from text alone (an instruction-edit model's first turn)
    txt2img: bool = True
    #: the image guidance of InstructPix2Pix-like models (how closely to keep the input picture)
    image_guidance: float | None = None
    note: str = ""
    #: Python packages the pipeline needs beyond chatimg's own
    needs: tuple[str, ...] = ()


FAMILIES: tuple[Family, ...] = (
    Family("Stable Diffusion 1.x/2.x", "prompt", ("StableDiffusionPipeline",), "cfg", 7.5, 25, None, "float16"),
    Family("SDXL", "prompt", ("StableDiffusionXLPipeline",), "cfg", 5.0, 30, 1024, "float16",
           note="SDXL's VAE overflows in float16: decoding is upcast to float32 unless the VAE is an fp16-fixed one "
                "(madebyollin/sdxl-vae-fp16-fix)"),
    Family("LCM", "prompt", ("LatentConsistencyModelPipeline",), "distilled", 8.5, 4, None, "float16"),
    Family("Stable Diffusion 3", "prompt", ("StableDiffusion3Pipeline",), "cfg", 7.0, 28, 1024, "bfloat16"),
    Family("FLUX.1", "prompt", ("FluxPipeline",), "distilled", 3.5, 28, 1024, "bfloat16"),
    Family("Z-Image", "prompt", ("ZImagePipeline",), "cfg", 4.0, 28, 1024, "bfloat16"),
    Family("Qwen-Image", "prompt", ("QwenImagePipeline",), "true_cfg", 4.0, 30, 1024, "bfloat16"),
    Family("FLUX.1 Kontext", "instruction", ("FluxKontextPipeline",), "distilled", 2.5, 28, 1024, "bfloat16"),
    # transformers builds their Qwen2VLProcessor only with torchvision (for its video processor)
    Family("Qwen-Image-Edit", "instruction", ("QwenImageEditPipeline",), "true_cfg", 4.0, 30, 1024, "bfloat16",
           txt2img=False, needs=("torchvision",)),
    Family("Qwen-Image-Edit-Plus", "instruction", ("QwenImageEditPlusPipeline",), "true_cfg", 4.0, 30, 1024,
           "bfloat16", txt2img=False, needs=("torchvision",)),
    Family("FLUX.2", "instruction", ("Flux2Pipeline",), "distilled", 4.0, 28, 1024, "bfloat16"),
    Family("FLUX.2 klein", "instruction", ("Flux2KleinPipeline",), "cfg", 4.0, 28, 1024, "bfloat16"),
    Family("InstructPix2Pix", "instruction", ("StableDiffusionInstructPix2PixPipeline",), "cfg", 7.5, 20, 512,
           "float16", txt2img=False, image_guidance=1.5),
    Family("SDXL InstructPix2Pix", "instruction", ("StableDiffusionXLInstructPix2PixPipeline",), "cfg", 5.0, 25,
           768, "float16", txt2img=False, image_guidance=1.5),
)

_BY_CLASS = {cls: family for family in FAMILIES for cls in family.classes}


class UnsupportedFamily(ValueError):
    """The pipeline class is none chatimg knows how to talk to."""


def family_of(class_name: str) -> Family:
    """The family of a pipeline class name (``model_index.json``'s ``_class_name``)."""
    family = _BY_CLASS.get(class_name)
    if family is None:
        known = ", ".join(sorted({f.name for f in FAMILIES}))
        raise UnsupportedFamily(f"chatimg does not support {class_name} models; it paints with {known}")
    return family


def missing_packages(family: Family) -> list[str]:
    """The packages ``family`` needs that are not installed."""
    import importlib.util

    return [name for name in family.needs if importlib.util.find_spec(name) is None]


def pipeline_class_name(folder: Path) -> str | None:
    """``_class_name`` from a pipeline folder's ``model_index.json`` (``None`` if it has none)."""
    index = folder / "model_index.json"
    if not index.is_file():
        return None
    try:
        data = json.loads(index.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{index} is not valid JSON ({exc})") from None
    return data.get("_class_name") if isinstance(data, dict) else None


@dataclass(frozen=True)
class Tuning:
    """A family's defaults, adjusted for a variant the checkpoint's config or name gives away."""

    steps: int
    guidance: float
    size: int | None


def tuning(family: Family, spec: str, folder: Path | None) -> Tuning:
    """Default steps, guidance and size for ``family``, with the few-step variants recognised:
    SD-Turbo and SDXL-Turbo, FLUX.1 schnell (no guidance embedding), Z-Image-Turbo, SD3.5 Turbo."""
    name = spec.lower()
    steps, guidance, size = family.steps, family.guidance, family.size
    if family.name == "FLUX.1" and (_config_says(folder, "transformer", "guidance_embeds") is False
                                    or "schnell" in name):
        return Tuning(4, 0.0, size)
    if family.name == "FLUX.2 klein" and _index_says(folder, "is_distilled"):
        return Tuning(4, 1.0, size)  # the step-distilled klein: no CFG
    if "turbo" in name:
        if family.name == "Stable Diffusion 1.x/2.x" or family.name == "SDXL":
            return Tuning(4, 0.0, 512)
        if family.name == "Z-Image":
            return Tuning(9, 0.0, size)  # guidance is distilled into Z-Image-Turbo
        if family.name == "Stable Diffusion 3":
            return Tuning(4, 0.0, size)
    if family.name == "Stable Diffusion 1.x/2.x" and "lcm" in name:
        return Tuning(6, 1.0, size)  # an LCM-LoRA merged into an SD checkpoint
    return Tuning(steps, guidance, size)


def _index_says(folder: Path | None, key: str) -> object:
    index = folder / "model_index.json" if folder is not None else None
    return json.loads(index.read_text()).get(key) if index is not None and index.is_file() else None


def _config_says(folder: Path | None, component: str, key: str) -> object:
    if folder is None:
        return None
    path = folder / component / "config.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text()).get(key)
