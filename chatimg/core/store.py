"""Sessions on disk: one folder per session, ``session.json`` plus one PNG per turn.

Every write goes to a temporary file in the same folder, is fsynced, then renamed over
the target, so a crash leaves either the old file or the new one, never half of one.
The JSON carries ``"format"``; older formats are upgraded by ``MIGRATIONS`` on load.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image
from pydantic import ValidationError

from chatimg.core.model import FORMAT_VERSION, Session, Turn

SESSION_FILE = "session.json"

#: format N -> function upgrading a format-N dict to format N+1. Append only.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}


class StoreError(Exception):
    """A session could not be found, read or written; the message says which and why."""


@dataclass(frozen=True)
class SessionSummary:
    id: str
    title: str
    turns: int
    updated: datetime
    path: Path


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
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise StoreError(f"session format {version!r} is newer than this chatimg understands ({FORMAT_VERSION})")
    while version < FORMAT_VERSION:
        data = MIGRATIONS[version](data)
        version = data["format"] = version + 1
    return data


class SessionStore:
    """List, load, save and delete sessions under one root folder."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def path(self, session_id: str) -> Path:
        return self.root / session_id

    def image_path(self, session: Session, turn: Turn) -> Path | None:
        return self.path(session.id) / turn.image if turn.image else None

    # -- writing -----------------------------------------------------------------------
    def save(self, session: Session) -> Path:
        target = self.path(session.id) / SESSION_FILE
        payload = session.model_dump_json(indent=2).encode()
        atomic_write_bytes(target, payload)
        return target

    def save_image(self, session: Session, turn_index: int, image: Image.Image, pnginfo: Any = None) -> str:
        """Write the PNG for a turn (before the JSON that refers to it), with the text chunks in
        ``pnginfo`` (a ``PngInfo``: how it was made); returns its name."""
        name = f"turn-{turn_index:03d}.png"
        from io import BytesIO

        buffer = BytesIO()
        image.save(buffer, format="PNG", pnginfo=pnginfo)
        atomic_write_bytes(self.path(session.id) / name, buffer.getvalue())
        return name

    def save_original(self, session: Session, suffix: str, data: bytes) -> str:
        """Keep the bytes of a picture the person opened, untouched; returns the file's name."""
        name = f"original{suffix.lower() if suffix[1:].isalnum() else ''}"
        atomic_write_bytes(self.path(session.id) / name, data)
        return name

    def delete(self, session_id: str) -> None:
        folder = self.path(session_id)
        if not (folder / SESSION_FILE).is_file():
            raise StoreError(f"no session {session_id!r} in {self.root}")
        shutil.rmtree(folder)

    # -- reading -----------------------------------------------------------------------
    def load(self, session_id: str) -> Session:
        """Load by id, unique id prefix, or ``latest``."""
        session_id = self.resolve(session_id)
        file = self.path(session_id) / SESSION_FILE
        try:
            data = json.loads(file.read_text())
        except FileNotFoundError:
            raise StoreError(f"no session {session_id!r} in {self.root}") from None
        except (OSError, json.JSONDecodeError) as exc:
            raise StoreError(f"cannot read {file}: {exc}") from exc
        try:
            return Session.model_validate(migrate(data))
        except ValidationError as exc:
            raise StoreError(f"{file} is not a valid session: {exc.error_count()} problem(s), "
                             f"first: {exc.errors()[0]['msg']}") from exc

    def load_image(self, session: Session, turn: Turn) -> Image.Image | None:
        path = self.image_path(session, turn)
        if path is None:
            return None
        try:
            with Image.open(path) as img:
                return img.convert("RGB")
        except (OSError, ValueError) as exc:
            raise StoreError(f"cannot read image {path}: {exc}") from exc

    def resolve(self, session_id: str) -> str:
        if session_id == "latest":
            summaries = self.list()
            if not summaries:
                raise StoreError(f"no saved sessions in {self.root}")
            return summaries[0].id
        if (self.path(session_id) / SESSION_FILE).is_file():
            return session_id
        matches = [s.id for s in self.list() if s.id.startswith(session_id)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise StoreError(f"session id {session_id!r} is ambiguous: {', '.join(matches[:5])}")
        raise StoreError(f"no session {session_id!r} in {self.root} (try `chatimg sessions`)")

    def list(self) -> list[SessionSummary]:
        """All readable sessions, most recently changed first; unreadable ones are skipped."""
        if not self.root.is_dir():
            return []
        summaries = []
        for file in self.root.glob(f"*/{SESSION_FILE}"):
            try:
                data = json.loads(file.read_text())
                session = Session.model_validate(migrate(data))
            except (OSError, ValueError, StoreError):
                continue
            summaries.append(SessionSummary(session.id, session.title, len(session.turns),
                                            session.updated, file.parent))
        return sorted(summaries, key=lambda s: s.updated, reverse=True)
