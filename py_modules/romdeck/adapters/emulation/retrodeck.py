"""Where RetroDECK keeps ROMs, saves, states and BIOS on this device."""

from __future__ import annotations

import json
from pathlib import Path
from posixpath import normpath

from romdeck.domain.emulation import EmulationPaths, EmulationTarget
from romdeck.errors import CorruptFileError

_APP_DIR = Path(".var/app/net.retrodeck.retrodeck")
_CONFIG_DIR = _APP_DIR / "config/retrodeck"

# Our field → (retrodeck.json ``paths`` key, retrodeck.cfg ``[paths]`` key, default folder).
_FIELDS = {
    "roms": ("roms_path", "roms_folder", "roms"),
    "saves": ("saves_path", "saves_folder", "saves"),
    "states": ("states_path", "states_folder", "states"),
    "bios": ("bios_path", "bios_folder", "bios"),
}


def _parse_ini(text: str) -> dict[str, dict[str, str]]:
    """Parse RetroDECK 0.9's INI-like ``retrodeck.cfg`` without configparser.

    Returns ``{section: {key: value}}``; keys before the first ``[section]`` go under
    ``""``. Tolerant: blank lines, ``#``/``;`` comments, lines without ``=`` and stray
    spaces are skipped; a value's surrounding quotes are removed; a repeated key keeps
    its last value.
    """
    sections: dict[str, dict[str, str]] = {"": {}}
    current = sections[""]
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1].strip(), {})
            continue
        key, sep, value = line.partition("=")
        if sep and key.strip():
            current[key.strip()] = _unquote(value.strip())
    return sections


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


class RetroDeckPaths:
    """Reads RetroDECK's folders for a user whose home is ``home``.

    Sources, first found wins: ``~/.var/app/net.retrodeck.retrodeck/config/retrodeck/
    retrodeck.json`` (0.10+, ``paths.roms_path``/``saves_path``/``states_path``/
    ``bios_path``), then ``retrodeck.cfg`` in the same folder (0.9.x, ``[paths]``
    ``roms_folder``/...), then ``~/retrodeck/{roms,saves,states,bios}``. A path that is
    missing or empty in the file falls back to ``<rd home>/<folder>``. ``~`` and
    ``$HOME`` at the start of a value mean ``home``. Files are small; reads are blocking.
    """

    def __init__(self, home: Path) -> None:
        self._home = home

    @property
    def config_dir(self) -> Path:
        """``~/.var/app/net.retrodeck.retrodeck/config/retrodeck``."""
        return self._home / _CONFIG_DIR

    def is_installed(self) -> bool:
        """True when the RetroDECK flatpak has a data folder for this user."""
        return (self._home / _APP_DIR).is_dir()

    def read(self) -> EmulationPaths:
        """The folders RetroDECK uses; ``source`` tells which file they came from.

        Raises ``CorruptFileError`` when the file that exists cannot be read or parsed
        (it is never rewritten here).
        """
        json_file = self.config_dir / "retrodeck.json"
        cfg_file = self.config_dir / "retrodeck.cfg"
        if json_file.is_file():
            found, rd_home = self._from_json(json_file)
            return self._paths(found, rd_home, "retrodeck.json")
        if cfg_file.is_file():
            found, rd_home = self._from_cfg(cfg_file)
            return self._paths(found, rd_home, "retrodeck.cfg")
        return self._paths({}, "", "default")

    def _from_json(self, file: Path) -> tuple[dict[str, str], str]:
        try:
            data = json.loads(_read_text(file))
        except ValueError as exc:
            raise CorruptFileError(f"RetroDECK's {file.name} is not valid JSON: {exc}.") from None
        paths = data.get("paths") if isinstance(data, dict) else None
        if not isinstance(paths, dict):
            raise CorruptFileError(f'RetroDECK\'s {file.name} has no "paths" object.')
        found = {
            ours: str(paths.get(key) or "")
            for ours, (key, _, _) in _FIELDS.items()
            if isinstance(paths.get(key), str)
        }
        home = paths.get("rd_home_path")
        return found, home if isinstance(home, str) else ""

    def _from_cfg(self, file: Path) -> tuple[dict[str, str], str]:
        section = _parse_ini(_read_text(file)).get("paths", {})
        found = {ours: section.get(key, "") for ours, (_, key, _) in _FIELDS.items()}
        return found, section.get("rdhome", "")

    def _paths(self, found: dict[str, str], rd_home: str, source: str) -> EmulationPaths:
        home = self._expand(rd_home) or str(self._home / "retrodeck")
        values = {
            ours: self._expand(found.get(ours, "")) or f"{home}/{folder}"
            for ours, (_, _, folder) in _FIELDS.items()
        }
        return EmulationPaths(
            roms=values["roms"],
            saves=values["saves"],
            states=values["states"],
            bios=values["bios"],
            target=EmulationTarget.RETRODECK,
            source=source,
        )

    def _expand(self, value: str) -> str:
        """An absolute, normalised path with ``~``/``$HOME`` expanded; ``""`` if unusable."""
        value = value.strip()
        for prefix in ("${HOME}", "$HOME", "~"):
            if value == prefix or value.startswith(prefix + "/"):
                value = str(self._home) + value[len(prefix) :]
                break
        if not value.startswith("/"):
            return ""
        return normpath(value)


def _read_text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise CorruptFileError(f"{file.name} cannot be read: {exc.strerror}.") from None
