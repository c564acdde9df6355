"""Sessions on disk: one folder per session, ``session.json`` plus one PNG per turn.

Every write goes to a temporary file in the same folder, is fsynced, then renamed over
the target, so a crash leaves either the old file or the new one, never half of one.
The JSON carries ``"format"``; older formats are upgraded by ``MIGRATIONS`` on load.

A session *is* its folder: the id is the folder's name (a plain name, resolved only inside
the sessions folder, never through a symbolic link), so a copied folder is a session of its
own. Everything read from disk is checked before use (see ``read_session``); a session that
fails is reported as damaged with the reason, and the others are unaffected. One writer at a
time holds the session's lock (``chatimg.core.session_lock``); readers never wait.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from PIL import Image
from pydantic import ValidationError

from chatimg.core.model import FORMAT_VERSION, Session, Settings, Turn, is_plain_name, new_session_id
from chatimg.core.session_lock import LOCK_FILE, LockBusy, SessionLock
from chatimg.core.terminal_text import printable

SESSION_FILE = "session.json"
#: What ``chatimg sessions doctor --fix`` keeps of a session.json it rewrote.
BACKUP_FILE = "session.json.before-fix"
#: No real session comes near this; a bigger file is refused instead of read into memory.
MAX_SESSION_BYTES = 64 * 2**20
#: Names chatimg itself writes in a session folder (turn images, the atomic writes' temp files).
TURN_IMAGE = re.compile(r"turn-[0-9]{3,}\.png")
TEMP_FILE = re.compile(r"\..+\.tmp")
ID_HINT = "ids are plain names like 20261203-105149-3fa9, made of letters, digits, '-', '_' and '.'; `chatimg sessions` lists them"

#: format N -> function upgrading a format-N dict to format N+1. Append only.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}


class StoreError(Exception):
    """A session could not be found, read or written; the message says which and why."""


class SessionDamaged(StoreError):
    """A session's files fail the checks; ``reason`` is one line for listings."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SessionBusy(StoreError):
    """Another chatimg is writing the session."""


@dataclass(frozen=True)
class SessionSummary:
    id: str
    title: str
    turns: int
    updated: datetime
    path: Path
    #: Why the session cannot be opened, or None for a good one.
    damaged: str | None = None


@dataclass
class LoadedSession:
    session: Session
    #: Things the user should know (a copied folder became its own session, a bad setting was dropped).
    notes: list[str] = field(default_factory=list)
    #: Hash of the session.json read, to notice a change by another writer.
    digest: str = ""


def describe_validation_error(exc: ValidationError) -> str:
    """A pydantic error as one line: where (``turn 3 seed``) and what, plus how many more."""
    error = exc.errors()[0]
    parts: list[str] = []
    loc = list(error.get("loc", ()))
    while loc:
        key = loc.pop(0)
        if key == "turns" and loc and isinstance(loc[0], int):
            parts.append(f"turn {loc.pop(0)}")
        else:
            parts.append(str(key))
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    where = (parts[0] + (" " + ".".join(parts[1:]) if parts[1:] else "")) if parts else ""
    more = exc.error_count() - 1
    text = f"{where}: {message}" if where else message
    return printable(text + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def migrate(data: dict) -> dict:
    version = data.get("format", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise SessionDamaged(f"format {printable(repr(version))[:40]} is not a chatimg session format")
    if version > FORMAT_VERSION:
        shown = str(version) if version < 10**6 else "from the future"
        raise SessionDamaged(f"session format {shown} is newer than this chatimg understands ({FORMAT_VERSION})")
    while version < FORMAT_VERSION:
        data = MIGRATIONS[version](data)
        version = data["format"] = version + 1
    return data


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number chatimg saves")


def read_json_file(file: Path) -> tuple[dict, str]:
    """The object in a session.json and the hash of its bytes; ``SessionDamaged`` says why not.
    A symbolic link is not followed; size, encoding and nesting are bounded."""
    try:
        info = os.lstat(file)
    except FileNotFoundError:
        raise SessionDamaged(f"{SESSION_FILE} is missing") from None
    except OSError as exc:
        raise SessionDamaged(f"cannot read {SESSION_FILE}: {exc.strerror}") from None
    if stat.S_ISLNK(info.st_mode):
        raise SessionDamaged(f"{SESSION_FILE} is a symbolic link (chatimg does not follow links)")
    if not stat.S_ISREG(info.st_mode):
        raise SessionDamaged(f"{SESSION_FILE} is not a regular file")
    if info.st_size > MAX_SESSION_BYTES:
        raise SessionDamaged(f"{SESSION_FILE} is {info.st_size // 2**20} MiB, too big to be a session")
    try:
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as handle:
            raw = handle.read(MAX_SESSION_BYTES + 1)
    except OSError as exc:
        raise SessionDamaged(f"cannot read {SESSION_FILE}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SessionDamaged(f"{SESSION_FILE} is not UTF-8 text (bad byte at offset {exc.start})") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise SessionDamaged(f"{SESSION_FILE} is not valid JSON ({exc.msg}, line {exc.lineno} "
                             f"column {exc.colno})") from None
    except RecursionError:
        raise SessionDamaged(f"{SESSION_FILE} is nested too deeply to be a session") from None
    except ValueError as exc:  # a number too long to convert, NaN, Infinity
        reason = "a number is too long" if "digits" in str(exc) else str(exc)
        raise SessionDamaged(f"{SESSION_FILE} is not a session: {reason}") from None
    if not isinstance(data, dict):
        kind = {list: "a list", type(None): "null", str: "a string", bool: "true/false"}.get(type(data), "a number")
        raise SessionDamaged(f"{SESSION_FILE} holds {kind}, not a session")
    return data, hashlib.sha256(raw).hexdigest()


def parse_session(data: dict, folder_name: str) -> tuple[Session, list[str]]:
    """A checked ``Session`` from a session.json's object, identified by its folder's name.
    Settings out of range are dropped with a note (they are not turns); anything else wrong
    raises ``SessionDamaged``."""
    notes: list[str] = []
    data = migrate(dict(data))
    if not isinstance(data.get("turns"), list):
        raise SessionDamaged(f"{SESSION_FILE} has no list of turns")
    settings = data.get("settings")
    if settings is not None and not isinstance(settings, dict):
        notes.append("ignored the saved settings: they are not a set of values")
        data["settings"] = {}
    elif isinstance(settings, dict):
        kept = {}
        for name, value in settings.items():
            if name not in Settings.model_fields:
                continue
            try:
                Settings.model_validate({name: value})
            except ValidationError as exc:
                notes.append(f"ignored the saved {name} ({describe_validation_error(exc)}); it is auto now")
                continue
            kept[name] = value
        data["settings"] = kept
    stored_id = data.get("id")
    if stored_id != folder_name:
        if isinstance(stored_id, str) and stored_id:
            notes.append(f"this folder is a copy of session {printable(stored_id[:60])}: it is a session of its "
                         f"own now, {folder_name}, and the original is left as it was")
        data["id"] = folder_name
    try:
        return Session.model_validate(data), notes
    except ValidationError as exc:
        raise SessionDamaged(describe_validation_error(exc)) from None


class SessionStore:
    """List, load, save and delete sessions under one root folder."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    # -- where things are: every path of a session comes from here -----------------------
    def folder(self, session_id: str) -> Path:
        """The folder of session ``session_id``: a plain name, directly inside the root."""
        if not is_plain_name(session_id):
            raise StoreError(f"not a session id: {printable(repr(session_id))[:80]} ({ID_HINT})")
        return self.root / session_id

    def path(self, session_id: str) -> Path:
        return self.folder(session_id)

    def file_in(self, session_id: str, name: str) -> Path:
        """A file named by a session (a turn's image), checked to be a plain name in its folder."""
        if not is_plain_name(name):
            raise StoreError(f"session {session_id} names a file outside its folder: {printable(repr(name))[:80]}")
        return self.folder(session_id) / name

    def image_path(self, session: Session, turn: Turn) -> Path | None:
        return self.file_in(session.id, turn.image) if turn.image else None

    def is_session_folder(self, session_id: str) -> bool:
        try:
            return stat.S_ISDIR(os.lstat(self.folder(session_id)).st_mode)
        except (OSError, StoreError):
            return False

    def inside(self, path: str | os.PathLike) -> bool:
        """Whether ``path`` (followed through links) lies inside the sessions folder."""
        try:
            Path(path).expanduser().resolve().relative_to(self.root.resolve())
        except ValueError:
            return False
        return True

    def readable_file(self, session_id: str, name: str) -> Path:
        """A file of the session to read (a turn's image): a plain file in its folder, not a link."""
        path = self.file_in(session_id, name)
        try:
            info = os.lstat(path)
        except OSError:
            raise StoreError(f"{name} is missing from session {session_id}") from None
        if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
            raise StoreError(f"{name} in session {session_id} is not a plain file; not reading it")
        return path

    def check_outside(self, target: Path) -> None:
        """Make ready to write ``target`` outside the sessions folder (never over a session's own
        files), creating its folder; a path that cannot be is a ``StoreError`` that says why."""
        if self.inside(target):
            raise StoreError(f"will not write {target} inside the sessions folder {self.root}; "
                             "export somewhere else")
        for folder in [target.parent, *target.parent.parents]:
            if os.path.lexists(folder):
                if not folder.is_dir():
                    raise StoreError(f"cannot write {target}: {folder} is a file, not a folder")
                break
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot write {target}: {exc.strerror or exc}") from None

    # -- writing -----------------------------------------------------------------------
    def lock(self, session_id: str, wait: float = 0.0) -> SessionLock:
        """The writer's lock on an existing session folder; ``SessionBusy`` if someone has it."""
        folder = self.folder(session_id)
        self._check_folder(session_id)
        try:
            return SessionLock(folder).acquire(wait)
        except LockBusy as busy:
            who = (" (in this same process)" if busy.owner == os.getpid() else
                   f" (pid {busy.owner})" if busy.owner else "")
            raise SessionBusy(f"session {session_id} is open in another chatimg{who}: close it there first, "
                              f"or copy its folder to work on a copy") from None
        except OSError as exc:
            raise StoreError(f"cannot lock session {session_id}: {exc.strerror or exc}") from None

    def claim_new(self, session: Session) -> SessionLock:
        """Create a new session's folder and lock it; a taken id is replaced by a fresh one."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise StoreError(f"cannot save sessions in {self.root}: it is a file, not a folder") from None
        except OSError as exc:
            raise StoreError(f"cannot save sessions in {self.root}: {exc.strerror or exc}") from None
        for _ in range(100):
            try:
                self.folder(session.id).mkdir()
            except FileExistsError:
                session.id = new_session_id()
                continue
            return self.lock(session.id)
        raise StoreError(f"cannot find a free session id in {self.root}")  # pragma: no cover

    def save(self, session: Session) -> Path:
        target = self.folder(session.id) / SESSION_FILE
        payload = session.model_dump_json(indent=2).encode()
        atomic_write_bytes(target, payload)
        return target

    def save_image(self, session: Session, turn_index: int, image: Image.Image, pnginfo: Any = None) -> str:
        """Write the PNG for a turn (before the JSON that refers to it), with the text chunks in
        ``pnginfo`` (a ``PngInfo``: how it was made); returns its name."""
        name = f"turn-{turn_index:03d}.png"
        if any(turn.image == name for turn in session.turns):  # a hand-edited session: never overwrite
            raise StoreError(f"{name} in session {session.id} already belongs to another turn; "
                             "`chatimg sessions doctor` says more")
        from io import BytesIO

        buffer = BytesIO()
        image.save(buffer, format="PNG", pnginfo=pnginfo)
        atomic_write_bytes(self.file_in(session.id, name), buffer.getvalue())
        return name

    def save_original(self, session: Session, suffix: str, data: bytes) -> str:
        """Keep the bytes of a picture the person opened, untouched; returns the file's name."""
        name = f"original{suffix.lower() if suffix[1:].isalnum() else ''}"
        atomic_write_bytes(self.path(session.id) / name, data)
        return name

    def delete(self, session_id: str) -> None:
        """Delete one session folder, named by its exact id, when no one is writing it. A folder
        without a session.json goes only when it holds nothing but files chatimg writes."""
        if not session_id:
            raise StoreError(f"give the id of the session to delete ({ID_HINT})")
        folder = self.folder(session_id)
        self._check_folder(session_id)
        names = os.listdir(folder)
        if SESSION_FILE not in names:
            strangers = [n for n in names if not is_chatimg_file(n)]
            if strangers:
                raise StoreError(f"{folder} is not a session folder (it holds {printable(strangers[0])!s}); "
                                 "not deleting it")
        lock = self.lock(session_id)
        try:
            if os.name == "nt":  # pragma: no cover - an open file cannot be deleted there
                lock.release()
            shutil.rmtree(folder)
        except OSError as exc:
            raise StoreError(f"cannot delete {folder}: {exc.strerror or exc}") from None
        finally:
            lock.release()

    # -- reading -----------------------------------------------------------------------
    def _check_folder(self, session_id: str) -> None:
        folder = self.folder(session_id)
        try:
            info = os.lstat(folder)
        except FileNotFoundError:
            raise StoreError(f"no session {session_id!r} in {self.root} (try `chatimg sessions`)") from None
        except OSError as exc:
            raise StoreError(f"cannot read {folder}: {exc.strerror or exc}") from None
        if stat.S_ISLNK(info.st_mode):
            raise SessionDamaged(f"{session_id} is a symbolic link, not a session folder (chatimg does not "
                                 "follow links)")
        if not stat.S_ISDIR(info.st_mode):
            raise StoreError(f"{folder} is not a session folder")

    def check_images(self, session_id: str, session: Session) -> None:
        for turn in session.turns:
            if not turn.image:
                continue
            try:
                info = os.lstat(self.file_in(session_id, turn.image))
            except FileNotFoundError:
                raise SessionDamaged(f"turn {turn.index}'s image {turn.image} is missing") from None
            except OSError as exc:
                raise SessionDamaged(f"turn {turn.index}'s image {turn.image}: {exc.strerror}") from None
            if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
                raise SessionDamaged(f"turn {turn.index}'s image {turn.image} is not a plain file in the folder")

    def inspect(self, session_id: str) -> LoadedSession:
        """Read and check one session by its exact id; ``SessionDamaged`` says what is wrong."""
        self._check_folder(session_id)
        data, digest = read_json_file(self.folder(session_id) / SESSION_FILE)
        session, notes = parse_session(data, session_id)
        self.check_images(session_id, session)
        return LoadedSession(session, notes, digest)

    def digest(self, session_id: str) -> str | None:
        """The hash of the session.json on disk now (None when there is none to read)."""
        try:
            return read_json_file(self.folder(session_id) / SESSION_FILE)[1]
        except StoreError:
            return None

    def load_checked(self, session_id: str) -> LoadedSession:
        """Load by id, unique id prefix, or ``latest``, with the notes the user should see."""
        session_id = self.resolve(session_id)
        try:
            return self.inspect(session_id)
        except SessionDamaged as exc:
            raise SessionDamaged(f"session {session_id} is damaged: {exc.reason} "
                                 "(`chatimg sessions doctor` says more)") from None

    def load(self, session_id: str) -> Session:
        """Load by id, unique id prefix, or ``latest``."""
        return self.load_checked(session_id).session

    def load_image(self, session: Session, turn: Turn) -> Image.Image | None:
        path = self.image_path(session, turn)
        if path is None:
            return None
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
            with os.fdopen(fd, "rb") as handle, Image.open(handle) as img:
                return img.convert("RGB")
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise StoreError(f"cannot read image {path}: {exc}") from exc

    def resolve(self, session_id: str) -> str:
        """The id of an existing session folder from an id, a unique prefix of one, or ``latest``."""
        if session_id == "latest":
            good = [s for s in self.list() if s.damaged is None]
            if not good:
                raise StoreError(f"no saved sessions in {self.root}")
            return good[0].id
        if not session_id:
            raise StoreError(f"give a session id ({ID_HINT})")
        self.folder(session_id)  # a plain name, or an error that says what an id is
        if os.path.lexists(self.root / session_id):
            return session_id
        matches = [name for name in self._session_names() if name.startswith(session_id)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise StoreError(f"session id {session_id!r} is ambiguous: {', '.join(matches[:5])}")
        raise StoreError(f"no session {session_id!r} in {self.root} (try `chatimg sessions`)")

    def _session_names(self) -> list[str]:
        """Names in the root that hold a session.json (or are links, which are reported)."""
        try:
            entries = sorted(os.scandir(self.root), key=lambda e: e.name)
        except OSError:
            return []
        return [e.name for e in entries if not e.name.startswith(".")
                and (e.is_symlink() or os.path.lexists(os.path.join(e.path, SESSION_FILE)))]

    def list(self) -> list[SessionSummary]:
        """Every session, most recently changed first; a damaged one says why instead of hiding."""
        summaries = []
        for name in self._session_names():
            folder = self.root / name
            try:
                if not is_plain_name(name):
                    raise SessionDamaged(f"the folder name is not a session id: rename it ({ID_HINT})")
                loaded = self.inspect(name)
            except StoreError as exc:
                summaries.append(SessionSummary(name, "", 0, _mtime(folder), folder,
                                                damaged=getattr(exc, "reason", str(exc))))
                continue
            session = loaded.session
            summaries.append(SessionSummary(session.id, session.title, len(session.turns), session.updated,
                                            folder))
        return sorted(summaries, key=lambda s: s.updated, reverse=True)


def _mtime(path: Path) -> datetime:
    try:
        seconds = os.lstat(path / SESSION_FILE).st_mtime
    except OSError:
        try:
            seconds = os.lstat(path).st_mtime
        except OSError:
            seconds = 0.0
    return datetime.fromtimestamp(seconds, timezone.utc)


def is_chatimg_file(name: str) -> bool:
    """A name chatimg writes in a session folder."""
    return (name in (SESSION_FILE, BACKUP_FILE, LOCK_FILE) or TURN_IMAGE.fullmatch(name) is not None
            or TEMP_FILE.fullmatch(name) is not None)
