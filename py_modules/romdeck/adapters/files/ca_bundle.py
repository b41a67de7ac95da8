"""Reads the start of a CA bundle file the user named (off the event loop)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from romdeck.errors import InvalidInputError

HEAD_BYTES = 64 * 1024
"""How much of the file is read: enough for the first certificates of any bundle."""


def _read_head(path: Path, limit: int) -> bytes:
    with path.open("rb") as handle:
        return handle.read(limit)


class LocalCaBundleReader:
    """``CaBundleReader`` over the local file system."""

    async def read_head(self, path: str) -> bytes:
        """The first :data:`HEAD_BYTES` bytes of the file at ``path`` (read in a thread).

        Raises ``InvalidInputError`` naming the path when it does not exist, is a folder,
        or cannot be read.
        """
        try:
            return await asyncio.to_thread(_read_head, Path(path), HEAD_BYTES)
        except FileNotFoundError:
            raise InvalidInputError(f"The CA file {path} does not exist.") from None
        except IsADirectoryError:
            raise InvalidInputError(f"The CA file {path} is a folder, not a file.") from None
        except OSError as err:
            raise InvalidInputError(
                f"The CA file {path} cannot be read: {err.strerror or err}."
            ) from None
