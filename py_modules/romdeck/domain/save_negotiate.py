"""RomM's sync negotiation (``/api/sync/negotiate``) as value types, and how its verdict
is weighed against our own three-way decision (pure).

RomM pairs saves on (rom_id, slot) only, by its own idea of this device's last sync; our
:func:`romdeck.domain.save_sync.decide` pairs by file name against our own baseline and
stays the client's truth. Negotiation can only make a decision safer, never riskier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from romdeck.domain.save_sync import SaveAction, SaveVerdict, stored_name_matches


@dataclass(frozen=True, slots=True)
class NegotiateSave:
    """One local save as sent to negotiate: ``content_hash`` md5 hex, ``updated_at`` the
    file's modification time (ISO-8601 UTC), ``size_bytes`` in bytes."""

    rom_id: int
    file_name: str
    slot: str | None
    emulator: str
    content_hash: str
    updated_at: str
    size_bytes: int


@dataclass(frozen=True, slots=True)
class SyncOperation:
    """One operation of a negotiation: ``action`` ``no_op``/``upload``/``download``/
    ``conflict``; ``save_id`` and ``file_name`` are the server's row (``None`` / our name
    for an upload of a save the server lacks)."""

    action: str
    rom_id: int
    save_id: int | None
    file_name: str
    slot: str | None
    emulator: str
    reason: str
    server_content_hash: str | None
    server_updated_at: str | None


@dataclass(frozen=True, slots=True)
class Negotiation:
    """An open sync session on RomM and its planned operations."""

    session_id: int
    operations: tuple[SyncOperation, ...]


@dataclass(frozen=True, slots=True)
class NoNegotiation:
    """RomM would not negotiate: ``route_missing`` when it has no such endpoint (404/405,
    an older server), else it refused this time (device unknown or sync disabled: 400/404)."""

    detail: str
    route_missing: bool


def operation_for(
    operations: Sequence[SyncOperation], rom_id: int, file_name: str, slot: str | None
) -> SyncOperation | None:
    """The operation about one local save file: an upload named after it, or an operation
    on a server row stored for it (``Game [stamp].srm``) in ``slot``; ``None`` if none is."""
    for op in operations:
        if op.rom_id != rom_id or op.slot != slot:
            continue
        if op.file_name == file_name or stored_name_matches(op.file_name, file_name):
            return op
    return None


def safer(ours: SaveVerdict, theirs: SyncOperation | None) -> SaveVerdict:
    """Our verdict, made safer by RomM's: a conflict if either says conflict, else ours.

    Applied when both sides hold a version of the file. RomM's upload/download rests on
    its per-device sync marks, ours on the hash both sides had at our last sync; we only
    download when the local file is that baseline (no unsynced local change, and it is
    backed up first), and only upload into the slot's history (RomM's 409 still guards),
    so where the two merely point different ways ours stands.

    | ours | RomM's | result |
    |---|---|---|
    | any | none (no operation for this file) | ours |
    | skip (same bytes both sides) | any | skip: nothing can be lost |
    | conflict | any | conflict |
    | upload/download | conflict | conflict |
    | upload/download | upload/download/no_op | ours |
    """
    if theirs is None or ours.action in (SaveAction.SKIP, SaveAction.CONFLICT):
        return ours
    if theirs.action == "conflict":
        return SaveVerdict(SaveAction.CONFLICT, f"RomM sees a conflict: {theirs.reason}")
    return ours
