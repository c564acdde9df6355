"""Slash commands (``/undo``, ``/seed 42``…), parsed and applied without any UI.

``run_command`` returns a ``CommandResult``: a message for the transcript plus what the
front end should do next (repaint the transcript, start a direct-prompt turn, quit…).
Bad input raises ``CommandError`` with a message meant for the user.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from chatimg.core.model import SEED_MAX, parse_seed
from chatimg.core.store import StoreError
from chatimg.core.terminal_text import printable
from chatimg.engine import ChatEngine

Action = Literal["none", "reload", "quit", "sessions", "paint", "open"]


class CommandError(Exception):
    """The command or its argument is wrong; the message says how to fix it."""


@dataclass
class CommandResult:
    message: str = ""
    action: Action = "none"
    text: str = ""  # the prompt for action == "paint", the path for "open"


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    help: str
    handler: Callable[[ChatEngine, str], CommandResult]


def _number(arg: str, kind: type, name: str, low: float, high: float) -> int | float | None:
    if arg.lower() in {"auto", "default", "off", "none"}:
        return None
    shown = printable(arg[:30] + ("…" if len(arg) > 30 else ""))
    try:
        value = kind(arg)
    except ValueError:
        raise CommandError(f"/{name} needs a {'whole ' if kind is int else ''}number "
                           f"from {low} to {high}, or 'auto' (got {shown!r})") from None
    if not low <= value <= high:  # NaN is never in range
        raise CommandError(f"/{name} must be between {low} and {high} (got {shown})")
    return value


def _setting(name: str, kind: type, low: float, high: float, unit: str) -> Callable[[ChatEngine, str], CommandResult]:
    def handler(engine: ChatEngine, arg: str) -> CommandResult:
        if not arg:
            current = getattr(engine.session.settings, name)
            return CommandResult(f"{name} is {current if current is not None else 'auto'}{unit}")
        value = _number(arg, kind, name, low, high)
        _set(engine, name, value)
        return CommandResult(f"{name} set to {value if value is not None else 'auto'}{unit} for the next turns")

    return handler


def _seed(engine: ChatEngine, arg: str) -> CommandResult:
    if arg.lower() == "random":
        _set(engine, "seed", None)
        return CommandResult("seed: each new session draws a random seed; turns keep it")
    if not arg or arg.lower() in {"auto", "default", "off", "none"}:
        return _setting("seed", int, 0, SEED_MAX, "")(engine, arg)
    try:
        seed = parse_seed(arg)
    except ValueError as exc:
        raise CommandError(f"/seed: {exc}") from None
    _set(engine, "seed", seed)
    return CommandResult(f"seed set to {seed} for the next turns")


def _set(engine: ChatEngine, name: str, value: object) -> None:
    try:
        engine.set_setting(name, value)
    except StoreError as exc:
        raise CommandError(str(exc)) from None


def _undo(engine: ChatEngine, arg: str) -> CommandResult:
    if engine.session.current() is None:
        raise CommandError("nothing to undo")
    try:
        turn = engine.undo()
    except StoreError as exc:
        raise CommandError(str(exc)) from None
    where = f"turn {turn.index}: {printable(turn.edit.prompt)}" if turn else "the empty canvas"
    return CommandResult(f"undone: back to {where}", "reload")


def _goto(engine: ChatEngine, arg: str) -> CommandResult:
    index = _number(arg or "x", int, "goto", 0, max(0, len(engine.session.turns) - 1))
    if index is None or not engine.session.turns:
        raise CommandError("/goto needs a turn number")
    turn = engine.session.checkout(int(index))
    try:
        engine.save()
    except StoreError as exc:
        raise CommandError(str(exc)) from None
    return CommandResult(f"back at turn {turn.index}; the next turn branches from here", "reload")


def _turns(engine: ChatEngine, arg: str) -> CommandResult:
    session = engine.session
    if not session.turns:
        return CommandResult("no turns yet")
    on_branch = {t.index for t in session.branch()}
    lines = []
    for turn in session.turns:
        marker = "▶" if turn.index == session.head else ("•" if turn.index in on_branch else " ")
        parent = "root" if turn.parent is None else f"after {turn.parent}"
        lines.append(f"{marker} {turn.index:>3} ({parent}): {printable(turn.user)}  →  {printable(turn.edit.prompt)}")
    return CommandResult("\n".join(lines) + "\n▶ current  • on the current branch   /goto N to go back")


def _new(engine: ChatEngine, arg: str) -> CommandResult:
    engine.new_session()
    return CommandResult("new session: describe an image to start", "reload")


def _prompt(engine: ChatEngine, arg: str) -> CommandResult:
    if not arg:
        current = engine.session.current_prompt()
        return CommandResult(f"prompt: {printable(current)}" if current else "no prompt yet: /prompt TEXT paints TEXT as is")
    return CommandResult(action="paint", text=arg)


def _path_and_flags(arg: str, flags: set[str]) -> tuple[str, set[str]]:
    """A path (quoted when it has spaces) and the ``--flags`` given after it."""
    try:
        words = shlex.split(arg)
    except ValueError:
        words = arg.split()
    given = {w.lstrip("-") for w in words if w.startswith("--") and w.lstrip("-") in flags}
    rest = [w for w in words if not (w.startswith("--") and w.lstrip("-") in flags)]
    return " ".join(rest), given


def _export(engine: ChatEngine, arg: str) -> CommandResult:
    path, flags = _path_and_flags(arg, {"force", "strip"})
    if not path:
        raise CommandError("/export needs a path: ~/circle.png, .gif/.webp (every turn), .md (a page), "
                           "or a folder; --force overwrites, --strip leaves out how it was made")
    fmt = "sheet" if Path(path).stem.lower().endswith("sheet") and Path(path).suffix.lower() == ".png" else None
    try:
        written = engine.export(path, fmt=fmt, force="force" in flags, strip="strip" in flags)
    except (ValueError, OSError, StoreError) as exc:
        raise CommandError(f"cannot export: {exc}") from exc
    return CommandResult(f"exported {written}")


def _open(engine: ChatEngine, arg: str) -> CommandResult:
    path, _ = _path_and_flags(arg, set())
    if not path:
        raise CommandError("/open needs a picture's path, e.g. /open ~/photo.png")
    return CommandResult(f"opening {path}…", "open", text=path)


def _resume(engine: ChatEngine, arg: str) -> CommandResult:
    try:
        session = engine.resume(arg or "latest")
    except StoreError as exc:
        raise CommandError(str(exc)) from exc
    notes = "".join(f"\nnote: {printable(note)}" for note in engine.notes)
    return CommandResult(f"resumed {session.id}: {printable(session.title)} ({len(session.turns)} turns){notes}",
                         "reload")


def _sessions(engine: ChatEngine, arg: str) -> CommandResult:
    summaries = engine.store.list()
    if not summaries:
        return CommandResult(f"no saved sessions in {engine.store.root}")
    lines = [f"{printable(s.id)}  damaged: {printable(s.damaged)}" if s.damaged else
             f"{s.id}  {s.turns:>3} turns  {s.updated:%Y-%m-%d %H:%M}  {printable(s.title)}" for s in summaries[:20]]
    return CommandResult("\n".join(lines) + "\n/resume ID to open one", "sessions")


def _help(engine: ChatEngine, arg: str) -> CommandResult:
    width = max(len(c.usage) for c in COMMANDS.values())
    lines = [f"{c.usage:<{width}}  {c.help}" for c in COMMANDS.values()]
    return CommandResult("Type what to paint or change. Commands:\n" + "\n".join(lines))


def _quit(engine: ChatEngine, arg: str) -> CommandResult:
    return CommandResult("bye", "quit")


COMMANDS: dict[str, Command] = {c.name: c for c in [
    Command("help", "/help", "this list", _help),
    Command("undo", "/undo", "go back one turn (the undone turn stays saved as a branch)", _undo),
    Command("turns", "/turns", "every turn of this session, branches included", _turns),
    Command("goto", "/goto N", "go back to turn N and branch from there", _goto),
    Command("new", "/new", "start a new session", _new),
    Command("prompt", "/prompt TEXT", "paint TEXT exactly, no LLM rewrite", _prompt),
    Command("seed", "/seed N|random", "fix the seed (same seed + prompt = same image)", _seed),
    Command("strength", "/strength X|auto", "how much each edit may change, 0.05-1 (auto: the LLM decides)",
            _setting("strength", float, 0.05, 1.0, "")),
    Command("steps", "/steps N|auto", "denoising steps per image", _setting("steps", int, 1, 200, "")),
    Command("guidance", "/guidance X|auto", "how strictly to follow the prompt (CFG scale)",
            _setting("guidance", float, 0.0, 30.0, "")),
    Command("open", "/open PATH", "start a new session from your own picture", _open),
    Command("export", "/export PATH", "save the picture (.png), every turn (.gif/.webp), a contact sheet "
            "(…sheet.png) or a page (.md); --force, --strip", _export),
    Command("sessions", "/sessions", "list saved sessions", _sessions),
    Command("resume", "/resume ID|latest", "open a saved session", _resume),
    Command("quit", "/quit", "leave (everything is already saved)", _quit),
]}

ALIASES = {"q": "quit", "exit": "quit", "h": "help", "?": "help", "u": "undo", "ls": "sessions", "p": "prompt"}


def is_command(text: str) -> bool:
    return text.lstrip().startswith("/")


def run_command(engine: ChatEngine, text: str) -> CommandResult:
    name, _, arg = text.strip().lstrip("/").partition(" ")
    name = ALIASES.get(name.lower(), name.lower())
    command = COMMANDS.get(name)
    if command is None:
        close = [c for c in COMMANDS if c.startswith(name[:2])] if name else []
        hint = f" (did you mean /{close[0]}?)" if close else ""
        raise CommandError(f"unknown command /{printable(name[:30])}{hint}; /help lists them")
    return command.handler(engine, arg.strip())
