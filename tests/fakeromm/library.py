"""In-memory library behind the fake RomM server: platforms, ROMs, files, covers, firmware.

ROM, platform, collection and firmware objects are rendered as dicts in the exact shapes of
the recorded captures (``../shared/romm-api/captures``): every key of a real ``SimpleRom``
is present. File contents are real bytes, so hashes, sizes and downloads agree.

The records and helpers live in ``fakeromm.records``, auth state in ``fakeromm.auth_state``,
the ready-made libraries in ``fakeromm.lab`` and the ``/api/roms`` query in ``fakeromm.query``;
their public names are re-exported here.
"""

from __future__ import annotations

import copy
import re

from fakeromm.auth_state import ALL_SCOPES, AccessGrant, AuthState, ClientToken, DeviceRequest
from fakeromm.lab import build_generated, cover_image, load_lab
from fakeromm.query import RomQuery, query_error
from fakeromm.records import (
    CAPTURES,
    JSON,
    MAX_CONTENT,
    FakeCover,
    FakeFile,
    FakeFirmware,
    FakeRom,
    ServerClock,
    hashes,
    iso,
    load_capture,
    name_sort_key,
    split_fs_name,
    synthetic_bytes,
    zip_members,
)

__all__ = [
    "ALL_SCOPES",
    "CAPTURES",
    "JSON",
    "MAX_CONTENT",
    "AccessGrant",
    "AuthState",
    "ClientToken",
    "DeviceRequest",
    "FakeCover",
    "FakeFile",
    "FakeFirmware",
    "FakeLibrary",
    "FakeRom",
    "RomQuery",
    "ServerClock",
    "cover_image",
    "hashes",
    "iso",
    "load_capture",
    "name_sort_key",
    "query_error",
    "split_fs_name",
    "synthetic_bytes",
    "zip_members",
]

_REGIONS = {"USA", "Europe", "World", "Japan", "France", "Germany", "Spain", "Italy"}


class FakeLibrary:
    """The fake server's state; mutate it with the helpers, read it through the server."""

    def __init__(self) -> None:
        self.clock = ServerClock()
        self.platforms: dict[int, JSON] = {}
        self.roms: dict[int, FakeRom] = {}
        self.files: dict[int, FakeFile] = {}
        self.collections: dict[int, JSON] = {}
        self.firmware: dict[int, FakeFirmware] = {}
        self.auth = AuthState()
        self._rom_template: JSON = load_capture("roms_page1_light.json")["items"][0]
        self._platform_template: JSON = load_capture("platforms.json")[0]
        self._next = {"platform": 1, "rom": 1, "file": 1, "collection": 1, "firmware": 1}

    def _new_id(self, kind: str, wanted: int | None = None) -> int:
        new = wanted if wanted is not None else self._next[kind]
        self._next[kind] = max(self._next[kind], new + 1)
        return new

    # ---- platforms -------------------------------------------------------------------------
    def add_platform(
        self, slug: str, name: str, fs_slug: str | None = None, *, id: int | None = None
    ) -> int:
        """Add a platform; returns its id."""
        pid = self._new_id("platform", id)
        now = self.clock.tick()
        row = copy.deepcopy(self._platform_template)
        row.update(
            id=pid, slug=slug, fs_slug=fs_slug or slug, name=name, display_name=name,
            igdb_slug=slug, custom_name="", created_at=iso(now), updated_at=iso(now),
        )  # fmt: skip
        self.platforms[pid] = row
        return pid

    # ---- roms ------------------------------------------------------------------------------
    def add_rom(
        self,
        platform_id: int,
        *,
        name: str,
        fs_name: str | None = None,
        files: list[tuple[str, bytes]] | None = None,
        cover: bytes | None = None,
        cover_type: str = "image/png",
        missing: bool = False,
        id: int | None = None,
        file_ids: list[int] | None = None,
    ) -> int:
        """Add a ROM; ``files`` are (path relative to the ROM folder, bytes).

        One file whose path has no folder and equals ``fs_name`` (or no ``fs_name``) makes a
        simple single-file ROM; anything else is a folder ROM named ``fs_name`` (default
        ``name``). Without ``files`` the ROM gets one ``<name>.bin`` of 256 synthetic bytes.
        """
        if platform_id not in self.platforms:
            raise KeyError(f"no platform {platform_id}")
        if files is None:
            base = fs_name or f"{name}.bin"
            files = [(base, synthetic_bytes(base, 256))]
        single = len(files) == 1 and "/" not in files[0][0] and fs_name in (None, files[0][0])
        rom_fs_name = files[0][0] if single else (fs_name or name)
        rid = self._new_id("rom", id)
        now = self.clock.tick()
        rom = FakeRom(rid, platform_id, name, rom_fs_name, not single, [], now, now, missing)
        tags = [t for group in re.findall(r"\(([^)]*)\)", rom_fs_name) for t in group.split(", ")]
        rom.regions = [t for t in tags if t in _REGIONS]
        rev = re.search(r"\(Rev (\w+)\)", rom_fs_name)
        rom.revision = rev.group(1) if rev else ""
        for index, (rel, data) in enumerate(sorted(files, key=lambda f: f[0])):
            wanted = file_ids[index] if file_ids else None
            fid = self._new_id("file", wanted)
            f = FakeFile(fid, rid, rel, data, "/" not in rel, now, now)
            rom.files.append(f)
            self.files[fid] = f
        self.roms[rid] = rom
        if cover is not None:
            self.set_cover(rid, cover, cover_type)
        return rid

    def _touch(self, rom: FakeRom) -> None:
        rom.updated_at = self.clock.tick()

    def rename_rom(self, rom_id: int, name: str) -> None:
        """Change a ROM's display name (``updated_at`` moves forward)."""
        rom = self.roms[rom_id]
        rom.name = name
        self._touch(rom)

    def move_rom(self, rom_id: int, platform_id: int) -> None:
        """Move a ROM to another platform."""
        rom = self.roms[rom_id]
        rom.platform_id = platform_id
        self._touch(rom)

    def set_missing(self, rom_id: int, missing: bool = True) -> None:
        """Flag a ROM as missing from the filesystem."""
        rom = self.roms[rom_id]
        rom.missing = missing
        self._touch(rom)

    def delete_rom(self, rom_id: int) -> None:
        """Remove a ROM, its files and its collection memberships."""
        rom = self.roms.pop(rom_id)
        for f in rom.files:
            self.files.pop(f.id, None)
        for col in self.collections.values():
            if rom_id in col["rom_ids"]:
                col["rom_ids"].remove(rom_id)
                col["updated_at"] = self.clock.tick()

    def set_cover(self, rom_id: int, content: bytes, content_type: str = "image/png") -> None:
        """Upload artwork for a ROM; the cover URL's ``ts`` is the new ``updated_at``."""
        rom = self.roms[rom_id]
        self._touch(rom)
        rom.cover = FakeCover(content, content_type, rom.updated_at)

    def cover_paths(self, rom: FakeRom) -> tuple[str, str]:
        """(path_cover_small, path_cover_large): relative, raw ``str(datetime)`` in ``ts``."""
        if rom.cover is None:
            return "", ""
        ext = {"image/webp": "webp", "image/jpeg": "jpg"}.get(rom.cover.content_type, "png")
        base = f"/assets/romm/resources/roms/{rom.platform_id}/{rom.id}/cover"
        ts = str(rom.cover.ts)
        return f"{base}/small.{ext}?ts={ts}", f"{base}/big.{ext}?ts={ts}"

    # ---- collections & firmware ------------------------------------------------------------
    def add_collection(self, name: str, rom_ids: list[int], *, id: int | None = None) -> int:
        """Add a user collection holding ``rom_ids``; returns its id."""
        cid = self._new_id("collection", id)
        now = self.clock.tick()
        self.collections[cid] = {
            "id": cid, "name": name, "description": "", "rom_ids": list(rom_ids),
            "created_at": now, "updated_at": now,
        }  # fmt: skip
        return cid

    def add_firmware(
        self, platform_id: int, file_name: str, content: bytes, *, id: int | None = None
    ) -> int:
        """Add a firmware file to a platform; returns its id."""
        fid = self._new_id("firmware", id)
        now = self.clock.tick()
        self.firmware[fid] = FakeFirmware(fid, platform_id, file_name, content, now, now)
        return fid

    # ---- device-flow test hooks ------------------------------------------------------------
    def approve_device(self, user_code: str, scopes: list[str] | None = None) -> None:
        """Approve a pending device-flow request (as the user would in the web UI)."""
        self.auth.approve_device(user_code, scopes)

    def deny_device(self, user_code: str) -> None:
        """Deny a pending device-flow request."""
        self.auth.deny_device(user_code)

    def expire_device(self, user_code: str) -> None:
        """Make a device-flow request expire now."""
        self.auth.expire_device(user_code)

    # ---- construction ----------------------------------------------------------------------
    @classmethod
    def from_captures(cls) -> FakeLibrary:
        """The recorded lab library: 5 platforms, 20 ROMs, 1 collection, 3 firmware files."""
        lib = cls()
        load_lab(lib)
        return lib

    @classmethod
    def generated(
        cls, n_roms: int = 10_000, n_platforms: int = 20, n_covers: int = 500
    ) -> FakeLibrary:
        """A big synthetic library for benchmarks: 32-byte files, every 25th ROM a cue/bin
        folder, the first ``n_covers`` ROMs with a shared PNG (every 50th WebP or JPEG)."""
        lib = cls()
        build_generated(lib, n_roms, n_platforms, n_covers)
        return lib

    # ---- rendering ---------------------------------------------------------------------------
    def rom_hashes(self, rom: FakeRom) -> tuple[str, str, str]:
        """ROM-level hashes: of the content (a zip's member), or of all files concatenated."""
        if len(rom.files) == 1:
            return rom.files[0].digest
        if rom.digest is None:
            rom.digest = hashes(b"".join(f.content for f in rom.files))
        return rom.digest

    def render_file(self, rom: FakeRom, f: FakeFile) -> JSON:
        """A RomFile dict (shape of ``rom_detail_*.json`` ``files[]``)."""
        platform = self.platforms[rom.platform_id]
        fs_path = f"roms/{platform['fs_slug']}"
        folder = f"{fs_path}/{rom.fs_name}" if rom.is_folder else fs_path
        sub = f.rel_path.rsplit("/", 1)[0] if "/" in f.rel_path else ""
        file_path = f"{folder}/{sub}" if sub else folder
        members = f.members
        crc, md5, sha1 = f.digest
        return {
            "id": f.id, "rom_id": rom.id, "file_name": f.file_name, "file_path": file_path,
            "file_size_bytes": len(f.content), "full_path": f"{file_path}/{f.file_name}",
            "is_top_level": f.top_level, "created_at": iso(f.created_at),
            "updated_at": iso(f.created_at), "last_modified": iso(f.last_modified),
            "crc_hash": crc, "md5_hash": md5, "sha1_hash": sha1, "ra_hash": None,
            "chd_sha1_hash": "", "archive_members": members or None,
            "category": "game" if f.top_level else None, "track_meta": None,
        }  # fmt: skip

    def render_rom(self, rom: FakeRom, *, with_files: bool) -> JSON:
        """A SimpleRom dict with every recorded key; ``files`` filled only if asked."""
        platform = self.platforms[rom.platform_id]
        row = dict(self._rom_template)
        no_tags, no_ext, ext = split_fs_name(rom.fs_name, rom.is_folder)
        top = sum(1 for f in rom.files if f.top_level)
        crc, md5, sha1 = self.rom_hashes(rom)
        small, large = self.cover_paths(rom)
        fs_path = f"roms/{platform['fs_slug']}"
        row.update(
            id=rom.id, platform_id=rom.platform_id, platform_slug=platform["slug"],
            platform_fs_slug=platform["fs_slug"], platform_custom_name=platform["custom_name"],
            platform_display_name=platform["display_name"], fs_name=rom.fs_name,
            fs_name_no_tags=no_tags, fs_name_no_ext=no_ext, fs_extension=ext, fs_path=fs_path,
            fs_size_bytes=sum(len(f.content) for f in rom.files), name=rom.name,
            name_sort_key=name_sort_key(rom.name), path_cover_small=small,
            path_cover_large=large, regions=list(rom.regions), revision=rom.revision,
            crc_hash=crc, md5_hash=md5, sha1_hash=sha1,
            has_simple_single_file=not rom.is_folder,
            has_nested_single_file=rom.is_folder and top == 1,
            has_multiple_files=rom.is_folder and top > 1,
            full_path=f"{fs_path}/{rom.fs_name}", created_at=iso(rom.created_at),
            updated_at=iso(rom.updated_at), missing_from_fs=rom.missing,
            metadatum={**self._rom_template["metadatum"], "rom_id": rom.id},
            rom_user={**self._rom_template["rom_user"]},
            files=[self.render_file(rom, f) for f in rom.files] if with_files else [],
            **rom.extra,
        )  # fmt: skip
        for key in ("alternative_names", "languages", "tags", "merged_screenshots"):
            row[key] = []
        row["sibling_roms"] = []
        return row

    def render_detail(self, rom: FakeRom) -> JSON:
        """A DetailedRom dict (shape of ``rom_detail_*.json``)."""
        row = self.render_rom(rom, with_files=True)
        row.pop("screenshot_path", None)
        for key in (
            "user_saves", "user_states", "all_user_saves", "all_user_states",
            "user_screenshots", "all_user_screenshots", "user_collections", "all_user_notes",
        ):  # fmt: skip
            row[key] = []
        return row

    def render_firmware(self, fw: FakeFirmware) -> JSON:
        """A firmware dict (shape of ``firmware.json`` items)."""
        platform = self.platforms[fw.platform_id]
        no_tags, no_ext, ext = split_fs_name(fw.file_name, False)
        crc, md5, sha1 = hashes(fw.content)
        path = f"bios/{platform['fs_slug']}"
        return {
            "id": fw.id, "file_name": fw.file_name, "file_name_no_tags": no_tags,
            "file_name_no_ext": no_ext, "file_extension": ext, "file_path": path,
            "file_size_bytes": len(fw.content), "full_path": f"{path}/{fw.file_name}",
            "is_verified": False, "crc_hash": crc, "md5_hash": md5, "sha1_hash": sha1,
            "missing_from_fs": False, "created_at": iso(fw.created_at),
            "updated_at": iso(fw.created_at),
        }  # fmt: skip

    def render_platform(self, pid: int, counts: dict[int, tuple[int, int]]) -> JSON:
        """A platform dict with live ``rom_count``/``fs_size_bytes`` and its firmware."""
        row = dict(self.platforms[pid])
        fws = [self.render_firmware(f) for f in self.firmware.values() if f.platform_id == pid]
        rom_count, size = counts.get(pid, (0, 0))
        row.update(rom_count=rom_count, fs_size_bytes=size, firmware=fws, firmware_count=len(fws))
        return row

    def platform_counts(self) -> dict[int, tuple[int, int]]:
        """platform id -> (rom_count, fs_size_bytes)."""
        out: dict[int, tuple[int, int]] = {}
        for rom in self.roms.values():
            count, size = out.get(rom.platform_id, (0, 0))
            out[rom.platform_id] = (count + 1, size + sum(len(f.content) for f in rom.files))
        return out

    def render_collection(self, col: JSON) -> JSON:
        """A collection dict (shape of ``collections.json`` items)."""
        roms = [self.roms[r] for r in col["rom_ids"] if r in self.roms]
        covers = [self.cover_paths(r) for r in roms if r.cover is not None]
        return {
            "name": col["name"], "description": col["description"],
            "rom_ids": [r.id for r in roms], "rom_count": len(roms),
            "path_cover_small": None, "path_cover_large": None,
            "path_covers_small": [c[0] for c in covers],
            "path_covers_large": [c[1] for c in covers],
            "is_public": False, "is_favorite": False, "is_virtual": False, "is_smart": False,
            "created_at": iso(col["created_at"]), "updated_at": iso(col["updated_at"]),
            "id": col["id"], "url_cover": "", "user_id": 1, "owner_username": "admin",
        }  # fmt: skip
