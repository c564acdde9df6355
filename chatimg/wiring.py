"""How the app is put together: the engine with its rewriter and painter, as the CLI, the TUI
and the benchmarks all build it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def make_engine(model: str, llm: str, device: str, sessions_dir: str | None, no_llm: bool = False,
                resume: str | None = None, seed: int | None = None, *, offload: bool | None = None,
                llm_model: str | None = None,
                verify: bool = True, verify_tries: int = 2, verifier: str | None = None,
                segmenter: str | None = None, write: bool = True):
    """An engine that loads its models on first use; ``no_llm``: every turn is a typed prompt.

    ``model`` or ``llm`` may be a server's URL (an AUTOMATIC1111 / Forge / SD.Next server; an
    OpenAI-compatible one, asked for ``llm_model``); ``offload``: model CPU offload (``None``: when the
    model will not fit the GPU); ``verify``: the self-check, with up to
    ``verify_tries`` repaints and ``verifier`` as judge (``load_verifier``); ``segmenter``: a
    CLIPSeg model that masks the things edits name; ``write``: hold a resumed
    session's lock (a second writer is refused), else only read it."""
    from chatimg.core.store import SessionStore
    from chatimg.engine import ChatEngine
    from chatimg.locations import sessions_dir as resolve_sessions_dir

    def rewriter_factory(status: Callable[[str], None]):
        from chatimg.understand.rewriter import load_rewriter

        return load_rewriter(llm, device=device, progress=status, model_name=llm_model)

    def painter_factory(status: Callable[[str], None]):
        from chatimg.core.http import is_url
        from chatimg.paint.painter import load_painter
        from chatimg.paint.server import load_server_painter

        painter = (load_server_painter(model, progress=status) if is_url(model)
                   else load_painter(model, device=device, progress=status, offload=offload))
        if segmenter:
            from chatimg.paint.segment import SegmentingPainter, load_segmenter

            painter = SegmentingPainter(painter, load_segmenter(segmenter, device=device, progress=status), status)
        return painter

    def verifier_factory(painter, status: Callable[[str], None]):
        if verifier:
            status(f"loading verifier {verifier}…")
        return load_verifier(verifier, painter, device=device)

    store = SessionStore(resolve_sessions_dir(sessions_dir))
    engine = ChatEngine(store, rewriter_factory=None if no_llm else rewriter_factory,
                        painter_factory=painter_factory, model_name=model, llm_name=None if no_llm else llm,
                        verifier_factory=verifier_factory if verify else None, verify_tries=verify_tries if verify else 0)
    if resume is not None:
        engine.resume(resume, write=write)
    if seed is not None:
        engine.set_setting("seed", seed)
    return engine


def load_verifier(spec: str | None, painter: Any, device: str | None = "cpu"):
    """The self-check's judge. ``None``/"auto": the shape-world checker for a painter of the shape
    world (the built-in one, or a folder whose ``chatimg.json`` says ``"prompts": "shapeworld"``),
    else none; "shapeworld": that checker; anything else: a CLIP model (repo id or folder)."""
    from chatimg.shapeworld.verify import ShapeWorldVerifier

    if spec in (None, "", "auto"):
        shapeworld = getattr(painter, "spec", None) == "builtin" or \
            getattr(getattr(painter, "defaults", None), "prompts", None) == "shapeworld"
        return ShapeWorldVerifier() if shapeworld else None
    if spec.lower() in ("shapeworld", "shape-world"):
        return ShapeWorldVerifier()
    from chatimg.paint.verify import ClipVerifier

    return ClipVerifier(spec, device=device if device not in (None, "auto") else "cpu")
