"""Pick the torch device and dtype: cuda > mps > cpu unless the user says otherwise."""

from __future__ import annotations

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(requested: str | None = "auto") -> str:
    import torch

    requested = (requested or "auto").lower()
    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but torch sees no CUDA GPU")
    if requested == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError("--device mps was asked for, but this torch build has no MPS")
    if requested not in DEVICE_CHOICES and not requested.startswith("cuda:"):
        raise ValueError(f"unknown device {requested!r}; choose from {', '.join(DEVICE_CHOICES)}")
    return requested


def default_dtype(device: str):
    """Half precision where it is fast and safe, float32 on the CPU."""
    import torch

    return torch.float16 if device.startswith(("cuda", "mps")) else torch.float32


def apply_thread_limit() -> int:
    """Honour ``CHATIMG_THREADS`` (torch intra-op threads). On a small CPU shared with other
    work, fewer threads than cores avoids oversubscription, which can cost 5-10x."""
    import os

    import torch

    value = os.environ.get("CHATIMG_THREADS", "").strip()
    if value:
        try:
            threads = int(value)
        except ValueError:
            raise ValueError(f"CHATIMG_THREADS must be a whole number, got {value!r}") from None
        if threads < 1:
            raise ValueError(f"CHATIMG_THREADS must be at least 1, got {threads}")
        torch.set_num_threads(threads)
    return torch.get_num_threads()
