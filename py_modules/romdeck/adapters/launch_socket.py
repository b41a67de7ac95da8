"""The backend end of the launcher protocol: an asyncio unix-socket server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import stat
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from romdeck.domain.launch_protocol import MAX_REQUEST_BYTES, error_reply, parse_request
from romdeck.errors import ErrorCode, RomDeckError, StateError

LaunchHandler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
"""Answers one validated request (``{"op": ...}``) with one reply object."""

_log = logging.getLogger(__name__)

_READ_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 1.5
_MAX_UNIX_PATH_BYTES = 107


class UnixSocketLaunchServer:
    """Serves ``bin/romdeck-launch`` on a unix socket, one JSON-lines request per connection.

    Each request line (at most ``MAX_REQUEST_BYTES``, read within 10 s) is decoded and
    checked with :func:`romdeck.domain.launch_protocol.parse_request`; only a valid
    request reaches ``handler``, as the decoded dict. The handler's reply is written back
    as one line. A bad request, a :class:`RomDeckError` from the handler (its ``code``), any
    other exception or an unserialisable reply (``internal``) all get
    ``{"ok": false, "error": {"code", "message"}}``; the server keeps serving. The
    handler may take long (pre-launch save sync): no timeout is put on it.
    """

    def __init__(self, handler: LaunchHandler) -> None:
        self._handler = handler
        self._server: asyncio.Server | None = None
        self._path: Path | None = None
        self._inode: int | None = None
        self._connections: set[asyncio.Task[Any]] = set()

    @property
    def path(self) -> Path | None:
        """Where the server listens, or ``None`` when stopped."""
        return self._path

    async def start(self, path: Path | str) -> None:
        """Listen on ``path`` (mode 0600); the parent folder must exist.

        An existing socket file at ``path`` (stale, or left by a backend being replaced)
        is replaced atomically: the newest backend wins.

        Raises:
            StateError: already started, ``path`` is too long or holds something that is
                not a socket, or the socket cannot be created.
        """
        if self._server is not None:
            raise StateError("The launch socket is already being served.")
        target = Path(path)
        sock = await asyncio.to_thread(_bind_private_socket, target)
        try:
            self._server = await asyncio.start_unix_server(
                self._on_connection, sock=sock, limit=MAX_REQUEST_BYTES
            )
        except OSError as err:
            sock.close()
            await asyncio.to_thread(_unlink_quietly, target)
            raise StateError(f"Cannot serve the launch socket {target}: {err.strerror}") from err
        self._path = target
        self._inode = await asyncio.to_thread(_inode_of, target)
        _log.info("launch socket listening on %s", target)

    async def stop(self) -> None:
        """Stop listening, cancel requests in flight, and remove the socket file.

        The file is removed only if it is still ours (same inode), so stopping an old
        backend never removes its successor's socket. Returns within about 3 s (well
        inside Decky's 5 s ``_unload`` budget).
        """
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=_STOP_TIMEOUT_S)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), _STOP_TIMEOUT_S)
        path, inode = self._path, self._inode
        self._path = self._inode = None
        if path is not None and inode is not None:
            await asyncio.to_thread(_unlink_if_inode, path, inode)

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        try:
            line = await self._read_line(reader)
            if line is not None:
                reply = await self._reply_to(line)
                writer.write(reply)
                await writer.drain()
        except (ConnectionError, TimeoutError, OSError) as err:
            _log.debug("launch socket client went away: %s", err)
        finally:
            if task is not None:
                self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _read_line(self, reader: asyncio.StreamReader) -> bytes | None:
        """One request line; ``b""`` marks a line that is too long; ``None`` an empty read."""
        try:
            line = await asyncio.wait_for(reader.readline(), _READ_TIMEOUT_S)
        except ValueError:  # the StreamReader limit was exceeded
            return b""
        return line if line.strip() else None

    async def _reply_to(self, line: bytes) -> bytes:
        if not line:
            reply: dict[str, Any] = dict(
                error_reply(ErrorCode.INVALID_INPUT, "The launch request is too large.")
            )
        else:
            reply = await self._dispatch(line)
        try:
            text = json.dumps(reply, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as err:
            _log.error("launch handler gave an unserialisable reply: %s", err)
            text = json.dumps(error_reply(ErrorCode.INTERNAL, "The backend's reply was invalid."))
        return text.encode("utf-8") + b"\n"

    async def _dispatch(self, line: bytes) -> dict[str, Any]:
        try:
            obj = json.loads(line.decode("utf-8"))
            parse_request(obj)
            reply = await self._handler(obj)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return dict(error_reply(ErrorCode.INVALID_INPUT, "The launch request is not JSON."))
        except RomDeckError as err:
            return dict(error_reply(err.code, err.message))
        except Exception:
            _log.exception("launch handler failed")
            return dict(error_reply(ErrorCode.INTERNAL, "The backend failed to answer."))
        if not isinstance(reply, dict):
            _log.error("launch handler returned %r, not a dict", type(reply))
            return dict(error_reply(ErrorCode.INTERNAL, "The backend's reply was invalid."))
        return reply


def _bind_private_socket(target: Path) -> socket.socket:
    """A listening-ready socket bound at ``target`` with mode 0600, with no window open.

    It is bound inside a fresh 0700 folder next to ``target``, chmodded, then renamed
    into place (replacing a socket file, never anything else).
    """
    if len(os.fsencode(target)) > _MAX_UNIX_PATH_BYTES:
        raise StateError(f"The launch socket path is too long: {target}")
    try:
        existing = target.lstat()
    except FileNotFoundError:
        existing = None
    except OSError as err:
        raise StateError(f"Cannot inspect {target}: {err.strerror}") from err
    if existing is not None and not stat.S_ISSOCK(existing.st_mode):
        raise StateError(f"{target} exists and is not a socket; it was left untouched.")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        private = tempfile.mkdtemp(prefix=".ls", dir=target.parent)
        try:
            staging = os.path.join(private, "s")
            sock.bind(staging)
            os.chmod(staging, 0o600)
            os.replace(staging, target)
        finally:
            _unlink_quietly(Path(private, "s"))
            os.rmdir(private)
    except OSError as err:
        sock.close()
        raise StateError(f"Cannot create the launch socket {target}: {err.strerror}") from err
    return sock


def _inode_of(path: Path) -> int | None:
    try:
        return path.lstat().st_ino
    except OSError:
        return None


def _unlink_if_inode(path: Path, inode: int) -> None:
    if _inode_of(path) == inode:
        _unlink_quietly(path)


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
