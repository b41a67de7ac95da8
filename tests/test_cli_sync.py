"""End to end: the real CLI (a subprocess) against the fake RomM server and a temp Steam tree."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

import pytest
import vdf

from bootstrap import Paths, build_app
from fakeromm.library import FakeLibrary
from fakeromm.server import FakeRommServer
from romdeck.errors import StateError
from romdeck.services.file_sync import FileSync
from romdeck.services.protocols import ShortcutRegistry
from steam_tree import (
    FOREIGN,
    FOREIGN_NAMESPACE,
    make_cloud_storage,
    make_steam_tree,
    shortcuts_path,
)

REPO = Path(__file__).resolve().parents[1]
USER = "12345678"


@dataclass
class Run:
    code: int
    out: str
    err: str


@dataclass
class Env:
    tmp: Path
    steam: Path
    server: FakeRommServer
    library: FakeLibrary

    async def cli(
        self, *args: str, password: str = "hunter2", extra_env: dict[str, str] | None = None
    ) -> Run:
        env = {
            "HOME": str(self.tmp / "home"),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": f"{REPO / 'py_modules'}:{REPO}",
            "ROMDECK_DATA_DIR": str(self.tmp / "data"),
            "ROMDECK_PASSWORD": password,
            **(extra_env or {}),
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "romdeck",
            *args,
            env=env,
            cwd=self.tmp,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        assert proc.returncode is not None
        return Run(proc.returncode, out.decode(), err.decode())

    async def login(self) -> None:
        run = await self.cli("login", "--url", self.server.url, "--username", "admin")
        assert run.code == 0, run.err

    async def sync(self, *args: str) -> Run:
        return await self.cli("sync", "--steam-dir", str(self.steam), *args)

    def shortcuts(self) -> list[dict]:
        data = shortcuts_path(self.steam, USER).read_bytes()
        root = vdf.binary_loads(data, raise_on_remaining=False)
        return list(root["shortcuts"].values())

    def ours(self) -> dict[str, dict]:
        return {
            s["LaunchOptions"]: s
            for s in self.shortcuts()
            if str(s.get("LaunchOptions", "")).startswith("romdeck:")
        }

    def grid(self) -> Path:
        return self.steam / "userdata" / USER / "config" / "grid"


@pytest.fixture
async def env(tmp_path: Path, fake_romm: FakeRommServer, fake_library: FakeLibrary) -> Env:
    (tmp_path / "home").mkdir()
    steam = make_steam_tree(tmp_path, users=(USER,))
    e = Env(tmp_path, steam, fake_romm, fake_library)
    await e.login()
    return e


def platform_id(library: FakeLibrary, slug: str) -> int:
    return next(pid for pid, p in library.platforms.items() if p["slug"] == slug)


async def test_a_first_sync_makes_one_shortcut_per_rom_with_art_and_keeps_foreign_shortcuts(
    env: Env,
):
    foreign_before = [vdf.binary_dumps({"s": s}) for s in env.shortcuts()]
    run = await env.cli("select", "snes", "gba", "psx")
    assert run.code == 0, run.err
    run = await env.sync()
    assert run.code == 0, run.err
    wanted = {
        r.id: r
        for r in env.library.roms.values()
        if r.platform_id in {platform_id(env.library, s) for s in ("snes", "gba", "psx")}
    }
    ours = env.ours()
    assert set(ours) == {f"romdeck:{rid}" for rid in wanted}
    launcher = REPO / "bin" / "romdeck-launch"
    for rid, rom in wanted.items():
        shortcut = ours[f"romdeck:{rid}"]
        rendered = env.library.render_rom(rom, with_files=False)
        assert shortcut["AppName"] == (rendered["name"] or rendered["fs_name_no_tags"])
        assert shortcut["Exe"] == f'"{launcher}"'
        platform = env.library.platforms[rom.platform_id]
        assert f"RomM: {platform['display_name']}" in shortcut["tags"].values()
    foreign_after = [
        vdf.binary_dumps({"s": s})
        for s in env.shortcuts()
        if not str(s.get("LaunchOptions", "")).startswith("romdeck:")
    ]
    # every foreign entry reads back identical, byte for byte, in its order
    assert foreign_after == foreign_before
    with_cover = [r for r in wanted.values() if r.cover is not None]
    assert with_cover, "the recorded library has ROMs with covers"
    for rom in with_cover:
        appid = ours[f"romdeck:{rom.id}"]["appid"] & 0xFFFFFFFF
        art = env.grid() / f"{appid}p.png"
        assert art.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "added" in run.out


async def test_a_second_sync_with_no_server_change_leaves_the_file_byte_identical(env: Env):
    await env.cli("select", "snes", "gba")
    assert (await env.sync()).code == 0
    before = shortcuts_path(env.steam, USER).read_bytes()
    mtime = shortcuts_path(env.steam, USER).stat().st_mtime_ns
    env.server.reset_log()
    run = await env.sync()
    assert run.code == 0, run.err
    assert shortcuts_path(env.steam, USER).read_bytes() == before
    assert shortcuts_path(env.steam, USER).stat().st_mtime_ns == mtime
    config = shortcuts_path(env.steam, USER).parent
    assert not list(config.glob("*.lock")), "RomDeck's lock stays out of Steam's folder"
    assert "added 0, updated 0, removed 0" in run.out
    paths = [path for _method, path, _status in env.server.requests]
    assert not any("/assets/" in p for p in paths), "unchanged covers are not fetched again"
    assert not any(p.startswith("/api/roms/identifiers") for p in paths)


async def test_a_lost_state_database_adopts_our_shortcuts_instead_of_adding_them_again(
    env: Env,
):
    await env.cli("select", "snes", "gba")
    assert (await env.sync()).code == 0
    before = shortcuts_path(env.steam, USER).read_bytes()
    appids = {options: s["appid"] for options, s in env.ours().items()}
    for path in (env.tmp / "data").glob("state.db*"):
        path.unlink()

    run = await env.sync()

    assert run.code == 0, run.err
    assert {options: s["appid"] for options, s in env.ours().items()} == appids
    assert len(env.shortcuts()) == len(FOREIGN) + len(appids), "no duplicates"
    assert shortcuts_path(env.steam, USER).read_bytes() == before
    assert "added 0," in run.out and "removed 0" in run.out
    assert "added 0, updated 0, removed 0" in (await env.sync()).out, "adopted for good"


class _RegistryFailingOnce:
    """The real registry, whose first ``commit`` fails as a full disk or a crash would."""

    def __init__(self, inner: object) -> None:
        self._inner = inner
        self.failed = False

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def commit(self, *args: object, **kwargs: object) -> object:
        if not self.failed:
            self.failed = True
            raise StateError("simulated failure between shortcuts.vdf and the registry")
        return self._inner.commit(*args, **kwargs)  # type: ignore[attr-defined]


async def test_a_registry_commit_that_fails_after_the_file_was_written_duplicates_nothing(
    env: Env,
):
    await env.cli("select", "snes", "gba")
    app = build_app(Paths(env.tmp / "data", env.tmp / "data"))
    try:
        client = app.connect()
        selection = app.settings.load().selection
        (env.tmp / "proc").mkdir()  # an empty process list: Steam is not running
        base = app.file_sync(env.steam, proc_root=env.tmp / "proc")
        failing = _RegistryFailingOnce(app.registry)
        broken = FileSync(replace(base._deps, registry=cast(ShortcutRegistry, failing)))
        with pytest.raises(StateError, match="simulated"):
            await broken.run(client, app.covers(client), selection)
        written = {options: s["appid"] for options, s in env.ours().items()}
        assert written and failing.failed

        summary = await base.run(client, app.covers(client), selection)
    finally:
        await app.close()

    assert {options: s["appid"] for options, s in env.ours().items()} == written
    assert len(env.shortcuts()) == len(FOREIGN) + len(written), "no duplicates"
    assert summary.added == 0 and summary.removed == 0


async def test_renames_deletions_and_a_new_platform_on_the_server_reach_steam(env: Env):
    await env.cli("select", "snes", "gba", "psx", "n64")
    assert (await env.sync()).code == 0
    snes = platform_id(env.library, "snes")
    renamed, deleted = sorted(r.id for r in env.library.roms.values() if r.platform_id == snes)[:2]
    appid_before = env.ours()[f"romdeck:{renamed}"]["appid"]
    env.library.rename_rom(renamed, "A Brand New Name")
    env.library.delete_rom(deleted)
    new_pid = env.library.add_platform("nes", "Nintendo Entertainment System")
    new_rom = env.library.add_rom(
        new_pid,
        name="Kid Icarus",
        fs_name="Kid Icarus (USA).nes",
        files=[("Kid Icarus (USA).nes", b"\x4e\x45\x53\x1a" * 64)],
    )
    run = await env.sync(
        "--platform",
        "snes",
        "--platform",
        "gba",
        "--platform",
        "psx",
        "--platform",
        "n64",
        "--platform",
        "nes",
    )
    assert run.code == 0, run.err
    ours = env.ours()
    assert ours[f"romdeck:{renamed}"]["AppName"] == "A Brand New Name"
    assert ours[f"romdeck:{renamed}"]["appid"] == appid_before
    assert f"romdeck:{deleted}" not in ours
    assert f"romdeck:{new_rom}" in ours
    assert "RomM: Nintendo Entertainment System" in ours[f"romdeck:{new_rom}"]["tags"].values()
    assert len([s for s in ours if s == f"romdeck:{renamed}"]) == 1


async def test_deselecting_a_platform_removes_its_shortcuts_and_their_art_only(env: Env):
    await env.cli("select", "snes", "psx")
    assert (await env.sync()).code == 0
    psx = platform_id(env.library, "psx")
    psx_ids = {r.id for r in env.library.roms.values() if r.platform_id == psx}
    assert (await env.cli("select", "snes")).code == 0
    run = await env.sync()
    assert run.code == 0, run.err
    ours = env.ours()
    assert not any(f"romdeck:{rid}" in ours for rid in psx_ids)
    assert len(env.shortcuts()) == len(ours) + len(FOREIGN)


async def test_our_collections_reach_steams_cloud_storage_and_foreign_ones_stay_identical(
    env: Env,
):
    folder = make_cloud_storage(env.steam, USER)
    namespace = folder / "cloud-storage-namespace-1.json"
    (env.steam / "userdata" / "87654321" / "config").mkdir(parents=True)  # an older client
    await env.cli("select", "snes", "gba")

    run = await env.sync()

    assert run.code == 0, run.err
    text = namespace.read_text(encoding="utf-8")
    assert text.startswith(FOREIGN_NAMESPACE[:-1] + ","), "foreign pairs byte-identical, in place"
    wanted: dict[str, set[int]] = {}
    for shortcut in env.ours().values():
        for tag in shortcut["tags"].values():
            wanted.setdefault(tag, set()).add(shortcut["appid"] & 0xFFFFFFFF)
    assert len(wanted) == 2
    collections = {
        json.loads(e["value"])["name"]: json.loads(e["value"])
        for key, e in json.loads(text)
        if key.startswith("user-collections.romdeck-")
    }
    assert {name: set(v["added"]) for name, v in collections.items()} == wanted
    modified = json.loads((folder / "cloud-storage-namespace-1.modified.json").read_text())
    assert len(modified) == 1 + len(wanted)
    assert "87654321: no " in run.out and "shortcut tags" in run.out

    assert (await env.sync()).code == 0
    assert namespace.read_text(encoding="utf-8") == text, "a rerun leaves the file as it was"

    assert (await env.cli("select", "snes")).code == 0
    assert (await env.sync()).code == 0
    after = {key: e for key, e in json.loads(namespace.read_text(encoding="utf-8"))}
    live = {
        json.loads(e["value"])["name"]
        for key, e in after.items()
        if key.startswith("user-collections.romdeck-") and not e.get("is_deleted")
    }
    assert len(live) == 1 and live < set(wanted)
    assert sum(1 for e in after.values() if e.get("is_deleted")) == 2, "theirs and our tombstone"
    assert namespace.read_text(encoding="utf-8").startswith(FOREIGN_NAMESPACE[:-1] + ",")


async def test_a_server_down_mid_sync_fails_cleanly_and_a_rerun_completes(env: Env):
    await env.cli("select", "snes", "gba", "psx", "n64", "gb")
    before = shortcuts_path(env.steam, USER).read_bytes()
    env.server.fail_after(3, status=500)
    run = await env.sync()
    assert run.code != 0
    assert "romdeck:" in run.err or "server" in run.err.lower()
    assert shortcuts_path(env.steam, USER).read_bytes() == before
    env.server.clear_failures()
    run = await env.sync()
    assert run.code == 0, run.err
    assert len(env.ours()) == sum(1 for r in env.library.roms.values() if not r.missing)


async def test_an_unreachable_server_exits_4(env: Env):
    await env.cli("select", "snes")
    env.server.down = True
    run = await env.sync()
    assert run.code == 4, run.err
    assert "reach" in run.err.lower()


async def test_a_wrong_password_exits_3_and_stores_nothing(env: Env, tmp_path: Path):
    shutil.rmtree(tmp_path / "data")
    run = await env.cli("login", "--url", env.server.url, "--username", "admin", password="nope")
    assert run.code == 3, run.err
    assert "password" in run.err.lower()
    settings = tmp_path / "data" / "settings.json"
    assert not settings.exists() or '"token": ""' in settings.read_text()


async def test_the_password_is_never_stored(env: Env, tmp_path: Path):
    text = (tmp_path / "data" / "settings.json").read_text()
    assert "hunter2" not in text and "rmm_" in text
    assert (tmp_path / "data" / "settings.json").stat().st_mode & 0o777 == 0o600


async def test_a_sync_is_refused_while_steam_runs(env: Env, tmp_path: Path):
    await env.cli("select", "snes")
    fake_steam = tmp_path / "steam"
    shutil.copy("/bin/sleep", fake_steam)
    proc = await asyncio.create_subprocess_exec(str(fake_steam), "30")
    try:
        before = shortcuts_path(env.steam, USER).read_bytes()
        run = await env.sync()
        assert run.code == 5, run.err
        assert "Steam is running" in run.err
        assert shortcuts_path(env.steam, USER).read_bytes() == before
    finally:
        proc.kill()
        await proc.wait()


async def test_a_corrupt_shortcuts_file_is_refused_and_left_untouched(env: Env):
    await env.cli("select", "snes")
    path = shortcuts_path(env.steam, USER)
    path.write_bytes(b"\x00shortcuts\x00\x00garbage-without-end")
    before = path.read_bytes()
    run = await env.sync()
    assert run.code == 1, run.err
    assert "shortcuts.vdf" in run.err
    assert path.read_bytes() == before


async def test_a_dry_run_writes_nothing(env: Env):
    await env.cli("select", "snes")
    before = shortcuts_path(env.steam, USER).read_bytes()
    run = await env.sync("--dry-run")
    assert run.code == 0, run.err
    assert "would have added" in run.out
    assert shortcuts_path(env.steam, USER).read_bytes() == before


async def test_platforms_lists_slugs_counts_and_the_selection(env: Env):
    await env.cli("select", "gba")
    run = await env.cli("platforms")
    assert run.code == 0, run.err
    gba_line = next(line for line in run.out.splitlines() if line.startswith("gba "))
    assert "*" in gba_line


async def test_selecting_an_unknown_platform_is_a_usage_error(env: Env):
    run = await env.cli("select", "no-such-platform")
    assert run.code == 2
    assert "Unknown platform" in run.err


async def test_status_shows_the_last_sync(env: Env):
    await env.cli("select", "gb")
    await env.sync()
    run = await env.cli("status")
    assert run.code == 0
    assert env.server.url in run.out and "Last sync:" in run.out and "(ok)" in run.out
    gb = sum(
        1 for r in env.library.roms.values() if r.platform_id == platform_id(env.library, "gb")
    )
    assert f"Shortcuts for Steam user {USER}: {gb}" in run.out
    assert f"added {gb}" in run.out


async def test_a_deletion_costs_one_id_request_for_its_platform_only(env: Env):
    await env.cli("select", "snes", "gba", "psx")
    assert (await env.sync()).code == 0
    snes = platform_id(env.library, "snes")
    victim = min(r.id for r in env.library.roms.values() if r.platform_id == snes)
    env.library.delete_rom(victim)
    env.server.reset_log()
    run = await env.sync()
    assert run.code == 0, run.err
    assert f"romdeck:{victim}" not in env.ours()
    rom_requests = [p for m, p, _s in env.server.requests if p.startswith("/api/roms")]
    assert len(rom_requests) == 2, rom_requests  # the changes, then one platform's ids
    assert "updated_after=" in rom_requests[0]
    assert f"platform_ids={snes}" in rom_requests[1] and "with_rom_id_index=true" in rom_requests[1]


async def test_a_chosen_collection_syncs_its_roms_from_unselected_platforms_and_follows_renames(
    env: Env,
):
    gba = platform_id(env.library, "gba")
    member = min(r.id for r in env.library.roms.values() if r.platform_id == gba)
    collection = env.library.add_collection("Couch Co-op", [member])
    await env.cli("select", "snes", "--collection", str(collection))
    assert (await env.sync()).code == 0
    shortcut = env.ours()[f"romdeck:{member}"]
    assert "RomM: Couch Co-op" in shortcut["tags"].values()
    env.library.rename_rom(member, "Renamed In Collection")
    assert (await env.sync()).code == 0
    assert env.ours()[f"romdeck:{member}"]["AppName"] == "Renamed In Collection"


async def test_a_resync_asks_for_changes_since_the_newest_mark_not_the_oldest_platforms(env: Env):
    from datetime import datetime
    from urllib.parse import parse_qs, urlsplit

    await env.cli("select", "snes", "psx")
    assert (await env.sync()).code == 0
    snes = platform_id(env.library, "snes")
    snes_newest = max(r.updated_at for r in env.library.roms.values() if r.platform_id == snes)
    await asyncio.sleep(3)  # the server's Date has one-second resolution
    psx = platform_id(env.library, "psx")
    env.library.rename_rom(
        min(r.id for r in env.library.roms.values() if r.platform_id == psx), "X"
    )
    assert (await env.sync()).code == 0
    env.server.reset_log()
    assert (await env.sync()).code == 0
    [query] = [p for _m, p, _s in env.server.requests if "updated_after=" in p]
    asked = datetime.fromisoformat(parse_qs(urlsplit(query).query)["updated_after"][0])
    # snes has not changed since the first sync; its old mark must not widen the query
    assert asked > snes_newest


async def test_a_platform_chosen_again_is_fetched_whole_so_changes_made_meanwhile_arrive(env: Env):
    from datetime import UTC, datetime, timedelta

    await env.cli("select", "snes", "gba")
    assert (await env.sync()).code == 0
    gba = platform_id(env.library, "gba")
    renamed = min(r.id for r in env.library.roms.values() if r.platform_id == gba)
    await env.cli("select", "snes")
    assert (await env.sync()).code == 0
    env.library.rename_rom(renamed, "Renamed While Not Synced")
    env.library.clock.seen(datetime.now(UTC) + timedelta(hours=1))  # an hour passes
    snes = platform_id(env.library, "snes")
    for rom_id in [r.id for r in env.library.roms.values() if r.platform_id == snes]:
        env.library.rename_rom(rom_id, f"Later rename {rom_id}")  # newer than the gba rename
    assert (await env.sync()).code == 0
    await env.cli("select", "snes", "gba")
    assert (await env.sync()).code == 0
    assert env.ours()[f"romdeck:{renamed}"]["AppName"] == "Renamed While Not Synced"
