"""JSON decoding that lets other threads run: for large RomM answers, in a worker thread.

``json.loads`` holds the GIL for a whole document: a 1,000-ROM page (~2.4 MB) is 20-60 ms
during which Decky's event loop cannot run, even though the parse is in a worker thread.
:func:`loads_in_slices` gives the same result but decodes the arrays directly under a
top-level object (``items`` of a page) one element at a time, pausing every
``slice_chars`` characters so the GIL changes hands.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")
SLICE_CHARS = 64 * 1024
"""Characters decoded between pauses (about 0.5 ms of work)."""


def _pause() -> None:
    time.sleep(0)  # releases the GIL: a thread waiting for it runs now


def loads_in_slices(
    body: bytes | str, *, slice_chars: int = SLICE_CHARS, pause: Callable[[], None] = _pause
) -> object:
    """What ``json.loads(body)`` returns, decoded in slices with ``pause()`` between them.

    Raises ``ValueError`` (``json.JSONDecodeError`` or ``UnicodeDecodeError``) for
    anything ``json.loads`` refuses. Only a top-level object is sliced; other documents
    are decoded at once.
    """
    text = (
        body.decode(json.detect_encoding(body), "surrogatepass")
        if isinstance(body, bytes)
        else body
    )
    at = _SPACE.match(text, 0).end()  # type: ignore[union-attr]  # the pattern matches ""
    if not text.startswith("{", at):
        return json.loads(text)
    try:
        value, end = _object(text, at, _Slicer(slice_chars, pause))
    except IndexError as err:  # ran off the end: a truncated document
        raise json.JSONDecodeError("Unterminated document", text, len(text)) from err
    if _skip(text, end) != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value


class _Slicer:
    """Calls ``pause`` each time another ``every`` characters have been decoded."""

    def __init__(self, every: int, pause: Callable[[], None]) -> None:
        self._every, self._pause, self._next = every, pause, every

    def reached(self, at: int) -> None:
        if at >= self._next:
            self._pause()
            self._next = at + self._every


def _skip(text: str, at: int) -> int:
    return _SPACE.match(text, at).end()  # type: ignore[union-attr]  # the pattern matches ""


def _expect(text: str, at: int, char: str) -> None:
    if text[at] != char:
        raise json.JSONDecodeError(f"Expecting {char!r}", text, at)


def _object(text: str, at: int, slicer: _Slicer) -> tuple[dict[str, object], int]:
    result: dict[str, object] = {}
    at = _skip(text, at + 1)
    if text[at] == "}":
        return result, at + 1
    while True:
        _expect(text, at, '"')
        key, at = _DECODER.raw_decode(text, at)
        at = _skip(text, at)
        _expect(text, at, ":")
        at = _skip(text, at + 1)
        if text[at] == "[":
            value, at = _array(text, at, slicer)
        else:
            value, at = _DECODER.raw_decode(text, at)
        result[key] = value
        at = _skip(text, at)
        if text[at] == "}":
            return result, at + 1
        _expect(text, at, ",")
        at = _skip(text, at + 1)


def _array(text: str, at: int, slicer: _Slicer) -> tuple[list[object], int]:
    items: list[object] = []
    at = _skip(text, at + 1)
    if text[at] == "]":
        return items, at + 1
    while True:
        value, at = _DECODER.raw_decode(text, at)
        items.append(value)
        slicer.reached(at)
        at = _skip(text, at)
        if text[at] == "]":
            return items, at + 1
        _expect(text, at, ",")
        at = _skip(text, at + 1)
