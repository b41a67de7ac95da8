"""The sync plan: which shortcut each ROM should have, compared with what we made.

Pure functions over value types. A plan is idempotent: applying it and planning again
against the updated registry yields an empty plan.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from romdeck.domain.appid import shortcut_appid
from romdeck.domain.launch_protocol import (
    LAUNCH_OPTION_PREFIX,
    launch_option,
    parse_launch_option,
)
from romdeck.domain.models import (
    Collection,
    Platform,
    RegistryEntry,
    RomSummary,
    ShortcutSpec,
    SyncPlan,
)
from romdeck.errors import RomDeckError

COLLECTION_PREFIX = "RomM: "
LAUNCH_PREFIX = LAUNCH_OPTION_PREFIX
LAUNCHER_NAME = "romdeck-launch"
"""The file name of the launcher every RomDeck shortcut runs (its folder may change)."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def steam_collection_name(name: str) -> str:
    """The Steam collection for a RomM platform or collection: ``"RomM: <name>"``."""
    return COLLECTION_PREFIX + clean_text(name)


def launch_options(rom_id: int) -> str:
    """The shortcut's launch options, which the launcher parses: ``"romdeck:<rom id>"``."""
    return launch_option(rom_id)


def quoted(path: str) -> str:
    """A path quoted the way Steam stores ``Exe`` and ``StartDir``."""
    return f'"{path}"'


def clean_text(text: str) -> str:
    """Collapse control characters (never valid in a VDF string) and outer blanks."""
    if text.isprintable():  # the common case, and much cheaper than the regex
        return text.strip()
    return _CONTROL.sub(" ", text).strip()


def shortcut_name(rom: RomSummary) -> str:
    """RomM's ``name``, else ``fs_name_no_tags``, else ``fs_name``, cleaned for Steam."""
    for candidate in (rom.name, rom.fs_name_no_tags, rom.fs_name):
        name = clean_text(candidate)
        if name:
            return name
    return f"RomM #{rom.id}"


def desired_shortcuts(
    roms: Iterable[RomSummary],
    *,
    platforms: Mapping[int, Platform],
    collections: Sequence[Collection],
    launcher: str,
) -> dict[int, ShortcutSpec]:
    """The shortcut each ROM should have, by ROM id.

    Args:
        roms: the ROMs to sync (already filtered to the user's selection); ROMs
            missing from the server's filesystem are skipped (they cannot be played).
        platforms: every platform by id, for collection names.
        collections: the chosen RomM collections; each becomes a Steam collection too.
        launcher: absolute path of ``bin/romdeck-launch``.
    """
    member_of: dict[int, list[str]] = {}
    for collection in sorted(collections, key=lambda c: (c.name.casefold(), c.id)):
        tag = steam_collection_name(collection.name)
        for rom_id in collection.rom_ids:
            member_of.setdefault(rom_id, []).append(tag)
    exe = quoted(launcher)
    start_dir = quoted(launcher.rpartition("/")[0] or "/")
    platform_tags = {pid: (steam_collection_name(p.display_name),) for pid, p in platforms.items()}
    desired: dict[int, ShortcutSpec] = {}
    for rom in roms:
        if rom.missing_from_fs:
            continue
        tags = platform_tags.get(rom.platform_id) or (steam_collection_name(rom.platform_slug),)
        extra = member_of.get(rom.id)
        if extra:
            tags = tags + tuple(t for t in extra if t not in tags)
        desired[rom.id] = ShortcutSpec(
            rom_id=rom.id,
            app_name=shortcut_name(rom),
            exe=exe,
            start_dir=start_dir,
            launch_options=launch_options(rom.id),
            tags=tags,
            cover_path=rom.cover_path,
        )
    return desired


def plan_sync(
    desired: Mapping[int, ShortcutSpec], registry: Mapping[int, RegistryEntry]
) -> SyncPlan:
    """Compare the wanted shortcuts with the registry: add, update, remove, unchanged.

    Matching is by ROM id only, so a ROM renamed or moved on the server is updated
    in place (keeping its appid), never duplicated. Outputs are ordered by ROM id.
    """
    add = tuple(desired[rom_id] for rom_id in sorted(desired.keys() - registry.keys()))
    update: list[tuple[RegistryEntry, ShortcutSpec]] = []
    unchanged = 0
    for rom_id in sorted(desired.keys() & registry.keys()):
        entry, spec = registry[rom_id], desired[rom_id]
        if entry.spec == spec:
            unchanged += 1
        else:
            update.append((entry, spec))
    remove = tuple(registry[rom_id] for rom_id in sorted(registry.keys() - desired.keys()))
    return SyncPlan(add=add, update=tuple(update), remove=remove, unchanged=unchanged)


def needs_artwork(spec: ShortcutSpec, entry: RegistryEntry | None) -> bool:
    """Whether the shortcut's portrait art must be (re)set: it has a cover that was not
    applied yet, or whose ``?ts=`` changed since (``entry.cover_key`` is what was applied)."""
    return bool(spec.cover_path) and (entry is None or entry.cover_key != spec.cover_path)


def allocate_appid(spec: ShortcutSpec, taken: set[int]) -> int:
    """A shortcut id for a new shortcut, as Steam computes it, unique among ``taken``.

    Steam's id is ``crc32(exe + name) | 0x80000000`` (unsigned 32-bit). Two ROMs with
    the same name would collide, so on a collision the ROM id is mixed in until free.
    """
    appid = shortcut_appid(spec.exe, spec.app_name)
    salt = 0
    while appid in taken:
        salt += 1
        appid = shortcut_appid(spec.exe, f"{spec.app_name}\0{spec.rom_id}\0{salt}")
    return appid


@dataclass(frozen=True, slots=True)
class FoundShortcut:
    """A RomDeck shortcut as found in ``shortcuts.vdf`` (see :func:`own_rom_id`).

    ``appid`` is unsigned; the texts are as stored (``exe`` and ``start_dir`` quoted).
    """

    appid: int
    rom_id: int
    app_name: str
    exe: str
    start_dir: str
    launch_options: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ShortcutScan:
    """What one read of ``shortcuts.vdf`` tells a sync: every shortcut's unsigned appid
    (ours and foreign, for allocating new ids) and our shortcuts in file order."""

    appids: frozenset[int]
    own: tuple[FoundShortcut, ...]


def own_rom_id(exe: str, launch_options: str) -> int | None:
    """The ROM id of a shortcut RomDeck made, else None (a foreign shortcut).

    Ours: ``exe`` runs a file named ``romdeck-launch`` (any folder, quoted or not, since
    the plugin may have moved) and ``launch_options`` is exactly ``romdeck:<rom id>``
    (outer blanks ignored).
    """
    path = exe.strip().strip('"')
    if path.rpartition("/")[2] != LAUNCHER_NAME:
        return None
    try:
        return parse_launch_option(launch_options.strip())
    except RomDeckError:
        return None


def adopt_shortcuts(
    found: Sequence[FoundShortcut], registry: Mapping[int, RegistryEntry]
) -> list[RegistryEntry]:
    """Registry entries to record for our shortcuts that the registry does not know.

    Makes a lost or reset registry, or a crash between writing ``shortcuts.vdf`` and
    committing the registry, harmless: the shortcut found is adopted (keeping its
    appid) instead of being added again. ``found`` is in file order. Per ROM id:
    nothing when the registry's appid is among those found for it; else the first one
    found, unless its appid is registered for another ROM (the registry wins). The
    adopted spec is the file's, with no cover (``cover_path`` ``""``), so the next plan
    updates whatever differs from what is wanted. Ordered by ROM id.
    """
    registered = {entry.appid: rom_id for rom_id, entry in registry.items()}
    by_rom: dict[int, list[FoundShortcut]] = {}
    for shortcut in found:
        by_rom.setdefault(shortcut.rom_id, []).append(shortcut)
    adopted: list[RegistryEntry] = []
    for rom_id in sorted(by_rom):
        candidates = by_rom[rom_id]
        entry = registry.get(rom_id)
        if entry is not None and any(c.appid == entry.appid for c in candidates):
            continue
        free = [c for c in candidates if registered.get(c.appid, rom_id) == rom_id]
        if not free:
            continue
        first = free[0]
        spec = ShortcutSpec(
            rom_id=rom_id,
            app_name=first.app_name,
            exe=first.exe,
            start_dir=first.start_dir,
            launch_options=first.launch_options,
            tags=first.tags,
        )
        adopted.append(RegistryEntry(spec=spec, appid=first.appid))
    return adopted
