"""The user's settings: one versioned, typed tree (stored as ``settings.json``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from posixpath import isabs

from romdeck.domain.launch_command import split_template
from romdeck.domain.models import Selection
from romdeck.errors import InvalidInputError

SETTINGS_SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class Connection:
    """How to reach the RomM server.

    ``url`` is the server origin (``https://romm.local``, no trailing slash);
    ``token`` a client API token (``rmm_...``, ``""`` when signed out);
    ``verify_tls`` is only ever false by an explicit user setting; ``ca_file`` a PEM
    bundle path to trust in addition (``""``: system trust store).
    Timeouts are seconds.
    """

    url: str = ""
    token: str = field(default="", repr=False)
    verify_tls: bool = True
    ca_file: str = ""
    connect_timeout: float = 10.0
    read_timeout: float = 60.0

    @property
    def configured(self) -> bool:
        return bool(self.url and self.token)


EMULATION_TARGETS = ("auto", "retrodeck", "emudeck", "custom")


@dataclass(frozen=True, slots=True)
class EmulationSettings:
    """Where ROMs go and how they launch.

    ``target``: ``"auto"`` (RetroDECK when installed, else EmuDeck when installed, else
    RetroDECK's default folders), ``"retrodeck"``, ``"emudeck"`` or ``"custom"`` (a ROMs
    root the user sets in ``roms_root``, launched through ``templates``).
    ``templates``: ES-DE system (or ``"*"``) → command with a ``{rom}`` placeholder.
    ``system_overrides``: RomM platform slug → ROM folder name.
    """

    target: str = "auto"
    roms_root: str = ""
    bios_root: str = ""
    """The BIOS folder of a ``custom`` target (absolute; ``""``: RomDeck manages no BIOS)."""
    templates: Mapping[str, str] = field(default_factory=dict)
    system_overrides: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SaveSettings:
    """Save sync with RomM: ``sync`` battery saves (``.srm`` ...) before launch and after
    exit; ``states`` also RetroArch save states (off by default)."""

    sync: bool = True
    states: bool = False


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the user sets. ``device_name`` is what RomM shows for this Deck."""

    connection: Connection = field(default_factory=Connection)
    selection: Selection = field(default_factory=Selection)
    device_name: str = ""
    emulation: EmulationSettings = field(default_factory=EmulationSettings)
    version: int = SETTINGS_SCHEMA_VERSION
    saves: SaveSettings = field(default_factory=SaveSettings)


def check_template(system: str, command: str) -> str:
    """A user launch command for ``system`` (an ES-DE system folder, or ``"*"``), checked.

    Returns ``command`` stripped. Raises ``InvalidInputError`` naming the system when the
    system is empty or holds whitespace or ``/``, or when the command cannot be split,
    is empty, lacks ``{rom}`` or names an unknown placeholder (see ``split_template``).
    """
    name = system.strip()
    if not name or any(c.isspace() or c == "/" for c in name):
        raise InvalidInputError(
            f"A launch command needs a system folder name (or * for any), not {system!r}."
        )
    try:
        split_template(command)
    except InvalidInputError as err:
        raise InvalidInputError(f"Launch command for {name}: {err.message}") from None
    return command.strip()


def check_emulation(emulation: EmulationSettings) -> EmulationSettings:
    """``emulation`` with its templates checked and stripped, ready to save.

    Raises ``InvalidInputError`` for an unknown ``target``, a ``roms_root`` that is set but
    not absolute, a ``custom`` target without a ``roms_root``, or a malformed template
    (:func:`check_template`).
    """
    if emulation.target not in EMULATION_TARGETS:
        raise InvalidInputError(
            f"The emulation target must be one of {', '.join(EMULATION_TARGETS)}, "
            f"not {emulation.target!r}."
        )
    if emulation.roms_root and not isabs(emulation.roms_root):
        raise InvalidInputError(
            f"The ROMs folder must be an absolute path, not {emulation.roms_root!r}."
        )
    if emulation.bios_root and not isabs(emulation.bios_root):
        raise InvalidInputError(
            f"The BIOS folder must be an absolute path, not {emulation.bios_root!r}."
        )
    if emulation.target == "custom" and not emulation.roms_root:
        raise InvalidInputError("A custom target needs a ROMs folder (an absolute path).")
    templates = {
        system.strip(): check_template(system, command)
        for system, command in emulation.templates.items()
    }
    return replace(emulation, templates=templates)


_PATCH_KEYS: Mapping[str, frozenset[str]] = {
    "emulation": frozenset({"target", "roms_root", "bios_root", "templates"}),
    "tls": frozenset({"verify", "ca_file"}),
    "saves": frozenset({"sync", "states"}),
}


def _patch_section(patch: Mapping[str, object], key: str) -> Mapping[str, object]:
    section = patch.get(key, {})
    if not isinstance(section, dict):
        raise InvalidInputError(f"Setting '{key}' must be an object.")
    unknown = sorted(set(section) - _PATCH_KEYS[key])
    if unknown:
        raise InvalidInputError(f"Unknown setting '{key}.{unknown[0]}'.")
    return section


def _optional_text(section: Mapping[str, object], key: str, where: str, current: str) -> str:
    if key not in section:
        return current
    value = section[key]
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInputError(f"Setting '{where}.{key}' must be a string or null.")
    return value.strip()


def apply_patch(settings: Settings, patch: Mapping[str, object]) -> Settings:
    """``settings`` with a panel patch applied, the emulation part checked.

    ``patch`` is a partial ``{emulation: {target, roms_root, templates}, tls: {verify,
    ca_file}, saves: {sync, states}}``: keys left out keep their value, ``null`` clears
    ``roms_root``/``ca_file``,
    ``templates`` (system → command) replaces the whole map. Raises ``InvalidInputError``
    for an unknown key, a wrong type, or what :func:`check_emulation` refuses. The CA
    file's existence is not checked here (that needs the disk).
    """
    unknown = sorted(set(patch) - set(_PATCH_KEYS))
    if unknown:
        raise InvalidInputError(f"Unknown setting '{unknown[0]}'.")
    emu, tls = _patch_section(patch, "emulation"), _patch_section(patch, "tls")
    emulation = settings.emulation
    target = emu.get("target", emulation.target)
    if not isinstance(target, str):
        raise InvalidInputError("Setting 'emulation.target' must be a string.")
    templates = emu.get("templates", emulation.templates)
    if not isinstance(templates, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in templates.items()
    ):
        raise InvalidInputError("Setting 'emulation.templates' must map systems to commands.")
    emulation = replace(
        emulation,
        target=target,
        roms_root=_optional_text(emu, "roms_root", "emulation", emulation.roms_root),
        bios_root=_optional_text(emu, "bios_root", "emulation", emulation.bios_root),
        templates=dict(templates),
    )
    connection = settings.connection
    verify = tls.get("verify", connection.verify_tls)
    if not isinstance(verify, bool):
        raise InvalidInputError("Setting 'tls.verify' must be true or false.")
    connection = replace(
        connection,
        verify_tls=verify,
        ca_file=_optional_text(tls, "ca_file", "tls", connection.ca_file),
    )
    return replace(
        settings,
        emulation=check_emulation(emulation),
        connection=connection,
        saves=_patch_saves(settings.saves, _patch_section(patch, "saves")),
    )


def _patch_saves(saves: SaveSettings, section: Mapping[str, object]) -> SaveSettings:
    """``saves`` with the patch's ``sync``/``states`` booleans applied."""
    values: dict[str, bool] = {}
    for key in ("sync", "states"):
        if key in section:
            value = section[key]
            if not isinstance(value, bool):
                raise InvalidInputError(f"Setting 'saves.{key}' must be true or false.")
            values[key] = value
    return replace(saves, **values)


def looks_like_pem(head: bytes) -> bool:
    """Whether the first bytes of a file look like a PEM certificate bundle."""
    return b"-----BEGIN CERTIFICATE-----" in head
