"""Which terminal graphics protocol to use for the large preview."""

from __future__ import annotations

import os


def detect_graphics(requested: str = "auto") -> str:
    """Resolve ``--preview``: ``auto`` asks the terminal (must run before the TUI takes
    over the terminal) and falls back to half-blocks. Explicit choices are trusted."""
    mode = requested if requested != "auto" else _ask_terminal()
    if mode in ("kitty", "sixel"):
        import textual_image.widget  # noqa: F401 - measures the cell size while it still can
    return mode


def _ask_terminal() -> str:
    if os.environ.get("TMUX") or os.environ.get("CHATIMG_NO_GRAPHICS"):
        return "halfblock"  # tmux swallows graphics escapes unless set up for passthrough
    try:
        from textual_image.renderable import Image as Best  # importing runs the terminal query
        from textual_image.renderable.sixel import Image as SixelImage
        from textual_image.renderable.tgp import Image as TGPImage
    except Exception:  # noqa: BLE001 - any failure means "no graphics protocol"
        return "halfblock"
    if Best is TGPImage:
        return "kitty"
    if Best is SixelImage:
        return "sixel"
    return "halfblock"
