"""One translation of an ``OSError`` met while writing a file into our error hierarchy."""

from __future__ import annotations

import errno
from pathlib import Path

from romdeck.errors import DiskFullError, RomDeckError

DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
"""``errno`` values that mean the disk (or the user's quota) is full."""


def write_error(
    err: OSError,
    path: Path,
    *,
    other: type[RomDeckError],
    doing: str = "write",
) -> RomDeckError:
    """Our error for ``err``, raised while ``doing`` (a verb: "write", "unpack into") ``path``.

    ENOSPC/EDQUOT become ``DiskFullError``; anything else becomes ``other`` (e.g.
    ``StateError`` for our own files, ``DownloadFailedError`` for a download's), each
    message naming the path.
    """
    if err.errno in DISK_FULL_ERRNOS:
        return DiskFullError(f"The disk is full: cannot {doing} {path}")
    return other(f"Cannot {doing} {path}: {err.strerror or err}")
