"""Free space on the file system that will hold a download."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from romdeck.errors import InvalidInputError


class StatvfsDiskSpace:
    """Free bytes for an unprivileged user (``statvfs`` ``f_bavail * f_frsize``)."""

    async def free_bytes_async(self, path: Path) -> int:
        """:meth:`free_bytes` in a thread (it ``stat``s up the path), for the event loop."""
        return await asyncio.to_thread(self.free_bytes, path)

    def free_bytes(self, path: Path) -> int:
        """Free bytes on the file system of ``path``, or of its nearest existing parent
        (a download folder that does not exist yet). Relative paths are taken from the
        working directory. Raises ``InvalidInputError`` when the file system cannot be read.
        """
        probe = Path(os.path.abspath(path))
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        try:
            stats = os.statvfs(probe)
        except OSError as err:
            raise InvalidInputError(
                f"Cannot read the free space of {probe}: {err.strerror or err}"
            ) from err
        return stats.f_bavail * stats.f_frsize
