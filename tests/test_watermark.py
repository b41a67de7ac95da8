"""Which ``updated_after`` a resync asks for, and which watermark a fetch leaves."""

from __future__ import annotations

import pytest

from romdeck.domain.watermark import EPOCH, newest, safe_mark, updated_after

FETCH_BEGAN = "2026-11-28T21:00:00+00:00"


def test_the_newest_mark_is_asked_for_so_an_old_platform_does_not_widen_the_query():
    marks = ["2024-01-01T00:00:00+00:00", "2026-11-28T20:37:12.352851+00:00"]
    assert updated_after(marks) == "2026-11-28T20:37:12.352851+00:00"
    assert updated_after([]) == EPOCH


def test_timestamps_compare_as_times_not_as_text():
    assert newest(["2026-11-28T20:37:12+00:00", "2026-11-28T20:37:12.5+00:00"]) == (
        "2026-11-28T20:37:12.5+00:00"
    )
    assert newest(["2026-11-28T22:00:00+02:00", "2026-11-28T20:30:00+00:00"]) == (
        "2026-11-28T20:30:00+00:00"
    )


def test_a_fetch_keeps_the_newest_change_seen_when_it_predates_the_fetch():
    seen = "2026-11-28T20:37:12.352851+00:00"
    assert safe_mark(None, seen, FETCH_BEGAN) == seen


def test_a_change_seen_during_the_fetch_leaves_the_mark_at_the_fetch_start():
    during = "2026-11-28T21:00:07+00:00"
    assert safe_mark(None, during, FETCH_BEGAN) == "2026-11-28T20:59:59+00:00"


def test_without_a_server_date_the_mark_keeps_a_margin_and_never_goes_back():
    seen = "2026-11-28T21:00:00+00:00"
    assert safe_mark(None, seen, "") == "2026-11-28T20:55:00+00:00"
    assert safe_mark("2026-11-28T20:58:00+00:00", seen, "") == "2026-11-28T20:58:00+00:00"


def test_an_empty_stream_stays_at_its_previous_mark_or_the_epoch():
    assert safe_mark(None, EPOCH, FETCH_BEGAN) == EPOCH
    assert safe_mark("2026-11-28T20:00:00+00:00", EPOCH, FETCH_BEGAN) == "2026-11-28T20:00:00+00:00"


def test_a_mark_that_is_not_a_datetime_is_an_error():
    with pytest.raises(ValueError):
        updated_after(["yesterday"])
