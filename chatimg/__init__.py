"""chatimg: refine an image by talking to it, in a terminal.

Data moves one way: user text -> ``Edit`` (rewriter) -> image (painter) -> ``Turn``
-> ``SessionStore`` -> preview. Nothing outside ``chatimg.ui`` imports Textual, and
torch / transformers / diffusers are imported lazily so start-up stays instant.
"""

__version__ = "0.1.0"

import os as _os

# Library chatter on stderr would scribble over the TUI; real errors still raise.
_os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
_os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
_os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
_os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
# Idle OpenMP threads sleep instead of spinning: a spinning pool steals the cores the UI and
# other programs need between (and during) denoising steps. Read once, when torch loads.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
