"""RomM JSON -> RomDeck domain types, strict on the fields we need and tolerant of the rest.

A missing or mistyped needed field raises ``BadResponseError`` naming it
(``roms page: items[3].platform_id is missing``); keys we do not use are ignored.
Shapes follow the captures in ``romm-api/captures`` (RomM 5.x).
"""

from __future__ import annotations

import email.utils
import json
from collections.abc import Callable
from datetime import UTC

from romdeck.domain.auth import DeviceAuthorization
from romdeck.domain.firmware import ServerFirmware
from romdeck.domain.models import (
    Collection,
    Platform,
    RomDetail,
    RomFile,
    RomPage,
    RomSummary,
    ServerInfo,
)
from romdeck.errors import BadResponseError

_LOCATION_PARTS = frozenset({"query", "body", "path", "header", "form"})


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _bad(where: str, problem: str) -> BadResponseError:
    return BadResponseError(f"The RomM server sent an unexpected answer: {where} {problem}.")


class _Obj:
    """A JSON object read strictly; ``where`` names it in errors (``items[3]``)."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, dict):
            raise _bad(where, f"should be an object, got {_kind(data)}")
        self._data: dict[str, object] = data
        self._where = where

    def _name(self, key: str) -> str:
        return f"{self._where}.{key}"

    def _get(self, key: str) -> object:
        if key not in self._data:
            raise _bad(self._name(key), "is missing")
        return self._data[key]

    def integer(self, key: str) -> int:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(self._name(key), f"should be an integer, got {_kind(value)}")
        return value

    def maybe_integer(self, key: str) -> int | None:
        """An integer that may be missing or null (``None`` then)."""
        return None if self._data.get(key) is None else self.integer(key)

    def optional_integer(self, key: str, default: int = 0) -> int:
        """An integer that may be missing or null (``default`` then)."""
        value = self.maybe_integer(key)
        return default if value is None else value

    def text(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str):
            raise _bad(self._name(key), f"should be a string, got {_kind(value)}")
        return value

    def maybe_text(self, key: str) -> str | None:
        """A string that may be missing or null (``None`` then)."""
        return None if self._data.get(key) is None else self.text(key)

    def optional_text(self, key: str) -> str:
        """A string that may be missing or null (``""`` then)."""
        return self.maybe_text(key) or ""

    def flag(self, key: str, default: bool) -> bool:
        value = self._data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise _bad(self._name(key), f"should be true or false, got {_kind(value)}")
        return value

    def array(self, key: str) -> list[object]:
        return _array(self._get(key), self._name(key))

    def child(self, key: str) -> _Obj:
        return _Obj(self._get(key), self._name(key))

    def integers(self, key: str) -> tuple[int, ...]:
        values = self.array(key)
        for index, value in enumerate(values):
            if isinstance(value, bool) or not isinstance(value, int):
                raise _bad(
                    f"{self._name(key)}[{index}]", f"should be an integer, got {_kind(value)}"
                )
        return tuple(value for value in values if isinstance(value, int))


def _array(data: object, where: str) -> list[object]:
    if not isinstance(data, list):
        raise _bad(where, f"should be a list, got {_kind(data)}")
    return data


def _objects(data: object, where: str) -> list[_Obj]:
    return [_Obj(item, f"{where}[{index}]") for index, item in enumerate(_array(data, where))]


def parse_server_info(data: object) -> ServerInfo:
    """``GET /api/heartbeat`` -> ``ServerInfo(version=SYSTEM.VERSION)``."""
    return ServerInfo(version=_Obj(data, "heartbeat").child("SYSTEM").text("VERSION"))


def parse_username(data: object) -> str:
    """``GET /api/users/me`` -> the user's ``username``."""
    return _Obj(data, "user").text("username")


def parse_platforms(data: object) -> list[Platform]:
    """``GET /api/platforms`` -> platforms (``display_name`` falls back to custom, then name)."""
    return [_platform(item) for item in _objects(data, "platforms")]


def _platform(obj: _Obj) -> Platform:
    name = obj.text("name")
    display = obj.optional_text("display_name") or obj.optional_text("custom_name") or name
    return Platform(
        id=obj.integer("id"),
        slug=obj.text("slug"),
        fs_slug=obj.text("fs_slug"),
        name=name,
        display_name=display,
        rom_count=obj.integer("rom_count"),
    )


def parse_collections(data: object) -> list[Collection]:
    """``GET /api/collections`` -> collections with their member ROM ids."""
    return [
        Collection(
            id=obj.integer("id"),
            name=obj.text("name"),
            rom_ids=obj.integers("rom_ids"),
            rom_count=obj.integer("rom_count"),
            is_smart=obj.flag("is_smart", False),
            is_virtual=obj.flag("is_virtual", False),
        )
        for obj in _objects(data, "collections")
    ]


def parse_rom_page(
    data: object, *, pause: Callable[[], None] | None = None, every: int = 100
) -> RomPage:
    """``GET /api/roms`` page -> ``RomPage`` (``total`` is ``None`` when not asked for).

    ``pause`` (when given) is called after every ``every`` items: a worker thread passes
    one that releases the GIL, so a 10,000-item page does not hold up the event loop.
    """
    page = _Obj(data, "roms page")
    items: list[RomSummary] = []
    for obj in _objects(page.array("items"), "roms page.items"):
        items.append(_rom_summary(obj))
        if pause is not None and len(items) % every == 0:
            pause()
    return RomPage(
        items=tuple(items),
        total=page.maybe_integer("total"),
        offset=page.integer("offset"),
        limit=page.integer("limit"),
    )


def parse_rom_id_index(data: object) -> list[int]:
    """``GET /api/roms?with_rom_id_index=true`` -> every ROM id of the filtered query."""
    return list(_Obj(data, "roms page").integers("rom_id_index"))


def _rom_summary(obj: _Obj) -> RomSummary:
    no_tags = obj.text("fs_name_no_tags")
    return RomSummary(
        id=obj.integer("id"),
        platform_id=obj.integer("platform_id"),
        platform_slug=obj.text("platform_slug"),
        name=obj.optional_text("name") or no_tags,
        fs_name=obj.text("fs_name"),
        fs_name_no_tags=no_tags,
        cover_path=obj.optional_text("path_cover_large"),
        updated_at=obj.text("updated_at"),
        fs_size_bytes=obj.optional_integer("fs_size_bytes"),
        missing_from_fs=obj.flag("missing_from_fs", False),
    )


def parse_rom_detail(data: object) -> RomDetail:
    """``GET /api/roms/{id}`` -> ``RomDetail`` with every entry of ``files``."""
    obj = _Obj(data, "rom")
    return RomDetail(
        summary=_rom_summary(obj),
        fs_name_no_ext=obj.text("fs_name_no_ext"),
        fs_extension=obj.optional_text("fs_extension"),
        fs_path=obj.text("fs_path"),
        files=tuple(_rom_file(item) for item in _objects(obj.array("files"), "rom.files")),
        md5_hash=obj.optional_text("md5_hash"),
        sha1_hash=obj.optional_text("sha1_hash"),
        crc_hash=obj.optional_text("crc_hash"),
    )


def _rom_file(obj: _Obj) -> RomFile:
    return RomFile(
        id=obj.integer("id"),
        file_name=obj.text("file_name"),
        file_path=obj.text("file_path"),
        size_bytes=obj.integer("file_size_bytes"),
        md5_hash=obj.optional_text("md5_hash"),
        sha1_hash=obj.optional_text("sha1_hash"),
        crc_hash=obj.optional_text("crc_hash"),
        is_top_level=obj.flag("is_top_level", True),
        category=obj.maybe_text("category"),
    )


def parse_access_token(data: object) -> str:
    """``POST /api/token`` (password grant) -> the JWT ``access_token``."""
    return _Obj(data, "token grant").text("access_token")


def parse_raw_token(data: object) -> str:
    """``POST /api/client-tokens`` -> the ``raw_token`` (shown once by the server)."""
    return _Obj(data, "client token").text("raw_token")


def parse_device_authorization(data: object, base: str) -> DeviceAuthorization:
    """``POST /api/auth/device/init`` -> a started device flow; the URL is made absolute."""
    obj = _Obj(data, "device authorization")
    return DeviceAuthorization(
        device_code=obj.text("device_code"),
        user_code=obj.text("user_code"),
        verification_url=base + obj.text("verification_path_complete"),
        expires_in=obj.integer("expires_in"),
        interval=obj.integer("interval"),
    )


def parse_device_token(data: object) -> str:
    """An approved ``POST /api/auth/device/token`` -> the ``rmm_`` ``access_token``."""
    return _Obj(data, "device token").text("access_token")


def error_detail(body: bytes) -> object:
    """The ``detail`` of a JSON error body (``{"detail": ...}``); ``None`` otherwise."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data.get("detail") if isinstance(data, dict) else None


def render_detail(detail: object) -> str:
    """FastAPI's ``detail`` as one readable line.

    A string stays as is; an object shows its ``error`` and ``message``; a list of
    validation errors shows ``field: msg`` items joined by ``; `` (never the ``input``).
    """
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        return "; ".join(_render_item(item) for item in detail)
    if isinstance(detail, dict):
        parts = [str(detail[key]) for key in ("error", "message", "msg") if detail.get(key)]
        return ": ".join(parts) if parts else json.dumps(detail, sort_keys=True)
    return json.dumps(detail)


def _render_item(item: object) -> str:
    if not isinstance(item, dict) or "msg" not in item:
        return render_detail(item)
    loc = item.get("loc")
    parts = [str(part) for part in loc] if isinstance(loc, list) else []
    if parts and parts[0] in _LOCATION_PARTS:
        parts = parts[1:]
    where = ".".join(parts)
    return f"{where}: {item['msg']}" if where else str(item["msg"])


def http_date(value: str) -> str:
    """An HTTP ``Date`` header as ISO-8601 UTC (``+00:00``); ``""`` when absent or unreadable."""
    if not value:
        return ""
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return ""
    if when.tzinfo is None:
        return ""
    return when.astimezone(UTC).isoformat()


def parse_firmware_list(data: object) -> list[ServerFirmware]:
    """``GET /api/firmware[?platform_id=]`` -> firmware files (hashes lowercased)."""
    return [
        ServerFirmware(
            id=obj.integer("id"),
            file_name=obj.text("file_name"),
            size_bytes=obj.optional_integer("file_size_bytes"),
            md5=obj.optional_text("md5_hash").lower(),
            sha1=obj.optional_text("sha1_hash").lower(),
            crc=obj.optional_text("crc_hash").lower(),
            is_verified=obj.flag("is_verified", False),
        )
        for obj in _objects(data, "firmware")
    ]
