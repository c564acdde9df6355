"""Tiny, randomly initialised vision models saved to disk (a CLIP judge, a CLIPSeg
segmenter), loaded through the same ``from_pretrained`` path a user's checkpoint takes."""

from __future__ import annotations

from pathlib import Path

from tests.tiny_models import minilm_vocab

_TEXT = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
             max_position_embeddings=64, pad_token_id=0, bos_token_id=101, eos_token_id=102)
_VISION = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
               image_size=32, patch_size=8)


def _processor_parts():
    from transformers import BertTokenizer, CLIPImageProcessor

    # ``vocab=`` (in transformers 5 ``BertTokenizerFast(vocab_file=...)`` keeps 5 special tokens only)
    tokenizer = BertTokenizer(vocab=str(minilm_vocab()), model_max_length=64)
    images = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    return tokenizer, images


def build_tiny_clip(folder: Path, seed: int = 0) -> Path:
    """A CLIP model with a 32-pixel vision tower and its processor, as safetensors."""
    import torch
    from transformers import CLIPConfig, CLIPModel, CLIPProcessor

    torch.manual_seed(seed)
    tokenizer, images = _processor_parts()
    config = CLIPConfig(text_config={**_TEXT, "vocab_size": tokenizer.vocab_size}, vision_config=_VISION,
                        projection_dim=16)
    CLIPModel(config).save_pretrained(folder, safe_serialization=True)
    CLIPProcessor(image_processor=images, tokenizer=tokenizer).save_pretrained(folder)
    return folder


def build_tiny_clipseg(folder: Path, seed: int = 0) -> Path:
    """A CLIPSeg model (text-prompted segmentation) with a 32-pixel vision tower, as safetensors."""
    import torch
    from transformers import CLIPSegConfig, CLIPSegForImageSegmentation, CLIPSegProcessor

    torch.manual_seed(seed)
    tokenizer, images = _processor_parts()
    config = CLIPSegConfig(text_config={**_TEXT, "vocab_size": tokenizer.vocab_size}, vision_config=_VISION,
                           projection_dim=16, extract_layers=[0, 1], reduce_dim=16, decoder_num_attention_heads=2,
                           decoder_intermediate_size=32)
    model = CLIPSegForImageSegmentation(config)
    # Random weights give a mask of pixel noise; a trained model's masks come in blobs. With each
    # patch's upsampling kernel flat, every patch is one blob (weights still random per channel).
    upsample = model.decoder.transposed_convolution
    with torch.no_grad():
        upsample.weight.copy_(upsample.weight.mean(dim=(2, 3), keepdim=True).expand_as(upsample.weight))
        upsample.bias.zero_()
    model.save_pretrained(folder, safe_serialization=True)
    CLIPSegProcessor(image_processor=images, tokenizer=tokenizer).save_pretrained(folder)
    return folder
