"""Text from sessions is shown, never obeyed, by the terminal."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chatimg.core.terminal_text import one_line, printable


def test_control_sequences_become_visible_escapes():
    assert printable("evil \x1b]0;HACKED\x07 \x1b[31mred") == "evil \\x1b]0;HACKED\\x07 \\x1b[31mred"
    assert printable("csi \x9b2J, del \x7f, nul \x00") == "csi \\x9b2J, del \\x7f, nul \\x00"
    assert printable("bidi \u202eevil") == "bidi \\u202eevil"
    assert printable("lone \udcff") == "lone \\udcff"
    assert printable("a\nb") == "a\\x0ab" and printable("a\nb", keep_newlines=True) == "a\nb"


def test_ordinary_text_is_left_as_it_is():
    text = "a café, 猫, 🎨 — “quotes” and tabs\u00a0spaces"
    assert printable(text) == text


def test_one_line_folds_and_shortens():
    assert one_line("first\n  second\r\nthird") == "first second third"
    assert len(one_line("x" * 1000)) == 400


@given(st.text())
def test_nothing_a_terminal_obeys_survives(text):
    shown = printable(text, keep_newlines=True)
    assert not any((ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) < 0xa0 or 0xd800 <= ord(c) < 0xe000
                   for c in shown)
    shown.encode("utf-8")
