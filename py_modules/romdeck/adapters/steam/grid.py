"""Steam's custom artwork folder (``userdata/<user>/config/grid``) written directly."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from pathlib import Path

from romdeck.adapters.files.atomic import write_bytes_atomic
from romdeck.adapters.files.os_errors import write_error
from romdeck.errors import RomDeckError, StateError, SteamNotFoundError

_GRID_SUFFIXES = ("p", "", "_hero", "_logo", "_icon")
_IMAGE_EXTENSIONS = (".png", ".jpg")


class FileGridArtwork:
    """Grid images of a Steam install, named by the unsigned 32-bit shortcut ``appid``.

    Files: ``{appid}p`` portrait, ``{appid}`` wide, ``{appid}_hero``, ``{appid}_logo``,
    ``{appid}_icon``, each ``.png`` or ``.jpg``. Steam reads them at start-up, so this
    is for headless use (Steam not running). Raises ``SteamNotFoundError`` (no such
    user folder), ``DiskFullError`` or ``StateError`` (with the path) on I/O failure.
    """

    def __init__(self, steam_root: Path) -> None:
        self._steam_root = steam_root

    async def save_portrait(self, steam_user: str, appid: int, png: bytes) -> None:
        """:meth:`write_portrait`, off the event loop."""
        await asyncio.to_thread(self.write_portrait, steam_user, appid, png)

    async def portraits(self, steam_user: str) -> set[int]:
        """The appids that have a ``{appid}p.png``, from one listing of ``grid/``.

        Raises ``SteamNotFoundError`` (no such user) or ``StateError`` (unreadable folder).
        """
        return await asyncio.to_thread(self._portraits_sync, steam_user)

    def _portraits_sync(self, steam_user: str) -> set[int]:
        grid = self._grid_dir(steam_user)
        try:
            names = os.listdir(grid)
        except FileNotFoundError:
            return set()
        except OSError as err:
            raise StateError(f"Cannot list {grid}: {err.strerror}") from err
        stems = (name[: -len("p.png")] for name in names if name.endswith("p.png"))
        return {int(stem) for stem in stems if stem.isdigit() and (grid / f"{stem}p.png").is_file()}

    async def remove_art(self, steam_user: str, appids: Iterable[int]) -> None:
        """:meth:`remove` for each appid, off the event loop."""

        def remove_all() -> None:
            for appid in appids:
                self.remove(steam_user, appid)

        await asyncio.to_thread(remove_all)

    def write_portrait(self, steam_user: str, appid: int, png: bytes) -> None:
        """Write ``png`` as ``{appid}p.png`` atomically, creating ``grid/`` as needed."""
        grid = self._grid_dir(steam_user)
        try:
            grid.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise _io_error(grid, err) from err
        _write_atomic(grid / f"{appid}p.png", png)

    def has_portrait(self, steam_user: str, appid: int) -> bool:
        """Whether ``{appid}p.png`` exists."""
        return (self._grid_dir(steam_user) / f"{appid}p.png").is_file()

    def remove(self, steam_user: str, appid: int) -> None:
        """Delete every grid image of ``appid`` that exists (png and jpg of each kind)."""
        grid = self._grid_dir(steam_user)
        for suffix in _GRID_SUFFIXES:
            for extension in _IMAGE_EXTENSIONS:
                image = grid / f"{appid}{suffix}{extension}"
                try:
                    image.unlink(missing_ok=True)
                except OSError as err:
                    raise _io_error(image, err) from err

    def _grid_dir(self, steam_user: str) -> Path:
        if not steam_user.isdigit():
            raise SteamNotFoundError(f"{steam_user!r} is not a Steam user id")
        user_dir = self._steam_root / "userdata" / steam_user
        if not user_dir.is_dir():
            raise SteamNotFoundError(f"No Steam user {steam_user} ({user_dir} does not exist)")
        return user_dir / "config" / "grid"


def _write_atomic(path: Path, data: bytes) -> None:
    try:
        write_bytes_atomic(path, data)
    except OSError as err:
        raise _io_error(path, err) from err


def _io_error(path: Path, err: OSError) -> RomDeckError:
    return write_error(err, path, other=StateError)
