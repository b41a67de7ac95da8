"""Steam's custom artwork folder (``userdata/<user>/config/grid``) written directly."""

from __future__ import annotations

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
