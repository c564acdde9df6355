"""On the GPU machine: rebuild /tmp/minilm (a float32 BertModel folder) from .gpu/minilm;
kept_ids.txt lists the tokens it can embed (train_painter.sh checks the captions against it)."""

import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

source, out = Path(".gpu/minilm"), Path("/tmp/minilm")
out.mkdir(exist_ok=True)
packed = load_file(source / "minilm16.safetensors")
kept = packed.pop("kept_ids")
vocab = json.loads((source / "config.json").read_text())["vocab_size"]
weights = {}
for name, tensor in packed.items():
    if name.endswith("word_embeddings.weight"):
        full = torch.zeros(vocab, tensor.shape[1])
        full[kept] = tensor.float()
        tensor = full
    weights[name] = tensor.float() if tensor.is_floating_point() else tensor
save_file(weights, out / "model.safetensors")
for path in source.iterdir():
    if path.suffix != ".safetensors":
        shutil.copy(path, out / path.name)
(out / "kept_ids.txt").write_text(" ".join(map(str, kept.tolist())))
print(f"MiniLM rebuilt: {len(kept)} tokens")
