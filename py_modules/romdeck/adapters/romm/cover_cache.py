"""Cover PNGs kept on disk between fetching them and writing them to Steam's grid folder."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from pathlib import Path
from typing import Protocol

from romdeck.adapters.files.atomic import write_bytes_atomic


class _Covers(Protocol):
    async def fetch_png(self, path: str) -> bytes: ...


class CachedCoverFetcher:
    """A ``CoverFetcher`` that answers from ``folder`` and fills it from ``inner``.

    Each cover is one file named by the SHA-256 of its server path, written atomically,
    so a cover fetched while Steam still runs is written to the grid later without
    another request. A cache file that cannot be written is not an error (the cover is
    still returned). File work runs in a worker thread.
    """

    def __init__(self, inner: _Covers, folder: Path) -> None:
        self._inner = inner
        self._folder = folder

    async def fetch_png(self, path: str) -> bytes:
        """The cover at ``path`` as PNG: from the cache, else from ``inner`` (its errors)."""
        file = self._folder / (hashlib.sha256(path.encode("utf-8")).hexdigest() + ".png")
        cached = await asyncio.to_thread(_read, file)
        if cached is not None:
            return cached
        png = await self._inner.fetch_png(path)
        await asyncio.to_thread(_store, file, png)
        return png

    async def clear(self) -> None:
        """Delete the cache folder and everything in it."""
        await asyncio.to_thread(shutil.rmtree, self._folder, True)


def _read(file: Path) -> bytes | None:
    try:
        return file.read_bytes()
    except OSError:
        return None


def _store(file: Path, png: bytes) -> None:
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(file, png, mode=0o600)
    except OSError:
        return  # a cache miss later costs one more request, nothing else
