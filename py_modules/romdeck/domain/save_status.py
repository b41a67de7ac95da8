"""Where each save file of a game stands, for the panel and ``romdeck saves`` (value types).

Built by ``SaveService.status`` from the local file, the newest save of our slot on
RomM (only when the server was asked, and answered) and the baseline of our last sync.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from romdeck.domain.save_records import Conflict
from romdeck.domain.save_sync import SaveAction, decide

SYNCED, UPLOAD, DOWNLOAD, CONFLICT = "synced", "upload", "download", "conflict"
"""A file's ``state``: in step with RomM, to upload, to download, changed on both sides."""


@dataclass(frozen=True, slots=True)
class LocalVersion:
    """The local file: ``md5`` hex, ``size_bytes`` bytes, ``modified_at`` ISO-8601 UTC (mtime)."""

    md5: str
    size_bytes: int
    modified_at: str


@dataclass(frozen=True, slots=True)
class ServerVersion:
    """The newest save in our slot on RomM: its ``id``, ``md5`` (``content_hash``) and
    ``updated_at`` (ISO-8601, RomM's clock)."""

    id: int
    md5: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class SaveFileStatus:
    """One save file of a game (``file_name`` as RetroArch names it, ``path`` absolute).

    ``server`` is ``None`` when RomM has no save in our slot for it, or was not asked
    (see :attr:`GameSaveStatus.offline`). ``synced_md5``/``synced_at``: the baseline of
    our last sync (``None``: never synced). ``state``: :data:`SYNCED`, :data:`UPLOAD`,
    :data:`DOWNLOAD` or :data:`CONFLICT`.
    """

    file_name: str
    path: str
    local: LocalVersion | None
    server: ServerVersion | None
    synced_md5: str | None
    synced_at: str | None
    state: str


@dataclass(frozen=True, slots=True)
class GameSaveStatus:
    """The saves of one installed ROM.

    ``emulator``: the libretro core (``""`` when the ROM is not a RetroArch game: no
    saves are synced for it). ``last_sync_at``: the newest baseline time (``None``:
    never). ``pending``: why the last sync must be retried (``""``: nothing pending).
    ``offline``: RomM was not asked or did not answer, so every ``server`` is ``None``
    and states are judged from the local file and the baseline alone.
    """

    rom_id: int
    emulator: str
    files: tuple[SaveFileStatus, ...]
    last_sync_at: str | None
    pending: str
    conflicts: tuple[Conflict, ...] = field(default=())
    offline: bool = False


def file_state(
    local: str | None, server: str | None, baseline: str | None, *, offline: bool,
    conflict: bool,
) -> str:  # fmt: skip
    """The ``state`` of one file from its md5 hashes (``None``: no such copy).

    An open conflict wins. Offline, only the local side is known: a local copy that
    differs from the baseline is :data:`UPLOAD`, anything else :data:`SYNCED`.
    """
    if conflict:
        return CONFLICT
    if offline:
        return UPLOAD if local is not None and local != baseline else SYNCED
    action = decide(local, server, baseline).action
    return {
        SaveAction.SKIP: SYNCED,
        SaveAction.UPLOAD: UPLOAD,
        SaveAction.DOWNLOAD: DOWNLOAD,
        SaveAction.CONFLICT: CONFLICT,
    }[action]
