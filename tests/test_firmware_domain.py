"""BIOS requirements from core .info files and our table, and the status of each file."""

from __future__ import annotations

from pathlib import Path

import pytest

from romdeck.adapters.emulation.es_systems import EsSystemsReader
from romdeck.domain.firmware import (
    ANY_OF,
    CoreInfo,
    FileStatus,
    FirmwareRequirement,
    FirmwareStatus,
    ServerFirmware,
    decide_status,
    fetch_decision,
    may_replace,
    parse_core_info,
    platform_ready,
    platform_status,
    requirements_for_system,
)
from romdeck.domain.firmware_table import TABLE
from romdeck.domain.launch_command import RETROARCH_CORES
from romdeck.domain.systems import ES_DE_SYSTEMS
from shared_files import real_files

S = FirmwareStatus
SCPH5501 = "490f666e1afb15b7362b406ed1cea246"


def info_dir() -> Path:
    return real_files() / "libretro-core-info"


def real_info(core: str) -> CoreInfo:
    path = info_dir() / f"{core}_libretro.info"
    return parse_core_info(path.read_text(encoding="utf-8", errors="replace"), core)


def test_swanstation_lists_the_ps1_bioses_as_optional_with_their_md5s() -> None:
    info = real_info("swanstation")
    by_path = {f.path: f for f in info.firmware}
    assert set(by_path) == {
        "psxonpsp660.bin", "scph5500.bin", "scph5501.bin", "scph5502.bin", "ps1_rom.bin",
    }  # fmt: skip
    assert by_path["scph5501.bin"].md5s == (SCPH5501,)
    assert not any(f.required for f in info.firmware)
    assert info.display_name == "Sony - PlayStation (SwanStation)"


def test_beetle_psx_requires_the_three_regional_bioses() -> None:
    required = {f.path for f in real_info("mednafen_psx_hw").firmware if f.required}
    assert required == {"scph5500.bin", "scph5501.bin", "scph5502.bin"}


def test_flycast_keeps_the_dc_subfolder_despite_irregular_spacing() -> None:
    firmware = real_info("flycast").firmware
    assert len(firmware) == 8  # firmware3..7_opt are written "firmwareN_opt  = ..."
    boot = firmware[0]
    assert boot.path == "dc/dc_boot.bin"
    assert boot.file_name == "dc_boot.bin"
    assert boot.md5s == ("e10c53c2f8b90bab96ead2d368858623",)
    assert all(f.path.startswith("dc/") and not f.required for f in firmware)


def test_kronos_saturn_bios_lives_in_kronos_and_is_required() -> None:
    bios = real_info("kronos").firmware[0]
    assert (bios.path, bios.required) == ("kronos/saturn_bios.bin", True)
    assert bios.md5s == ("af5828fdff51384f99b3c4926be27762",)


def test_neocd_notes_give_sha1_only_so_no_md5_is_invented() -> None:
    firmware = real_info("neocd").firmware
    assert firmware[0].path == "neocd/neocd_f.rom"
    assert all(f.md5s == () for f in firmware)


def test_folders_are_not_files_pcsx2_core_bios_folder_is_left_out() -> None:
    paths = [f.path for f in real_info("pcsx2").firmware]
    assert "pcsx2/bios" not in paths
    assert paths == ["pcsx2/resources/GameIndex.yaml"]


def test_every_real_info_file_parses_and_yields_safe_relative_paths() -> None:
    files = sorted(info_dir().glob("*.info"))
    assert len(files) > 300
    total = 0
    for path in files:
        info = parse_core_info(path.read_text(encoding="utf-8", errors="replace"), path.stem)
        for f in info.firmware:
            assert not f.path.startswith("/") and ".." not in f.path.split("/")
            assert all(len(m) == 32 and m == m.lower() for m in f.md5s)
        total += len(info.firmware)
    assert total > 500


def test_loose_parsing_of_bare_values_comments_gaps_and_unsafe_paths() -> None:
    text = "\n".join(
        [
            "# firmware0_path = commented.bin",
            "firmware_count=3",
            "firmware0_desc=  bare value ",
            "firmware0_path=bios.rom",
            "firmware0_opt=false",
            'firmware2_path   =   "sub/two.bin"',
            'firmware2_opt="TRUE"',
            'firmware3_path = "../escape.bin"',
            'firmware4_path = "/abs.bin"',
            'notes = "(!) bios.rom (md5): 0123456789ABCDEF0123456789abcdef|(!) two.bin"',
        ]
    )
    info = parse_core_info(text, "x")
    assert [(f.path, f.required, f.md5s, f.description) for f in info.firmware] == [
        ("bios.rom", True, ("0123456789abcdef0123456789abcdef",), "bare value"),
        ("sub/two.bin", False, (), ""),
    ]


@pytest.mark.parametrize(
    ("system", "path"),
    [
        ("psx", "scph5501.bin"),
        ("ps2", "scph39001.bin"),
        ("saturn", "sega_101.bin"),
        ("segacd", "bios_CD_U.bin"),
        ("dreamcast", "dc/dc_boot.bin"),
        ("tg-cd", "syscard3.pce"),
        ("nds", "bios7.bin"),
        ("gba", "gba_bios.bin"),
        ("gb", "gb_bios.bin"),
        ("gbc", "gbc_bios.bin"),
        ("neogeo", "fbneo/neogeo.zip"),
        ("neogeocd", "neocd/neocd_z.rom"),
        ("3do", "panafz10.bin"),
        ("stv", "kronos/stvbios.zip"),
        ("xbox", "mcpx_1.0.bin"),
    ],
)
def test_the_table_covers_the_systems_players_use_most(system: str, path: str) -> None:
    assert path in {r.path for r in requirements_for_system(system)}


def test_ps2_rows_are_pcsx2_standalone_reading_the_bios_root() -> None:
    rows = requirements_for_system("ps2")
    assert rows and all(r.source == "pcsx2" and "/" not in r.path for r in rows)


def test_saturn_bioses_are_required_for_beetle_saturn() -> None:
    required = {r.path for r in requirements_for_system("saturn") if r.required}
    assert required == {"sega_101.bin", "mpr-17933.bin"}


def test_the_table_agrees_with_the_real_info_of_the_core_we_launch() -> None:
    """Rows come from the .info of the core RomDeck launches for the system (the one table
    of launch_command), so the BIOS listed is the BIOS the game will boot with."""
    for system in TABLE:
        core = RETROARCH_CORES.get(system)
        if core is None:
            continue
        from_info = real_info(core).firmware
        table = [r for r in requirements_for_system(system) if r.source == core]
        assert tuple(table) == from_info, system


def test_every_slug_system_whose_default_core_has_firmware_is_in_the_table() -> None:
    """Every system of systems.py whose ES-DE default RetroArch core lists firmware in
    its .info (upstream es_systems.xml) has rows in our table."""
    systems = {
        s.name: s for s in EsSystemsReader(real_files() / "es-de/es_systems.linux.xml").read()
    }
    missing = []
    for system in sorted(set(ES_DE_SYSTEMS.values())):
        es = systems.get(system)
        if es is None or "%CORE_RETROARCH%" not in es.commands[0].command:
            continue
        info = info_dir() / f"{es.retroarch_cores()[0]}_libretro.info"
        has_firmware = info.exists() and parse_core_info(info.read_text(errors="replace"), "")
        if has_firmware and has_firmware.firmware and system not in TABLE:
            missing.append(system)
    assert missing == []


def test_installed_core_info_wins_over_the_table() -> None:
    mine = CoreInfo("swanstation", "SwanStation", (FirmwareRequirement("only.bin", True),))
    rows = requirements_for_system("psx", {"swanstation": mine})
    assert [r.path for r in rows] == ["only.bin"]


def test_a_system_that_needs_nothing_has_no_requirements() -> None:
    assert requirements_for_system("gc") == ()
    assert requirements_for_system("no-such-system") == ()


REQ = FirmwareRequirement("scph5501.bin", True, (SCPH5501,))
OPT = FirmwareRequirement("gba_bios.bin", False, ("a860e8c0b6d573d191e4ec7db1b1e4f6",))
UNKNOWN = FirmwareRequirement("any.bin", True)


@pytest.mark.parametrize(
    ("req", "local", "on_server", "status"),
    [
        (REQ, SCPH5501, True, S.VERIFIED),
        (REQ, SCPH5501.upper(), False, S.VERIFIED),
        (REQ, "0" * 32, True, S.WRONG_HASH),
        (REQ, None, True, S.MISSING_ON_SERVER),
        (REQ, None, False, S.MISSING),
        (OPT, None, True, S.OPTIONAL_MISSING),
        (OPT, None, False, S.OPTIONAL_MISSING),
        (OPT, "1" * 32, True, S.WRONG_HASH),
        (UNKNOWN, "2" * 32, False, S.VERIFIED),
        (None, None, True, S.OPTIONAL_MISSING),
    ],
)
def test_status_from_our_md5(
    req: FirmwareRequirement | None, local: str | None, on_server: bool, status: S
) -> None:
    assert decide_status(req, local, on_server) is status


def fw(id: int, name: str, md5: str, verified: bool = False) -> ServerFirmware:
    return ServerFirmware(id, name, 16, md5=md5, is_verified=verified)


def test_platform_status_matches_server_files_by_name_and_lists_extras_in_the_folder() -> None:
    reqs = (FirmwareRequirement("dc/dc_boot.bin", False, ("e" * 32,)),)
    server = [fw(1, "dc_boot.bin", "e" * 32), fw(2, "naomi_extra.zip", "f" * 32)]
    rows = platform_status("dreamcast", reqs, server, {"dc/dc_boot.bin": "e" * 32})
    assert [(r.path, r.status, r.server and r.server.id) for r in rows] == [
        ("dc/dc_boot.bin", S.VERIFIED, 1),
        ("dc/naomi_extra.zip", S.OPTIONAL_MISSING, 2),
    ]


def test_romm_is_verified_does_not_make_a_wrong_file_verified() -> None:
    rows = platform_status("psx", (REQ,), [fw(3, "scph5501.bin", "9" * 32, True)], {})
    assert rows[0].status is S.MISSING_ON_SERVER
    rows = platform_status(
        "psx", (REQ,), [fw(3, "scph5501.bin", "9" * 32, True)], {"scph5501.bin": "9" * 32}
    )
    assert rows[0].status is S.WRONG_HASH


def test_a_server_with_none_of_the_files_reports_them_missing() -> None:
    rows = platform_status("saturn", requirements_for_system("saturn"), [], {})
    required = [r for r in rows if r.required]
    assert required and all(r.status is S.MISSING and r.server is None for r in required)


def row(status: S, server: ServerFirmware | None, req: FirmwareRequirement = REQ) -> FileStatus:
    return FileStatus(req.path, req.required, status, None, server, req)


def test_fetch_never_over_a_verified_file() -> None:
    assert not fetch_decision(row(S.VERIFIED, fw(1, "scph5501.bin", SCPH5501))).fetch


def test_fetch_replaces_a_wrong_file_only_with_a_known_good_copy() -> None:
    good = fetch_decision(row(S.WRONG_HASH, fw(1, "scph5501.bin", SCPH5501)))
    assert good.fetch and good.replaces
    assert not fetch_decision(row(S.WRONG_HASH, fw(1, "scph5501.bin", "9" * 32))).fetch


def test_fetch_missing_files_the_server_has() -> None:
    assert fetch_decision(row(S.MISSING_ON_SERVER, fw(1, "scph5501.bin", "9" * 32))).fetch
    assert fetch_decision(row(S.OPTIONAL_MISSING, fw(1, "gba_bios.bin", ""), OPT)).fetch
    assert not fetch_decision(row(S.MISSING, None)).fetch


@pytest.mark.parametrize(
    ("existing", "new", "allowed"),
    [
        (None, "9" * 32, True),  # nothing there: any verified-by-server copy may land
        (SCPH5501, "9" * 32, False),  # never a verified file by an unverified one
        (SCPH5501, SCPH5501, False),  # nor by an equal one (nothing to gain)
        ("0" * 32, SCPH5501, True),  # a wrong file by a verified one
        ("0" * 32, "9" * 32, False),  # a wrong file by another wrong one: keep it
    ],
)
def test_may_replace_only_improves_the_file(existing: str | None, new: str, allowed: bool) -> None:
    assert may_replace(REQ, existing, new) is allowed


def test_every_any_of_path_is_a_requirement_of_its_system() -> None:
    for system, group in ANY_OF.items():
        paths = {r.path for r in requirements_for_system(system)}
        assert group == ("*",) or set(group) <= paths, system


def _rows(system: str, local: dict[str, str]) -> tuple[FileStatus, ...]:
    return platform_status(system, requirements_for_system(system), [], local)


def test_ps1_is_ready_with_any_one_good_bios_and_not_with_a_wrong_one() -> None:
    assert not platform_ready("psx", _rows("psx", {}))
    assert not platform_ready("psx", _rows("psx", {"scph5501.bin": "0" * 32}))
    assert platform_ready("psx", _rows("psx", {"scph5501.bin": SCPH5501}))


def test_gba_is_ready_without_a_bios_and_saturn_is_not() -> None:
    assert platform_ready("gba", _rows("gba", {}))
    assert not platform_ready("saturn", _rows("saturn", {}))
