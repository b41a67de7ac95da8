"""JsonSettingsStore: settings.json round trip, permissions, corrupt and newer files."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path
from typing import Any

import pytest

from romdeck.adapters.store.settings_json import JsonSettingsStore
from romdeck.domain.models import Selection
from romdeck.domain.settings import Connection, Settings
from romdeck.errors import CorruptFileError, InvalidInputError

TOKEN = "rmm_0123456789abcdef0123456789abcdef"


def sample() -> Settings:
    return Settings(
        connection=Connection(
            url="https://romm.local",
            token=TOKEN,
            verify_tls=False,
            ca_file="/home/deck/ca.pem",
            connect_timeout=5,
            read_timeout=90.5,
        ),
        selection=Selection(platform_ids=frozenset({3, 1}), collection_ids=frozenset({12})),
        device_name="Steam Deck",
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def asides(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.corrupt-*"))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "romdeck" / "settings.json"


def test_a_missing_file_loads_as_defaults(path: Path) -> None:
    assert JsonSettingsStore(path).load() == Settings()


def test_saved_settings_load_back_equal(path: Path) -> None:
    store = JsonSettingsStore(path)
    store.save(sample())
    assert store.load() == sample()


def test_the_file_has_the_documented_shape(path: Path) -> None:
    JsonSettingsStore(path).save(sample())
    doc = json.loads(path.read_text())
    assert doc == {
        "version": 1,
        "connection": {
            "url": "https://romm.local",
            "token": TOKEN,
            "verify_tls": False,
            "ca_file": "/home/deck/ca.pem",
            "connect_timeout": 5,
            "read_timeout": 90.5,
        },
        "selection": {"platform_ids": [1, 3], "collection_ids": [12]},
        "device_name": "Steam Deck",
        "emulation": {
            "target": "auto",
            "roms_root": "",
            "bios_root": "",
            "templates": {},
            "system_overrides": {},
        },
        "saves": {"sync": True, "states": False},
    }


def test_emulation_choices_round_trip_and_a_bad_target_is_set_aside(path: Path) -> None:
    from dataclasses import replace

    from romdeck.domain.settings import EmulationSettings

    emulation = EmulationSettings(
        target="custom",
        roms_root="/run/media/deck/SD/roms",
        templates={"*": "my-emu --fullscreen {rom}"},
        system_overrides={"genesis": "megadrive"},
    )
    JsonSettingsStore(path).save(replace(sample(), emulation=emulation))
    assert JsonSettingsStore(path).load().emulation == emulation
    doc = json.loads(path.read_text())
    doc["emulation"]["target"] = "dolphin-on-the-moon"
    path.write_text(json.dumps(doc))
    with pytest.raises(CorruptFileError, match=r"emulation\.target"):
        JsonSettingsStore(path).load()


def test_the_file_is_0600_in_a_0700_folder_and_no_temp_file_remains(path: Path) -> None:
    JsonSettingsStore(path).save(sample())
    JsonSettingsStore(path).save(sample())
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["settings.json"]


def test_saving_over_a_world_readable_file_makes_it_0600(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_text("{}")
    path.chmod(0o644)
    JsonSettingsStore(path).save(sample())
    assert mode(path) == 0o600


def test_missing_keys_take_their_defaults(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_text('{"version": 1, "connection": {"url": "https://r"}}')
    assert JsonSettingsStore(path).load() == Settings(connection=Connection(url="https://r"))


def test_an_unparseable_file_is_moved_aside_and_reported(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_text('{"version": 1, "connection": {"token": "' + TOKEN + '"')
    store = JsonSettingsStore(path)
    with pytest.raises(CorruptFileError) as caught:
        store.load()
    (aside,) = asides(path)
    assert str(aside) in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert not path.exists()
    assert TOKEN in aside.read_text()
    assert store.load() == Settings()


def test_two_corrupt_files_in_one_second_are_both_kept(path: Path) -> None:
    store = JsonSettingsStore(path)
    path.parent.mkdir(parents=True)
    for text in ("first", "second"):
        path.write_text(text)
        with pytest.raises(CorruptFileError):
            store.load()
    assert sorted(p.read_text() for p in asides(path)) == ["first", "second"]


@pytest.mark.parametrize(
    "doc",
    [
        [1, 2],
        {"connection": {}},
        {"version": "1"},
        {"version": 1, "connection": {"url": 5}},
        {"version": 1, "connection": {"verify_tls": "yes"}},
        {"version": 1, "connection": {"read_timeout": 0}},
        {"version": 1, "connection": {"connect_timeout": True}},
        {"version": 1, "selection": {"platform_ids": [1, "2"]}},
        {"version": 1, "selection": []},
        {"version": 1, "device_name": None},
        {"version": 0},
    ],
)
def test_a_file_with_wrong_types_is_moved_aside_and_reported(path: Path, doc: Any) -> None:
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(doc))
    with pytest.raises(CorruptFileError):
        JsonSettingsStore(path).load()
    assert len(asides(path)) == 1
    assert not path.exists()


def test_a_file_that_is_not_utf8_is_moved_aside(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(b'{"device_name": "\xff"}')
    with pytest.raises(CorruptFileError, match="UTF-8"):
        JsonSettingsStore(path).load()
    assert len(asides(path)) == 1


def test_a_file_from_a_newer_romdeck_is_refused_and_left_in_place(path: Path) -> None:
    path.parent.mkdir(parents=True)
    text = json.dumps({"version": 2, "connection": {"token": TOKEN}})
    path.write_text(text)
    with pytest.raises(CorruptFileError, match="newer"):
        JsonSettingsStore(path).load()
    assert path.read_text() == text
    assert asides(path) == []


def test_an_older_version_is_migrated_step_by_step(path: Path) -> None:
    def v1_to_v2(doc: dict[str, Any]) -> dict[str, Any]:
        return {**doc, "version": 2, "device_name": doc.get("name", "")}

    def v0_to_v1(doc: dict[str, Any]) -> dict[str, Any]:
        return {**doc, "version": 1, "name": "Deck"}

    path.parent.mkdir(parents=True)
    path.write_text('{"version": 0}')
    store = JsonSettingsStore(path, migrations={0: v0_to_v1, 1: v1_to_v2}, version=2)
    assert store.load().device_name == "Deck"
    store.save(store.load())
    assert json.loads(path.read_text())["version"] == 2


def test_saving_settings_with_wrong_types_writes_nothing(path: Path) -> None:
    bad = Settings(connection=Connection(url=None))  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        JsonSettingsStore(path).save(bad)
    assert not path.exists()


def test_the_token_never_reaches_the_log(path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    store = JsonSettingsStore(path)
    store.save(sample())
    store.load()
    path.write_text('{"version": 1, "connection": {"token": "' + TOKEN + '"} garbage')
    with pytest.raises(CorruptFileError):
        store.load()
    assert caplog.records
    assert TOKEN not in caplog.text


def test_load_is_served_from_memory_until_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = JsonSettingsStore(tmp_path / "settings.json")
    store.save(sample())
    reads: list[Path] = []
    real = Path.read_bytes

    def counting(self: Path) -> bytes:
        reads.append(self)
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", counting)
    assert store.load() == sample()
    assert store.load() == sample()
    assert reads == []  # save() left the memory copy
    # someone edits the file by hand: the next load reads it
    doc = json.loads((tmp_path / "settings.json").read_text())
    reads.clear()
    doc["connection"]["url"] = "https://other.example"
    (tmp_path / "settings.json").write_text(json.dumps(doc))
    assert store.load().connection.url == "https://other.example"
    assert len(reads) == 1
    assert store.load().connection.url == "https://other.example"
    assert len(reads) == 1


def test_save_settings_default_round_trip_and_a_wrong_type_is_corrupt(tmp_path: Path) -> None:
    from romdeck.domain.settings import SaveSettings

    store = JsonSettingsStore(tmp_path / "settings.json")
    assert store.load().saves == SaveSettings(sync=True, states=False)
    store.save(Settings(saves=SaveSettings(sync=False, states=True)))
    doc = json.loads((tmp_path / "settings.json").read_text())
    assert doc["saves"] == {"sync": False, "states": True}
    assert JsonSettingsStore(tmp_path / "settings.json").load().saves == SaveSettings(False, True)
    doc["saves"]["states"] = "on"
    (tmp_path / "settings.json").write_text(json.dumps(doc))
    with pytest.raises(CorruptFileError, match=r"saves\.states"):
        JsonSettingsStore(tmp_path / "settings.json").load()


async def test_save_async_writes_off_the_event_loop_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The atomic write and its fsync of a callable's save never run on Decky's loop."""
    import threading

    store = JsonSettingsStore(tmp_path / "settings.json")
    writers: list[int] = []
    write = store._write_atomic  # pyright: ignore[reportPrivateUsage]

    def spy(data: bytes) -> None:
        writers.append(threading.get_ident())
        write(data)

    monkeypatch.setattr(store, "_write_atomic", spy)
    await store.save_async(Settings(connection=Connection(url="https://r")))
    assert writers and writers[0] != threading.get_ident()
    assert JsonSettingsStore(tmp_path / "settings.json").load().connection.url == "https://r"
