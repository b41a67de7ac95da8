"""The system's clocks."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime


class SystemClock:
    """``Clock`` from the operating system: UTC wall time and a monotonic counter (seconds)."""

    def now_iso(self) -> str:
        """UTC now as ISO-8601 with ``+00:00``: ``2024-05-01T12:00:00.123456+00:00``."""
        return datetime.now(UTC).isoformat()

    def monotonic(self) -> float:
        """Seconds from an arbitrary start; never goes backwards."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Sleep without blocking the event loop."""
        await asyncio.sleep(seconds)
