"""FileGridArtwork writes and removes grid images in a temporary Steam tree."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from romdeck.adapters.files import atomic
from romdeck.adapters.steam.grid import FileGridArtwork
from romdeck.errors import DiskFullError, StateError, SteamNotFoundError
from steam_tree import make_steam_tree

USER = "12345678"
APPID = 0xC0FFEE01
PNG = b"\x89PNG\r\n\x1a\n fake portrait"


@pytest.fixture
def steam_root(tmp_path: Path) -> Path:
    return make_steam_tree(tmp_path, foreign=None)


def grid_dir(root: Path) -> Path:
    return root / "userdata" / USER / "config" / "grid"


def test_a_portrait_is_written_as_appid_p_png_creating_the_grid_folder(steam_root):
    artwork = FileGridArtwork(steam_root)

    artwork.write_portrait(USER, APPID, PNG)

    assert (grid_dir(steam_root) / f"{APPID}p.png").read_bytes() == PNG
    assert [p.name for p in grid_dir(steam_root).iterdir()] == [f"{APPID}p.png"]


def test_writing_again_replaces_the_portrait(steam_root):
    artwork = FileGridArtwork(steam_root)
    artwork.write_portrait(USER, APPID, b"old")

    artwork.write_portrait(USER, APPID, PNG)

    assert (grid_dir(steam_root) / f"{APPID}p.png").read_bytes() == PNG


def test_has_portrait_tells_whether_the_portrait_exists(steam_root):
    artwork = FileGridArtwork(steam_root)

    assert artwork.has_portrait(USER, APPID) is False
    artwork.write_portrait(USER, APPID, PNG)
    assert artwork.has_portrait(USER, APPID) is True


def test_remove_deletes_every_image_kind_of_that_appid_only(steam_root):
    folder = grid_dir(steam_root)
    folder.mkdir(parents=True)
    ours = [f"{APPID}{kind}{ext}" for kind in ("p", "", "_hero", "_logo", "_icon")
            for ext in (".png", ".jpg")]  # fmt: skip
    others = ["123p.png", f"{APPID}_other.png", "notes.txt"]
    for name in ours + others:
        (folder / name).write_bytes(b"x")

    FileGridArtwork(steam_root).remove(USER, APPID)

    assert sorted(p.name for p in folder.iterdir()) == sorted(others)


def test_remove_without_any_image_or_grid_folder_does_nothing(steam_root):
    FileGridArtwork(steam_root).remove(USER, APPID)

    assert not grid_dir(steam_root).exists()


def test_an_unknown_or_malformed_user_is_not_found(steam_root):
    artwork = FileGridArtwork(steam_root)

    with pytest.raises(SteamNotFoundError, match="999"):
        artwork.write_portrait("999", APPID, PNG)
    with pytest.raises(SteamNotFoundError):
        artwork.has_portrait("../12345678", APPID)


def test_a_full_disk_raises_disk_full_and_keeps_the_old_portrait(steam_root, monkeypatch):
    artwork = FileGridArtwork(steam_root)
    artwork.write_portrait(USER, APPID, b"old")

    def no_space(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", no_space)
    with pytest.raises(DiskFullError):
        artwork.write_portrait(USER, APPID, PNG)

    assert [p.name for p in grid_dir(steam_root).iterdir()] == [f"{APPID}p.png"]
    assert (grid_dir(steam_root) / f"{APPID}p.png").read_bytes() == b"old"


def test_a_grid_path_that_is_a_file_raises_state_error_naming_it(steam_root):
    grid_dir(steam_root).write_bytes(b"not a folder")

    with pytest.raises(StateError, match="grid"):
        FileGridArtwork(steam_root).write_portrait(USER, APPID, PNG)


async def test_portraits_lists_the_appids_with_a_portrait_from_one_listing(steam_root: Path):
    artwork = FileGridArtwork(steam_root)
    assert await artwork.portraits(USER) == set()
    await artwork.save_portrait(USER, APPID, PNG)
    await artwork.save_portrait(USER, APPID + 1, PNG)
    grid = steam_root / "userdata" / USER / "config" / "grid"
    (grid / f"{APPID + 2}.png").write_bytes(PNG)  # a wide image is not a portrait
    (grid / "notes p.png").write_bytes(PNG)
    assert await artwork.portraits(USER) == {APPID, APPID + 1}
    await artwork.remove_art(USER, [APPID])
    assert await artwork.portraits(USER) == {APPID + 1}
