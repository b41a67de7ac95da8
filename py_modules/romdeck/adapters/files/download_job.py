"""The plumbing of one ``AiohttpDownloader`` run: its state, progress meter and control flow.

Internal to :mod:`romdeck.adapters.files.download`: the mutable :class:`DownloadJob`, the
throttled :class:`ProgressMeter`, and the exceptions the downloader uses to steer retries,
restarts and pauses (never raised to its callers). Thread helpers: ``adapters/files/threads``.
"""

from __future__ import annotations

import asyncio
import ssl as ssl_module
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from romdeck.adapters.files.part_file import PartFile
from romdeck.domain.downloads import (
    DownloadProgress,
    ExpectedHash,
    PartState,
    ProgressThrottle,
    RunningDigest,
)

ProgressCallback = Callable[[DownloadProgress], None]
_T = TypeVar("_T")


class Transient(Exception):
    """A failure worth retrying: cut connection, timeout, 5xx, 408, 429."""

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


class Restart(Exception):
    """The part on disk does not belong to what the server now serves: start from 0."""


class Paused(Exception):
    """The caller paused: the connection is dropped and resumed with Range later."""


class ProgressMeter:
    """Sends throttled progress reports to the caller's callback."""

    def __init__(
        self, sink: ProgressCallback | None, clock: Callable[[], float], interval: float
    ) -> None:
        self._sink, self._clock, self._throttle = sink, clock, ProgressThrottle(interval)

    def update(self, done: int, total: int | None, *, final: bool = False) -> None:
        """Report ``done`` of ``total`` bytes unless throttled (``final`` always reports)."""
        if self._sink is not None:
            report = self._throttle.report(self._clock(), done, total, final=final)
            if report is not None:
                self._sink(report)


@dataclass(eq=False)
class DownloadJob:
    """What one download asked for and how far it got (``done``: bytes in the part,
    ``written``: bytes written by this run, ``stalls``: attempts in a row with no new byte)."""

    url: str
    files: PartFile
    headers: Mapping[str, str]
    ssl: ssl_module.SSLContext | bool | None
    expected_size: int | None
    expected: ExpectedHash | None
    force_range: bool
    pause: asyncio.Event | None
    meter: ProgressMeter
    state: PartState | None = None
    digest: RunningDigest | None = None
    done: int = 0
    total: int | None = None
    complete: bool = False
    written: int = 0
    stalls: int = 0

    def new_digest(self) -> RunningDigest | None:
        return RunningDigest(self.expected.algorithm) if self.expected else None

    def advance(self, size: int) -> None:
        """Count ``size`` more bytes written to the part (progress counts bytes received)."""
        self.done += size
        self.written += size
