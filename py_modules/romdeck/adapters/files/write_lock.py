"""One cross-process lock around a read-modify-write of a user's file (filelock)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock

from romdeck.adapters.files.os_errors import write_error
from romdeck.errors import BusyError, StateError


@contextmanager
def write_lock(path: Path, lock_path: Path, timeout_s: float) -> Iterator[None]:
    """Hold ``lock_path`` (created with its folder) while ``path`` is read and rewritten.

    Raises ``BusyError`` when another RomDeck process holds it past ``timeout_s`` seconds,
    ``DiskFullError``/``StateError`` when the lock file cannot be created.
    """
    lock = filelock.FileLock(lock_path, timeout=timeout_s)
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except filelock.Timeout as err:
        raise BusyError(f"Another RomDeck process is writing {path}") from err
    except OSError as err:
        raise write_error(err, lock_path, other=StateError) from err
    try:
        yield
    finally:
        lock.release()
