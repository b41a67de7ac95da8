"""RomDeck's Steam collections merged into Steam's library cloud-storage namespace.

Since the 2025-09 client, Steam keeps collections in
``userdata/<id>/config/cloudstorage/cloud-storage-namespace-1.json``: a JSON array of
``[key, entry]`` pairs, and ``cloud-storage-namespace-1.modified.json``, a JSON array
of the keys waiting for upload (../shared/research/steam-collections.md, 2.2–2.4).
Pure functions over the files' text, stdlib only.

Ours are the keys ``user-collections.romdeck-<hash of the name>``; every other pair is
kept as the very text read, in its place. A collection of ours is written as Steam's
own ``Upsert`` writes one (``value`` = compact ``{id, name, added, removed: []}`` with
unsigned 32-bit appids, a fresh timestamp in Unix seconds, method ``custom`` /
``union-collections``, no ``version``) and deleted by tombstone
(``{key, timestamp, is_deleted: true}``); each changed key is marked in ``.modified``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from romdeck.domain.models import RegistryEntry

KEY_PREFIX = "user-collections."
OUR_ID_PREFIX = "romdeck-"
NAMESPACE_LIMIT_CHARS = 3_145_728
"""Steam refuses a namespace file longer than this (research 2.2, "Client limits")."""

_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\n\r"


class CollectionsStatus(StrEnum):
    """What writing the collections of one Steam user did."""

    WRITTEN = "written"
    UNCHANGED = "unchanged"
    NO_CLOUD_STORAGE = "no_cloud_storage"
    """No namespace file (a client older than 2025-09, or never signed in): tags only."""
    TOO_LARGE = "too_large"
    """The merged file would pass Steam's size limit; nothing was written."""


@dataclass(frozen=True, slots=True)
class CollectionsReport:
    """Outcome for one Steam user: ``written``/``removed`` are collection names."""

    status: CollectionsStatus
    path: str
    written: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CollectionsMerge:
    """New texts for the two files (None: leave that file as it is) and what changed."""

    namespace: str | None
    modified: str | None
    written: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


def collection_id(name: str) -> str:
    """Our collection id for a Steam collection name: ``romdeck-`` + 16 hex digits.

    Stable across runs and devices; no characters Steam escapes in ids; outside
    Steam's reserved ids (``favorite``, ``hidden``, ``recent*``, ``type-*``, ...).
    """
    return OUR_ID_PREFIX + hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]


def memberships(entries: Iterable[RegistryEntry]) -> dict[str, frozenset[int]]:
    """Collection name → unsigned appids, from the tags of the shortcuts we made."""
    members: dict[str, set[int]] = {}
    for entry in entries:
        for tag in entry.spec.tags:
            members.setdefault(tag, set()).add(entry.appid & 0xFFFFFFFF)
    return {name: frozenset(appids) for name, appids in members.items()}


def merge_collections(
    namespace_text: str,
    modified_text: str | None,
    wanted: Mapping[str, Iterable[int]],
    *,
    now: int,
) -> CollectionsMerge:
    """Put exactly ``wanted`` (name → unsigned appids) as our collections in the namespace.

    A collection of ours already holding those members is left as read (no new
    timestamp); a changed or new one is written with ``timestamp`` = max(``now``, old
    + 1) (Unix seconds); ours no longer wanted (an empty collection included) become
    tombstones. Our duplicate pairs collapse into the first. ``modified_text`` None
    means the file is missing (created when a key must be marked).

    Raises ``ValueError`` when either text is not the JSON array Steam writes.
    """
    pairs = [(raw, *_pair(raw)) for raw in _split_array(namespace_text)]
    dirty = _split_array(modified_text) if modified_text is not None else []
    targets = {KEY_PREFIX + collection_id(name): name for name in wanted}
    current: dict[str, tuple[str, dict[str, object] | None]] = {}
    ours_count = 0
    for raw, key, entry in pairs:
        if key is not None and _is_ours(key):
            current[key] = (raw, entry)  # Steam's loader keeps the last pair of a key
            ours_count += 1
    replacement = {key: raw for key, (raw, _entry) in current.items()}
    written: list[str] = []
    removed: list[str] = []
    for key in sorted(set(targets) | set(current)):
        entry = current[key][1] if key in current else None
        if key in targets:
            name = targets[key]
            appids = sorted({int(a) & 0xFFFFFFFF for a in wanted[name]})
            if entry is not None and _holds(entry, name, appids):
                continue
            replacement[key] = _live_pair(key, name, appids, _next_time(entry, now))
            written.append(name)
        elif entry is not None and entry.get("is_deleted") is not True:
            replacement[key] = _tombstone_pair(key, _next_time(entry, now))
            removed.append(_name_of(entry) or key)
    changed = sorted(key for key, raw in replacement.items() if current.get(key, ("",))[0] != raw)
    if not changed and ours_count == len(current):
        return CollectionsMerge(namespace=None, modified=None)
    out: list[str] = []
    for raw, key, _entry in pairs:
        if key is None or not _is_ours(key):
            out.append(raw)
        elif key in replacement:
            out.append(replacement.pop(key))  # the first place of the key; duplicates go
    out += [replacement[key] for key in sorted(replacement)]
    marked = {_string(raw) for raw in dirty}
    new_keys = [key for key in changed if key not in marked]
    modified = _join(dirty + [_dumps(key) for key in new_keys]) if new_keys else None
    return CollectionsMerge(
        namespace=_join(out), modified=modified, written=tuple(written), removed=tuple(removed)
    )


def _split_array(text: str) -> list[str]:
    """The source text of each element of a top-level JSON array, in order."""
    index = _skip(text, 0)
    if not text.startswith("[", index):
        raise ValueError("not a JSON array")
    index = _skip(text, index + 1)
    elements: list[str] = []
    if text.startswith("]", index):
        index += 1
    else:
        while True:
            try:
                _value, end = _DECODER.raw_decode(text, index)
            except json.JSONDecodeError as err:
                raise ValueError(f"invalid JSON at character {err.pos}") from err
            elements.append(text[index:end])
            index = _skip(text, end)
            if text.startswith("]", index):
                index += 1
                break
            if not text.startswith(",", index):
                raise ValueError(f"expected ',' or ']' at character {index}")
            index = _skip(text, index + 1)
    if _skip(text, index) != len(text):
        raise ValueError("data after the JSON array")
    return elements


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in _WHITESPACE:
        index += 1
    return index


def _pair(raw: str) -> tuple[str | None, dict[str, object] | None]:
    """``(key, entry)`` of a ``[key, entry]`` element; None parts when it is not one."""
    if not raw.startswith("["):
        return None, None
    value = json.loads(raw)
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)):
        return None, None
    key, entry = value
    return key, entry if isinstance(entry, dict) else None


def _string(raw: str) -> str | None:
    value = json.loads(raw)
    return value if isinstance(value, str) else None


def _is_ours(key: str) -> bool:
    return key.startswith(KEY_PREFIX + OUR_ID_PREFIX)


def _holds(entry: Mapping[str, object], name: str, appids: Sequence[int]) -> bool:
    """Whether a live entry of ours already is exactly this collection."""
    text = entry.get("value")
    if entry.get("is_deleted") is True or not isinstance(text, str):
        return False
    if entry.get("strMethodId") != "union-collections":
        return False
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return False
    return (
        isinstance(value, dict)
        and value.get("name") == name
        and value.get("added") == list(appids)
        and value.get("removed") == []
    )


def _name_of(entry: Mapping[str, object]) -> str:
    try:
        value = json.loads(str(entry.get("value", "")))
    except json.JSONDecodeError:
        return ""
    name = value.get("name") if isinstance(value, dict) else None
    return name if isinstance(name, str) else ""


def _next_time(entry: Mapping[str, object] | None, now: int) -> int:
    old = entry.get("timestamp") if entry is not None else None
    if isinstance(old, int) and not isinstance(old, bool):
        return max(now, old + 1)
    return now


def _live_pair(key: str, name: str, appids: Sequence[int], timestamp: int) -> str:
    value = {"id": key.removeprefix(KEY_PREFIX), "name": name, "added": list(appids)}
    value["removed"] = []
    entry = {
        "key": key,
        "timestamp": timestamp,
        "value": _dumps(value),
        "conflictResolutionMethod": "custom",
        "strMethodId": "union-collections",
    }
    return _dumps([key, entry])


def _tombstone_pair(key: str, timestamp: int) -> str:
    return _dumps([key, {"key": key, "timestamp": timestamp, "is_deleted": True}])


def _dumps(value: object) -> str:
    """Compact JSON as Steam's ``JSON.stringify`` writes it (non-ASCII kept as is)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _join(elements: Sequence[str]) -> str:
    return "[" + ",".join(elements) + "]"


def report_notes(steam_user: str, report: CollectionsReport) -> tuple[str, ...]:
    """What to tell the user about one Steam user's collections (``()``: nothing new)."""
    if report.status is CollectionsStatus.NO_CLOUD_STORAGE:
        return (
            f"Steam user {steam_user}: no {report.path} (a Steam client older than "
            "2025-09, or one never started); collections were written only as shortcut "
            "tags, which Steam reads once per account.",
        )
    if report.status is CollectionsStatus.TOO_LARGE:
        return (
            f"Steam user {steam_user}: collections not written, {report.path} would pass "
            f"Steam's limit of {NAMESPACE_LIMIT_CHARS} characters.",
        )
    if report.status is CollectionsStatus.WRITTEN:
        return (
            f"Steam user {steam_user}: collections updated {len(report.written)}, "
            f"removed {len(report.removed)} (Steam shows them at its next start).",
        )
    return ()
