"""Settings set from the panel or the CLI are checked before anything is saved."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from romdeck.adapters.files.ca_bundle import LocalCaBundleReader
from romdeck.adapters.store.settings_json import JsonSettingsStore
from romdeck.cli import EXIT_USAGE, main
from romdeck.domain.settings import EmulationSettings, check_emulation, check_template
from romdeck.errors import InvalidInputError
from romdeck.services.settings_service import SettingsService

PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("retroarch -L core '{rom}", "cannot be read"),
        ("", "empty"),
        ("   ", "empty"),
        ("retroarch -L core", "{rom}"),
        ("retroarch {rom} {emulator}", "{emulator}"),
        ('mednafen "{rom}', "cannot be read"),
    ],
)
def test_a_malformed_launch_command_is_refused_naming_the_system(command: str, says: str):
    with pytest.raises(InvalidInputError) as caught:
        check_template("snes", command)
    assert "snes" in caught.value.message and says in caught.value.message


@pytest.mark.parametrize("system", ["", "  ", "super nes", "a/b"])
def test_a_launch_command_needs_a_system_folder_name(system: str):
    with pytest.raises(InvalidInputError, match="system folder name"):
        check_template(system, "emu {rom}")


def test_a_good_launch_command_is_kept_stripped():
    assert check_template(" * ", "  flatpak run x '{rom}' ") == "flatpak run x '{rom}'"
    checked = check_emulation(EmulationSettings(templates={" snes ": "emu -s {system} {rom}"}))
    assert dict(checked.templates) == {"snes": "emu -s {system} {rom}"}


@pytest.mark.parametrize(
    ("emulation", "says"),
    [
        (EmulationSettings(target="steam"), "must be one of"),
        (EmulationSettings(target="custom", roms_root="roms"), "absolute"),
        (EmulationSettings(target="custom"), "needs a ROMs folder"),
        (EmulationSettings(roms_root="~/roms"), "absolute"),
    ],
)
def test_bad_emulation_settings_are_refused(emulation: EmulationSettings, says: str):
    with pytest.raises(InvalidInputError, match=says):
        check_emulation(emulation)


@pytest.fixture
def service(tmp_path: Path) -> SettingsService:
    return SettingsService(
        store=JsonSettingsStore(tmp_path / "settings.json"), ca_files=LocalCaBundleReader()
    )


async def test_a_patch_changes_only_what_it_names_and_is_saved(service, tmp_path: Path):
    await service.update({"emulation": {"templates": {"*": "emu {rom}"}}})
    updated = await service.update(
        {"emulation": {"target": "custom", "roms_root": "/srv/roms"}, "tls": {"verify": False}}
    )
    assert updated.emulation.target == "custom" and updated.emulation.roms_root == "/srv/roms"
    assert dict(updated.emulation.templates) == {"*": "emu {rom}"}
    assert updated.connection.verify_tls is False
    saved = json.loads((tmp_path / "settings.json").read_text())
    assert saved["emulation"]["roms_root"] == "/srv/roms"
    assert saved["connection"]["verify_tls"] is False
    cleared = await service.update({"emulation": {"target": "auto", "roms_root": None}})
    assert cleared.emulation.roms_root == ""


@pytest.mark.parametrize(
    "patch",
    [
        {"emulation": {"templates": {"snes": "snes9x"}}},
        {"emulation": {"templates": {"snes": 3}}},
        {"emulation": {"target": "steam"}},
        {"emulation": {"roms_root": "relative/roms"}},
        {"emulation": {"colour": "blue"}},
        {"emulation": "retrodeck"},
        {"tls": {"verify": "yes"}},
        {"tls": {"ca_file": "certs/ca.pem"}},
        {"theme": "dark"},
    ],
)
async def test_a_bad_patch_is_refused_and_the_file_keeps_its_bytes(
    service, tmp_path: Path, patch: dict
):
    await service.update({"emulation": {"templates": {"*": "emu {rom}"}}})
    before = (tmp_path / "settings.json").read_bytes()
    with pytest.raises(InvalidInputError):
        await service.update(patch)
    assert (tmp_path / "settings.json").read_bytes() == before


async def test_a_ca_file_must_exist_be_a_file_and_hold_pem(service, tmp_path: Path):
    (tmp_path / "notpem.crt").write_bytes(b"\x30\x82\x01\x0a binary DER")
    (tmp_path / "ca.pem").write_bytes(b"# my CA\n" + PEM)
    cases = {
        str(tmp_path / "missing.pem"): "does not exist",
        str(tmp_path): "folder",
        str(tmp_path / "notpem.crt"): "not a PEM",
    }
    for path, says in cases.items():
        with pytest.raises(InvalidInputError, match=says):
            await service.update({"tls": {"ca_file": path}})
    updated = await service.update({"tls": {"ca_file": str(tmp_path / "ca.pem")}})
    assert updated.connection.ca_file == str(tmp_path / "ca.pem")


def test_the_cli_refuses_a_malformed_template_when_it_is_set(tmp_path: Path):
    out, err = io.StringIO(), io.StringIO()
    argv = ["--data-dir", str(tmp_path), "target", "custom", "--roms-root", "/srv/roms"]
    code = main([*argv, "--template", "snes=snes9x --fullscreen '{rom}"], out, err)
    assert code == EXIT_USAGE
    assert "snes" in err.getvalue() and "cannot be read" in err.getvalue()
    assert not (tmp_path / "settings.json").exists()
    assert main([*argv, "--template", "snes=snes9x {rom}"], out, err) == 0
    assert "Launch snes: snes9x {rom}" in out.getvalue()
