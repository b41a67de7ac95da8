"""Atomic file replacement shared by every adapter that writes a user's file.

A temp file is written beside the target, fsynced, renamed over it, and the folder
fsynced, so a reader sees the old bytes or the new, never a mix. Errors are raised as
``OSError`` (the temp file removed, the target untouched); each adapter maps them to
our hierarchy with its own wording.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (after a rename); best effort on filesystems that refuse."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot fsync a directory; the rename is done either way
    finally:
        os.close(fd)


def write_bytes_atomic(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` atomically.

    ``mode``: the new file's permission bits; by default those of the file replaced
    (or 0644 less the umask for a new file). When run as root, the new file is given
    the owner of the file replaced, else of its folder, so the desktop user (and Steam)
    can still rewrite it. Raises ``OSError``; on failure ``path`` is as it was.
    """
    temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    existing = path.stat() if path.exists() else None
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if mode is not None else 0o644)
    try:
        try:
            if mode is not None:
                os.fchmod(fd, mode)
            elif existing is not None:
                os.fchmod(fd, existing.st_mode & 0o7777)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            owner = existing or path.parent.stat()
            os.chown(temp, owner.st_uid, owner.st_gid)
        os.replace(temp, path)
    except OSError:
        temp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
