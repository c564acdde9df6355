"""Every path chatimg reads or writes is decided here, and only here."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir

PACKAGE_DIR = Path(__file__).resolve().parent
#: The checkout root when running from a clone (``pip install -e .``), else None.
REPO_DIR: Path | None = PACKAGE_DIR.parent if (PACKAGE_DIR.parent / "pyproject.toml").is_file() else None


def sessions_dir(override: str | os.PathLike | None = None) -> Path:
    """Where sessions live: ``--sessions-dir`` > ``$CHATIMG_SESSIONS`` > the checkout's
    ``sessions/`` > the user data dir (for a non-editable install)."""
    if override:
        return Path(override).expanduser().resolve()
    if env := os.environ.get("CHATIMG_SESSIONS"):
        return Path(env).expanduser().resolve()
    if REPO_DIR is not None:
        return REPO_DIR / "sessions"
    return Path(user_data_dir("chatimg")) / "sessions"


def cache_dir() -> Path:
    """Converted models and other rebuildable artefacts (``$CHATIMG_CACHE`` overrides)."""
    if env := os.environ.get("CHATIMG_CACHE"):
        return Path(env).expanduser().resolve()
    return Path(user_cache_dir("chatimg"))


def prompts_dir() -> Path:
    """The rewriter's prompt templates (``$CHATIMG_PROMPTS`` overrides)."""
    if env := os.environ.get("CHATIMG_PROMPTS"):
        return Path(env).expanduser().resolve()
    if REPO_DIR is not None and (REPO_DIR / "prompts").is_dir():
        return REPO_DIR / "prompts"
    return PACKAGE_DIR / "data" / "prompts"


def evals_dir() -> Path:
    """The rewriter's evaluation sets (generated and hand-written), shipped with the package."""
    return PACKAGE_DIR / "bench" / "data" / "rewriter_eval"


def builtin_dir() -> Path:
    """Weights that ship inside the package (built-in painter, rewriter adapter)."""
    return PACKAGE_DIR / "builtin"
