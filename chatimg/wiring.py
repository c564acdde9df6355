"""How the app is put together: the engine with its rewriter and painter, as the CLI, the TUI
and the benchmarks all build it."""

from __future__ import annotations

from collections.abc import Callable


def make_engine(model: str, llm: str, device: str, sessions_dir: str | None, no_llm: bool = False,
                resume: str | None = None, seed: int | None = None, offload: bool | None = None):
    """An engine that loads its models on first use; ``no_llm``: every turn is a typed prompt."""
    from chatimg.engine import ChatEngine
    from chatimg.locations import sessions_dir as resolve_sessions_dir
    from chatimg.core.store import SessionStore

    def rewriter_factory(status: Callable[[str], None]):
        from chatimg.understand.rewriter import load_rewriter

        return load_rewriter(llm, device=device, progress=status)

    def painter_factory(status: Callable[[str], None]):
        from chatimg.paint.painter import load_painter

        return load_painter(model, device=device, progress=status, offload=offload)

    store = SessionStore(resolve_sessions_dir(sessions_dir))
    engine = ChatEngine(store, rewriter_factory=None if no_llm else rewriter_factory,
                        painter_factory=painter_factory, model_name=model, llm_name=None if no_llm else llm)
    if resume:
        engine.resume(resume)
    if seed is not None:
        engine.set_setting("seed", seed)
    return engine
