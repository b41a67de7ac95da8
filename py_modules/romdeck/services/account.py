"""Signing in to a RomM server and keeping the connection in the settings.

Three ways: a username and password exchanged once for a client API token (the
password is never stored), a pasted ``rmm_`` token, or RomM's device-authorization
flow (the panel shows a code; the user approves it in RomM's web UI).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from romdeck.domain.auth import (
    DeviceAuthorization,
    DevicePoll,
    DevicePollStatus,
    cleartext_password_warning,
)
from romdeck.domain.models import ServerInfo
from romdeck.domain.settings import Connection, Settings
from romdeck.errors import AuthRejectedError, InvalidInputError, NotConfiguredError, RomDeckError
from romdeck.services.protocols import Clock, RommAuthApi, RommCatalogApi, SettingsStore

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SignIn:
    """A completed sign-in: the server's heartbeat and warnings to show the user
    (e.g. a password sent over plain ``http://`` to another host)."""

    server: ServerInfo
    warnings: tuple[str, ...] = ()


def normalise_url(url: str) -> str:
    """``https://host[:port][/prefix]`` without a trailing slash.

    Raises ``InvalidInputError`` for an empty URL or a scheme other than http(s).
    A bare host gets ``https://``.
    """
    url = url.strip()
    if not url:
        raise InvalidInputError("Enter the address of your RomM server.")
    if "://" not in url:
        url = "https://" + url
    scheme = url.split("://", 1)[0].lower()
    if scheme not in ("http", "https"):
        raise InvalidInputError(
            f"The server address must start with http:// or https://, not {scheme}://."
        )
    return url.rstrip("/")


@dataclass(frozen=True, slots=True)
class _PendingDevice:
    connection: Connection
    authorization: DeviceAuthorization
    next_poll_at: float
    expires_at: float


class AccountService:
    """Sign-in use cases over the settings store.

    Args:
        auth: the unauthenticated RomM calls.
        settings: where the connection (URL, token, TLS choice) is saved.
        clock: for device-flow poll pacing and expiry.
        device_name: shown in RomM for the tokens we create (e.g. ``"RomDeck on steamdeck"``).
        device_id: a stable identifier of this device for the device flow.
    """

    def __init__(
        self,
        *,
        auth: RommAuthApi,
        settings: SettingsStore,
        clock: Clock,
        device_name: str,
        device_id: str,
    ) -> None:
        self._auth = auth
        self._settings = settings
        self._clock = clock
        self._device_name = device_name
        self._device_id = device_id
        self._pending: _PendingDevice | None = None
        self._server_version: str | None = None
        self._username: str | None = None

    def _connection(self, url: str, verify_tls: bool, ca_file: str = "") -> Connection:
        current = self._settings.load().connection
        return replace(
            current, url=normalise_url(url), token="", verify_tls=verify_tls, ca_file=ca_file
        )

    async def _store(self, connection: Connection) -> None:
        settings: Settings = self._settings.load()
        if settings.connection.url != connection.url:
            settings = replace(settings, selection=type(settings.selection)())
        await self._settings.save_async(replace(settings, connection=connection))

    async def login_password(
        self, url: str, username: str, password: str, *, verify_tls: bool = True, ca_file: str = ""
    ) -> SignIn:
        """Exchange a username and password for a client token and save it.

        The result warns (and the warning is logged) when the password went over plain
        ``http://`` to a host that is not this machine. Raises ``InvalidInputError``
        (empty fields), ``AuthRejectedError`` (wrong password), ``MissingScopeError``,
        ``ServerTooOldError``, ``ServerUnreachableError``.
        """
        if not username or not password:
            raise InvalidInputError("Enter your RomM username and password.")
        connection = self._connection(url, verify_tls, ca_file)
        info = await self._auth.heartbeat(connection)
        token = await self._auth.create_client_token(
            connection, username=username, password=password, token_name=self._device_name
        )
        await self._store(replace(connection, token=token))
        self._server_version = info.version
        self._username = username
        warning = cleartext_password_warning(connection.url)
        if warning:
            _log.warning("%s", warning)
        return SignIn(info, (warning,) if warning else ())

    async def login_token(
        self, url: str, token: str, *, verify_tls: bool = True, ca_file: str = ""
    ) -> ServerInfo:
        """Check a pasted client token against the server and save it."""
        token = token.strip()
        if not token:
            raise InvalidInputError("Paste a RomM client API token (it starts with rmm_).")
        connection = replace(self._connection(url, verify_tls, ca_file), token=token)
        info = await self._auth.heartbeat(connection)
        self._username = await self._auth.check_token(connection)
        await self._store(connection)
        self._server_version = info.version
        return info

    async def server_version(self) -> str | None:
        """The signed-in server's ``SYSTEM.VERSION`` (``GET /api/heartbeat``).

        Served from memory once known (a sign-in, a connection test or an earlier call
        sets it); else one heartbeat is tried. None when not signed in or the server
        cannot be reached (never raises for that).
        """
        if self._server_version is not None:
            return self._server_version
        connection = self._settings.load().connection
        if not connection.configured:
            return None
        try:
            self._server_version = (await self._auth.heartbeat(connection)).version
        except RomDeckError:
            return None
        return self._server_version

    async def username(self) -> str | None:
        """The signed-in RomM user's ``username``.

        Served from memory once known (a password or token sign-in sets it); else one
        ``GET /api/users/me`` with the saved token is tried. None when not signed in, the
        token is rejected or the server cannot be reached (never raises for that).
        """
        if self._username is not None:
            return self._username
        connection = self._settings.load().connection
        if not connection.configured:
            return None
        try:
            self._username = await self._auth.check_token(connection)
        except RomDeckError:
            return None
        return self._username

    async def test_connection(self, api: RommCatalogApi) -> tuple[ServerInfo, int]:
        """Check the saved connection: ``(heartbeat info, number of platforms)``.

        Raises the client's errors (unreachable, TLS, auth rejected, bad response).
        """
        info = await api.heartbeat()
        platforms = await api.list_platforms()
        self._server_version = info.version
        return info, len(platforms)

    async def device_start(
        self, url: str, *, verify_tls: bool = True, ca_file: str = ""
    ) -> DeviceAuthorization:
        """Start the device flow; the user approves ``user_code`` at ``verification_url``."""
        connection = self._connection(url, verify_tls, ca_file)
        authorization = await self._auth.device_init(
            connection, device_id=self._device_id, device_name=self._device_name
        )
        now = self._clock.monotonic()
        self._pending = _PendingDevice(
            connection, authorization, now, now + max(authorization.expires_in, 1)
        )
        return authorization

    async def device_poll(self) -> DevicePoll:
        """Poll once, no sooner than the server's ``interval``; saves the token when approved.

        Raises ``NotConfiguredError`` when no device flow was started.
        """
        pending = self._pending
        if pending is None:
            raise NotConfiguredError("Start the device sign-in first.")
        now = self._clock.monotonic()
        if now >= pending.expires_at:
            self._pending = None
            return DevicePoll(DevicePollStatus.EXPIRED)
        if now < pending.next_poll_at:
            return DevicePoll(DevicePollStatus.PENDING)
        poll = await self._auth.device_poll(pending.connection, pending.authorization.device_code)
        interval = pending.authorization.interval
        if poll.status is DevicePollStatus.SLOW_DOWN:
            interval += 5
            pending = replace(
                pending, authorization=replace(pending.authorization, interval=interval)
            )
        self._pending = replace(pending, next_poll_at=now + interval)
        if poll.status is DevicePollStatus.APPROVED:
            await self._store(replace(pending.connection, token=poll.token))
            self._pending = None
            self._username = None  # the approving user is learnt from GET /api/users/me
        elif poll.status in (DevicePollStatus.DENIED, DevicePollStatus.EXPIRED):
            self._pending = None
        return poll

    async def device_wait(self) -> str:
        """Poll until approved (CLI use); returns the token. Raises ``AuthRejectedError``
        when the user denies or the code expires."""
        while True:
            poll = await self.device_poll()
            if poll.status is DevicePollStatus.APPROVED:
                return poll.token
            if poll.status in (DevicePollStatus.DENIED, DevicePollStatus.EXPIRED):
                raise AuthRejectedError(
                    "The sign-in was denied in RomM."
                    if poll.status is DevicePollStatus.DENIED
                    else "The sign-in code expired; start again."
                )
            pending = self._pending
            wait = pending.next_poll_at - self._clock.monotonic() if pending else 1.0
            await self._clock.sleep(max(wait, 0.05))

    async def logout(self) -> None:
        """Forget the token (the URL and selection stay)."""
        settings = self._settings.load()
        await self._settings.save_async(
            replace(settings, connection=replace(settings.connection, token=""))
        )
        self._username = None
