"""Steam shortcut ids: the derived 32-bit ``appid`` and its signed/unsigned forms.

Pure functions, stdlib only. ``shortcuts.vdf`` stores ``appid`` as a signed int32;
RomDeck keeps it unsigned everywhere else (``RegistryEntry.appid``).
"""

from __future__ import annotations

import zlib

_UINT32_MASK = 0xFFFFFFFF
_SHORTCUT_BIT = 0x80000000
_INT32_MIN = -(2**31)
_UINT32_LIMIT = 2**32


def shortcut_appid(exe: str, app_name: str) -> int:
    """The id Steam derives for a non-Steam shortcut: ``crc32(exe + app_name) | 0x80000000``.

    ``exe`` is the exact ``Exe`` string, quotes included. The result is unsigned, in
    ``[0x80000000, 0xFFFFFFFF]``. Use it only when Steam cannot assign the id (headless).
    """
    return (zlib.crc32((exe + app_name).encode("utf-8")) & _UINT32_MASK) | _SHORTCUT_BIT


def to_signed_int32(value: int) -> int:
    """The int32 ``shortcuts.vdf`` stores for an unsigned 32-bit id (``2**31`` → ``-2**31``).

    Raises ``ValueError`` when ``value`` is outside ``[-2**31, 2**32)``; signed input
    in range is returned unchanged.
    """
    if not _INT32_MIN <= value < _UINT32_LIMIT:
        raise ValueError(f"{value} does not fit in 32 bits")
    return value - _UINT32_LIMIT if value >= 2**31 else value


def to_unsigned_int32(value: int) -> int:
    """The unsigned 32-bit id for an int32 read from ``shortcuts.vdf`` (``-1`` → ``0xFFFFFFFF``).

    Raises ``ValueError`` when ``value`` is outside ``[-2**31, 2**32)``.
    """
    if not _INT32_MIN <= value < _UINT32_LIMIT:
        raise ValueError(f"{value} does not fit in 32 bits")
    return value & _UINT32_MASK
