"""RomM server versions: parse what ``GET /api/heartbeat`` reports; refuse the too old.

RomM reports ``SYSTEM.VERSION`` as a release number (``4.8.1``, ``v5.0.0``,
``5.0.0-beta.2``) or, for builds from source, ``"development"``. A version that is
not a release number is accepted: we cannot tell its age, and such servers are
usually newer than any release.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from romdeck.errors import ServerTooOldError

_RELEASE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?P<pre>-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")


@dataclass(frozen=True, slots=True, order=True)
class RommVersion:
    """A RomM release number. A pre-release (``-beta.2``) sorts before its release."""

    major: int
    minor: int
    patch: int
    is_release: bool = True

    def __str__(self) -> str:
        suffix = "" if self.is_release else " (pre-release)"
        return f"{self.major}.{self.minor}.{self.patch}{suffix}"


MIN_ROMM_VERSION = RommVersion(4, 8, 0)
"""The oldest RomM with client API tokens (``rmm_``), which every RomDeck call uses."""


def parse_romm_version(text: str) -> RommVersion | None:
    """Parse a heartbeat ``SYSTEM.VERSION``; ``None`` when it is not a release number.

    ``"4.8.1"`` and ``"v4.8.1"`` give ``RommVersion(4, 8, 1)``; ``"5.0.0-beta.2"`` a
    pre-release; ``"development"``, ``""`` and other words give ``None``.
    """
    match = _RELEASE.match(text.strip())
    if match is None:
        return None
    major, minor, patch = match.group(1, 2, 3)
    return RommVersion(int(major), int(minor), int(patch or 0), is_release=not match["pre"])


def check_supported(version: str) -> None:
    """Raise ``ServerTooOldError`` when ``version`` is a release older than ``MIN_ROMM_VERSION``.

    Non-release versions (``"development"``, empty, unknown words) are accepted.
    """
    parsed = parse_romm_version(version)
    if parsed is None or parsed >= MIN_ROMM_VERSION:
        return
    raise ServerTooOldError(
        f"This RomM server runs version {version.strip()}, which is too old: "
        f"RomDeck needs RomM {MIN_ROMM_VERSION} or newer. Please update RomM."
    )
