"""Stamps that let a headless resync skip planning when nothing changed. Pure.

A *library stamp* digests everything the wanted shortcuts are computed from, as the
refresh left it: the selection, the launcher path, the chosen platforms and collections
as served, and the mirrored ROMs they cover. A *local stamp* digests
what a Steam user has on this machine (the registry rows, the shortcuts file, the grid
folder, the collections file); adapters compute its parts. A run that completed without
failures records both; when a later run finds both equal, the plan would be empty and
is not computed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from romdeck.domain.models import Collection, Platform, Selection


@dataclass(frozen=True, slots=True)
class SyncStamp:
    """What one Steam user's last complete sync saw.

    ``library``: the :func:`library_stamp` of that run; ``local``: its local stamp
    (:func:`combine` of the adapters' fingerprints) after it wrote; ``unchanged``: how
    many shortcuts it left in place and ``notes`` what it told the user (both reported
    again when a resync skips planning).
    """

    library: str
    local: str
    unchanged: int
    notes: tuple[str, ...] = ()


def library_stamp(
    *,
    selection: Selection,
    launcher: str,
    platforms: Iterable[Platform],
    collections: Iterable[Collection],
    catalog: str,
) -> str:
    """A hex digest of the inputs of :func:`romdeck.domain.plan.desired_shortcuts`.

    ``platforms``: the chosen platforms as served (names make the collection tags);
    ``collections``: the chosen collections with their member ids; ``catalog``: the
    digest of the mirrored ROMs they cover, after the refresh.
    """
    parts: list[object] = [
        ("selection", sorted(selection.platform_ids), sorted(selection.collection_ids)),
        ("launcher", launcher),
        ("platforms", sorted((p.id, p.slug, p.display_name) for p in platforms)),
        ("collections", sorted((c.id, c.name, tuple(sorted(c.rom_ids))) for c in collections)),
        ("catalog", catalog),
    ]
    return combine(repr(part) for part in parts)


def combine(parts: Iterable[str]) -> str:
    """One hex digest of several texts (order matters)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()
