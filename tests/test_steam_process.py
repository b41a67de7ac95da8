"""ProcSteamProcess scans a fake /proc tree for the Steam client."""

from __future__ import annotations

from pathlib import Path

import pytest

from romdeck.adapters.steam.process import ProcSteamProcess
from romdeck.errors import StateError

OWN_PID = 4242


def add_process(
    proc: Path,
    pid: int,
    comm: str,
    argv: tuple[str, ...] = (),
    *,
    state: str = "S",
    exe: str | None = None,
) -> None:
    folder = proc / str(pid)
    folder.mkdir(parents=True)
    (folder / "comm").write_text(comm + "\n")
    (folder / "cmdline").write_bytes(b"".join(arg.encode() + b"\x00" for arg in argv))
    (folder / "stat").write_text(f"{pid} ({comm}) {state} 1 {pid} {pid} 0 -1 4194560\n")
    if exe is not None:
        (folder / "exe").symlink_to(exe)


@pytest.fixture
def proc(tmp_path: Path) -> Path:
    proc = tmp_path / "proc"
    add_process(proc, 1, "systemd", ("/usr/lib/systemd/systemd",))
    add_process(proc, 77, "python3", ("/usr/bin/python3", "-m", "romdeck"))
    (proc / "self").mkdir()
    (proc / "sys").mkdir()
    return proc


def scan(proc: Path, steam_root: Path | None = None) -> bool:
    return ProcSteamProcess(proc, steam_root=steam_root, own_pid=OWN_PID).is_running()


def test_no_steam_process_means_not_running(proc):
    assert scan(proc) is False


def test_a_process_named_steam_means_running(proc):
    add_process(
        proc, 900, "steam", ("/home/deck/.local/share/Steam/ubuntu12_32/steam", "-gamepadui")
    )

    assert scan(proc) is True


def test_a_steam_zombie_does_not_count(proc):
    add_process(proc, 900, "steam", state="Z")

    assert scan(proc) is False


def test_our_own_process_does_not_count(proc):
    add_process(proc, OWN_PID, "steam")

    assert scan(proc) is False


def test_a_steamwebhelper_under_the_steam_root_means_running(proc, tmp_path):
    root = tmp_path / "Steam"
    helper = f"{root}/ubuntu12_64/steamwebhelper"
    add_process(proc, 901, "steamwebhelper", (helper, "--type=renderer"))

    assert scan(proc, steam_root=root) is True


def test_a_steam_binary_outside_the_steam_root_does_not_count(proc, tmp_path):
    add_process(proc, 901, "steamwebhelper", ("/opt/other/steamwebhelper",))

    assert scan(proc, steam_root=tmp_path / "Steam") is False


def test_the_exe_link_is_used_when_argv0_is_not_a_path(proc, tmp_path):
    root = tmp_path / "Steam"
    add_process(
        proc, 902, "reaper-like", ("steamwebhelper",), exe=f"{root}/ubuntu12_64/steamwebhelper"
    )

    assert scan(proc, steam_root=root) is True


def test_a_steam_root_reached_through_a_symlink_matches_the_real_path(proc, tmp_path):
    real = tmp_path / "real" / "Steam"
    real.mkdir(parents=True)
    link = tmp_path / "dot-steam"
    link.symlink_to(real)
    add_process(proc, 903, "steamwebhelper", (f"{real}/ubuntu12_64/steamwebhelper",))

    assert scan(proc, steam_root=link) is True


def test_a_process_that_cannot_be_read_is_skipped(proc):
    (proc / "904").mkdir()

    assert scan(proc) is False


def test_an_unlistable_proc_root_raises_state_error(tmp_path):
    with pytest.raises(StateError, match="missing"):
        scan(tmp_path / "missing")
