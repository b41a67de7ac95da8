"""The derived shortcut id and the signed/unsigned int32 forms shortcuts.vdf needs."""

from __future__ import annotations

import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from romdeck.domain.appid import shortcut_appid, to_signed_int32, to_unsigned_int32


def test_shortcut_appid_is_the_crc32_of_exe_then_name_with_the_high_bit_set():
    # crc32("The quick brown fox jumps over the lazy dog") is the well-known 0x414FA339.
    assert shortcut_appid("The quick brown fox ", "jumps over the lazy dog") == 0xC14FA339


def test_shortcut_appid_of_nothing_is_just_the_high_bit():
    assert shortcut_appid("", "") == 0x80000000


def test_shortcut_appid_hashes_the_quotes_of_exe_and_utf8_of_the_name():
    quoted = shortcut_appid('"/usr/bin/romdeck-launch"', "Pokémon")
    bare = shortcut_appid("/usr/bin/romdeck-launch", "Pokémon")

    assert quoted != bare
    assert quoted == zlib.crc32('"/usr/bin/romdeck-launch"Pokémon'.encode()) | 0x80000000


@pytest.mark.parametrize(
    ("unsigned", "signed"),
    [(0, 0), (1, 1), (2**31 - 1, 2**31 - 1), (2**31, -(2**31)), (0xC0FFEE01, 0xC0FFEE01 - 2**32),
     (2**32 - 1, -1)],
)  # fmt: skip
def test_signed_and_unsigned_forms_convert_both_ways(unsigned, signed):
    assert to_signed_int32(unsigned) == signed
    assert to_unsigned_int32(signed) == unsigned


@pytest.mark.parametrize("value", [2**32, -(2**31) - 1])
def test_values_outside_32_bits_are_refused(value):
    with pytest.raises(ValueError):
        to_signed_int32(value)
    with pytest.raises(ValueError):
        to_unsigned_int32(value)


@given(st.text(), st.text())
def test_every_shortcut_appid_round_trips_through_its_stored_form(exe, name):
    appid = shortcut_appid(exe, name)

    assert 0x80000000 <= appid <= 0xFFFFFFFF
    assert -(2**31) <= to_signed_int32(appid) < 0
    assert to_unsigned_int32(to_signed_int32(appid)) == appid
