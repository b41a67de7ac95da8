"""The user's settings: one versioned, typed tree (stored as ``settings.json``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from romdeck.domain.models import Selection

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
    templates: Mapping[str, str] = field(default_factory=dict)
    system_overrides: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the user sets. ``device_name`` is what RomM shows for this Deck."""

    connection: Connection = field(default_factory=Connection)
    selection: Selection = field(default_factory=Selection)
    device_name: str = ""
    emulation: EmulationSettings = field(default_factory=EmulationSettings)
    version: int = SETTINGS_SCHEMA_VERSION
