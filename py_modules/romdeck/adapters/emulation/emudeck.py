"""Where EmuDeck keeps ROMs, saves and BIOS on this device, and its RetroArch cores."""

from __future__ import annotations

import re
from pathlib import Path
from posixpath import normpath

from romdeck.domain.emulation import EmulationPaths, EmulationTarget
from romdeck.errors import CorruptFileError

_SETTINGS = Path(".config/EmuDeck/settings.sh")
_RETROARCH_CORES = Path(".var/app/org.libretro.RetroArch/config/retroarch/cores")
_ASSIGNMENT = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def _shell_assignments(text: str, home: str) -> dict[str, str]:
    """``name=value`` lines of a shell settings file, values expanded as bash would for us.

    Single-quoted values are literal; double-quoted or bare values have ``~`` (leading),
    ``$HOME`` and variables assigned earlier in the file expanded (unknown ones become
    ``""``). Anything else (commands, ``if``, functions) is ignored.
    """
    env: dict[str, str] = {"HOME": home}
    for raw in text.splitlines():
        match = _ASSIGNMENT.match(raw.strip())
        if not match:
            continue
        name, value = match.group(1), match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] == "'":
            env[name] = value[1:-1]
            continue
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if value == "~" or value.startswith("~/"):
            value = home + value[1:]
        env[name] = _VARIABLE.sub(lambda m: env.get(m.group(1) or m.group(2), ""), value)
    return env


class EmuDeckPaths:
    """Reads EmuDeck's folders for a user whose home is ``home``.

    Source: ``~/.config/EmuDeck/settings.sh`` (``romsPath``, ``biosPath``, ``savesPath``,
    else ``emulationPath`` + ``/roms`` ...), else ``~/Emulation/{roms,bios,saves}``.
    RetroArch's battery saves and states are ``<savesPath>/retroarch/saves`` and
    ``.../states`` (EmuDeck links them to the RetroArch flatpak's folders).
    Files are small; reads are blocking.
    """

    def __init__(self, home: Path) -> None:
        self._home = home

    @property
    def settings_file(self) -> Path:
        """``~/.config/EmuDeck/settings.sh``."""
        return self._home / _SETTINGS

    def is_installed(self) -> bool:
        """True when EmuDeck's settings file exists for this user."""
        return self.settings_file.is_file()

    def retroarch_cores_dir(self) -> Path:
        """The RetroArch flatpak's cores folder, where EmuDeck installs libretro cores."""
        return self._home / _RETROARCH_CORES

    def read(self) -> EmulationPaths:
        """EmuDeck's folders; ``source`` is ``settings.sh`` or ``default``.

        Raises ``CorruptFileError`` when settings.sh exists but cannot be read.
        """
        found: dict[str, str] = {}
        source = "default"
        if self.settings_file.is_file():
            try:
                text = self.settings_file.read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                message = f"EmuDeck's settings.sh cannot be read: {exc.strerror}."
                raise CorruptFileError(message) from None
            found = _shell_assignments(text, str(self._home))
            source = "settings.sh"
        root = _absolute(found.get("emulationPath", "")) or str(self._home / "Emulation")
        saves = _absolute(found.get("savesPath", "")) or f"{root}/saves"
        return EmulationPaths(
            roms=_absolute(found.get("romsPath", "")) or f"{root}/roms",
            saves=f"{saves}/retroarch/saves",
            states=f"{saves}/retroarch/states",
            bios=_absolute(found.get("biosPath", "")) or f"{root}/bios",
            target=EmulationTarget.EMUDECK,
            source=source,
        )


def _absolute(value: str) -> str:
    """``value`` normalised (no ``//``, no trailing ``/``) if absolute, else ``""``."""
    value = value.strip()
    return normpath(value) if value.startswith("/") else ""
