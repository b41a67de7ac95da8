"""SafeExtractor with real zips and 7z archives, including hostile ones built here."""

from __future__ import annotations

import stat
import struct
import threading
import zipfile
from pathlib import Path, PurePosixPath

import py7zr
import pytest

from romdeck.adapters.files.extract import SafeExtractor
from romdeck.domain.downloads import (
    ArchiveMember,
    ExtractionLimits,
    ExtractionProgress,
    check_archive,
    safe_member_path,
)
from romdeck.errors import (
    CancelledError,
    CorruptFileError,
    InvalidInputError,
    UnsafeArchiveError,
)

MIB = 1024 * 1024
ROOT = PurePosixPath("/roms/psx/Game")

# --- the pure rules -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Game (USA).cue", "Game (USA).cue"),
        ("Disc 1/Game (Track 1).bin", "Disc 1/Game (Track 1).bin"),
        ("./Disc 2//game.bin", "Disc 2/game.bin"),
        ("Disc 1\\game.bin", "Disc 1/game.bin"),
        ("Folder/", "Folder"),
        ("Harry Potter à l'École.gba", "Harry Potter à l'École.gba"),
        ("a..b/..c", "a..b/..c"),
    ],
)
def test_safe_member_paths_land_under_the_target(name: str, expected: str) -> None:
    assert safe_member_path(ROOT, name) == ROOT / expected


@pytest.mark.parametrize(
    "name",
    [
        "../evil",
        "/abs/evil",
        "a/../../evil",
        "a/../b",
        "..\\evil",
        "C:\\Windows\\evil",
        "c:evil",
        "\\\\server\\share\\evil",
        "evil\x00.txt",
        "",
        ".",
        "./",
    ],
)
def test_unsafe_member_names_are_refused(name: str) -> None:
    with pytest.raises(UnsafeArchiveError):
        safe_member_path(ROOT, name)


def test_the_listing_check_refuses_a_file_used_as_a_folder() -> None:
    members = [ArchiveMember("disc", 3), ArchiveMember("disc/track.bin", 3)]
    with pytest.raises(UnsafeArchiveError, match="both a file and a folder"):
        check_archive(members, ExtractionLimits())


def test_the_listing_check_refuses_a_member_stored_twice() -> None:
    members = [ArchiveMember("a/game.bin", 3), ArchiveMember("a\\game.bin", 3)]
    with pytest.raises(UnsafeArchiveError, match="stored twice"):
        check_archive(members, ExtractionLimits())


def test_the_listing_check_counts_entries_against_the_limit() -> None:
    members = [ArchiveMember(f"f{i}", 1) for i in range(4)]
    with pytest.raises(UnsafeArchiveError, match="4 entries"):
        check_archive(members, ExtractionLimits(max_entries=3))
    assert len(check_archive(members, ExtractionLimits(max_entries=4))) == 4


def test_small_highly_compressible_files_do_not_trip_the_ratio() -> None:
    members = [ArchiveMember("game.m3u", 1000, compressed_size=1)]
    assert check_archive(members, ExtractionLimits(max_ratio=2)) == [PurePosixPath("game.m3u")]


# --- helpers ---------------------------------------------------------------------------


def write_zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name), data, zipfile.ZIP_DEFLATED)
    return path


def write_symlink_zip(path: Path, link_target: str) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("game.bin", b"rom")
        info = zipfile.ZipInfo("shortcut")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, link_target)
    return path


def patch_declared_size(path: Path, declared: int) -> None:
    """Rewrite the central directory's uncompressed size of the zip's only member."""
    data = bytearray(path.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, declared)
    path.write_bytes(bytes(data))


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """``tmp_path/archives`` holds archives; ``tmp_path/roms`` is where targets go."""
    (tmp_path / "archives").mkdir()
    (tmp_path / "roms").mkdir()
    (tmp_path / "roms" / "Other Game.sfc").write_bytes(b"keep me")
    return tmp_path


def assert_refused(
    archive: Path, workspace: Path, match: str, limits: ExtractionLimits | None = None
) -> None:
    roms = workspace / "roms"
    before = listing(workspace)
    with pytest.raises(UnsafeArchiveError, match=match):
        SafeExtractor(limits).extract(archive, roms / "Game")
    assert listing(workspace) == before
    assert not (roms / "Game").exists()
    assert not Path("/tmp/evil").exists()


# --- extraction --------------------------------------------------------------------------


def test_a_multi_file_zip_is_extracted_with_its_sub_folders(workspace: Path) -> None:
    entries = {
        "Disc 1/": b"",
        "Disc 1/Game (Disc 1).cue": b"FILE track.bin",
        "Disc 1/Game (Disc 1).bin": bytes(range(256)) * 9000,
        "Disc 2/Game (Disc 2).bin": b"\x01" * (3 * MIB + 5),
        "Game.m3u": b"Disc 1/Game (Disc 1).cue\n",
    }
    archive = write_zip(workspace / "archives" / "Game.zip", entries)
    target = workspace / "roms" / "Game"
    files = SafeExtractor().extract(archive, target)
    assert sorted(files) == sorted(target / name for name in entries if not name.endswith("/"))
    for name, data in entries.items():
        if not name.endswith("/"):
            assert (target / name).read_bytes() == data
    assert listing(workspace / "roms") == sorted(
        ["Other Game.sfc", "Game", "Game/Disc 1", "Game/Disc 2"]
        + [f"Game/{name}" for name in entries if not name.endswith("/")]
    )


def test_a_7z_archive_is_extracted(workspace: Path) -> None:
    archive = workspace / "archives" / "Game.7z"
    with py7zr.SevenZipFile(archive, "w") as seven:
        seven.writestr(b"\x02" * (2 * MIB + 3), "Disc 1/game.bin")
        seven.writestr(b"", "empty.txt")
        seven.writestr(b"Disc 1/game.bin\n", "Game.m3u")
    target = workspace / "roms" / "Game"
    files = SafeExtractor().extract(archive, target)
    assert sorted(p.relative_to(target).as_posix() for p in files) == [
        "Disc 1/game.bin",
        "Game.m3u",
        "empty.txt",
    ]
    assert (target / "Disc 1" / "game.bin").read_bytes() == b"\x02" * (2 * MIB + 3)
    assert (target / "empty.txt").read_bytes() == b""


@pytest.mark.parametrize("name", ["../evil", "/tmp/evil", "a/../../evil", "..\\evil"])
def test_a_zip_member_escaping_the_target_is_refused_before_anything_is_written(
    workspace: Path, name: str
) -> None:
    archive = write_zip(workspace / "archives" / "evil.zip", {"good.bin": b"ok", name: b"pwned"})
    assert_refused(archive, workspace, "evil")


@pytest.mark.parametrize("link_target", ["/etc", "../", "inside.bin"])
def test_a_zip_symlink_member_is_refused_wherever_it_points(
    workspace: Path, link_target: str
) -> None:
    archive = write_symlink_zip(workspace / "archives" / "link.zip", link_target)
    assert_refused(archive, workspace, "'shortcut' is a link")


def test_a_7z_symlink_member_is_refused(workspace: Path) -> None:
    game, source = workspace / "archives" / "game.bin", workspace / "archives" / "link"
    game.write_bytes(b"rom")
    source.symlink_to("/etc")
    archive = workspace / "archives" / "link.7z"
    with py7zr.SevenZipFile(archive, "w", dereference=False) as seven:
        seven.write(game, "game.bin")
        seven.write(source, "shortcut")
    source.unlink()
    game.unlink()
    assert_refused(archive, workspace, "'shortcut' is a link")


def test_a_zip_bomb_member_is_refused_by_its_ratio(workspace: Path) -> None:
    archive = write_zip(workspace / "archives" / "bomb.zip", {"bomb.bin": bytes(40 * MIB)})
    assert_refused(archive, workspace, "zip bomb")


def test_a_7z_bomb_is_refused_by_the_whole_archive_ratio(workspace: Path) -> None:
    archive = workspace / "archives" / "bomb.7z"
    with py7zr.SevenZipFile(archive, "w") as seven:
        seven.writestr(bytes(40 * MIB), "bomb.bin")
    assert_refused(archive, workspace, "zip bomb")


def test_an_archive_over_the_total_size_limit_is_refused(workspace: Path) -> None:
    archive = write_zip(
        workspace / "archives" / "big.zip", {"a.bin": b"1" * 600, "b.bin": b"2" * 600}
    )
    assert_refused(archive, workspace, "1200 bytes", ExtractionLimits(max_total_bytes=1000))


def test_a_member_larger_than_its_declared_size_is_refused(workspace: Path) -> None:
    archive = write_zip(workspace / "archives" / "liar.zip", {"game.bin": bytes(2 * MIB)})
    patch_declared_size(archive, 1000)
    assert_refused(archive, workspace, "'game.bin'")


def test_a_member_smaller_than_its_declared_size_is_refused(workspace: Path) -> None:
    archive = write_zip(workspace / "archives" / "liar.zip", {"game.bin": bytes(1000)})
    patch_declared_size(archive, 5000)
    assert_refused(archive, workspace, "'game.bin'")


def test_cancel_between_blocks_leaves_nothing_behind(workspace: Path) -> None:
    archive = write_zip(workspace / "archives" / "Game.zip", {"game.bin": b"\x03" * (4 * MIB)})
    cancel = threading.Event()
    before = listing(workspace)

    def on_progress(progress: ExtractionProgress) -> None:
        cancel.set()

    with pytest.raises(CancelledError):
        SafeExtractor().extract(
            archive, workspace / "roms" / "Game", cancel=cancel, on_progress=on_progress
        )
    assert listing(workspace) == before


def test_a_target_that_already_holds_files_is_not_touched(workspace: Path) -> None:
    archive = write_zip(workspace / "archives" / "Game.zip", {"game.bin": b"new"})
    with pytest.raises(InvalidInputError):
        SafeExtractor().extract(archive, workspace / "roms" / "Other Game.sfc")
    assert (workspace / "roms" / "Other Game.sfc").read_bytes() == b"keep me"


def test_an_empty_existing_target_folder_is_filled(workspace: Path) -> None:
    archive = write_zip(workspace / "archives" / "Game.zip", {"game.bin": b"new"})
    (workspace / "roms" / "Game").mkdir()
    SafeExtractor().extract(archive, workspace / "roms" / "Game")
    assert (workspace / "roms" / "Game" / "game.bin").read_bytes() == b"new"


def test_a_file_that_is_not_an_archive_is_reported_corrupt(workspace: Path) -> None:
    archive = workspace / "archives" / "Game.zip"
    archive.write_bytes(b"<html>not a zip</html>")
    with pytest.raises(CorruptFileError):
        SafeExtractor().extract(archive, workspace / "roms" / "Game")
    assert not (workspace / "roms" / "Game").exists()


async def test_extract_async_reports_progress_on_the_loop_up_to_the_total(workspace: Path) -> None:
    archive = write_zip(
        workspace / "archives" / "Game.zip", {"a.bin": b"a" * (3 * MIB), "b.bin": b"b"}
    )
    events: list[ExtractionProgress] = []
    files = await SafeExtractor().extract_async(
        archive, workspace / "roms" / "Game", on_progress=events.append
    )
    assert len(files) == 2
    assert events[-1] == ExtractionProgress(3 * MIB + 1, 3 * MIB + 1)
    assert [e.bytes_done for e in events] == sorted(e.bytes_done for e in events)
