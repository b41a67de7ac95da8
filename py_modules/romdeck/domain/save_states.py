"""Where RetroArch writes a ROM's save states, and how a state's server version is told (pure).

RetroArch names states after the content: ``<base>.state`` (slot 0), ``<base>.state1`` ..
``<base>.state9`` and ``<base>.state.auto`` (the auto-save slot), in ``savestate_directory``
(``savestates_in_content_dir``, ``sort_savestates_enable`` by core,
``sort_savestates_by_content_enable`` by the content's folder; RetroDECK's ``states_path``).
The ``.png`` thumbnails RetroArch writes beside them are left alone: RetroArch makes a new
one with every save, and a missing one only hides a preview.

RomM's ``/api/states`` has no slots, devices, 409s or ``content_hash``; a state's server
version is its ``id`` and ``updated_at`` (:func:`server_token`), and our three-way check
is the only guard.
"""

from __future__ import annotations

from posixpath import join

from romdeck.domain.save_files import SaveDirConfig, save_base_name, save_dir

STATE_SUFFIXES: tuple[str, ...] = (
    ".state", *(f".state{n}" for n in range(1, 10)), ".state.auto",
)  # fmt: skip
"""Every state file RetroArch writes for one content (slots 0-9 and auto)."""


def state_paths(config: SaveDirConfig, launch_path: str, library_name: str = "") -> tuple[str, ...]:
    """Every path where RetroArch may write ``launch_path``'s states (``config`` built from
    the ``savestate_*`` keys: the same folder rule as saves)."""
    folder = save_dir(config, launch_path, library_name)
    base = save_base_name(launch_path)
    return tuple(join(folder, base + suffix) for suffix in STATE_SUFFIXES)


def is_state_name(file_name: str) -> bool:
    """Whether a local file name is a RetroArch state (``Game.state3``, ``Game.state.auto``)."""
    return any(file_name.endswith(suffix) for suffix in STATE_SUFFIXES)


def server_token(state_id: int, updated_at: str) -> str:
    """One version of a state on RomM: changes whenever RomM replaces its bytes."""
    return f"{state_id}|{updated_at}"
