"""RomM version parsing and the oldest-supported gate (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from romdeck.domain.version import (
    MIN_ROMM_VERSION,
    RommVersion,
    check_supported,
    parse_romm_version,
)
from romdeck.errors import ServerTooOldError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4.8.1", RommVersion(4, 8, 1)),
        ("v5.0.0", RommVersion(5, 0, 0)),
        (" 5.2.0\n", RommVersion(5, 2, 0)),
        ("4.8", RommVersion(4, 8, 0)),
        ("5.0.0-beta.2", RommVersion(5, 0, 0, is_release=False)),
        ("5.0.0+build.7", RommVersion(5, 0, 0)),
        ("development", None),
        ("", None),
        ("5", None),
        ("nightly-2026-01-01", None),
    ],
)
def test_versions_parse_as_release_numbers_or_not_at_all(
    text: str, expected: RommVersion | None
) -> None:
    assert parse_romm_version(text) == expected


def test_a_pre_release_sorts_before_its_release() -> None:
    assert RommVersion(5, 0, 0, is_release=False) < RommVersion(5, 0, 0)
    assert RommVersion(4, 9, 9) < RommVersion(5, 0, 0, is_release=False)


@pytest.mark.parametrize("version", ["4.8.0", "4.8.1", "5.2.0", "v10.0.0", "development", ""])
def test_supported_versions_pass(version: str) -> None:
    check_supported(version)


@pytest.mark.parametrize("version", ["4.7.2", "3.10.0", "v2.0.0", "4.8.0-beta.1"])
def test_older_releases_are_refused_with_both_versions_named(version: str) -> None:
    with pytest.raises(ServerTooOldError) as caught:
        check_supported(version)
    assert version in str(caught.value)
    assert str(MIN_ROMM_VERSION) in str(caught.value)


@given(st.text(alphabet=st.characters(categories=["L"]), min_size=1))
def test_any_word_without_a_number_is_accepted(word: str) -> None:
    assert parse_romm_version(word) is None
    check_supported(word)
