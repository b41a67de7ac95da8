"""Answers ``bin/romdeck-launch`` over the launch socket (protocol: domain/launch_protocol.py).

``resolve``: an installed ROM whose launch file is still there gets its recorded command
(re-resolved when none could be built at install time); otherwise its download is
queued and the launcher is told so. ``started``/``exited``: the play session is kept
in memory and handed to every :class:`SessionListener` (save sync and playtime hook in
there). Before an installed ROM's command is answered, the :class:`PreLaunchHook` runs
(the bounded pre-launch save sync), so newer saves land before the emulator starts.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from romdeck.domain.launch_protocol import (
    ExitedRequest,
    ResolveRequest,
    StartedRequest,
    ack_reply,
    installed_reply,
    parse_request,
    queued_reply,
)
from romdeck.domain.layout import PlayTarget, install_argv
from romdeck.domain.models import Install
from romdeck.errors import InvalidInputError, RomDeckError
from romdeck.services.play_protocols import (
    DownloadQueue,
    InstallReader,
    PathProbe,
    PreLaunchHook,
    SessionListener,
)

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PlaySession:
    """One launch as the launcher reported it: ``started_at``/``ended_at`` ISO times
    (``""`` while unknown), ``seconds`` of wall time, the emulator's ``exit_code``."""

    rom_id: int
    started_at: str
    ended_at: str = ""
    seconds: float = 0.0
    exit_code: int | None = None
    pid: int = 0


class LaunchService:
    """The launch socket's handler: ``await service.handle(request) -> reply``.

    Args:
        installs: the recorded installs.
        downloads: queues a ROM that is not installed.
        probe: checks the launch file still exists.
        target: reads the emulation target (off the loop), to build a command the
            install lacks.
        listeners: told of every start and exit, in order.
        keep_sessions: how many finished sessions :attr:`sessions` remembers.
        pre_launch: awaited for an installed ROM before its command is answered (the
            pre-launch save sync; it bounds its own time).
    """

    def __init__(
        self,
        *,
        installs: InstallReader,
        downloads: DownloadQueue,
        probe: PathProbe,
        target: Callable[[], Awaitable[PlayTarget]],
        listeners: Sequence[SessionListener] = (),
        keep_sessions: int = 50,
        pre_launch: PreLaunchHook | None = None,
    ) -> None:
        self._installs = installs
        self._downloads = downloads
        self._probe = probe
        self._target = target
        self._listeners = tuple(listeners)
        self._open: dict[int, PlaySession] = {}
        self._done: deque[PlaySession] = deque(maxlen=keep_sessions)
        self._pre_launch = pre_launch

    @property
    def sessions(self) -> tuple[PlaySession, ...]:
        """Finished sessions of this run, oldest first."""
        return tuple(self._done)

    @property
    def playing(self) -> tuple[PlaySession, ...]:
        """Sessions started and not exited yet."""
        return tuple(self._open.values())

    async def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """One launcher request → one reply (``InstalledReply``/``QueuedReply``/``AckReply``).

        Raises ``InvalidInputError`` (bad request, no launch command can be built) and
        whatever queueing the download raises (``NotFoundError``, connection errors);
        the socket server turns those into ``{"ok": false, "error": ...}``.
        """
        parsed = parse_request(request)
        if isinstance(parsed, ResolveRequest):
            return await self._resolve(parsed.rom_id)
        if isinstance(parsed, StartedRequest):
            await self._started(parsed)
        else:
            await self._exited(parsed)
        return dict(ack_reply())

    async def _resolve(self, rom_id: int) -> dict[str, Any]:
        install = await self._installs.get(rom_id)
        if install is not None and await self._probe.exists(Path(install.launch_path)):
            argv = install.launch_argv or install_argv(
                await self._target(), system=install.system, launch_path=install.launch_path
            )
            if not argv:
                raise InvalidInputError(
                    f"No launch command is set for {install.system}; set one in RomDeck's settings."
                )
            if self._pre_launch is not None:
                await _quietly(self._before_launch(rom_id), "pre-launch", rom_id)
            return dict(installed_reply(list(argv)))
        statuses = await self._downloads.queue([rom_id])
        name = statuses[0].name if statuses and statuses[0].name else f"ROM {rom_id}"
        return dict(queued_reply(name))

    async def _before_launch(self, rom_id: int) -> None:
        if self._pre_launch is not None:
            await self._pre_launch.before_launch(rom_id)

    async def _started(self, request: StartedRequest) -> None:
        self._open[request.rom_id] = PlaySession(request.rom_id, request.at, pid=request.pid)
        install = await self._installs.get(request.rom_id)
        for listener in self._listeners:
            await _quietly(listener.session_started(request, install), "start", request.rom_id)

    async def _exited(self, request: ExitedRequest) -> None:
        opened = self._open.pop(request.rom_id, None)
        self._done.append(
            PlaySession(
                rom_id=request.rom_id,
                started_at=opened.started_at if opened else "",
                ended_at=request.at,
                seconds=request.seconds,
                exit_code=request.code,
                pid=opened.pid if opened else 0,
            )
        )
        install: Install | None = await self._installs.get(request.rom_id)
        for listener in self._listeners:
            await _quietly(listener.session_exited(request, install), "exit", request.rom_id)


async def _quietly(call: Awaitable[None], what: str, rom_id: int) -> None:
    """Await a listener; its ``RomDeckError`` is logged, never sent to the launcher."""
    try:
        await call
    except RomDeckError as err:
        _log.warning("session %s listener failed for ROM %s: %s", what, rom_id, err.message)
