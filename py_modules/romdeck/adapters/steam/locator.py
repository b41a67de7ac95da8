"""Finds the Steam installation and its users on disk (headless mode)."""

from __future__ import annotations

from pathlib import Path

from romdeck.errors import SteamNotFoundError

_SKIPPED_USERS = frozenset({"0", "anonymous"})


class SteamLocator:
    """The Steam root folder and the Steam users (``userdata/<steamid3>``) under it.

    The root is ``steam_dir`` when given, else the first of ``~/.local/share/Steam`` and
    ``~/.steam/steam`` (symlinks resolved) that holds a ``userdata`` folder. A user is a
    numeric folder of ``userdata`` with a ``config`` folder (``0`` is skipped). ``user``
    restricts :meth:`users` to that one id. Nothing is read until a method is called.

    Raises ``SteamNotFoundError`` with the places looked at when nothing is found.
    """

    def __init__(
        self,
        steam_dir: Path | None = None,
        *,
        home: Path | None = None,
        user: str | None = None,
    ) -> None:
        self._steam_dir = steam_dir
        self._home = home
        self._user = user

    def root(self) -> Path:
        """The Steam root (the folder holding ``userdata``), symlinks resolved."""
        candidates = self._candidates()
        for candidate in candidates:
            if (candidate / "userdata").is_dir():
                return candidate.resolve()
        looked = ", ".join(str(c) for c in candidates)
        raise SteamNotFoundError(f"No Steam installation found (looked for userdata in: {looked})")

    def users(self) -> list[str]:
        """The Steam user ids with a ``config`` folder, sorted; only ``user`` when one was set.

        Raises ``SteamNotFoundError`` when there is none, or ``user`` is not one of them.
        """
        userdata = self.root() / "userdata"
        found = sorted(
            entry.name
            for entry in _list_dirs(userdata)
            if entry.name.isdigit()
            and entry.name not in _SKIPPED_USERS
            and (entry / "config").is_dir()
        )
        if self._user is not None:
            if self._user not in found:
                known = ", ".join(found) or "none"
                raise SteamNotFoundError(
                    f"No Steam user {self._user} in {userdata} (users found: {known})"
                )
            return [self._user]
        if not found:
            raise SteamNotFoundError(f"No Steam user has signed in yet ({userdata} has no users)")
        return found

    def _candidates(self) -> list[Path]:
        if self._steam_dir is not None:
            return [self._steam_dir.expanduser()]
        home = self._home if self._home is not None else Path.home()
        return [home / ".local" / "share" / "Steam", home / ".steam" / "steam"]


def _list_dirs(folder: Path) -> list[Path]:
    try:
        return [entry for entry in folder.iterdir() if entry.is_dir()]
    except OSError as err:
        raise SteamNotFoundError(f"Cannot list Steam users in {folder}: {err.strerror}") from err
