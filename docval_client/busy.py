"""One validation at a time per reader: ``docval-client read`` holds an advisory lock
(``flock``) on ``$TMPDIR/docval-client.<reader>.lock`` for the reader it uses, so two readers
on one desk work side by side; the SDK's workflow holds ``$TMPDIR/docval-client.lock`` and
refuses a new app connection with HTTP 409 while someone else holds it, as AusweisApp2 does
for a running workflow. The kernel drops a lock when its holder exits, so a crash never
leaves it stuck."""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path


def lock_path() -> Path:
    return Path(tempfile.gettempdir()) / "docval-client.lock"


def reader_lock_path(reader: str) -> Path:
    """The lock of one reader (its name made safe for a file name)."""
    safe = "".join(ch if ch.isalnum() else "_" for ch in reader)[:80] or "reader"
    return Path(tempfile.gettempdir()) / f"docval-client.{safe}.lock"


class WorkflowLock:
    """The machine-wide "a validation is running" flag."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or lock_path()
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another holder has it."""
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None


def running_elsewhere(path: Path | None = None) -> bool:
    """True when some other holder (another process, or another lock object) has the lock."""
    probe = WorkflowLock(path)
    if probe.acquire():
        probe.release()
        return False
    return True
