"""One writer per session: an advisory lock on a file in the session's folder.

The operating system's own lock (``flock`` on POSIX, ``msvcrt.locking`` on Windows) is held
on an open file, so it ends with the process that holds it: a crashed or killed chatimg never
leaves a stale lock behind. The holder writes its pid into the file so a refused writer can
say who has the session. Readers never take the lock: every write is an atomic rename, so a
reader sees the old file or the new one.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

LOCK_FILE = ".lock"

if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    _LOCKED_BYTE = 1 << 20  # beyond the pid text, so a refused writer can still read it

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, _LOCKED_BYTE, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, _LOCKED_BYTE, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class LockBusy(Exception):
    """Another process (or another engine in this one) is writing the session."""

    def __init__(self, path: Path, owner: int | None) -> None:
        self.path = path
        self.owner = owner
        super().__init__(f"{path.parent.name} is open in another chatimg"
                         + (f" (pid {owner})" if owner else ""))


def lock_owner(path: Path) -> int | None:
    """The pid written by the lock's holder, if there is one to read."""
    try:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        text = os.read(fd, 32).decode("ascii", "replace").strip()
    except OSError:
        return None
    finally:
        os.close(fd)
    return int(text) if text.isdigit() else None


class SessionLock:
    """An exclusive, advisory lock on ``folder/.lock``; ``acquire`` raises ``LockBusy``."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / LOCK_FILE
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, wait: float = 0.0) -> SessionLock:
        """Take the lock, trying for up to ``wait`` seconds; a symlink in its place is refused."""
        if self._fd is not None:
            return self
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(self.path, flags, 0o644)
        deadline = time.monotonic() + max(0.0, wait)
        try:
            while not _try_lock(fd):
                if time.monotonic() >= deadline:
                    raise LockBusy(self.path, lock_owner(self.path))
                time.sleep(0.05)
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, str(os.getpid()).encode())
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
            _unlock(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    def __enter__(self) -> SessionLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __del__(self) -> None:
        self.release()
