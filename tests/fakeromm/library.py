"""In-memory library behind the fake RomM server: platforms, ROMs, files, covers, firmware.

ROM, platform, collection and firmware objects are rendered as dicts in the exact shapes of
the recorded captures (``/work/shared/romm-api/captures``): every key of a real ``SimpleRom``
is present. File contents are real bytes, so hashes, sizes and downloads agree.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import re
import secrets
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from multidict import MultiMapping

CAPTURES = Path("/work/shared/romm-api/captures")
MAX_CONTENT = 64 * 1024
_TAG_RE = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]")
_REGIONS = {"USA", "Europe", "World", "Japan", "France", "Germany", "Spain", "Italy"}

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
        _load_lab(lib)
        return lib

    @classmethod
    def generated(
        cls, n_roms: int = 10_000, n_platforms: int = 20, n_covers: int = 500
    ) -> FakeLibrary:
        """A big synthetic library for benchmarks: 32-byte files, every 25th ROM a cue/bin
        folder, the first ``n_covers`` ROMs with a shared PNG (every 50th WebP or JPEG)."""
        lib = cls()
        _build_generated(lib, n_roms, n_platforms, n_covers)
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


# ---- auth state --------------------------------------------------------------------------------
ALL_SCOPES: list[str] = load_capture("users_me.json")["oauth_scopes"]


@dataclass
class ClientToken:
    """A client API token (``rmm_`` + 64 hex); ``device_id`` set for device-flow tokens."""

    id: int
    username: str
    name: str
    scopes: list[str]
    raw_token: str
    expires_at: datetime | None
    created_at: datetime
    device_id: str | None = None
    last_used_at: datetime | None = None

    def render(self, *, with_raw: bool) -> JSON:
        """Shape of ``client_token_create.json`` (``raw_token`` only on create)."""
        row: JSON = {
            "id": self.id, "name": self.name, "scopes": list(self.scopes),
            "expires_at": iso(self.expires_at) if self.expires_at else None,
            "last_used_at": iso(self.last_used_at) if self.last_used_at else None,
            "created_at": iso(self.created_at), "user_id": 1, "device_id": self.device_id,
        }  # fmt: skip
        if with_raw:
            row["raw_token"] = self.raw_token
        return row


@dataclass
class DeviceRequest:
    """One device-authorization request; ``state`` is pending|approved|denied|consumed."""

    device_code: str
    user_code: str
    requested_scopes: list[str]
    name: str
    interval: float
    expires_at: float
    state: str = "pending"
    last_poll: float | None = None
    approved_scopes: list[str] = field(default_factory=list)


@dataclass
class AccessGrant:
    """An OAuth password-grant token: opaque JWT-looking string with scopes and expiry."""

    username: str
    scopes: list[str]
    expires_at: float
    kind: str  # "access" | "refresh"


class AuthState:
    """Users, OAuth tokens, client tokens and device-flow requests of the fake server."""

    def __init__(self) -> None:
        self.users: dict[str, tuple[str, list[str]]] = {}
        self.grants: dict[str, AccessGrant] = {}
        self.client_tokens: dict[int, ClientToken] = {}
        self.device_requests: dict[str, DeviceRequest] = {}
        self.access_ttl = 1800.0
        self._next_token_id = 1

    def add_user(self, username: str, password: str, scopes: list[str] | None = None) -> None:
        """Add (or replace) a user holding ``scopes`` (default: all 22)."""
        self.users[username] = (password, list(scopes or ALL_SCOPES))

    def user_scopes(self, username: str) -> list[str]:
        return self.users[username][1]

    def check_password(self, username: str, password: str) -> bool:
        user = self.users.get(username)
        return user is not None and secrets.compare_digest(user[0], password)

    def grant(self, username: str, scopes: list[str]) -> tuple[str, str]:
        """Mint an (access, refresh) pair; both look like JWTs but are opaque."""
        now = time.monotonic()
        access = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.fake-access." + secrets.token_hex(16)
        refresh = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.fake-refresh." + secrets.token_hex(16)
        self.grants[access] = AccessGrant(username, scopes, now + self.access_ttl, "access")
        self.grants[refresh] = AccessGrant(username, scopes, now + 604800, "refresh")
        return access, refresh

    def use_refresh(self, token: str) -> AccessGrant | None:
        """Consume a refresh token (single use); None when unknown, used or expired."""
        grant = self.grants.get(token)
        if grant is None or grant.kind != "refresh" or grant.expires_at < time.monotonic():
            return None
        del self.grants[token]
        return grant

    def expire_access_tokens(self) -> None:
        """Test hook: every access token issued so far is now expired."""
        for grant in self.grants.values():
            if grant.kind == "access":
                grant.expires_at = 0.0

    def create_client_token(
        self, username: str, name: str, scopes: list[str], expires_at: datetime | None,
        device_id: str | None = None,
    ) -> ClientToken:  # fmt: skip
        """Store a new client token with a fresh ``rmm_`` secret."""
        token = ClientToken(
            self._next_token_id, username, name, list(scopes), "rmm_" + secrets.token_hex(32),
            expires_at, datetime.now(UTC), device_id,
        )  # fmt: skip
        self._next_token_id += 1
        self.client_tokens[token.id] = token
        return token

    def find_client_token(self, raw: str) -> ClientToken | None:
        """The live token with this secret, or None (unknown, revoked or expired)."""
        for token in self.client_tokens.values():
            if secrets.compare_digest(token.raw_token, raw):
                if token.expires_at is not None and token.expires_at < datetime.now(UTC):
                    return None
                token.last_used_at = datetime.now(UTC)
                return token
        return None

    def start_device(self, requested: list[str], name: str, interval: float) -> DeviceRequest:
        """Open a device-flow request (expires in 600 s)."""
        user_code = "".join(secrets.choice("ABCDEFGHJKMNPQRSTUVWXYZ23456789") for _ in range(8))
        req = DeviceRequest(
            secrets.token_hex(32), user_code, list(requested), name, interval,
            time.monotonic() + 600,
        )  # fmt: skip
        self.device_requests[req.device_code] = req
        return req

    def _by_user_code(self, user_code: str) -> DeviceRequest:
        for req in self.device_requests.values():
            if req.user_code == user_code.replace("-", "").upper():
                return req
        raise KeyError(user_code)

    def approve_device(self, user_code: str, scopes: list[str] | None = None) -> None:
        req = self._by_user_code(user_code)
        req.state = "approved"
        req.approved_scopes = list(scopes if scopes is not None else req.requested_scopes)

    def deny_device(self, user_code: str) -> None:
        self._by_user_code(user_code).state = "denied"

    def expire_device(self, user_code: str) -> None:
        self._by_user_code(user_code).expires_at = 0.0


# ---- library builders --------------------------------------------------------------------------
def cover_image(fmt: str = "PNG", color: tuple[int, int, int] = (40, 90, 160)) -> bytes:
    """A 264x352 cover image in ``fmt`` (PNG, WEBP or JPEG) made with Pillow."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (264, 352), color).save(out, format=fmt)
    return out.getvalue()


def _lab_file_bytes(rom: JSON, f: JSON) -> bytes:
    """Synthetic content for a recorded RomFile: a real zip for .zip, real m3u text."""
    if f["file_name"].endswith(".zip"):
        member = rom["fs_name_no_ext"] + ".sfc"
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(member, synthetic_bytes(member, 524288))
        return buf.getvalue()
    if f["file_name"].endswith(".m3u"):
        cues = sorted(g["file_name"] for g in rom["files"] if g["file_name"].endswith(".cue"))
        return ("\n".join(cues) + "\n").encode()
    return synthetic_bytes(f["full_path"], f["file_size_bytes"])


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _load_lab(lib: FakeLibrary) -> None:
    for p in load_capture("platforms.json"):
        lib.add_platform(p["slug"], p["name"], p["fs_slug"], id=p["id"])
        lib.platforms[p["id"]].update(
            {k: v for k, v in p.items() if k not in ("firmware", "rom_count", "fs_size_bytes")}
        )
    for r in load_capture("roms_all_with_files.json")["items"]:
        folder = "" if r["has_simple_single_file"] else f"{r['fs_path']}/{r['fs_name']}"
        files = []
        for f in r["files"]:
            sub = f["file_path"][len(folder) + 1 :] if folder else ""
            rel = f"{sub}/{f['file_name']}" if sub else f["file_name"]
            files.append((rel, _lab_file_bytes(r, f), f["id"]))
        files.sort(key=lambda item: item[0])
        rid = lib.add_rom(
            r["platform_id"], name=r["name"], fs_name=r["fs_name"], id=r["id"],
            files=[(rel, data) for rel, data, _ in files],
            file_ids=[fid for _, _, fid in files],
        )  # fmt: skip
        rom = lib.roms[rid]
        rom.created_at, rom.updated_at = _parse(r["created_at"]), _parse(r["updated_at"])
        rom.regions, rom.revision = r["regions"], r["revision"]
        recorded = {f["id"]: f for f in r["files"]}
        for f in rom.files:
            f.created_at = _parse(recorded[f.id]["created_at"])
            f.last_modified = _parse(recorded[f.id]["last_modified"])
    for col in load_capture("collections.json"):
        cid = lib.add_collection(col["name"], col["rom_ids"], id=col["id"])
        lib.collections[cid].update(
            description=col["description"], created_at=_parse(col["created_at"]),
            updated_at=_parse(col["updated_at"]),
        )  # fmt: skip
    by_fs_slug = {p["fs_slug"]: pid for pid, p in lib.platforms.items()}
    for fw in load_capture("firmware.json"):
        pid = by_fs_slug[fw["file_path"].split("/")[-1]]
        content = synthetic_bytes(fw["full_path"], fw["file_size_bytes"])
        lib.add_firmware(pid, fw["file_name"], content, id=fw["id"])
        lib.firmware[fw["id"]].created_at = _parse(fw["created_at"])
    for rom in lib.roms.values():
        lib.clock.seen(rom.updated_at)
    png = cover_image()
    lib.set_cover(20, png)
    lib.set_cover(15, png)


_GEN_PLATFORMS = [
    ("gb", "Game Boy"), ("gba", "Game Boy Advance"), ("gbc", "Game Boy Color"),
    ("nes", "Nintendo Entertainment System"), ("snes", "Super Nintendo Entertainment System"),
    ("n64", "Nintendo 64"), ("psx", "PlayStation"), ("ps2", "PlayStation 2"), ("psp", "PSP"),
    ("nds", "Nintendo DS"), ("genesis", "Sega Mega Drive/Genesis"), ("sms", "Sega Master System"),
    ("gamegear", "Sega Game Gear"), ("saturn", "Sega Saturn"), ("dc", "Dreamcast"),
    ("ngc", "Nintendo GameCube"), ("wii", "Wii"), ("tg16", "TurboGrafx-16"),
    ("ngp", "Neo Geo Pocket"), ("atari2600", "Atari 2600"),
]  # fmt: skip


def _build_generated(lib: FakeLibrary, n_roms: int, n_platforms: int, n_covers: int) -> None:
    pids = []
    for index in range(n_platforms):
        slug, name = _GEN_PLATFORMS[index % len(_GEN_PLATFORMS)]
        if index >= len(_GEN_PLATFORMS):
            slug, name = f"{slug}{index}", f"{name} {index}"
        pids.append(lib.add_platform(slug, name))
    covers = {"image/png": cover_image("PNG"), "image/webp": cover_image("WEBP"),
              "image/jpeg": cover_image("JPEG")}  # fmt: skip
    for index in range(n_roms):
        name = f"Game {index:05d}"
        seed = index.to_bytes(4, "little") * 8
        if index % 25 == 24:
            files = [(f"{name} (USA).cue", b"FILE " + seed), (f"{name} (USA).bin", seed)]
            rid = lib.add_rom(pids[index % n_platforms], name=name, fs_name=f"{name} (USA)",
                              files=files)  # fmt: skip
        else:
            fs_name = f"{name} (USA).rom"
            rid = lib.add_rom(pids[index % n_platforms], name=name, files=[(fs_name, seed)])
        if index < n_covers:
            kind = ("image/webp", "image/jpeg")[index % 2] if index % 50 == 49 else "image/png"
            lib.set_cover(rid, covers[kind], kind)


# ---- /api/roms query ---------------------------------------------------------------------------
_FILTER_KEYS = ("genres", "franchises", "collections", "companies", "game_modes", "age_ratings",
                "player_counts", "regions", "languages", "tags", "platforms")  # fmt: skip
_ORDER_KEYS: dict[str, Any] = {
    "id": lambda r: r.id,
    "name": lambda r: r.name.lower(),
    "fs_name": lambda r: r.fs_name.lower(),
    "updated_at": lambda r: r.updated_at,
    "created_at": lambda r: r.created_at,
    "fs_size_bytes": lambda r: sum(len(f.content) for f in r.files),
}


def query_error(name: str, kind: str, msg: str, value: Any, ctx: JSON | None = None) -> JSON:
    """One FastAPI 422 list item for query parameter ``name``."""
    item: JSON = {"type": kind, "loc": ["query", name], "msg": msg, "input": value}
    if ctx is not None:
        item["ctx"] = ctx
    return item


@dataclass
class RomQuery:
    """Parsed ``GET /api/roms`` query: paging, filters, order and the ``with_*`` flags."""

    limit: int = 50
    offset: int = 0
    platform_ids: list[int] = field(default_factory=list)
    collection_id: int | None = None
    search_term: str = ""
    updated_after: datetime | None = None
    order_by: str = ""
    descending: bool = False
    flags: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def parse(cls, query: MultiMapping[str]) -> RomQuery | JSON:
        """The query, or a 422 body ``{"detail": [...]}`` for the first invalid parameter."""
        out = cls(order_by=query.get("order_by", ""), search_term=query.get("search_term", ""))
        out.descending = query.get("order_dir", "asc").lower() == "desc"
        try:
            for name, low, high in (("limit", 1, 10000), ("offset", 0, None)):
                raw = query.get(name)
                if raw is None:
                    continue
                error = _int_error(name, raw, low, high)
                if error:
                    return {"detail": [error]}
                setattr(out, name, int(raw))
            out.platform_ids = [int(v) for v in query.getall("platform_ids", [])]
            if "collection_id" in query:
                out.collection_id = int(query["collection_id"])
        except ValueError:
            return {"detail": [query_error("platform_ids", "int_parsing", "Input should be a "
                                           "valid integer, unable to parse string as an integer",
                                           query.get("platform_ids"))]}  # fmt: skip
        if "updated_after" in query:
            raw = query["updated_after"]
            try:
                when = datetime.fromisoformat(raw)
            except ValueError:
                return {"detail": [query_error(
                    "updated_after", "datetime_from_date_parsing",
                    "Input should be a valid datetime or date, input is too short", raw,
                    {"error": "input is too short"})]}  # fmt: skip
            if when.tzinfo is None:
                return {
                    "detail": [
                        query_error(
                            "updated_after",
                            "timezone_aware",
                            "Input should have timezone info",
                            raw,
                        )
                    ]
                }
            out.updated_after = when
        for key, value in query.items():
            if key.startswith("with_"):
                out.flags[key] = value.lower() in ("true", "1", "yes", "on")
        return out

    def flag(self, name: str, default: bool) -> bool:
        return self.flags.get(name, default)

    def select(self, lib: FakeLibrary) -> list[FakeRom]:
        """All matching ROMs in the requested order (not paged)."""
        roms: list[FakeRom] = list(lib.roms.values())
        if self.platform_ids:
            wanted = set(self.platform_ids)
            roms = [r for r in roms if r.platform_id in wanted]
        if self.collection_id is not None:
            col = lib.collections.get(self.collection_id)
            members = set(col["rom_ids"]) if col else set()
            roms = [r for r in roms if r.id in members]
        if self.search_term:
            term = self.search_term.lower()
            roms = [r for r in roms if term in r.name.lower() or term in r.fs_name.lower()]
        if self.updated_after is not None:
            after = self.updated_after
            roms = [r for r in roms if r.updated_at > after]
        key = _ORDER_KEYS.get(self.order_by)
        if key is None:
            roms.sort(key=lambda r: (name_sort_key(r.name), r.id), reverse=self.descending)
        else:
            roms.sort(key=lambda r: (key(r), r.id), reverse=self.descending)
        return roms

    @staticmethod
    def char_index(roms: list[FakeRom]) -> dict[str, int]:
        """First position of each initial of ``name_sort_key``."""
        out: dict[str, int] = {}
        for position, rom in enumerate(roms):
            out.setdefault(name_sort_key(rom.name)[:1], position)
        return out

    @staticmethod
    def filter_values(roms: list[FakeRom], enabled: bool) -> JSON:
        """``filter_values``: every list empty unless ``enabled``."""
        out: JSON = {key: [] for key in _FILTER_KEYS}
        if enabled and roms:
            out["player_counts"] = ["1"]
            out["regions"] = sorted({reg for r in roms for reg in r.regions})
            out["platforms"] = sorted({r.platform_id for r in roms})
        return out


def _int_error(name: str, raw: str, low: int, high: int | None) -> JSON | None:
    try:
        value = int(raw)
    except ValueError:
        return query_error(name, "int_parsing",
                           "Input should be a valid integer, unable to parse string as an integer",
                           raw)  # fmt: skip
    if value < low:
        return query_error(
            name,
            "greater_than_equal",
            f"Input should be greater than or equal to {low}",
            raw,
            {"ge": low},
        )
    if high is not None and value > high:
        return query_error(
            name,
            "less_than_equal",
            f"Input should be less than or equal to {high}",
            raw,
            {"le": high},
        )
    return None
