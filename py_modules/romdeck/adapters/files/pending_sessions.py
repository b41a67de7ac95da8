"""``<data dir>/pending_sessions.jsonl``: the sessions the launcher could not hand over.

``bin/romdeck-launch`` appends one ``exited`` request per line (one ``write`` each, with
O_APPEND) when the backend is down. Ingestion is crash-safe in three steps:

1. :meth:`JsonlPendingSessions.take` renames the file to a claim of a unique name
   (``pending_sessions.<pid>.<n>.claimed``; new launcher lines go to a fresh file) and
   reads every claim present, also those a killed run left behind;
2. the caller commits the sessions to the outbox (idempotent by rom_id + start_time);
3. :meth:`JsonlPendingSessions.done` keeps unusable lines in
   ``pending_sessions.rejected.jsonl`` and only then deletes the claims, each only if it
   did not grow since it was read (a launcher that opened the file before the rename).

A process killed anywhere leaves the claim in place, and the next run reads it again.
A last line without its newline (a torn write) is kept if it parses and rejected (kept
in the rejected file) otherwise.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
from pathlib import Path

from romdeck.adapters.files.atomic import fsync_dir
from romdeck.adapters.files.os_errors import write_error
from romdeck.domain.play_sessions import PendingBatch
from romdeck.errors import StateError

FILE_NAME = "pending_sessions.jsonl"
REJECTED_NAME = "pending_sessions.rejected.jsonl"
_CLAIM_SUFFIX = ".claimed"
_counter = itertools.count(1)


class JsonlPendingSessions:
    """The launcher's fallback file in ``data_dir`` (see the module docstring).

    Every method does its file work in a thread. Raises ``StateError`` (or
    ``DiskFullError``) when the folder cannot be read or written.
    """

    def __init__(self, data_dir: Path) -> None:
        self._dir = Path(data_dir)

    @property
    def path(self) -> Path:
        """Where the launcher appends."""
        return self._dir / FILE_NAME

    async def take(self) -> PendingBatch:
        """Claim the live file (if any) and read every claim's lines (JSON text, unparsed)."""
        return await asyncio.to_thread(self._take)

    async def done(self, batch: PendingBatch, rejected: list[tuple[str, str]]) -> None:
        """After the batch's sessions are committed: keep ``(line, reason)`` rejects,
        then delete the claims that did not grow since :meth:`take` read them."""
        await asyncio.to_thread(self._done, batch, rejected)

    async def append(self, session: dict[str, object]) -> None:
        """Append one session line as the launcher does (the listener's fallback)."""
        line = json.dumps(session, ensure_ascii=False)
        await asyncio.to_thread(self._append, self.path, line)

    def _take(self) -> PendingBatch:
        live = self.path
        claim = self._dir / f"{FILE_NAME}.{os.getpid()}.{next(_counter)}{_CLAIM_SUFFIX}"
        try:
            os.replace(live, claim)
            fsync_dir(self._dir)
        except FileNotFoundError:
            pass
        except OSError as err:
            raise StateError(f"Cannot claim {live}: {err.strerror}") from err
        lines: list[str] = []
        claims: list[tuple[str, int]] = []
        try:
            found = sorted(self._dir.glob(f"{FILE_NAME}.*{_CLAIM_SUFFIX}"))
        except OSError as err:
            raise StateError(f"Cannot list {self._dir}: {err.strerror}") from err
        for path in found:
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue  # another run finished it meanwhile
            except OSError as err:
                raise StateError(f"Cannot read {path}: {err.strerror}") from err
            claims.append((str(path), len(data)))
            text = data.decode("utf-8", "replace")
            lines.extend(line for line in text.split("\n") if line.strip())
        return PendingBatch(tuple(lines), tuple(claims))

    def _done(self, batch: PendingBatch, rejected: list[tuple[str, str]]) -> None:
        for line, reason in rejected:
            record = json.dumps({"line": line, "reason": reason}, ensure_ascii=False)
            self._append(self._dir / REJECTED_NAME, record)
        for name, size in batch.claims:
            path = Path(name)
            try:
                if path.stat().st_size != size:
                    continue  # a late launcher line: read again next time
                path.unlink()
            except FileNotFoundError:
                continue
            except OSError as err:
                raise StateError(f"Cannot remove {path}: {err.strerror}") from err
        fsync_dir(self._dir)

    @staticmethod
    def _append(path: Path, line: str) -> None:
        data = (line.replace("\n", " ") + "\n").encode("utf-8")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as err:
            raise write_error(err, path, other=StateError) from err
