"""Reads RetroArch's save settings from a ``retroarch.cfg`` (RetroDECK's or EmuDeck's)."""

from __future__ import annotations

from pathlib import Path
from posixpath import normpath

from romdeck.domain.save_files import SaveDirConfig
from romdeck.errors import CorruptFileError

RETRODECK_CFG = Path(".var/app/net.retrodeck.retrodeck/config/retroarch/retroarch.cfg")
"""RetroDECK's RetroArch configuration, relative to the user's home."""
FLATPAK_RETROARCH_CFG = Path(".var/app/org.libretro.RetroArch/config/retroarch/retroarch.cfg")
"""The RetroArch flatpak's configuration (EmuDeck), relative to the user's home."""

_PLACEHOLDER = "RETRODECKHOMEDIR/saves"
_KEYS = (
    "savefile_directory",
    "savefiles_in_content_dir",
    "sort_savefiles_enable",
    "sort_savefiles_by_content_enable",
)


def parse_cfg(text: str) -> dict[str, str]:
    """``key = "value"`` lines of a RetroArch cfg → ``{key: value}`` (quotes removed).

    Comments (``#``), blank and malformed lines are skipped; a repeated key keeps its last value.
    """
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        key, sep, value = line.partition("=")
        if not sep or not key.strip() or line.startswith("#"):
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        values[key.strip()] = value
    return values


class RetroArchSaveConfigReader:
    """The save settings of one ``retroarch.cfg``, as a :class:`SaveDirConfig`.

    ``home`` expands a leading ``~``; ``saves_path`` (RetroDECK's ``saves_path``) replaces
    RetroDECK's template placeholder ``RETRODECKHOMEDIR/saves``, and is used as the
    directory when the file does not exist (RetroDECK writes it there on first run).
    ``"default"`` or an empty ``savefile_directory`` means next to the content
    (RetroArch's meaning). A missing file gives RetroDECK's defaults (sorted by content).
    Raises ``CorruptFileError`` when the file exists but cannot be read. Blocking (a
    small file): call it off the event loop.
    """

    def __init__(self, path: Path, *, home: Path, saves_path: str = "") -> None:
        self._path = path
        self._home = home
        self._saves_path = saves_path

    def read(self) -> SaveDirConfig:
        """The settings now in the file (read on every call)."""
        if not self._path.is_file():
            return SaveDirConfig(self._saves_path, sort_by_content=bool(self._saves_path))
        try:
            text = self._path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise CorruptFileError(f"{self._path} cannot be read: {exc.strerror}.") from None
        cfg = parse_cfg(text)
        return SaveDirConfig(
            savefile_directory=self._directory(cfg.get("savefile_directory", "")),
            in_content_dir=cfg.get("savefiles_in_content_dir") == "true",
            sort_by_content=cfg.get("sort_savefiles_by_content_enable") == "true",
            sort_by_core=cfg.get("sort_savefiles_enable") == "true",
        )

    def _directory(self, value: str) -> str:
        if value in ("", "default"):
            return ""
        if value.startswith(_PLACEHOLDER):
            return (
                normpath(self._saves_path + value[len(_PLACEHOLDER) :]) if self._saves_path else ""
            )
        if value == "~" or value.startswith("~/"):
            value = str(self._home) + value[1:]
        return normpath(value) if value.startswith("/") else ""
