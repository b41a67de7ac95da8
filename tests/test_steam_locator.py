"""SteamLocator finds the Steam root and its users in a temporary home."""

from __future__ import annotations

from pathlib import Path

import pytest

from romdeck.adapters.steam.locator import SteamLocator
from romdeck.errors import SteamNotFoundError


def make_user(root: Path, name: str, *, config: bool = True) -> None:
    user = root / "userdata" / name
    (user / "config" if config else user).mkdir(parents=True)


def test_an_explicit_steam_dir_is_used_as_is(tmp_path):
    make_user(tmp_path / "MySteam", "42")

    assert (
        SteamLocator(tmp_path / "MySteam", home=tmp_path / "nohome").root()
        == (tmp_path / "MySteam").resolve()
    )


def test_an_explicit_steam_dir_without_userdata_is_not_found(tmp_path):
    with pytest.raises(SteamNotFoundError, match="Elsewhere"):
        SteamLocator(tmp_path / "Elsewhere").root()


def test_the_xdg_data_folder_comes_before_dot_steam(tmp_path):
    make_user(tmp_path / ".local/share/Steam", "1")
    make_user(tmp_path / ".steam/steam", "2")

    assert SteamLocator(home=tmp_path).root() == (tmp_path / ".local/share/Steam").resolve()


def test_dot_steam_symlink_is_resolved_to_the_real_folder(tmp_path):
    real = tmp_path / "games" / "SteamReal"
    make_user(real, "1")
    (tmp_path / ".steam").mkdir()
    (tmp_path / ".steam" / "steam").symlink_to(real)

    assert SteamLocator(home=tmp_path).root() == real.resolve()


def test_no_steam_anywhere_names_the_places_looked_at(tmp_path):
    with pytest.raises(SteamNotFoundError) as caught:
        SteamLocator(home=tmp_path).root()

    assert ".local/share/Steam" in caught.value.message
    assert ".steam/steam" in caught.value.message


def test_users_are_numeric_folders_with_config_sorted_without_zero_or_anonymous(tmp_path):
    root = tmp_path / "Steam"
    for name in ("987", "12345678", "0", "anonymous", "ac_backup"):
        make_user(root, name)
    make_user(root, "555", config=False)
    (root / "userdata" / "4444").write_text("a file, not a user")

    assert SteamLocator(root).users() == ["12345678", "987"]


def test_a_user_filter_keeps_only_that_user(tmp_path):
    root = tmp_path / "Steam"
    make_user(root, "111")
    make_user(root, "222")

    assert SteamLocator(root, user="222").users() == ["222"]


def test_a_user_filter_naming_an_unknown_user_lists_the_known_ones(tmp_path):
    root = tmp_path / "Steam"
    make_user(root, "111")

    with pytest.raises(SteamNotFoundError, match=r"No Steam user 999 .*111"):
        SteamLocator(root, user="999").users()


def test_steam_without_any_signed_in_user_is_not_found(tmp_path):
    root = tmp_path / "Steam"
    make_user(root, "0")

    with pytest.raises(SteamNotFoundError, match="no users"):
        SteamLocator(root).users()
