"""``chatimg sessions doctor``: find damaged sessions and the clutter crashes leave, and tidy up.

What it may change, and only with ``fix``: a broken head or parent link (the turn stays, as a
root or with the newest turn as head), a turn's missing image (the turn stays, without it),
settings out of range, temp files of interrupted saves, images of turns that were never saved,
and folders holding nothing but such leftovers. A rewritten session.json is kept first as
``session.json.before-fix``. A good turn is never changed, a file chatimg did not write is never
removed, and a session another chatimg has open is left alone.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from chatimg.core.model import is_plain_name
from chatimg.core.session_lock import LOCK_FILE, SessionLock
from chatimg.core.store import (
    BACKUP_FILE,
    SESSION_FILE,
    TEMP_FILE,
    TURN_IMAGE,
    SessionBusy,
    SessionDamaged,
    SessionStore,
    StoreError,
    atomic_write_bytes,
    is_chatimg_file,
    migrate,
    parse_session,
    read_json_file,
)
from chatimg.core.terminal_text import printable


@dataclass
class Finding:
    kind: str  # "damaged" | "clutter" | "unknown" | "busy"
    path: str  # relative to the sessions folder
    problem: str
    fix: str | None = None  # what fixing does; None: nothing chatimg may do
    fixed: bool = False


def examine(store: SessionStore, fix: bool = False) -> list[Finding]:
    """Every problem under the sessions folder, fixed as it is found when ``fix``."""
    try:
        entries = sorted(os.scandir(store.root), key=lambda e: e.name)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StoreError(f"cannot read {store.root}: {exc.strerror or exc}") from None
    findings: list[Finding] = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        name = printable(entry.name)
        if entry.is_symlink():
            findings.append(Finding("damaged", name, "a symbolic link, not a session folder (chatimg does not "
                                    "follow links); remove it yourself if it is not needed"))
        elif not entry.is_dir(follow_symlinks=False):
            findings.append(Finding("unknown", name, "a file chatimg did not write; left alone"))
        elif not os.path.lexists(os.path.join(entry.path, SESSION_FILE)):
            findings += _folder_without_session(store, entry.name, fix)
        elif not is_plain_name(entry.name):
            findings.append(Finding("damaged", name, "the folder name is not a session id: rename it (letters, "
                                    "digits, '-', '_', '.')"))
        else:
            findings += _session(store, entry.name, fix)
    return findings


def _try_lock(store: SessionStore, name: str) -> SessionLock | None:
    try:
        return store.lock(name)
    except SessionBusy:
        return None


def _folder_without_session(store: SessionStore, name: str, fix: bool) -> list[Finding]:
    folder = store.root / name
    strangers = [n for n in os.listdir(folder) if not is_chatimg_file(n)]
    if strangers or not is_plain_name(name):
        return [Finding("unknown", printable(name), "a folder without a session.json, holding files chatimg did "
                        "not write; left alone")]
    finding = Finding("clutter", printable(name), "a folder without a session.json (a first turn that never "
                      "finished saving)", "remove the folder")
    if fix:
        lock = _try_lock(store, name)
        if lock is None:
            return [Finding("busy", printable(name), "being written by another chatimg right now; left alone")]
        try:
            shutil.rmtree(folder)
            finding.fixed = True
        finally:
            lock.release()
    return [finding]


def _session(store: SessionStore, name: str, fix: bool) -> list[Finding]:
    lock = _try_lock(store, name) if fix else None
    if fix and lock is None:
        return [Finding("busy", name, "open in another chatimg; not checked (run doctor again when it is closed)")]
    try:
        return _check_session(store, name, lock is not None)
    finally:
        if lock is not None:
            lock.release()


def _check_session(store: SessionStore, name: str, fix: bool) -> list[Finding]:
    findings: list[Finding] = []
    try:
        loaded = store.inspect(name)
        session = loaded.session
        for note in loaded.notes:
            if note.startswith("ignored"):
                findings.append(Finding("damaged", name, note, "save the session without it", fixed=fix))
        if fix and findings:
            store.save(session)
    except SessionDamaged as exc:
        finding = Finding("damaged", name, exc.reason)
        findings.append(finding)
        repaired = _repair(store, name)
        if repaired is None:
            finding.fix = None
            finding.problem += "; cannot be repaired without losing turns: delete it (chatimg sessions delete " \
                               f"{name}) or mend session.json by hand"
            return findings
        session, what = repaired
        finding.fix = what
        if not fix:
            return findings
        folder = store.folder(name)
        original = (folder / SESSION_FILE).read_bytes()
        if not os.path.lexists(folder / BACKUP_FILE):
            atomic_write_bytes(folder / BACKUP_FILE, original)
        store.save(session)
        finding.fixed = True
    referenced = {turn.image for turn in session.turns if turn.image}
    folder = store.folder(name)
    for file in sorted(os.listdir(folder)):
        path = folder / file
        shown = f"{name}/{printable(file)}"
        if TEMP_FILE.fullmatch(file):
            findings.append(_remove(path, Finding("clutter", shown, "the temp file of an interrupted save",
                                                  "remove it"), fix))
        elif TURN_IMAGE.fullmatch(file) and file not in referenced:
            findings.append(_remove(path, Finding("clutter", shown, "the image of a turn that was never saved "
                                                  "(a crash before the session file)", "remove it"), fix))
        elif not (file in (SESSION_FILE, BACKUP_FILE, LOCK_FILE) or file in referenced):
            findings.append(Finding("unknown", shown, "a file chatimg did not write; left alone"))
    return findings


def _remove(path: Path, finding: Finding, fix: bool) -> Finding:
    if fix and stat.S_ISREG(os.lstat(path).st_mode):
        path.unlink()
        finding.fixed = True
    elif fix:
        finding.fix = None
        finding.problem += " (not a plain file; left alone)"
    return finding


def _repair(store: SessionStore, name: str):
    """The session with its tree and image links mended, and what was done; None when it needs
    more than that (the file is not a session, or a turn itself is broken)."""
    try:
        data, _ = read_json_file(store.folder(name) / SESSION_FILE)
        data = migrate(dict(data))
    except StoreError:
        return None
    turns = data.get("turns")
    if not isinstance(turns, list) or not all(isinstance(t, dict) for t in turns):
        return None
    done: list[str] = []
    turns = [dict(t) for t in turns]
    for position, turn in enumerate(turns):
        if turn.get("index") != position:
            done.append(f"turn at position {position} numbered {position}")
            turn["index"] = position
        parent = turn.get("parent")
        if parent is not None and not (isinstance(parent, int) and not isinstance(parent, bool)
                                       and 0 <= parent < position):
            done.append(f"turn {position}'s broken parent link cut (it starts a branch)")
            turn["parent"] = None
        image = turn.get("image")
        if image is not None and not _plain_file(store, name, image):
            done.append(f"turn {position}'s missing image {printable(str(image))[:40]} unlinked (the turn stays)")
            turn["image"] = None
    data["turns"] = turns
    head = data.get("head")
    if head is not None and not (isinstance(head, int) and not isinstance(head, bool) and 0 <= head < len(turns)):
        data["head"] = len(turns) - 1 if turns else None
        done.append(f"head set to {'the newest turn' if turns else 'the empty canvas'}")
    try:
        session, notes = parse_session(data, name)
        store.check_images(name, session)
    except StoreError:
        return None
    done += [note for note in notes if note.startswith("ignored")]
    if not done:
        return None
    return session, "; ".join(done)


def _plain_file(store: SessionStore, name: str, image: object) -> bool:
    if not isinstance(image, str) or not is_plain_name(image):
        return False
    try:
        return stat.S_ISREG(os.lstat(store.folder(name) / image).st_mode)
    except OSError:
        return False
