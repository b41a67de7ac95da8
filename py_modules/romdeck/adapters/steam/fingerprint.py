"""A cheap fingerprint of the Steam files a headless sync writes for one user."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from romdeck.adapters.steam.cloud_collections import MODIFIED_FILE, NAMESPACE_FILE
from romdeck.adapters.steam.locator import SteamLocator
from romdeck.errors import SteamNotFoundError


class StatSteamFingerprint:
    """Stat-based fingerprint of ``userdata/<user>/config``: ``shortcuts.vdf``, the
    ``grid`` folder and the cloud-storage collections files.

    Each path contributes its device, inode, size and modification time (ns), or that it
    is missing; an atomic replace (new inode) or a file added to or removed from
    ``grid/`` (the folder's mtime) changes it. Reads no file contents.
    """

    def __init__(self, locator: SteamLocator) -> None:
        self._locator = locator

    async def fingerprint(self, steam_user: str) -> str:
        """The fingerprint text (stable while none of those files changes).

        Raises ``SteamNotFoundError`` for a user id that is not a number, or no Steam.
        """
        return await asyncio.to_thread(self._fingerprint_sync, steam_user)

    def _fingerprint_sync(self, steam_user: str) -> str:
        if not steam_user.isdigit():
            raise SteamNotFoundError(f"{steam_user!r} is not a Steam user id")
        config = self._locator.root() / "userdata" / steam_user / "config"
        paths = (
            config / "shortcuts.vdf",
            config / "grid",
            config / "cloudstorage" / NAMESPACE_FILE,
            config / "cloudstorage" / MODIFIED_FILE,
        )
        return "|".join(f"{path}={_stat(path)}" for path in paths)


def _stat(path: Path) -> str:
    try:
        info = os.stat(path)
    except OSError:
        return "-"
    return f"{info.st_dev}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}"
