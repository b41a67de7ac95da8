"""PendingSaveQueue: the launcher's pending_saves.jsonl taken safely, with real files."""

# ruff: noqa: ASYNC240

from __future__ import annotations

import json
from pathlib import Path

import pytest

from romdeck.adapters.files.pending_saves import PendingSaveQueue


def line(rom_id: object, reason: str = "launcher") -> str:
    return json.dumps({"rom_id": rom_id, "at": "2026-12-02T04:00:00Z", "reason": reason}) + "\n"


async def test_a_drain_interrupted_before_its_end_is_finished_by_the_next_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "pending_saves.jsonl"
    path.write_text(line(7) + "{broken\n" + line(True) + line(-1) + line(3, "no upload"))
    queue = PendingSaveQueue(path)

    async def crash(rom_id: int, reason: str) -> None:
        raise RuntimeError("killed while recording")

    with pytest.raises(RuntimeError):
        await queue.drain(crash)
    path.write_text(line(9))  # the launcher queues another while the first file is taken
    seen: list[tuple[int, str]] = []

    async def record(rom_id: int, reason: str) -> None:
        seen.append((rom_id, reason))

    assert await queue.drain(record) == [3, 7, 9]
    assert seen == [(7, "launcher"), (3, "no upload"), (9, "launcher")]
    assert not path.exists() and list(tmp_path.iterdir()) == []
    assert await queue.drain(record) == []
