"""Hashes of local files (ROMs, saves, BIOS), computed in a worker thread."""

from __future__ import annotations

import errno
import functools
import threading
from collections.abc import Iterable
from pathlib import Path

from romdeck.adapters.files.threads import in_thread
from romdeck.domain.downloads import MIB, HashAlgorithm, RunningDigest
from romdeck.errors import CancelledError, NotFoundError, StateError

ALL_ALGORITHMS: tuple[HashAlgorithm, ...] = ("md5", "sha1", "crc32")


class FileHasher:
    """md5, sha1 and crc32 of a file, read in ``block_size`` blocks (1 MiB) off the loop.

    Digests are lowercase hex; crc32 is 8 hex digits, as RomM stores them
    (``crc_hash``, ``md5_hash``, ``sha1_hash`` of ``GET /api/roms/{id}`` files).
    """

    def __init__(self, *, block_size: int = MIB) -> None:
        self._block_size = block_size

    async def hash_file(
        self, path: Path, algorithms: Iterable[HashAlgorithm] = ALL_ALGORITHMS
    ) -> dict[HashAlgorithm, str]:
        """``{algorithm: hex digest}`` of the whole file, read in a thread.

        Raises ``NotFoundError`` (no such file) or ``StateError`` (unreadable). Cancelling
        the caller stops the thread at the next block (see :meth:`feed_async`).
        """
        digests = [RunningDigest(algorithm) for algorithm in algorithms]
        await self.feed_async(path, digests)
        return {digest.algorithm: digest.hexdigest() for digest in digests}

    async def feed_async(
        self, path: Path, digests: Iterable[RunningDigest], *, limit: int | None = None
    ) -> int:
        """:meth:`feed` in a worker thread that a cancel reaches: when the awaiting task is
        cancelled the thread stops after the block it is reading (one ``block_size``), is
        waited for, and ``asyncio.CancelledError`` propagates. Returns the bytes read."""
        stop = threading.Event()
        return await in_thread(
            functools.partial(self.feed, path, digests, limit=limit, stop=stop), stop=stop
        )

    def feed(
        self,
        path: Path,
        digests: Iterable[RunningDigest],
        *,
        limit: int | None = None,
        stop: threading.Event | None = None,
    ) -> int:
        """Blocking: feed the file's first ``limit`` bytes (all when ``None``) to ``digests``.

        Returns the number of bytes read. Call it from a worker thread. ``stop`` set →
        ``CancelledError`` before the next block. Raises ``NotFoundError`` or ``StateError``.
        """
        sinks = list(digests)
        left = limit
        done = 0
        try:
            with path.open("rb") as file:
                while left is None or left > 0:
                    if stop is not None and stop.is_set():
                        raise CancelledError(f"Stopped hashing {path}")
                    block = file.read(
                        self._block_size if left is None else min(left, self._block_size)
                    )
                    if not block:
                        break
                    for sink in sinks:
                        sink.update(block)
                    done += len(block)
                    left = None if left is None else left - len(block)
        except OSError as err:
            if err.errno == errno.ENOENT:
                raise NotFoundError(f"No file at {path}") from err
            raise StateError(f"Cannot read {path}: {err.strerror or err}") from err
        return done
