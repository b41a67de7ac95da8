"""A progress line per step on stderr, redrawn in place on a terminal."""

from __future__ import annotations

import sys
from typing import TextIO

from romdeck.domain.models import SyncProgress


class ProgressBar:
    """One progress line per step on ``stream`` (redrawn in place on a terminal)."""

    def __init__(self, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._width = width
        self._step = ""
        self._last = ""

    def __call__(self, progress: SyncProgress) -> None:
        if progress.step != self._step and self._step and self._tty:
            self._stream.write("\n")
        self._step = progress.step
        if progress.total:
            filled = int(self._width * min(progress.done, progress.total) / progress.total)
            bar = "#" * filled + "." * (self._width - filled)
            line = (
                f"{progress.message or progress.step:<28} [{bar}] {progress.done}/{progress.total}"
            )
        else:
            line = f"{progress.message or progress.step}…"
        if self._tty:
            self._stream.write("\r" + line)
        elif progress.done in (0, progress.total) and line != self._last:
            self._stream.write(line + "\n")
        self._last = line
        self._stream.flush()

    def close(self) -> None:
        if self._tty and self._step:
            self._stream.write("\n")
