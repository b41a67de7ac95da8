"""RomM platform → ES-DE system table, zip rule, launch-file choice and multi-disc playlists."""

from __future__ import annotations

import random

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from romdeck.adapters.emulation.es_systems import EsSystemsReader
from romdeck.domain.emulation import EsSystem
from romdeck.domain.systems import (
    ES_DE_SYSTEMS,
    KEEPS_ZIP_SYSTEMS,
    archive_is_the_game,
    choose_launch_file,
    disc_number,
    is_multi_disc,
    keeps_zip,
    m3u_for_discs,
    needs_m3u,
    playlist_name,
    system_for_platform,
)
from romdeck.errors import InvalidInputError
from shared_files import real_files


@pytest.fixture(scope="module")
def es_de_systems() -> dict[str, EsSystem]:
    path = real_files() / "es-de" / "es_systems.linux.xml"
    return {s.name: s for s in EsSystemsReader(path).read()}


@pytest.mark.parametrize(
    ("slug", "system"),
    [
        ("sms", "mastersystem"),
        ("sega-master-system", "mastersystem"),
        ("ngc", "gc"),
        ("gamecube", "gc"),
        ("dc", "dreamcast"),
        ("3ds", "n3ds"),
        ("sfam", "sfc"),
        ("64dd", "n64dd"),
        ("ps", "psx"),
        ("playstation", "psx"),
        ("sega32", "sega32x"),
        ("sg1000", "sg-1000"),
        ("turbografx-cd", "tg-cd"),
        ("turbografx16--1", "tg16"),
        ("neogeoaes", "neogeo"),
        ("neogeomvs", "neogeo"),
        ("neo-geo-pocket-color", "ngpc"),
        ("lynx", "atarilynx"),
        ("jaguar", "atarijaguar"),
        ("atari-xegs", "atarixe"),
        ("zxs", "zxspectrum"),
        ("philips-cd-i", "cdimono1"),
        ("acpc", "amstradcpc"),
        ("g-and-w", "gameandwatch"),
        ("pokemon-mini", "pokemini"),
        ("pc-fx", "pcfx"),
        ("sharp-x68000", "x68000"),
        ("pc-9800-series", "pc98"),
        ("tic-80", "tic80"),
        ("wonderswan-color", "wonderswancolor"),
    ],
)
def test_romm_slugs_map_to_retrodeck_folders(slug: str, system: str) -> None:
    assert system_for_platform(slug) == system


def test_the_table_covers_at_least_forty_systems() -> None:
    assert len(set(ES_DE_SYSTEMS.values())) >= 40


def test_every_folder_in_the_table_is_a_system_of_the_real_es_systems_file(
    es_de_systems: dict[str, EsSystem],
) -> None:
    unknown = sorted(set(ES_DE_SYSTEMS.values()) - es_de_systems.keys())
    assert unknown == []


def test_an_unknown_slug_falls_back_to_the_fs_slug_then_the_slug() -> None:
    assert system_for_platform("some-new-console", "newconsole") == "newconsole"
    assert system_for_platform("some-new-console") == "some-new-console"


def test_a_legacy_fs_slug_is_mapped_through_the_table() -> None:
    assert system_for_platform("unheard-of", "gamecube") == "gc"


def test_slugs_compare_case_insensitively() -> None:
    assert system_for_platform(" SMS ") == "mastersystem"
    assert system_for_platform("x", "PSX") == "psx"


def test_user_overrides_win_over_the_table() -> None:
    assert system_for_platform("genesis", overrides={"Genesis": "megadrive"}) == "megadrive"
    assert system_for_platform("nope", "gba", overrides={"gba": "gba2"}) == "gba2"


def test_an_unsafe_server_folder_is_never_used_as_a_rom_folder() -> None:
    assert system_for_platform("homebrew", "../../etc") == "homebrew"
    with pytest.raises(InvalidInputError):
        system_for_platform("a/b", "../x")
    with pytest.raises(InvalidInputError):
        system_for_platform("", "")


@pytest.mark.parametrize(
    ("system", "expected"),
    [("arcade", True), ("mame", True), ("FBNEO", True), ("neogeo", True), ("cps2", True),
     ("naomi", True), ("dos", True), ("snes", False), ("psx", False), ("genesis", False)],
)  # fmt: skip
def test_keeps_zip_is_true_only_for_systems_that_run_zips(system: str, expected: bool) -> None:
    assert keeps_zip(system) is expected


def test_every_zip_keeping_system_lists_zip_in_the_real_es_systems_file(
    es_de_systems: dict[str, EsSystem],
) -> None:
    lacking = sorted(s for s in KEEPS_ZIP_SYSTEMS if ".zip" not in es_de_systems[s].extensions)
    assert lacking == []


def test_every_system_whose_only_game_format_is_an_archive_keeps_its_zip(
    es_de_systems: dict[str, EsSystem],
) -> None:
    archive_only = {n for n, s in es_de_systems.items() if archive_is_the_game(s.extensions)}
    assert "cps1" in archive_only
    assert sorted(archive_only - KEEPS_ZIP_SYSTEMS) == []


def test_archive_is_the_game_ignores_launcher_files_but_not_game_formats() -> None:
    assert archive_is_the_game([".zip", ".7z", ".cmd", ".sh"])
    assert not archive_is_the_game([".zip", ".sfc"])
    assert not archive_is_the_game([".7z"])


@pytest.mark.parametrize(
    ("files", "chosen"),
    [
        (["Game (USA).bin", "Game (USA).cue"], "Game (USA).cue"),
        (["Game (Disc 1).cue", "Game (Disc 2).cue", "Game.m3u"], "Game.m3u"),
        (["track01.bin", "track02.raw", "Game.gdi"], "Game.gdi"),
        (["Game.img", "Game.sub", "Game.ccd"], "Game.ccd"),
        (["readme.txt", "Game.chd"], "Game.chd"),
        (["Game.nfo", "cover.jpg", "Game.sfc"], "Game.sfc"),
        (["Sonic.md"], "Sonic.md"),
        (["Game (Disc 2).chd", "Game (Disc 10).chd", "Game (Disc 1).chd"], "Game (Disc 1).chd"),
        (["extras/Bonus.cue", "Game.cue"], "Game.cue"),
        (["readme.txt"], "readme.txt"),
    ],
)
def test_the_launch_file_is_the_playlist_then_the_sheet_then_the_image_then_the_game(
    files: list[str], chosen: str
) -> None:
    assert choose_launch_file(files) == chosen


def test_a_game_without_files_has_no_launch_file() -> None:
    with pytest.raises(InvalidInputError):
        choose_launch_file([])


@pytest.mark.parametrize(
    ("path", "number"),
    [
        ("Game (USA) (Disc 2).cue", 2),
        ("Game (Disk 1 of 3).adf", 1),
        ("Game (CD2).bin", 2),
        ("Game_disc-3.chd", 3),
        ("Game (USA)/Disc 4/track 01.bin", 4),
        ("Discworld (USA).cue", None),
        ("Fantastic Dizzy (CD32).iso", None),
        ("Game (USA).cue", None),
    ],
)
def test_disc_numbers_are_read_from_the_file_name_then_its_folders(
    path: str, number: int | None
) -> None:
    assert disc_number(path) == number


def test_two_disc_numbers_make_a_multi_disc_game() -> None:
    files = ["G (Disc 1).cue", "G (Disc 1).bin", "G (Disc 2).cue", "G (Disc 2).bin"]
    assert is_multi_disc(files)
    assert needs_m3u(files)
    assert not needs_m3u([*files, "G.m3u"])


def test_one_disc_or_untagged_files_are_not_multi_disc() -> None:
    assert not is_multi_disc(["G (Disc 1).cue", "G (Disc 1).bin", "G (Disc 2) manual.pdf"])
    assert not is_multi_disc(["G.cue", "G.bin"])


def test_the_playlist_lists_each_disc_once_in_disc_order() -> None:
    files = [
        "Game (Disc 10).cue", "Game (Disc 2).bin", "Game (Disc 2).cue",
        "Game (Disc 1).bin", "Game (Disc 1).cue", "Game (Disc 10).bin", "readme.txt",
    ]  # fmt: skip
    assert m3u_for_discs(files) == "Game (Disc 1).cue\nGame (Disc 2).cue\nGame (Disc 10).cue\n"


def test_playlist_entries_keep_their_relative_folders_with_forward_slashes() -> None:
    files = ["Disc 2\\game.chd", "Disc 1/game.chd"]
    assert m3u_for_discs(files) == "Disc 1/game.chd\nDisc 2/game.chd\n"


@pytest.mark.parametrize(
    "files",
    [["/abs/G (Disc 1).chd", "G (Disc 2).chd"], ["../G (Disc 1).chd"], ["G.chd", "H.chd"], []],
)
def test_a_playlist_needs_relative_disc_files(files: list[str]) -> None:
    with pytest.raises(InvalidInputError):
        m3u_for_discs(files)


def test_the_playlist_is_named_after_disc_one_without_its_disc_tag() -> None:
    files = ["Final Fantasy VII (USA) (Disc 2).cue", "Final Fantasy VII (USA) (Disc 1).cue"]
    assert playlist_name(files) == "Final Fantasy VII (USA).m3u"


_names = st.lists(
    st.text(st.characters(blacklist_characters="/\\\x00"), min_size=1, max_size=12),
    min_size=1,
    max_size=6,
)


@example(["²0"], ".cue")  # a superscript digit is isdigit() but not int()-able
@given(_names, st.sampled_from([".cue", ".chd", ".bin", ".iso", ".txt", ".m3u"]))
def test_the_launch_file_is_always_one_of_the_files(names: list[str], ext: str) -> None:
    files = [n + ext for n in names]
    assert choose_launch_file(files) in files


@given(st.integers(min_value=2, max_value=12), st.randoms(use_true_random=False))
def test_the_playlist_does_not_depend_on_the_order_of_the_files(
    discs: int, rnd: random.Random
) -> None:
    files = [f"G (Disc {n}).{e}" for n in range(1, discs + 1) for e in ("cue", "bin")]
    shuffled = files[:]
    rnd.shuffle(shuffled)
    text = m3u_for_discs(shuffled)
    assert text == m3u_for_discs(files)
    assert text.splitlines() == [f"G (Disc {n}).cue" for n in range(1, discs + 1)]
