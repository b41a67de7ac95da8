"""``<data dir>/pending_saves.jsonl``: save syncs the launcher could not run, for the backend.

``bin/romdeck-launch`` appends one line per ROM (``{"rom_id": int, "at": ISO-8601,
"reason": str}``, one ``write`` with ``O_APPEND``) when the post-exit sync could not run
at all. :meth:`PendingSaveQueue.drain` takes the file (renamed first, so a line the
launcher appends meanwhile goes to a fresh file), returns its ROMs and deletes it only
after the caller has recorded them.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from romdeck.errors import StateError


class PendingSaveQueue:
    """The launcher's queue file at ``path`` (usually ``<data dir>/pending_saves.jsonl``)."""

    def __init__(self, path: Path) -> None:
        self._path = path

    async def drain(self, record: Callable[[int, str], Awaitable[None]]) -> list[int]:
        """Hand each queued ROM to ``record(rom_id, reason)`` (marks it pending), then drop
        the file. A crash before the end leaves the taken file for the next drain.
        Malformed lines are skipped. Raises ``StateError`` when the file cannot be read."""
        taken = self._path.with_name(self._path.name + ".taken")
        rows = await asyncio.to_thread(self._take, taken)
        for rom_id, reason in rows:
            await record(rom_id, reason)
        await asyncio.to_thread(taken.unlink, missing_ok=True)
        return sorted({rom_id for rom_id, _ in rows})

    def _take(self, taken: Path) -> list[tuple[int, str]]:
        try:
            if not taken.exists():  # a previous drain did not finish: that file first
                os.replace(self._path, taken)
            elif self._path.exists():
                with open(self._path, "rb") as fresh, open(taken, "ab") as old:
                    old.write(b"\n" + fresh.read())
                self._path.unlink()
            text = taken.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StateError(f"Cannot read {self._path}: {exc.strerror}") from None
        rows: list[tuple[int, str]] = []
        for line in text.splitlines():
            try:
                item = json.loads(line)
                rom_id = item["rom_id"]
            except (ValueError, TypeError, KeyError):
                continue
            if isinstance(rom_id, int) and not isinstance(rom_id, bool) and rom_id > 0:
                rows.append((rom_id, str(item.get("reason") or "queued by the launcher")))
        return rows
