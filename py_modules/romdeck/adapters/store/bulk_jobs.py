"""The bulk import job record: one JSON file shared by the plugin and its helper process."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from romdeck.adapters.files.atomic import write_bytes_atomic
from romdeck.domain.bulk_import import WAIT_FOR_STEAM_EXIT_S, BulkCounts, BulkJob, BulkState
from romdeck.errors import StateError


class JsonBulkJobFile:
    """``<data dir>/bulk-import.json``: the last bulk import job, replaced atomically.

    The plugin writes it when a job starts; the helper rewrites it at every state
    change; the plugin reads it when the panel asks (also after Steam restarted). One
    writer at a time by construction (the plugin never starts a second helper while the
    record is not final). File work runs in a worker thread.
    """

    def __init__(self, path: Path) -> None:
        self._path = path

    async def load(self) -> BulkJob | None:
        """The stored job, or None when there has been none.

        A file that cannot be read as a job (truncated, hand-edited) is reported as a
        ``failed`` job saying so, never as "no job", and left in place.
        """
        return await asyncio.to_thread(self._load)

    async def save(self, job: BulkJob) -> None:
        """Replace the record with ``job``. Raises ``StateError`` when it cannot be written."""
        data = json.dumps(_to_json(job), ensure_ascii=False, sort_keys=True).encode("utf-8")
        try:
            await asyncio.to_thread(self._write, data)
        except OSError as err:
            raise StateError(f"Cannot write {self._path}: {err.strerror}") from err

    def _write(self, data: bytes) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(self._path, data, mode=0o600)

    def _load(self) -> BulkJob | None:
        try:
            raw = self._path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as err:
            return _unreadable(f"Cannot read {self._path}: {err.strerror}")
        try:
            return _from_json(json.loads(raw))
        except (ValueError, TypeError, KeyError) as err:
            return _unreadable(f"The bulk import record {self._path} is damaged ({err}).")


def _unreadable(message: str) -> BulkJob:
    return BulkJob(job_id="", state=BulkState.FAILED, steam_user="", message=message)


def _to_json(job: BulkJob) -> dict[str, Any]:
    data = asdict(job)
    data["state"] = job.state.value
    return data


def _from_json(data: Any) -> BulkJob:
    if not isinstance(data, dict):
        raise TypeError("not an object")
    counts = data.get("counts") or {}
    if not isinstance(counts, dict):
        raise TypeError("counts is not an object")
    return BulkJob(
        job_id=str(data["job_id"]),
        state=BulkState(data["state"]),
        steam_user=str(data["steam_user"]),
        platform_ids=tuple(int(i) for i in data.get("platform_ids") or ()),
        collection_ids=tuple(int(i) for i in data.get("collection_ids") or ()),
        count=int(data.get("count") or 0),
        message=str(data.get("message") or ""),
        counts=BulkCounts(**{k: int(v) for k, v in counts.items()}),
        failures=tuple(str(f) for f in data.get("failures") or ()),
        wait_seconds=float(data.get("wait_seconds") or WAIT_FOR_STEAM_EXIT_S),
        pid=int(data.get("pid") or 0),
        started_at=str(data.get("started_at") or ""),
        finished_at=str(data.get("finished_at") or ""),
        steam_dir=str(data.get("steam_dir") or ""),
        proc_root=str(data.get("proc_root") or ""),
        write_seconds=float(data.get("write_seconds") or 0.0),
    )
