"""Records of the fake RomM library (files, covers, ROMs, firmware, clock) and pure helpers.

Helpers derive the fields RomM computes (hashes, ``name_sort_key``, the ``fs_name`` split,
``archive_members``) from real bytes, so hashes, sizes and downloads agree. Shapes follow the
recorded captures in ``../shared/romm-api/captures``.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from shared_files import CAPTURES

MAX_CONTENT = 64 * 1024
_TAG_RE = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]")

JSON = dict[str, Any]


def load_capture(name: str) -> Any:
    """The parsed JSON body of one recorded capture file."""
    return json.loads((CAPTURES / name).read_text(encoding="utf-8"))


def iso(when: datetime) -> str:
    """RomM's JSON datetime form: ISO-8601 with ``+00:00``."""
    return when.isoformat()


def synthetic_bytes(seed: str, size: int) -> bytes:
    """Deterministic pseudo-random bytes of ``size`` (capped at 64 KiB) for ``seed``."""
    size = min(size, MAX_CONTENT)
    block = hashlib.sha256(seed.encode()).digest()
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(block + counter.to_bytes(4, "little")).digest()
        counter += 1
    return bytes(out[:size])


def hashes(data: bytes) -> tuple[str, str, str]:
    """(crc32 hex, md5 hex, sha1 hex) of ``data``."""
    crc = f"{zlib.crc32(data) & 0xFFFFFFFF:08x}"
    return crc, hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest()


def name_sort_key(name: str) -> str:
    """RomM's ``name_sort_key``: lower case, leading article dropped, numbers padded to 12."""
    key = re.sub(r"^(the|a|an)\s+", "", name.lower())
    return re.sub(r"\d+", lambda m: m.group(0).zfill(12), key)


def split_fs_name(fs_name: str, is_folder: bool) -> tuple[str, str, str]:
    """(fs_name_no_tags, fs_name_no_ext, fs_extension) the way RomM's scanner derives them."""
    if is_folder or "." not in fs_name:
        no_ext, ext = fs_name, ""
    else:
        no_ext, ext = fs_name.rsplit(".", 1)
    return _TAG_RE.sub("", no_ext).strip(), no_ext, ext


@dataclass
class FakeFile:
    """One RomFile: ``rel_path`` is relative to the ROM folder (or the bare name)."""

    id: int
    rom_id: int
    rel_path: str
    content: bytes
    top_level: bool
    created_at: datetime
    last_modified: datetime

    @property
    def file_name(self) -> str:
        return self.rel_path.rsplit("/", 1)[-1]

    @cached_property
    def digest(self) -> tuple[str, str, str]:
        """(crc, md5, sha1) of the bytes, or of the first member for a zip."""
        members = self.members
        if members:
            return members[0]["crc_hash"], members[0]["md5_hash"], members[0]["sha1_hash"]
        return hashes(self.content)

    @cached_property
    def members(self) -> list[JSON]:
        """``archive_members`` of a ``.zip`` file, else empty."""
        return zip_members(self)


@dataclass
class FakeCover:
    """Uploaded artwork: bytes, MIME type and the timestamp used in ``?ts=``."""

    content: bytes
    content_type: str
    ts: datetime


@dataclass
class FakeRom:
    """One ROM row; ``is_folder`` is False only for a single top-level file."""

    id: int
    platform_id: int
    name: str
    fs_name: str
    is_folder: bool
    files: list[FakeFile]
    created_at: datetime
    updated_at: datetime
    missing: bool = False
    cover: FakeCover | None = None
    regions: list[str] = field(default_factory=list)
    revision: str = ""
    extra: JSON = field(default_factory=dict)
    digest: tuple[str, str, str] | None = None


@dataclass
class FakeFirmware:
    """One firmware (BIOS) file of a platform."""

    id: int
    platform_id: int
    file_name: str
    content: bytes
    created_at: datetime
    last_modified: datetime


class ServerClock:
    """A clock that never goes back and strictly increases on every ``tick``."""

    def __init__(self, start: datetime | None = None) -> None:
        self._last = start or datetime.now(UTC)

    def tick(self) -> datetime:
        now = datetime.now(UTC)
        self._last = max(now, self._last + timedelta(microseconds=1))
        return self._last

    def seen(self, when: datetime) -> None:
        self._last = max(self._last, when)


def zip_members(f: FakeFile) -> list[JSON]:
    """``archive_members`` of a ``.zip`` RomFile (empty for other files)."""
    if not f.file_name.lower().endswith(".zip"):
        return []
    try:
        with zipfile.ZipFile(io.BytesIO(f.content)) as archive:
            out = []
            for info in archive.infolist():
                crc, md5, sha1 = hashes(archive.read(info))
                out.append(
                    {"name": info.filename, "size": info.file_size, "crc_hash": crc,
                     "md5_hash": md5, "sha1_hash": sha1}
                )  # fmt: skip
            return out
    except zipfile.BadZipFile:
        return []
