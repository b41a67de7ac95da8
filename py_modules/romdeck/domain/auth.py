"""Sign-in value types: RomM's device-authorization flow and the scopes RomDeck asks for."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

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


def _is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cleartext_password_warning(url: str) -> str | None:
    """A warning when a password sent to ``url`` crosses the network unencrypted.

    ``url`` is a normalised server address (``http://host[:port]``). Returns ``None`` for
    ``https://`` and for loopback hosts (``localhost``, ``127.0.0.0/8``, ``::1``), where
    nothing leaves the machine; otherwise one sentence naming the host.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() != "http" or _is_loopback(parts.hostname or ""):
        return None
    return (
        f"The password was sent to {parts.hostname} over plain http://, unencrypted: anyone "
        "on the network could read it. Use https://, or change the password if the network "
        "is not yours."
    )
