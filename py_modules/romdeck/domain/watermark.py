"""Incremental fetch watermarks: which ``updated_after`` to ask RomM for. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

EPOCH = "1970-01-01T00:00:00+00:00"
SAFETY_MARGIN_S = 300
"""Seconds re-fetched before the watermark: a ROM changed while an earlier sync was
paging may carry an ``updated_at`` a little older than the newest one that sync saw."""


def updated_after(marks: Iterable[str], margin_s: int = SAFETY_MARGIN_S) -> str:
    """The ``updated_after`` for platforms fetched up to ``marks`` (ISO-8601 with offsets).

    Every change after the last sync carries an ``updated_at`` later than the newest
    one that sync saw, whatever its platform, so the newest mark (less the margin) is
    enough: an old platform's mark does not widen the query. Raises ``ValueError`` on
    a mark that is not an ISO datetime; ``EPOCH`` when there is none.
    """
    newest = max((datetime.fromisoformat(mark) for mark in marks), default=None)
    if newest is None:
        return EPOCH
    return max(newest - timedelta(seconds=margin_s), datetime.fromisoformat(EPOCH)).isoformat()
