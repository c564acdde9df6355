"""Text that came from a session file, a model or a user, made safe to show in a terminal.

A turn may hold escape sequences (a shared session, a model's reply); printed raw they would
retitle, recolour or clear the terminal. ``printable`` shows every control character as a
visible escape (``\\x1b``) instead, so the CLI, ``chatimg sessions`` and the TUI show what is
there without obeying it.
"""

from __future__ import annotations

import unicodedata

#: Invisible characters that reorder or hide text (bidi overrides, line separators).
_FORMAT_CONTROLS = {*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x2028, 0x2029, 0x061C}


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, *, keep_newlines: bool = False) -> str:
    """``text`` with control, bidi and unpaired surrogate characters written as visible escapes;
    ``keep_newlines`` keeps ``\\n`` as a line break (multi-line messages)."""
    text = str(text)
    out = []
    for char in text:
        if char == "\n" and keep_newlines:
            out.append(char)
        elif unicodedata.category(char) in ("Cc", "Cs") or ord(char) in _FORMAT_CONTROLS:
            out.append(_escape(char))
        else:
            out.append(char)
    return "".join(out)


def one_line(text: object, limit: int = 400) -> str:
    """An error message as one printable line: line breaks folded, very long ones shortened."""
    line = " ".join(str(text).split())
    if len(line) > limit:
        line = line[: limit - 1] + "…"
    return printable(line)
