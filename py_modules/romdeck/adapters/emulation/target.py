"""Which emulation target RomDeck installs for, read from the settings and the disk."""

from __future__ import annotations

from pathlib import Path

from romdeck.adapters.emulation.emudeck import EmuDeckPaths
from romdeck.adapters.emulation.retrodeck import RetroDeckPaths
from romdeck.domain.emulation import custom_root_paths
from romdeck.domain.layout import PlayTarget
from romdeck.domain.settings import EmulationSettings
from romdeck.errors import InvalidInputError


class EmulationTargetReader:
    """Resolves :class:`EmulationSettings` into a :class:`PlayTarget` for the user at ``home``.

    ``auto`` picks RetroDECK when its config exists, else EmuDeck when its settings exist,
    else RetroDECK's default folders (``~/retrodeck``). Reads small config files
    (``retrodeck.json``/``retrodeck.cfg``, EmuDeck's ``settings.sh``); blocking.
    Raises ``CorruptFileError`` for an unreadable config and ``InvalidInputError`` for a
    custom target without a ROMs root.
    """

    def __init__(self, home: Path) -> None:
        self._retrodeck = RetroDeckPaths(home)
        self._emudeck = EmuDeckPaths(home)

    def read(self, settings: EmulationSettings) -> PlayTarget:
        """The target to install for and launch on, now."""
        target = settings.target
        if target == "auto":
            emudeck_only = not self._retrodeck.is_installed() and self._emudeck.is_installed()
            target = "emudeck" if emudeck_only else "retrodeck"
        cores_dir = ""
        if target == "custom":
            if not settings.roms_root.startswith("/"):
                raise InvalidInputError(
                    "Set the ROMs folder (an absolute path) for a custom target."
                )
            paths = custom_root_paths(settings.roms_root, settings.bios_root)
        elif target == "emudeck":
            paths = self._emudeck.read()
            cores_dir = str(self._emudeck.retroarch_cores_dir())
        else:
            paths = self._retrodeck.read()
        return PlayTarget(
            paths=paths,
            templates=dict(settings.templates),
            cores_dir=cores_dir,
            system_overrides=dict(settings.system_overrides),
        )
