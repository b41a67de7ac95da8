"""The save-sync decision: three hashes in, one verdict out (pure).

For one save file: ``local`` is the md5 of the file on this device, ``server`` the
``content_hash`` of the newest save in our slot on RomM, ``baseline`` the hash both sides
had when we last synced it (``None``: absent / never synced). Times play no part, so a
device clock skewed against the server's cannot change a verdict.

Invariant (tested as a property): no verdict discards a version that exists on only one
side. A download replaces the local file only when the local bytes are the baseline
(so RomM holds them in the slot's history), an upload only adds a row to the slot's
history, and when both sides changed the verdict is a conflict that keeps both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class SaveAction(StrEnum):
    """What to do with one save file."""

    SKIP = "skip"
    UPLOAD = "upload"
    DOWNLOAD = "download"
    CONFLICT = "conflict"


@dataclass(frozen=True, slots=True)
class SaveVerdict:
    """A decision and why (``reason`` is a short phrase a user can read)."""

    action: SaveAction
    reason: str


def decide(local: str | None, server: str | None, baseline: str | None) -> SaveVerdict:
    """Skip, upload, download or conflict for one save file (hashes are lowercase md5 hex).

    | local | server | baseline | verdict |
    |---|---|---|---|
    | none | none | any | skip |
    | L | L | any | skip (in sync) |
    | L | none | any | upload |
    | none | S | any | download |
    | B | S | B | download (only the server changed) |
    | L | B | B | upload (only this device changed) |
    | L | S | other or none | conflict (both changed, or no common history) |
    """
    if local is None and server is None:
        return SaveVerdict(SaveAction.SKIP, "no save on either side")
    if local == server:
        return SaveVerdict(SaveAction.SKIP, "in sync")
    if server is None:
        return SaveVerdict(SaveAction.UPLOAD, "only on this device")
    if local is None:
        return SaveVerdict(SaveAction.DOWNLOAD, "only on the server")
    if baseline is not None and local == baseline:
        return SaveVerdict(SaveAction.DOWNLOAD, "changed on the server since the last sync")
    if baseline is not None and server == baseline:
        return SaveVerdict(SaveAction.UPLOAD, "changed on this device since the last sync")
    if baseline is None:
        return SaveVerdict(SaveAction.CONFLICT, "different on both sides and never synced")
    return SaveVerdict(SaveAction.CONFLICT, "changed on both sides since the last sync")


AUTOSAVE_SLOT = "autosave"
"""The slot other RomM clients (Argosy, Grout, decky-romm-sync) upload into."""


@dataclass(frozen=True, slots=True)
class ServerSave:
    """One save row on RomM (``GET /api/saves``): ``file_name`` as stored (with the
    slot's timestamp), ``content_hash`` md5 hex, ``updated_at`` ISO-8601 by the server's
    clock, ``size_bytes`` in bytes."""

    id: int
    rom_id: int
    file_name: str
    slot: str | None
    emulator: str
    content_hash: str
    updated_at: str
    size_bytes: int


@dataclass(frozen=True, slots=True)
class SlotConflict:
    """RomM refused an upload with 409: the slot has a save this device has not synced."""

    detail: str


def newest_in_slot(
    saves: Sequence[ServerSave], file_name: str, slot: str = AUTOSAVE_SLOT
) -> ServerSave | None:
    """The newest save in ``slot`` stored for the local ``file_name`` (``Game.srm``).

    RomM stores a slotted upload as ``Game [YYYY-MM-DD_HH-MM-SS].srm``; the plain name
    matches too, and the extension must match (``.srm`` and ``.rtc`` are apart). Newest
    by ``updated_at`` (RomM writes them all in UTC, so they compare as text), then id.
    """
    stem, dot, ext = file_name.rpartition(".")
    if not dot:
        stem, ext = file_name, ""
    matches = [s for s in saves if s.slot == slot and _same_save(s.file_name, stem, ext)]
    return max(matches, key=lambda s: (s.updated_at, s.id), default=None)


def _same_save(stored: str, stem: str, ext: str) -> bool:
    name, dot, stored_ext = stored.rpartition(".")
    if not dot:
        name, stored_ext = stored, ""
    if stored_ext != ext:
        return False
    if name == stem:
        return True
    prefix = stem + " ["
    return name.startswith(prefix) and name.endswith("]") and len(name) == len(prefix) + 20


def stored_name_matches(stored: str, file_name: str) -> bool:
    """Whether RomM's stored name (``Game [YYYY-MM-DD_HH-MM-SS].srm`` or ``Game.srm``)
    is the save of the local ``file_name`` (same stem, same extension)."""
    stem, dot, ext = file_name.rpartition(".")
    if not dot:
        stem, ext = file_name, ""
    return _same_save(stored, stem, ext)
