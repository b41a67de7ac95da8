"""Records of save sync: targets, local files, conflicts, backups, baselines (value types)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SaveTarget:
    """Where one installed ROM's saves live: the libretro ``emulator`` (core short name,
    sent to RomM as ``emulator``) and every candidate save ``paths`` (absolute, primary first)."""

    rom_id: int
    emulator: str
    paths: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LocalSave:
    """A save file read whole: its ``data``, ``md5`` hex and ``path``; ``modified_at`` its
    modification time, ISO-8601 UTC (``""`` when unknown)."""

    path: str
    data: bytes
    md5: str
    modified_at: str = ""


@dataclass(frozen=True, slots=True)
class Conflict:
    """A save changed on both sides: ``server_copy`` holds the server's bytes on disk
    (the local file is untouched). ``resolution`` is ``""`` until chosen (``local``/``server``)."""

    id: int
    rom_id: int
    file_name: str
    local_path: str
    local_hash: str
    server_hash: str
    server_save_id: int
    server_copy: str
    created_at: str
    resolution: str = ""


@dataclass(frozen=True, slots=True)
class Backup:
    """A copy of a local save kept before it was replaced (``reason``: download, restore,
    conflict). ``size_bytes`` in bytes, ``created_at`` ISO-8601 UTC."""

    id: int
    rom_id: int
    file_name: str
    original_path: str
    backup_path: str
    content_hash: str
    size_bytes: int
    created_at: str
    reason: str


@dataclass(frozen=True, slots=True)
class Baseline:
    """What both sides held at the last sync of one file (``content_hash`` md5)."""

    rom_id: int
    file_name: str
    content_hash: str
    server_save_id: int | None
    synced_at: str
