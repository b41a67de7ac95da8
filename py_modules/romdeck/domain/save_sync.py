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
