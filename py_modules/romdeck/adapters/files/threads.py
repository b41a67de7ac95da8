"""Blocking file work in a worker thread that never outlives the coroutine awaiting it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar

_T = TypeVar("_T")


async def in_thread(
    func: Callable[..., _T], *args: object, stop: threading.Event | None = None
) -> _T:
    """``await asyncio.to_thread(func, *args)``, made safe to cancel.

    When the awaiting task is cancelled, ``stop`` (the event ``func`` checks between
    blocks, if it takes one) is set, the thread is waited for, its own outcome is marked
    as seen, and ``asyncio.CancelledError`` propagates: no file operation outlives its
    coroutine. Returns what ``func`` returns; raises what it raises.
    """
    task = asyncio.ensure_future(asyncio.to_thread(func, *args))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if stop is not None:
            stop.set()
        await settle(task)
        raise


async def settle(task: asyncio.Future[_T]) -> None:
    """Wait until ``task`` is done and mark its outcome as seen."""
    await asyncio.wait({task})
    if not task.cancelled():
        task.exception()
