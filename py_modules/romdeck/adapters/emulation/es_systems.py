"""ES-DE's ``es_systems.xml``: the system names (ROM folders), extensions and commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from romdeck.domain.emulation import EsCommand, EsSystem
from romdeck.errors import CorruptFileError, NotFoundError, RomDeckError

# Inside the RetroDECK flatpak (mounted at /app) the file is at one of these, newest first.
_FLATPAK_FILES = (
    "retrodeck/components/es-de/share/es-de/resources/systems/linux/es_systems.xml",
    "share/es-de/resources/systems/linux/es_systems.xml",
)
_FLATPAK_ROOTS = (
    "/var/lib/flatpak/app/net.retrodeck.retrodeck/current/active/files",
    "~/.local/share/flatpak/app/net.retrodeck.retrodeck/current/active/files",
)


class EsSystemsReader:
    """Parses one ES-DE systems file (the bundled one, or a user's custom_systems file).

    Parsing uses lxml (Decky's Python may lack ``xml.etree``), without entity
    resolution or network access. Commented-out systems and commands are ignored.
    Reads are blocking (the bundled file is about 200 KB).
    """

    def __init__(self, path: Path) -> None:
        self._path = path

    @staticmethod
    def retrodeck_locations(home: Path) -> list[Path]:
        """Where RetroDECK's systems files can be, in the order to try them.

        The user's ``~/retrodeck/ES-DE/custom_systems/es_systems.xml`` (overrides by
        system name), then the flatpak's bundled file (system-wide, then per-user
        install; newer then older layout). Nothing is checked on disk.
        """
        found = [home / "retrodeck/ES-DE/custom_systems/es_systems.xml"]
        for root in _FLATPAK_ROOTS:
            base = home / root[2:] if root.startswith("~/") else Path(root)
            found += [base / rel for rel in _FLATPAK_FILES]
        return found

    def read(self) -> tuple[EsSystem, ...]:
        """Every ``<system>`` in file order.

        Raises ``NotFoundError`` (no such file), ``CorruptFileError`` (unreadable, not
        XML, or not a ``<systemList>``), ``RomDeckError`` if lxml is not installed.
        """
        root = self._parse()
        if root.tag != "systemList":
            raise CorruptFileError(f"{self._path.name} is not an ES-DE systems file.")
        systems = (_system(node) for node in root.iterchildren("system"))
        return tuple(s for s in systems if s.name)

    def names(self) -> frozenset[str]:
        """The system names (ROM folder names under ``roms/``)."""
        return frozenset(s.name for s in self.read())

    def _parse(self) -> Any:
        try:
            from lxml import etree  # pyright: ignore[reportAttributeAccessIssue]  (no stubs)
        except ImportError:
            raise RomDeckError("lxml is missing, so es_systems.xml cannot be read.") from None
        try:
            data = self._path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"{self._path} does not exist.") from None
        except OSError as exc:
            raise CorruptFileError(f"{self._path.name} cannot be read: {exc.strerror}.") from None
        parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
        try:
            return etree.fromstring(data, parser)
        except etree.XMLSyntaxError as exc:
            raise CorruptFileError(f"{self._path.name} is not valid XML: {exc}.") from None


def _text(node: Any, tag: str) -> str:
    child = node.find(tag)
    return "".join(child.itertext()).strip() if child is not None else ""


def _extensions(text: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for word in text.split():
        ext = word.lower() if word.startswith(".") else "." + word.lower()
        seen.setdefault(ext, None)
    return tuple(seen)


def _system(node: Any) -> EsSystem:
    commands = tuple(
        EsCommand(label=cmd.get("label") or "", command="".join(cmd.itertext()).strip())
        for cmd in node.iterchildren("command")
    )
    platforms = tuple(p.strip() for p in _text(node, "platform").split(",") if p.strip())
    return EsSystem(
        name=_text(node, "name"),
        fullname=_text(node, "fullname"),
        extensions=_extensions(_text(node, "extension")),
        commands=commands,
        platforms=platforms,
    )
