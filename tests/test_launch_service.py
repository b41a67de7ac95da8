"""LaunchService: the launcher's resolve / started / exited requests."""

# Assertions read small temp files directly; blocking there is harmless in tests.
# ruff: noqa: ASYNC240

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from romdeck.adapters.files.install_tree import LocalInstallTree
from romdeck.domain.downloads import DownloadState, DownloadStatus
from romdeck.domain.emulation import EmulationPaths, EmulationTarget, custom_root_paths
from romdeck.domain.launch_protocol import ExitedRequest, StartedRequest
from romdeck.domain.layout import PlayTarget
from romdeck.domain.models import Install
from romdeck.errors import InvalidInputError, NotFoundError, StateError
from romdeck.services.launch import LaunchService

AT = "2026-01-01T10:00:00+00:00"


class Installs:
    def __init__(self, *installs: Install) -> None:
        self.by_id = {i.rom_id: i for i in installs}

    async def get(self, rom_id: int) -> Install | None:
        return self.by_id.get(rom_id)


class Queue:
    def __init__(self, fail: Exception | None = None) -> None:
        self.queued: list[int] = []
        self.fail = fail

    async def queue(self, rom_ids: Sequence[int]) -> list[DownloadStatus]:
        if self.fail is not None:
            raise self.fail
        self.queued += rom_ids
        return [DownloadStatus(r, "Super Metroid", DownloadState.QUEUED) for r in rom_ids]


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, int, Install | None]] = []
        self.fail = fail

    async def session_started(self, request: StartedRequest, install: Install | None) -> None:
        self.calls.append(("started", request.rom_id, install))
        if self.fail:
            raise StateError("outbox is broken")

    async def session_exited(self, request: ExitedRequest, install: Install | None) -> None:
        self.calls.append(("exited", request.rom_id, install))


def installed(tmp_path: Path, argv: tuple[str, ...] = ("flatpak", "run", "x")) -> Install:
    game = tmp_path / "roms" / "snes" / "Game.sfc"
    game.parent.mkdir(parents=True, exist_ok=True)
    game.write_bytes(b"rom")
    return Install(
        20, "snes", "snes", str(game), str(game), 3, (*argv, str(game)) if argv else (), AT
    )


def service(
    installs: Installs,
    queue: Queue,
    *,
    listeners: Sequence[Recorder] = (),
    target: PlayTarget | None = None,
) -> LaunchService:
    chosen = target or PlayTarget(
        paths=EmulationPaths("/roms", "", "", "", EmulationTarget.RETRODECK)
    )

    async def read_target() -> PlayTarget:
        return chosen

    return LaunchService(
        installs=installs, downloads=queue, probe=LocalInstallTree(), target=read_target,
        listeners=listeners,
    )  # fmt: skip


async def test_an_installed_rom_resolves_to_its_recorded_command(tmp_path: Path) -> None:
    install = installed(tmp_path)
    reply = await service(Installs(install), Queue()).handle({"op": "resolve", "rom_id": 20})
    assert reply == {
        "ok": True,
        "installed": True,
        "argv": list(install.launch_argv),
        "cwd": None,
        "env": {},
    }


async def test_a_rom_not_installed_is_queued_and_the_launcher_is_told(tmp_path: Path) -> None:
    queue = Queue()
    reply = await service(Installs(), queue).handle({"op": "resolve", "rom_id": 7})
    assert queue.queued == [7]
    assert reply["installed"] is False and reply["queued"] is True
    assert "Super Metroid" in reply["message"]


async def test_an_install_whose_launch_file_vanished_is_downloaded_again(tmp_path: Path) -> None:
    install = installed(tmp_path)
    Path(install.launch_path).unlink()
    queue = Queue()
    reply = await service(Installs(install), queue).handle({"op": "resolve", "rom_id": 20})
    assert queue.queued == [20]
    assert reply["queued"] is True


async def test_an_install_without_a_command_gets_one_built_at_launch(tmp_path: Path) -> None:
    install = installed(tmp_path, argv=())
    reply = await service(Installs(install), Queue()).handle({"op": "resolve", "rom_id": 20})
    assert reply["argv"] == [
        "flatpak",
        "run",
        "net.retrodeck.retrodeck",
        "-s",
        "snes",
        install.launch_path,
    ]


async def test_a_custom_root_without_a_template_is_a_clear_error(tmp_path: Path) -> None:
    install = installed(tmp_path, argv=())
    custom = PlayTarget(paths=custom_root_paths(str(tmp_path / "roms")))
    with pytest.raises(InvalidInputError, match="launch command"):
        await service(Installs(install), Queue(), target=custom).handle(
            {"op": "resolve", "rom_id": 20}
        )


async def test_a_queueing_failure_reaches_the_socket_as_our_error(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        await service(Installs(), Queue(NotFoundError("gone"))).handle(
            {"op": "resolve", "rom_id": 9}
        )


async def test_a_malformed_request_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        await service(Installs(), Queue()).handle({"op": "resolve", "rom_id": "20"})


async def test_start_and_exit_make_one_session_and_reach_every_listener(tmp_path: Path) -> None:
    install = installed(tmp_path)
    first, second = Recorder(fail=True), Recorder()
    launch = service(Installs(install), Queue(), listeners=[first, second])
    assert await launch.handle({"op": "started", "rom_id": 20, "pid": 4242, "at": AT}) == {
        "ok": True
    }
    assert [s.pid for s in launch.playing] == [4242]
    ended = "2026-01-01T10:30:00+00:00"
    exited = {"op": "exited", "rom_id": 20, "code": 0, "at": ended, "seconds": 1800}
    assert await launch.handle(exited) == {"ok": True}
    (session,) = launch.sessions
    assert (session.started_at, session.ended_at, session.seconds, session.exit_code) == (
        AT,
        ended,
        1800.0,
        0,
    )
    assert launch.playing == ()
    assert second.calls == [("started", 20, install), ("exited", 20, install)]
    assert first.calls == second.calls


async def test_an_exit_without_a_start_is_still_recorded() -> None:
    launch = service(Installs(), Queue())
    await launch.handle({"op": "exited", "rom_id": 3, "code": 137, "at": AT, "seconds": 5})
    assert [(s.rom_id, s.started_at, s.exit_code) for s in launch.sessions] == [(3, "", 137)]
