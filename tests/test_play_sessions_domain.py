"""Play sessions, pure rules: whole-second times RomM accepts, batches, totals."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from romdeck.domain.play_sessions import (
    GameTotal,
    OutboxSession,
    ServerSession,
    SessionState,
    batches,
    game_totals,
    sendable,
    session_from_exit,
)
from romdeck.errors import InvalidInputError


def row(n: int, start: str, end: str, ms: int, **kw: object) -> OutboxSession:
    return OutboxSession(n, 20, start, end, ms, kw.pop("state", SessionState.QUEUED), **kw)  # pyright: ignore[reportArgumentType]


@pytest.mark.parametrize(
    ("at", "seconds", "start", "end", "ms"),
    [
        ("2026-11-28T18:38:08.500+00:00", 3600.25, "2026-11-28T17:38:08+00:00",
         "2026-11-28T18:38:08+00:00", 3600250),
        # sub-second: same second after truncation -> end pushed one second past start
        ("2026-11-28T18:38:08.900+00:00", 0.4, "2026-11-28T18:38:08+00:00",
         "2026-11-28T18:38:09+00:00", 400),
        ("2026-11-28T18:38:08.000+00:00", 0.0, "2026-11-28T18:38:08+00:00",
         "2026-11-28T18:38:09+00:00", 0),
        # an offset is turned into UTC
        ("2026-11-28T19:38:08.000+01:00", 60.0, "2026-11-28T18:37:08+00:00",
         "2026-11-28T18:38:08+00:00", 60000),
    ],
)  # fmt: skip
def test_an_exit_report_gives_whole_second_utc_times_with_end_after_start(
    at: str, seconds: float, start: str, end: str, ms: int
) -> None:
    session = session_from_exit(20, at, seconds)
    assert (session.start_time, session.end_time, session.duration_ms) == (start, end, ms)


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.floats(min_value=0, max_value=10**6, allow_nan=False),
)
def test_every_exit_report_gives_a_session_romm_accepts(moment: datetime, seconds: float) -> None:
    at = moment.isoformat(timespec="milliseconds") + "+00:00"
    session = session_from_exit(1, at, seconds)
    assert sendable(OutboxSession(1, 1, session.start_time, session.end_time,
                                  session.duration_ms, SessionState.QUEUED)) == ""  # fmt: skip
    assert session_from_exit(1, at, seconds) == session  # same report, same key


@pytest.mark.parametrize(("at", "seconds"), [("yesterday", 1.0), ("2026-11-28T18:38:08", 1.0),
                                             ("2026-11-28T18:38:08Z", -1.0)])  # fmt: skip
def test_a_bad_exit_report_is_refused_clearly(at: str, seconds: float) -> None:
    with pytest.raises(InvalidInputError):
        session_from_exit(1, at, seconds)


def test_a_row_whose_end_is_not_after_its_start_is_never_sendable() -> None:
    same = row(1, "2026-11-28T18:38:08.100+00:00", "2026-11-28T18:38:08.900+00:00", 800)
    assert "end_time must be after start_time" in sendable(same)
    assert sendable(row(2, "2026-11-28T18:38:08Z", "2026-11-28T18:38:09Z", 1000)) == ""


def test_250_sessions_go_as_100_100_and_50() -> None:
    rows = [row(i, "2026-11-28T18:38:08Z", "2026-11-28T18:38:09Z", 1) for i in range(250)]
    assert [len(b) for b in batches(rows)] == [100, 100, 50]
    assert [s.id for b in batches(rows) for s in b] == list(range(250))


def test_totals_add_the_servers_sessions_that_are_not_ours() -> None:
    local = [
        row(1, "2026-11-27T20:38:08+00:00", "2026-11-27T21:23:08+00:00", 2_700_000,
            state=SessionState.DELIVERED, server_id=2),
        row(2, "2026-11-28T10:00:00+00:00", "2026-11-28T10:10:00+00:00", 600_000,
            state=SessionState.DELIVERED),  # a duplicate: RomM sent no id
        row(3, "2026-11-29T10:00:00+00:00", "2026-11-29T10:01:00+00:00", 60_000),
        row(4, "2026-11-29T11:00:00+00:00", "2026-11-29T11:00:01+00:00", 5,
            state=SessionState.REFUSED, refusal="end_time is too far in the future"),
    ]  # fmt: skip
    server = [
        ServerSession(2, 20, "me", "2026-11-27T20:38:08Z", "2026-11-27T21:23:08Z", 2_700_000),
        ServerSession(7, 20, "me", "2026-11-28T10:00:00Z", "2026-11-28T10:10:00Z", 600_000),
        ServerSession(1, 20, "other", "2026-11-28T17:38:08Z", "2026-11-28T18:38:08Z", 3_600_000),
    ]
    total = game_totals(20, "Metroid", local, server, offline=False)
    assert total == GameTotal(
        rom_id=20, name="Metroid", total_seconds=2700 + 600 + 60 + 0.005 + 3600,
        local_seconds=2700 + 600 + 60 + 0.005, server_seconds=3600, sessions=5,
        last_played_at="2026-11-29T11:00:01+00:00", queued=1, refused=1, offline=False,
    )  # fmt: skip
    alone = game_totals(20, "Metroid", local, [], offline=True)
    assert alone.server_seconds == 0 and alone.offline and alone.sessions == 4
