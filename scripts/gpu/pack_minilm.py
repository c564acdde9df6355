"""Pack MiniLM for the GPU machine in ~22 MB (its 90 MB would not travel): the transformer
weights as float16 (computed in float32 there; text embeddings move by ~0.1 %, less than the
float16 text cache's own rounding matters), the word embeddings only of the tokens that the
training captions and the vocabulary use. Usage: pack_minilm.py N_CAPTIONS RENDERS."""

import shutil
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from chatimg.shapeworld import COLOURS, POSITIONS, SHAPES, SIZES, SYNONYMS
from chatimg.shapeworld.builtin import MAX_TOKENS, _load, minilm_path
from chatimg.training.painter import scene_plan

n_captions, renders = int(sys.argv[1]), int(sys.argv[2])
_, tokenizer = _load(text_encoder=False)
ids = set(tokenizer("", padding="max_length", max_length=MAX_TOKENS)["input_ids"])
for _, text, _ in scene_plan(0, n_captions, renders, tokenizer):  # the captions train_painter.sh renders
    ids.update(tokenizer(text)["input_ids"])
for word in {*COLOURS, *SHAPES, *SIZES, *POSITIONS, *SYNONYMS, *SYNONYMS.values()}:
    ids.update(tokenizer(word)["input_ids"])
kept = torch.tensor(sorted(ids), dtype=torch.int64)
source, packed = minilm_path(), {"kept_ids": kept}
for name, tensor in load_file(source / "model.safetensors").items():
    if "pooler" in name:  # unused: the painter reads the last hidden states
        continue
    if name.endswith("word_embeddings.weight"):
        tensor = tensor[kept]
    packed[name] = tensor.half().contiguous() if tensor.is_floating_point() else tensor
out = Path(".gpu/minilm")
out.mkdir(parents=True, exist_ok=True)
save_file(packed, out / "minilm16.safetensors")
for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
    shutil.copy(source / name, out / name)
print(f"MiniLM packed: {len(kept)} tokens kept")
