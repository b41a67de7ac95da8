"""SystemClock: UTC ISO wall time, monotonic seconds, async sleep."""

from __future__ import annotations

from datetime import datetime, timedelta

from romdeck.adapters.clock import SystemClock


def test_now_iso_is_utc_with_an_explicit_offset() -> None:
    text = SystemClock().now_iso()
    assert text.endswith("+00:00")
    assert datetime.fromisoformat(text).utcoffset() == timedelta(0)


def test_monotonic_never_goes_backwards() -> None:
    clock = SystemClock()
    first = clock.monotonic()
    assert clock.monotonic() >= first


async def test_sleep_returns_after_awaiting() -> None:
    assert await SystemClock().sleep(0) is None
