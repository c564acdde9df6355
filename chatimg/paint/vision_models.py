"""Loading the small transformers vision models the painter leans on (CLIPSeg masks, a CLIP judge)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_model_and_processor(model_class: Any, processor_class: Any, spec: str, role: str, kind: str,
                             device: str | None) -> tuple[Any, Any, str]:
    """``(model, processor, device)`` from a repo id or a local folder: safetensors only, never remote
    code; a model that will not load is a one-line ``ValueError`` naming its ``role`` and ``kind``."""
    source = str(Path(spec).expanduser()) if Path(spec).expanduser().exists() else spec
    try:
        model = model_class.from_pretrained(source, use_safetensors=True).eval()
        processor = processor_class.from_pretrained(source)
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot load {role} {spec!r} as a {kind} model: {str(exc).splitlines()[0]}") from exc
    device = device or "cpu"
    return model.to(device), processor, device
