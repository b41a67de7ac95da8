"""ES-DE systems files read with lxml: the real bundled file, RetroDECK's template, bad files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from romdeck.adapters.emulation.es_systems import EsSystemsReader
from romdeck.domain.emulation import EsSystem
from romdeck.errors import CorruptFileError, NotFoundError
from shared_files import real_files


@pytest.fixture(scope="module")
def systems() -> dict[str, EsSystem]:
    path = real_files() / "es-de" / "es_systems.linux.xml"
    return {s.name: s for s in EsSystemsReader(path).read()}


def test_the_real_file_lists_every_system_once(systems: dict[str, EsSystem]) -> None:
    assert len(systems) > 150
    assert {"psx", "snes", "mastersystem", "gc", "n3ds", "arcade", "tg-cd"} <= systems.keys()


def test_commented_out_systems_are_not_listed(systems: dict[str, EsSystem]) -> None:
    assert "ags" not in systems


def test_a_system_has_its_full_name_extensions_and_commands_in_file_order(
    systems: dict[str, EsSystem],
) -> None:
    threedo = systems["3do"]
    assert threedo.fullname == "3DO Interactive Multiplayer"
    assert threedo.extensions == (".bin", ".chd", ".cue", ".iso", ".7z", ".zip")
    assert [c.label for c in threedo.commands] == ["Opera"]
    assert threedo.commands[0].command == (
        "%EMULATOR_RETROARCH% -L %CORE_RETROARCH%/opera_libretro.so %ROM%"
    )


def test_commented_out_commands_are_left_out(systems: dict[str, EsSystem]) -> None:
    labels = [c.label for c in systems["adam"].commands]
    assert labels[0] == "MAME [Diskette] (Standalone)"
    assert "ColEm (Standalone)" not in labels


def test_an_extension_written_without_its_dot_is_normalised(systems: dict[str, EsSystem]) -> None:
    assert systems["pcfx"].extensions.count(".cue") == 1
    assert "cue" not in systems["pcfx"].extensions


def test_platforms_are_split_on_commas(systems: dict[str, EsSystem]) -> None:
    assert systems["daphne"].platforms == ("daphne", "arcade")
    assert systems["psx"].platforms == ("psx",)


def test_retroarch_cores_are_read_from_the_commands_in_order(systems: dict[str, EsSystem]) -> None:
    assert systems["psx"].retroarch_cores()[:2] == ("swanstation", "mednafen_psx")
    assert systems["arcadia"].retroarch_cores() == ("mame",)
    assert systems["ps3"].retroarch_cores() == ()


def test_retrodecks_custom_systems_template_defines_no_system() -> None:
    path = real_files() / "retrodeck" / "es_systems.retrodeck.xml"
    assert EsSystemsReader(path).read() == ()


def test_a_users_custom_systems_file_is_the_first_place_to_look(tmp_path: Path) -> None:
    home = tmp_path / "deck"
    first = EsSystemsReader.retrodeck_locations(home)[0]
    first.parent.mkdir(parents=True)
    shutil.copyfile(real_files() / "es-de" / "es_systems.linux.xml", first)
    assert first == home / "retrodeck/ES-DE/custom_systems/es_systems.xml"
    assert "psx" in EsSystemsReader(first).names()


def test_the_flatpaks_bundled_file_locations_are_listed_newest_layout_first(
    tmp_path: Path,
) -> None:
    places = [str(p) for p in EsSystemsReader.retrodeck_locations(tmp_path)]
    assert places[1] == (
        "/var/lib/flatpak/app/net.retrodeck.retrodeck/current/active/files/"
        "retrodeck/components/es-de/share/es-de/resources/systems/linux/es_systems.xml"
    )
    assert any(p.startswith(f"{tmp_path}/.local/share/flatpak/") for p in places)


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        EsSystemsReader(tmp_path / "es_systems.xml").read()


@pytest.mark.parametrize(
    "text",
    ["<systemList><system><name>x</name>", "not xml at all", "<gameList><game/></gameList>"],
)
def test_a_broken_or_foreign_file_is_reported_corrupt(tmp_path: Path, text: str) -> None:
    path = tmp_path / "es_systems.xml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CorruptFileError):
        EsSystemsReader(path).read()


def test_external_entities_are_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    path = tmp_path / "es_systems.xml"
    path.write_text(
        f'<?xml version="1.0"?><!DOCTYPE systemList [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<systemList><system><name>snes&x;</name><extension>.sfc</extension></system>"
        "</systemList>",
        encoding="utf-8",
    )
    names = EsSystemsReader(path).names()
    assert not any("TOP-SECRET" in n for n in names)
