"""``GET /api/roms`` query of the fake RomM server: parsing, validation, selection, order.

Invalid parameters give FastAPI-style 422 bodies ``{"detail": [{type, loc, msg, input, ctx}]}``
as recorded (``captures/roms_422_*.json``); ordering and filters follow API-NOTES.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from multidict import MultiMapping

from fakeromm.records import JSON, FakeRom, name_sort_key

if TYPE_CHECKING:
    from fakeromm.library import FakeLibrary

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
_INT_PARSING = "Input should be a valid integer, unable to parse string as an integer"


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
        error = (
            _parse_paging(out, query) or _parse_ids(out, query) or _parse_updated_after(out, query)
        )
        if error is not None:
            return {"detail": [error]}
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


def _parse_paging(out: RomQuery, query: MultiMapping[str]) -> JSON | None:
    """Set ``limit`` (1..10000) and ``offset`` (>= 0); the 422 item of the first bad one."""
    for name, low, high in (("limit", 1, 10000), ("offset", 0, None)):
        raw = query.get(name)
        if raw is None:
            continue
        error = _int_error(name, raw, low, high)
        if error:
            return error
        setattr(out, name, int(raw))
    return None


def _parse_ids(out: RomQuery, query: MultiMapping[str]) -> JSON | None:
    """Set ``platform_ids`` and ``collection_id``; any non-integer is reported (as RomM
    does) against ``platform_ids``."""
    try:
        out.platform_ids = [int(v) for v in query.getall("platform_ids", [])]
        if "collection_id" in query:
            out.collection_id = int(query["collection_id"])
    except ValueError:
        return query_error("platform_ids", "int_parsing", _INT_PARSING, query.get("platform_ids"))
    return None


def _parse_updated_after(out: RomQuery, query: MultiMapping[str]) -> JSON | None:
    """Set ``updated_after`` (an ISO-8601 datetime with a timezone) or give its 422 item."""
    if "updated_after" not in query:
        return None
    raw = query["updated_after"]
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        return query_error(
            "updated_after", "datetime_from_date_parsing",
            "Input should be a valid datetime or date, input is too short", raw,
            {"error": "input is too short"},
        )  # fmt: skip
    if when.tzinfo is None:
        msg = "Input should have timezone info"
        return query_error("updated_after", "timezone_aware", msg, raw)
    out.updated_after = when
    return None


def _int_error(name: str, raw: str, low: int, high: int | None) -> JSON | None:
    try:
        value = int(raw)
    except ValueError:
        return query_error(name, "int_parsing", _INT_PARSING, raw)
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
