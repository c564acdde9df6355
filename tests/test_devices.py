"""Device, dtype and thread choices."""

from __future__ import annotations

import pytest
import torch

from chatimg.devices import apply_thread_limit, default_dtype, resolve_device


def test_auto_picks_cpu_here_and_bad_names_are_errors():
    if not torch.cuda.is_available():
        assert resolve_device("auto") == "cpu"
        with pytest.raises(ValueError, match="no CUDA"):
            resolve_device("cuda")
    with pytest.raises(ValueError, match="unknown device"):
        resolve_device("tpu")
    assert default_dtype("cpu") == torch.float32 and default_dtype("cuda") == torch.float16


def test_thread_limit_from_the_environment(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("CHATIMG_THREADS", "1")
        assert apply_thread_limit() == 1 == torch.get_num_threads()
        monkeypatch.setenv("CHATIMG_THREADS", "zero")
        with pytest.raises(ValueError, match="whole number"):
            apply_thread_limit()
    finally:
        torch.set_num_threads(before)
