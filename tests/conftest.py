from __future__ import annotations

import os
from pathlib import Path

import pytest

# Tests never touch the network.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_pipeline_dir(tmp_path_factory) -> Path:
    from tests.tiny_models import build_tiny_sd_pipeline

    return build_tiny_sd_pipeline(tmp_path_factory.mktemp("tiny-sd"))


@pytest.fixture(scope="session")
def tiny_painter(tiny_pipeline_dir):
    from chatimg.paint.painter import DiffusersPainter

    return DiffusersPainter(str(tiny_pipeline_dir), device="cpu").load()


@pytest.fixture
def sessions_root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "sessions"
    monkeypatch.setenv("CHATIMG_SESSIONS", str(root))
    monkeypatch.setenv("CHATIMG_CACHE", str(tmp_path / "cache"))
    return root
