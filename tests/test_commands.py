"""Slash commands: any text typed after a slash gives a result or a one-line CommandError."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from chatimg.commands import ALIASES, COMMANDS, CommandError, CommandResult, run_command
from chatimg.core.model import SEED_MAX, Session
from chatimg.core.store import SessionStore
from chatimg.engine import ChatEngine
from tests.fakes import AppendRewriter, SolidPainter


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    store = SessionStore(tmp_path_factory.mktemp("sessions"))
    eng = ChatEngine(store, rewriter_factory=lambda s: AppendRewriter(), painter_factory=lambda s: SolidPainter())
    eng.run_turn("a red circle")
    eng.run_turn("make it green")
    return eng


def command_name(text: str) -> str:
    name = text.strip().lstrip("/").partition(" ")[0].lower()
    return ALIASES.get(name, name)


names = st.sampled_from(sorted(COMMANDS) + sorted(ALIASES)) | st.text(max_size=8)
args = st.sampled_from(["", "0", "-1", "1", "42", str(SEED_MAX), str(SEED_MAX + 1), "9" * 5000, "nan", "inf", "1e309",
                        "auto", "random", "latest", "..", "/etc", "0.5", "\x1b[2J", "\udcff"]) | st.text(max_size=12)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names, sep=st.sampled_from([" ", "  ", "\t", ""]), arg=args, lead=st.sampled_from(["/", " /", "//"]))
def test_any_slash_command_gives_a_result_or_a_one_line_error(engine, name, sep, arg, lead):
    text = f"{lead}{name}{sep}{arg}"
    assume(command_name(text) != "export")  # writes where it is told; tested on its own
    try:
        result = run_command(engine, text)
    except CommandError as exc:
        assert str(exc) and "Traceback" not in str(exc) and len(str(exc)) < 600
        assert "\x1b" not in str(exc)
    else:
        assert isinstance(result, CommandResult) and result.action in ("none", "reload", "quit", "sessions", "paint", "open")
    if engine.session.turns:
        engine.session.branch()
    seed = engine.session.settings.seed
    assert seed is None or 0 <= seed <= SEED_MAX
    Session.model_validate_json(engine.session.model_dump_json())


def test_seed_is_checked_like_everywhere_else(engine):
    assert run_command(engine, f"/seed {SEED_MAX}").message == f"seed set to {SEED_MAX} for the next turns"
    for bad in [str(SEED_MAX + 1), "99999999999999999999999", "-1", "x"]:
        with pytest.raises(CommandError, match="seed"):
            run_command(engine, f"/seed {bad}")
    assert engine.session.settings.seed == SEED_MAX
    run_command(engine, "/seed auto")
    assert engine.session.settings.seed is None


def test_turns_and_sessions_show_escape_codes_instead_of_obeying_them(tmp_path):
    store = SessionStore(tmp_path)
    eng = ChatEngine(store, rewriter_factory=lambda s: AppendRewriter(), painter_factory=lambda s: SolidPainter())
    eng.run_turn("evil \x1b]0;HACKED\x07 \x1b[31mred")
    for text in (run_command(eng, "/turns").message, run_command(eng, "/sessions").message):
        assert "\x1b" not in text and "\x07" not in text and "\\x1b]0;HACKED\\x07" in text


def test_sessions_lists_a_damaged_one_with_its_reason(tmp_path, engine):
    store = SessionStore(tmp_path)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "session.json").write_text("null")
    eng = ChatEngine(store)
    assert "broken  damaged: session.json holds null" in run_command(eng, "/sessions").message
    with pytest.raises(CommandError, match="damaged"):
        run_command(eng, "/resume broken")
