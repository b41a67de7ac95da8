"""Sign-in value types: RomM's device-authorization flow and the scopes RomDeck asks for."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# The scopes a Deck client needs (API-NOTES §1); ``me.write`` is needed only to
# create the client token during password sign-in and is not requested for it.
CLIENT_TOKEN_SCOPES: tuple[str, ...] = (
    "me.read",
    "roms.read",
    "platforms.read",
    "firmware.read",
    "collections.read",
    "assets.read",
    "assets.write",
    "devices.read",
    "devices.write",
    "roms.user.read",
    "roms.user.write",
)
PASSWORD_GRANT_SCOPES: tuple[str, ...] = (*CLIENT_TOKEN_SCOPES, "me.write")


@dataclass(frozen=True, slots=True)
class DeviceAuthorization:
    """A started device flow (``POST /api/auth/device/init``).

    ``verification_url`` is absolute (server origin + ``verification_path_complete``);
    ``expires_in`` and ``interval`` are seconds.
    """

    device_code: str
    user_code: str
    verification_url: str
    expires_in: int
    interval: int


class DevicePollStatus(StrEnum):
    """The answer of one ``POST /api/auth/device/token`` poll."""

    PENDING = "authorization_pending"
    SLOW_DOWN = "slow_down"
    DENIED = "access_denied"
    EXPIRED = "expired_token"
    APPROVED = "approved"


@dataclass(frozen=True, slots=True)
class DevicePoll:
    """One poll's result; ``token`` is the ``rmm_`` token when ``APPROVED``, else ``""``."""

    status: DevicePollStatus
    token: str = ""
