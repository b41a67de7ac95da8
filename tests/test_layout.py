"""Install layouts decided from the recorded DetailedRom captures (domain/layout.py)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from romdeck.adapters.romm.parse import parse_rom_detail
from romdeck.domain.emulation import EmulationPaths, EmulationTarget, custom_root_paths
from romdeck.domain.layout import (
    ExpectedFile,
    InstallKind,
    PlayTarget,
    final_layout,
    install_argv,
    is_save_path,
    mismatch,
    plan_install,
)
from romdeck.domain.models import RomDetail
from romdeck.errors import BadResponseError, InvalidInputError
from shared_files import CAPTURES

ROMS = "/home/deck/retrodeck/roms"


def rom(rom_id: int) -> RomDetail:
    text = (CAPTURES / f"rom_detail_{rom_id}.json").read_text(encoding="utf-8")
    return parse_rom_detail(json.loads(text))


def plan(rom_id: int, system: str, *, keep_zip: bool = False):
    return plan_install(rom(rom_id), system=system, roms_root=ROMS, keep_zip=keep_zip)


# ---- single files ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rom_id", "system", "root", "md5"),
    [
        (20, "snes", "snes/Super Metroid (USA, Europe).sfc", "b408f2bcd4586620738ba6a28f03b474"),
        (5, "gba", "gba/Kirby & The Amazing Mirror (USA).gba", "7d1c43c1e1edcb81907a4ba42d819b75"),
        (4, "gba", "gba/Harry Potter à l'École des Sorciers (France).gba",
         "c858cc7993567df6fa62ec52d4dcd73a"),
    ],
)  # fmt: skip
def test_a_single_file_downloads_raw_straight_into_the_system_folder(
    rom_id: int, system: str, root: str, md5: str
) -> None:
    decided = plan(rom_id, system)
    assert decided.kind == InstallKind.FILE
    assert decided.root == f"{ROMS}/{root}"
    assert decided.download_path == decided.root
    assert not decided.force_range
    assert decided.expected.md5 == md5
    assert final_layout(decided).launch_path == decided.root


def test_a_zip_rom_is_downloaded_aside_and_checked_by_size_only() -> None:
    decided = plan(19, "snes")
    assert decided.kind == InstallKind.UNZIP
    assert decided.download_path == f"{ROMS}/snes/.romdeck-19.zip"
    assert decided.expected == ExpectedFile("Super Mario World (USA).zip", 524476)
    assert decided.content is not None
    assert decided.content.md5 == "8c5a275e0be57ae18a989af394008701"


def test_a_zip_with_one_member_is_flattened_into_the_system_folder() -> None:
    decided = plan(19, "snes")
    layout = final_layout(decided, ["Super Mario World (USA).sfc"])
    assert layout.root == f"{ROMS}/snes/Super Mario World (USA).sfc"
    assert layout.launch_path == layout.root
    assert layout.move_from == f"{ROMS}/snes/.romdeck-19.unpack/Super Mario World (USA).sfc"


def test_a_zip_with_several_members_becomes_a_folder() -> None:
    decided = plan(19, "snes")
    layout = final_layout(decided, ["readme.txt", "Super Mario World (USA).sfc"])
    assert layout.root == f"{ROMS}/snes/Super Mario World (USA)"
    assert layout.launch_path == f"{ROMS}/snes/Super Mario World (USA)/Super Mario World (USA).sfc"


def test_a_7z_rom_is_unpacked_like_a_zip_unless_the_system_reads_archives() -> None:
    only = rom(19).files[0]
    seven = replace(rom(19), files=(replace(only, file_name="Super Mario World (USA).7z"),))
    unpacked = plan_install(seven, system="snes", roms_root=ROMS, keep_zip=False)
    assert unpacked.kind == InstallKind.UNZIP
    assert unpacked.download_path == f"{ROMS}/snes/.romdeck-19.7z"
    kept = plan_install(seven, system="arcade", roms_root=ROMS, keep_zip=True)
    assert kept.kind == InstallKind.FILE
    assert kept.root == f"{ROMS}/arcade/Super Mario World (USA).7z"


def test_a_zip_is_kept_as_is_for_a_system_that_reads_zips() -> None:
    decided = plan(19, "arcade", keep_zip=True)
    assert decided.kind == InstallKind.FILE
    assert decided.root == f"{ROMS}/arcade/Super Mario World (USA).zip"
    assert decided.expected.md5 == ""


# ---- multi-file -------------------------------------------------------------------------------
def test_a_multi_file_rom_asks_for_the_zip_with_a_range_and_lists_every_file() -> None:
    decided = plan(12, "psx")
    assert decided.kind == InstallKind.FOLDER
    assert decided.force_range
    assert decided.root == f"{ROMS}/psx/Castlevania - Symphony of the Night (USA)"
    assert decided.download_path == f"{ROMS}/psx/.romdeck-12.zip"
    assert sorted(f.path for f in decided.files) == [
        "Castlevania - Symphony of the Night (USA) (Track 1).bin",
        "Castlevania - Symphony of the Night (USA) (Track 2).bin",
        "Castlevania - Symphony of the Night (USA).cue",
    ]
    assert decided.needed_bytes == 2 * 4194549


def test_a_single_disc_cue_bin_launches_the_cue_when_the_zip_has_no_playlist() -> None:
    decided = plan(12, "psx")
    layout = final_layout(decided, sorted(f.path for f in decided.files))
    assert layout.launch_path.endswith("/Castlevania - Symphony of the Night (USA).cue")
    assert layout.m3u == ""


def test_the_servers_playlist_is_launched_when_the_zip_has_one() -> None:
    decided = plan(12, "psx")
    names = [f.path for f in decided.files] + ["Castlevania - Symphony of the Night (USA).m3u"]
    layout = final_layout(decided, names)
    assert layout.launch_path.endswith("(USA)/Castlevania - Symphony of the Night (USA).m3u")
    assert layout.m3u == ""


def test_discs_in_sub_folders_keep_their_folders_and_get_our_playlist() -> None:
    decided = plan(14, "psx")
    assert sorted(f.path for f in decided.files) == [
        "Disc 1/Metal Gear Solid (USA) (Disc 1).bin",
        "Disc 1/Metal Gear Solid (USA) (Disc 1).cue",
        "Disc 2/Metal Gear Solid (USA) (Disc 2).bin",
        "Disc 2/Metal Gear Solid (USA) (Disc 2).cue",
    ]
    layout = final_layout(decided, [f.path for f in decided.files])
    assert layout.m3u == (
        "Disc 1/Metal Gear Solid (USA) (Disc 1).cue\nDisc 2/Metal Gear Solid (USA) (Disc 2).cue\n"
    )
    assert layout.launch_path == f"{ROMS}/psx/Metal Gear Solid (USA)/Metal Gear Solid (USA).m3u"
    assert layout.m3u_staged == f"{ROMS}/psx/.romdeck-14.unpack/Metal Gear Solid (USA).m3u"


def test_a_flat_multi_disc_game_with_its_own_playlist_launches_it() -> None:
    decided = plan(15, "psx")
    layout = final_layout(decided, [f.path for f in decided.files])
    assert layout.m3u == ""
    assert layout.launch_path == f"{ROMS}/psx/Resident Evil 2 (USA)/Resident Evil 2 (USA).m3u"


def test_multi_file_hashes_are_each_files_own() -> None:
    by_path = {f.path: f for f in plan(15, "psx").files}
    assert by_path["Resident Evil 2 (USA) (Disc 1).cue"].md5 == "313d5836b1dcdf1e117b92ca50ddbba9"
    assert by_path["Resident Evil 2 (USA) (Disc 1).cue"].size_bytes == 93


# ---- path safety -------------------------------------------------------------------------------
def _with_file(rom_id: int, **changes: str) -> RomDetail:
    original = rom(rom_id)
    return replace(original, files=(replace(original.files[0], **changes), *original.files[1:]))


@pytest.mark.parametrize(
    "changes",
    [
        {"file_name": "../escape.sfc"},
        {"file_name": ".."},
        {"file_name": "a\\b.sfc"},
        {"file_name": ".romdeck-20.zip"},
        {"file_name": ""},
    ],
)
def test_an_unsafe_file_name_is_refused(changes: dict[str, str]) -> None:
    with pytest.raises(BadResponseError):
        plan_install(_with_file(20, **changes), system="snes", roms_root=ROMS, keep_zip=False)


def test_a_sub_folder_with_dot_dot_is_refused() -> None:
    bad = _with_file(14, file_path="roms/psx/Metal Gear Solid (USA)/../../bios")
    with pytest.raises(BadResponseError):
        plan_install(bad, system="psx", roms_root=ROMS, keep_zip=False)


def test_a_folder_name_with_a_slash_is_refused() -> None:
    original = rom(12)
    bad = replace(original, summary=replace(original.summary, fs_name="../../x"))
    with pytest.raises(BadResponseError):
        plan_install(bad, system="psx", roms_root=ROMS, keep_zip=False)


def test_a_relative_roms_folder_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        plan_install(rom(20), system="snes", roms_root="roms", keep_zip=False)


# ---- saves, hashes, commands --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "kept"),
    [
        ("Game.srm", True), ("Disc 1/Game.sav", True), ("Game.state3", True),
        ("saves/anything.bin", True), ("Game.cue", False), ("Disc 1/Game.bin", False),
        ("Game.m3u", False),
    ],
)  # fmt: skip
def test_saves_and_states_are_recognised_for_uninstall(path: str, kept: bool) -> None:
    assert is_save_path(path) is kept


@pytest.mark.parametrize(
    ("size", "hashes", "matches"),
    [
        (3, {"md5": "abc"}, True),
        (4, {"md5": "abc"}, False),
        (3, {"md5": "abd"}, False),
        (3, {}, False),
    ],
)
def test_a_local_file_matches_only_with_the_servers_size_and_hash(
    size: int, hashes: dict[str, str], matches: bool
) -> None:
    wanted = ExpectedFile("x.bin", 3, md5="ABC")
    assert (mismatch(wanted, size, hashes) == "") is matches  # type: ignore[arg-type]


def test_a_crc_only_file_compares_crc_numerically() -> None:
    assert mismatch(ExpectedFile("x", 1, crc="0abc"), 1, {"crc32": "00000abc"}) == ""


def test_the_launch_command_is_retrodecks_wrapper_for_the_system() -> None:
    target = PlayTarget(paths=EmulationPaths(ROMS, "", "", "", EmulationTarget.RETRODECK))
    argv = install_argv(target, system="psx", launch_path=f"{ROMS}/psx/G/G.m3u")
    assert argv == ("flatpak", "run", "net.retrodeck.retrodeck", "-s", "psx", f"{ROMS}/psx/G/G.m3u")


def test_a_custom_root_without_a_template_has_no_command_yet() -> None:
    target = PlayTarget(paths=custom_root_paths("/games"))
    assert install_argv(target, system="psx", launch_path="/games/psx/G.cue") == ()
