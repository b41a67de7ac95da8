"""The play-sessions adapter against the fake RomM server, which answers like the captures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from fakeromm.auth_state import ALL_SCOPES
from fakeromm.library import FakeLibrary
from fakeromm.play_sessions import fake_play_sessions
from fakeromm.records import load_capture
from fakeromm.server import FakeRommServer
from romdeck.adapters.romm.play_sessions import AiohttpRommPlaySessions
from romdeck.adapters.romm.saves import AiohttpRommSaves
from romdeck.domain.play_sessions import BatchRefused, IngestReply, IngestResult
from romdeck.domain.settings import Connection
from romdeck.errors import NotFoundError


@pytest_asyncio.fixture
async def api(
    fake_romm: FakeRommServer, fake_library: FakeLibrary
) -> AsyncIterator[tuple[AiohttpRommPlaySessions, str, str]]:
    token = fake_library.auth.create_client_token("admin", "deck", list(ALL_SCOPES), None).raw_token
    connection = Connection(url=fake_romm.url, token=token)
    async with aiohttp.ClientSession() as session:
        devices = AiohttpRommSaves(session, connection)
        deck = await devices.register_device(install_id="a" * 32, hostname="steamdeck", name="D")
        other = await devices.register_device(install_id="b" * 32, hostname="steamdeck", name="D")
        yield AiohttpRommPlaySessions(session, connection), deck, other


def item(start: datetime, minutes: float, rom_id: int | None = 1) -> dict[str, Any]:
    end = start + timedelta(minutes=minutes)
    return {"rom_id": rom_id, "save_slot": "autosave", "start_time": start.isoformat(),
            "end_time": end.isoformat(), "duration_ms": int(minutes * 60_000)}  # fmt: skip


def shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return [shape(v) for v in value[:1]]  # pyright: ignore[reportUnknownVariableType]
    return type(value).__name__ if value is not None else None


async def test_the_fake_answers_an_ingest_like_the_capture_errors_first_then_duplicates(
    fake_romm: FakeRommServer, fake_library: FakeLibrary, api: tuple[Any, str, str]
) -> None:
    _, deck, _ = api
    now = datetime.now(UTC).replace(microsecond=954079)
    sessions = [item(now - timedelta(days=1, hours=h), 45) for h in (3, 2, 1)]
    sessions.append(item(now + timedelta(minutes=30), 60))  # ends > 5 min in the future
    auth = aiohttp.BasicAuth("admin", "hunter2")
    async with aiohttp.ClientSession(auth=auth) as http:
        body = {"device_id": deck, "sessions": sessions}
        async with http.post(f"{fake_romm.url}/api/play-sessions", json=body) as first:
            assert first.status == 201
            created = await first.json()
        async with http.post(f"{fake_romm.url}/api/play-sessions", json=body) as again:
            duplicate = await again.json()
        async with http.post(f"{fake_romm.url}/api/play-sessions", json={"sessions": []}) as empty:
            assert empty.status == 400
            assert await empty.json() == load_capture("error_400_play_sessions_empty.json")
        bad = [item(now, 1), dict(item(now, -1), duration_ms=1)]
        async with http.post(f"{fake_romm.url}/api/play-sessions", json={"sessions": bad}) as r:
            assert r.status == 422
            refused = await r.json()
        async with http.get(f"{fake_romm.url}/api/play-sessions?rom_id=1") as listed:
            rows = await listed.json()
    capture = load_capture("play_sessions_ingest.json")
    assert [(r["index"], r["status"]) for r in created["results"]] == [
        (r["index"], r["status"]) for r in capture["results"]
    ]
    assert created["results"][0]["detail"] == "end_time is too far in the future"
    assert (created["created_count"], created["skipped_count"]) == (3, 1)
    assert [r["status"] for r in duplicate["results"]] == [
        r["status"] for r in load_capture("play_sessions_ingest_duplicate.json")["results"]
    ]
    shaped = load_capture("error_422_play_session_end_before_start.json")["detail"][0]
    assert refused["detail"][0]["msg"] == shaped["msg"]
    assert refused["detail"][0]["loc"] == ["body", "sessions", 1]
    assert len(fake_play_sessions(fake_romm).rows) == 3  # nothing of the refused batch stored
    recorded = load_capture("play_sessions_list.json")
    assert shape(rows) == shape(recorded[1:])  # the recorded row made outside a sync session
    assert {r["start_time"][-3:] for r in rows} == {f"{now.second:02d}Z"}  # microseconds dropped
    assert [r["start_time"] for r in rows] == sorted((r["start_time"] for r in rows), reverse=True)


async def test_the_adapter_matches_results_by_index_and_returns_a_refused_batch(
    api: tuple[AiohttpRommPlaySessions, str, str], fake_romm: FakeRommServer
) -> None:
    client, deck, other = api
    now = datetime.now(UTC).replace(microsecond=0)
    sessions = [item(now - timedelta(hours=2), 30), item(now + timedelta(hours=1), 5),
                item(now - timedelta(hours=1), 10, rom_id=999_999)]  # fmt: skip
    reply = await client.ingest(deck, sessions)
    assert isinstance(reply, IngestReply) and reply.server_date.endswith("GMT")
    results = reply.results
    assert [(r.index, r.status) for r in results] == [(0, "created"), (1, "error"), (2, "created")]
    assert results[1] == IngestResult(1, "error", None, "end_time is too far in the future")
    same_start = [dict(sessions[0], end_time=sessions[0]["start_time"])]
    assert isinstance(await client.ingest(deck, same_start), BatchRefused)
    await client.ingest(other, [item(now - timedelta(hours=5), 20)])
    mine = await client.list_sessions(1)
    assert {s.device_id for s in mine} == {deck, other}
    assert sum(s.duration_ms for s in mine) == (30 + 20) * 60_000
    unknown = [s for s in await client.list_sessions() if s.rom_id is None]
    assert len(unknown) == 1  # an unknown rom_id is stored as null, not refused
    with pytest.raises(NotFoundError):
        await client.ingest("00000000-0000-0000-0000-000000000000", sessions[:1])


async def test_every_page_of_the_session_list_is_read(
    api: tuple[AiohttpRommPlaySessions, str, str],
) -> None:
    client, deck, _ = api
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for first in range(0, 230, 100):
        batch = [item(start + timedelta(hours=i), 1) for i in range(first, min(first + 100, 230))]
        await client.ingest(deck, batch)
    assert len(await client.list_sessions(1)) == 230
