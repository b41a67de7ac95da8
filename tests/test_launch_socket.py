"""The launch protocol's shapes and the backend's unix-socket server, over real sockets."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from romdeck.adapters.launch_socket import UnixSocketLaunchServer
from romdeck.domain.launch_protocol import (
    MAX_REQUEST_BYTES,
    ExitedRequest,
    ResolveRequest,
    StartedRequest,
    installed_reply,
    launch_option,
    parse_launch_option,
    parse_request,
    queued_reply,
)
from romdeck.errors import InvalidInputError, NotFoundError, StateError

AT = "2025-05-01T10:00:00.000+00:00"


class Recorder:
    """A handler that records requests and answers with ``reply`` (or raises ``error``)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.reply: Any = {"ok": True}
        self.error: BaseException | None = None
        self.gate: asyncio.Event | None = None
        self.cancelled = False
        self.arrived = asyncio.Event()

    async def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(request)
        self.arrived.set()
        if self.gate is not None:
            try:
                await self.gate.wait()
            except asyncio.CancelledError:
                self.cancelled = True
                raise
        if self.error is not None:
            raise self.error
        return self.reply


@pytest.fixture
def sock_path(tmp_path: Path) -> Path:
    return tmp_path / "launch.sock"


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def server(sock_path: Path, recorder: Recorder) -> AsyncIterator[UnixSocketLaunchServer]:
    launch_server = UnixSocketLaunchServer(recorder)
    await launch_server.start(sock_path)
    yield launch_server
    await launch_server.stop()


async def exchange(path: Path, payload: bytes) -> dict[str, Any] | None:
    reader, writer = await asyncio.open_unix_connection(str(path))
    writer.write(payload)
    await writer.drain()
    writer.write_eof()
    line = await reader.read()
    writer.close()
    await writer.wait_closed()
    return json.loads(line) if line else None


# --- domain: message shapes ------------------------------------------------------------


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"op": "resolve", "rom_id": 7}, ResolveRequest(7)),
        ({"op": "started", "rom_id": 7, "pid": 99, "at": AT}, StartedRequest(7, 99, AT)),
        (
            {"op": "exited", "rom_id": 7, "code": 143, "at": AT, "seconds": 12},
            ExitedRequest(7, 143, AT, 12.0),
        ),
        ({"op": "resolve", "rom_id": 7, "future": "field"}, ResolveRequest(7)),
    ],
)
def test_valid_requests_parse_into_their_dataclass(obj: object, expected: object) -> None:
    assert parse_request(obj) == expected


@pytest.mark.parametrize(
    "obj",
    [
        [],
        "resolve",
        {"rom_id": 7},
        {"op": "launch", "rom_id": 7},
        {"op": "resolve"},
        {"op": "resolve", "rom_id": "7"},
        {"op": "resolve", "rom_id": True},
        {"op": "resolve", "rom_id": 0},
        {"op": "resolve", "rom_id": 2**63},
        {"op": "started", "rom_id": 7, "pid": -1, "at": AT},
        {"op": "started", "rom_id": 7, "pid": 5, "at": "2025-05-01T10:00:00"},
        {"op": "started", "rom_id": 7, "pid": 5, "at": "yesterday"},
        {"op": "exited", "rom_id": 7, "code": 1.5, "at": AT, "seconds": 1},
        {"op": "exited", "rom_id": 7, "code": 0, "at": AT, "seconds": -1},
        {"op": "exited", "rom_id": 7, "code": 0, "at": AT, "seconds": float("nan")},
        {"op": "exited", "rom_id": 7, "code": 0, "at": AT, "seconds": False},
    ],
)
def test_malformed_requests_raise_invalid_input(obj: object) -> None:
    with pytest.raises(InvalidInputError):
        parse_request(obj)


@pytest.mark.parametrize("text", ["romdeck:", "romdeck:0", "romdeck:-3", "romdeck:1a", "steam:1"])
def test_bad_launch_options_raise_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_launch_option(text)


def test_launch_option_round_trips_a_rom_id() -> None:
    assert parse_launch_option(launch_option(123)) == 123


def test_queued_reply_names_the_game() -> None:
    assert queued_reply("Zelda")["message"] == (
        "Downloading Zelda — press Play again when it finishes"
    )


def test_installed_reply_rejects_an_empty_command() -> None:
    with pytest.raises(InvalidInputError):
        installed_reply([])


# --- adapter: the server --------------------------------------------------------------


async def test_a_valid_request_reaches_the_handler_and_its_reply_comes_back(
    server: UnixSocketLaunchServer, sock_path: Path, recorder: Recorder
) -> None:
    recorder.reply = installed_reply(["/usr/bin/true", "Zelda's ☃.sfc"], env={"A": "1"})
    reply = await exchange(sock_path, b'{"op": "resolve", "rom_id": 5}\n')
    assert recorder.requests == [{"op": "resolve", "rom_id": 5}]
    assert reply == recorder.reply


async def test_a_request_without_a_trailing_newline_is_still_answered(
    server: UnixSocketLaunchServer, sock_path: Path, recorder: Recorder
) -> None:
    assert await exchange(sock_path, b'{"op": "resolve", "rom_id": 5}') == {"ok": True}


async def test_the_socket_file_is_private_to_the_user(
    server: UnixSocketLaunchServer, sock_path: Path
) -> None:
    mode = (await asyncio.to_thread(sock_path.stat)).st_mode
    assert stat.S_ISSOCK(mode)
    assert stat.S_IMODE(mode) == 0o600
    assert [p.name for p in sock_path.parent.iterdir()] == ["launch.sock"]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"not json\n", "invalid_input"),
        (b"\xff\xfe\n", "invalid_input"),
        (b"[1, 2]\n", "invalid_input"),
        (b'{"op": "explode", "rom_id": 1}\n', "invalid_input"),
        (b'{"op": "resolve", "rom_id": "1"}\n', "invalid_input"),
    ],
)
async def test_a_bad_request_gets_an_error_reply_and_the_server_keeps_serving(
    server: UnixSocketLaunchServer, sock_path: Path, recorder: Recorder, payload: bytes, code: str
) -> None:
    reply = await exchange(sock_path, payload)
    assert reply is not None
    assert reply["ok"] is False
    assert reply["error"]["code"] == code
    assert recorder.requests == []
    assert await exchange(sock_path, b'{"op": "resolve", "rom_id": 1}\n') == {"ok": True}


async def test_an_oversized_request_is_refused_without_reaching_the_handler(
    server: UnixSocketLaunchServer, sock_path: Path, recorder: Recorder
) -> None:
    huge = b'{"op": "resolve", "rom_id": 1, "pad": "' + b"x" * MAX_REQUEST_BYTES + b'"}\n'
    reply = await exchange(sock_path, huge)
    assert reply is not None
    assert reply["error"]["code"] == "invalid_input"
    assert recorder.requests == []
    assert await exchange(sock_path, b'{"op": "resolve", "rom_id": 1}\n') == {"ok": True}


async def test_a_client_that_sends_nothing_gets_no_reply(
    server: UnixSocketLaunchServer, sock_path: Path
) -> None:
    assert await exchange(sock_path, b"") is None
    assert await exchange(sock_path, b'{"op": "resolve", "rom_id": 1}\n') == {"ok": True}


async def test_a_romdeck_error_in_the_handler_becomes_its_error_code(
    server: UnixSocketLaunchServer, sock_path: Path, recorder: Recorder
) -> None:
    recorder.error = NotFoundError("No ROM 9 on the server.")
    reply = await exchange(sock_path, b'{"op": "resolve", "rom_id": 9}\n')
    assert reply == {
        "ok": False,
        "error": {"code": "not_found", "message": "No ROM 9 on the server."},
    }


@pytest.mark.parametrize("fault", ["raise", "not a dict", "unserialisable"])
async def test_a_handler_fault_becomes_an_internal_error_and_the_server_survives(
    server: UnixSocketLaunchServer, sock_path: Path, recorder: Recorder, fault: str
) -> None:
    if fault == "raise":
        recorder.error = RuntimeError("boom")
    else:
        recorder.reply = ["ok"] if fault == "not a dict" else {"ok": True, "x": object()}
    reply = await exchange(sock_path, b'{"op": "resolve", "rom_id": 9}\n')
    assert reply is not None
    assert reply["error"]["code"] == "internal"
    recorder.error, recorder.reply = None, {"ok": True}
    assert await exchange(sock_path, b'{"op": "resolve", "rom_id": 9}\n') == {"ok": True}


async def test_a_stale_socket_file_is_replaced(sock_path: Path, recorder: Recorder) -> None:
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(sock_path))
    stale.close()
    launch_server = UnixSocketLaunchServer(recorder)
    await launch_server.start(sock_path)
    try:
        assert await exchange(sock_path, b'{"op": "resolve", "rom_id": 1}\n') == {"ok": True}
    finally:
        await launch_server.stop()


async def test_a_file_that_is_not_a_socket_is_left_untouched(
    sock_path: Path, recorder: Recorder
) -> None:
    await asyncio.to_thread(sock_path.write_text, "user data")
    with pytest.raises(StateError):
        await UnixSocketLaunchServer(recorder).start(sock_path)
    assert await asyncio.to_thread(sock_path.read_text) == "user data"


async def test_starting_twice_is_refused(server: UnixSocketLaunchServer, sock_path: Path) -> None:
    with pytest.raises(StateError):
        await server.start(sock_path)


async def test_stop_removes_the_socket_file(sock_path: Path, recorder: Recorder) -> None:
    launch_server = UnixSocketLaunchServer(recorder)
    await launch_server.start(sock_path)
    await launch_server.stop()
    assert not await asyncio.to_thread(sock_path.exists)
    assert launch_server.path is None


async def test_stopping_an_old_server_keeps_its_successors_socket(
    sock_path: Path, recorder: Recorder
) -> None:
    old, new = UnixSocketLaunchServer(recorder), UnixSocketLaunchServer(recorder)
    await old.start(sock_path)
    await new.start(sock_path)
    await old.stop()
    try:
        assert await exchange(sock_path, b'{"op": "resolve", "rom_id": 1}\n') == {"ok": True}
    finally:
        await new.stop()
    assert not await asyncio.to_thread(sock_path.exists)


async def test_stop_cancels_a_request_still_in_flight(sock_path: Path, recorder: Recorder) -> None:
    recorder.gate = asyncio.Event()
    launch_server = UnixSocketLaunchServer(recorder)
    await launch_server.start(sock_path)
    client = asyncio.create_task(exchange(sock_path, b'{"op": "resolve", "rom_id": 1}\n'))
    await asyncio.wait_for(recorder.arrived.wait(), timeout=5)
    await asyncio.wait_for(launch_server.stop(), timeout=5)
    assert recorder.cancelled
    assert await asyncio.wait_for(client, timeout=5) is None


def test_the_socket_path_must_fit_a_unix_address(tmp_path: Path, recorder: Recorder) -> None:
    deep = tmp_path / ("d" * 120)
    with pytest.raises(StateError):
        asyncio.run(UnixSocketLaunchServer(recorder).start(deep / "launch.sock"))
    assert not os.path.exists(deep)
