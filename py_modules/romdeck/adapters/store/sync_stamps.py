"""The headless sync's stamps (``sync-stamps.json`` in the data folder): a cache.

They only let a resync skip planning when nothing changed (:mod:`romdeck.domain.sync_stamp`);
losing them costs one full plan, so an unreadable file counts as empty (and is logged).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from pathlib import Path

from romdeck.adapters.files.atomic import write_bytes_atomic
from romdeck.adapters.files.os_errors import write_error
from romdeck.domain.sync_stamp import SyncStamp
from romdeck.errors import StateError

_log = logging.getLogger(__name__)
_VERSION = 1


class JsonSyncStamps:
    """``SyncStampStore`` over one JSON file: ``{"version": 1, "users": {user: {...}}}``."""

    def __init__(self, path: Path) -> None:
        self._path = path

    async def load(self) -> dict[str, SyncStamp]:
        """Every stamp by Steam user; ``{}`` when the file is missing or unreadable."""
        return await asyncio.to_thread(self._load_sync)

    def _load_sync(self) -> dict[str, SyncStamp]:
        try:
            data = json.loads(self._path.read_bytes())
            users = data["users"] if data.get("version") == _VERSION else {}
            return {
                str(user): SyncStamp(
                    str(s["library"]),
                    str(s["local"]),
                    int(s["unchanged"]),
                    tuple(str(note) for note in s.get("notes", ())),
                )
                for user, s in users.items()
            }
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            _log.warning(
                "Ignoring the sync stamps in %s (%s): the next sync plans in full", self._path, err
            )
            return {}

    async def save(self, stamps: Mapping[str, SyncStamp]) -> None:
        """Replace the file atomically. Raises ``DiskFullError`` or ``StateError``."""
        await asyncio.to_thread(self._save_sync, dict(stamps))

    def _save_sync(self, stamps: dict[str, SyncStamp]) -> None:
        users = {
            user: {
                "library": s.library,
                "local": s.local,
                "unchanged": s.unchanged,
                "notes": list(s.notes),
            }
            for user, s in sorted(stamps.items())
        }
        data = json.dumps({"version": _VERSION, "users": users}, indent=1).encode()
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(self._path, data)
        except OSError as err:
            raise write_error(err, self._path, other=StateError) from err
