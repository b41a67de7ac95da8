"""Incremental fetch watermarks: which ``updated_after`` to ask RomM for. Pure.

After a fetch, the watermark stored is the newest ``updated_at`` seen, but never later
than the moment the fetch began by the server's clock (its HTTP ``Date``, less a second
for its resolution): a ROM changed while the pages were being read may carry an
``updated_at`` older than the newest one seen, and must come back next time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

EPOCH = "1970-01-01T00:00:00+00:00"
SAFETY_MARGIN_S = 300
"""Seconds taken off the newest ``updated_at`` when the server sent no ``Date``."""


def _when(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def newest(marks: Iterable[str], start: str = EPOCH) -> str:
    """The latest of ISO-8601 timestamps (compared as times, not as text)."""
    return max((start, *marks), key=_when)


def safe_mark(previous: str | None, newest_seen: str, served_at: str) -> str:
    """The watermark to store after a fetch stream.

    ``previous``: the stream's watermark before (``None``: first fetch);
    ``newest_seen``: the newest ``updated_at`` fetched (``EPOCH`` when none);
    ``served_at``: the server's time at the stream's first page (``""``: unknown).
    Raises ``ValueError`` on a timestamp that is not ISO-8601.
    """
    seen = _when(newest_seen)
    began = _when(served_at) - timedelta(seconds=1) if served_at else None
    bound = began if began is not None else seen - timedelta(seconds=SAFETY_MARGIN_S)
    mark = min(seen, bound)
    if previous:
        mark = max(mark, _when(previous))
    return max(mark, _when(EPOCH)).isoformat()


def updated_after(marks: Iterable[str]) -> str:
    """The ``updated_after`` for streams fetched up to ``marks``: the newest of them.

    Every change after a fetch began carries a later ``updated_at`` whatever its
    platform, so an old platform's mark does not widen the query. ``EPOCH`` when none.
    """
    return newest(marks)
