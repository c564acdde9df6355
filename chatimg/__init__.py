"""chatimg: refine an image by talking to it, in a terminal.

Data moves one way: user text -> ``Edit`` (rewriter) -> image (painter) -> ``Turn``
-> ``SessionStore`` -> preview. Nothing outside ``chatimg.ui`` imports Textual, and
torch / transformers / diffusers are imported lazily so start-up stays instant.
"""

__version__ = "0.1.0"
