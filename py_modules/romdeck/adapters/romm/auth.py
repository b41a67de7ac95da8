"""Signs RomDeck in to a RomM server over HTTP (the ``RommAuthApi`` port).

Two ways to get an ``rmm_`` client API token: a password grant followed by
``POST /api/client-tokens`` (the password is used for that one request and kept
nowhere), or RomM's device-authorization flow (``/api/auth/device/*``).
"""

from __future__ import annotations

import asyncio

import aiohttp

from romdeck import __version__
from romdeck.adapters.romm import parse
from romdeck.adapters.romm.http import (
    RetryPolicy,
    RommHttp,
    decode_json,
    tls_context,
)
from romdeck.domain.auth import (
    CLIENT_TOKEN_SCOPES,
    PASSWORD_GRANT_SCOPES,
    DeviceAuthorization,
    DevicePoll,
    DevicePollStatus,
)
from romdeck.domain.models import ServerInfo
from romdeck.domain.settings import Connection
from romdeck.domain.version import check_supported
from romdeck.errors import BadResponseError, NotFoundError, ServerTooOldError

WRONG_PASSWORD = "The RomM server rejected the user name or password."
TOKEN_REJECTED = "The RomM server rejected this API token (it was revoked or has expired)."
_POLL_ANSWERS = frozenset(
    {
        DevicePollStatus.PENDING,
        DevicePollStatus.SLOW_DOWN,
        DevicePollStatus.DENIED,
        DevicePollStatus.EXPIRED,
    }
)


class AiohttpRommAuth:
    """Unauthenticated sign-in calls, each against ``connection.url``, on the caller's session.

    TLS and timeouts come from each call's ``connection``. Raises
    ``ServerUnreachableError``/``TlsError``, ``AuthRejectedError``,
    ``MissingScopeError``, ``ServerTooOldError``, ``InvalidInputError`` (bad address)
    or ``BadResponseError``. Sign-in POSTs are never retried.
    """

    def __init__(self, session: aiohttp.ClientSession, *, retry: RetryPolicy | None = None) -> None:
        self._session = session
        self._retry = retry or RetryPolicy()

    async def heartbeat(self, connection: Connection) -> ServerInfo:
        """``GET /api/heartbeat`` -> the server's version (not checked here)."""
        http = await self._http(connection)
        return parse.parse_server_info(await http.json("GET", "/api/heartbeat"))

    async def create_client_token(
        self, connection: Connection, *, username: str, password: str, token_name: str
    ) -> str:
        """Check the version, ``POST /api/token`` (password grant), ``POST /api/client-tokens``.

        The grant asks for ``PASSWORD_GRANT_SCOPES``; the client token gets
        ``CLIENT_TOKEN_SCOPES`` and never expires. Returns its raw ``rmm_`` secret.
        A wrong password raises ``AuthRejectedError``; a user lacking a scope
        ``MissingScopeError``.
        """
        http = await self._checked(connection)
        form = {
            "grant_type": "password",
            "username": username,
            "password": password,
            "scope": " ".join(PASSWORD_GRANT_SCOPES),
        }
        grant = await http.json(
            "POST", "/api/token", form=form, on_401=WRONG_PASSWORD,
            scope=" ".join(PASSWORD_GRANT_SCOPES),
        )  # fmt: skip
        body = {"name": token_name, "scopes": list(CLIENT_TOKEN_SCOPES), "expires_in": "never"}
        created = await http.json(
            "POST", "/api/client-tokens", json_body=body,
            bearer=parse.parse_access_token(grant), scope="me.write",
        )  # fmt: skip
        return parse.parse_raw_token(created)

    async def check_token(self, connection: Connection) -> str:
        """``GET /api/users/me`` with ``connection.token``: the signed-in ``username``.

        Raises ``AuthRejectedError`` if the token is rejected, ``BadResponseError`` when the
        reply has no ``username``.
        """
        http = await self._http(connection)
        data = await http.json(
            "GET", "/api/users/me", bearer=connection.token, scope="me.read",
            on_401=TOKEN_REJECTED,
        )  # fmt: skip
        return parse.parse_username(data)

    async def device_init(
        self, connection: Connection, *, device_id: str, device_name: str
    ) -> DeviceAuthorization:
        """Check the version, then ``POST /api/auth/device/init`` asking ``CLIENT_TOKEN_SCOPES``.

        ``device_id`` is this Deck's stable identifier (RomM matches devices on it).
        A server without the device flow raises ``ServerTooOldError``.
        """
        http = await self._checked(connection)
        body = {
            "client_device_identifier": device_id,
            "name": device_name,
            "client": "RomDeck",
            "platform": "SteamOS",
            "client_version": __version__,
            "requested_scopes": list(CLIENT_TOKEN_SCOPES),
        }
        try:
            data = await http.json("POST", "/api/auth/device/init", json_body=body)
        except NotFoundError as exc:
            raise ServerTooOldError(
                "This RomM server has no device sign-in: update RomM, or sign in with "
                "your user name and password."
            ) from exc
        return parse.parse_device_authorization(data, http.base)

    async def device_poll(self, connection: Connection, device_code: str) -> DevicePoll:
        """One ``POST /api/auth/device/token``: pending, slow down, denied, expired or approved.

        A 429 counts as slow down. Other refusals raise ``BadResponseError``.
        """
        http = await self._http(connection)
        reply = await http.send(
            "POST", http.url("/api/auth/device/token"), json_body={"device_code": device_code},
            accept=(400, 429),
        )  # fmt: skip
        if reply.status == 429:
            return DevicePoll(DevicePollStatus.SLOW_DOWN)
        if reply.status == 400:
            return DevicePoll(_poll_status(parse.error_detail(reply.body)))
        data = await decode_json(reply, "POST /api/auth/device/token")
        return DevicePoll(DevicePollStatus.APPROVED, token=parse.parse_device_token(data))

    async def _http(self, connection: Connection) -> RommHttp:
        https = connection.url.startswith("https:")
        ssl_setting = await asyncio.to_thread(
            tls_context, connection.verify_tls, connection.ca_file, https=https
        )
        return RommHttp(self._session, connection, ssl_setting=ssl_setting, retry=self._retry)

    async def _checked(self, connection: Connection) -> RommHttp:
        http = await self._http(connection)
        info = parse.parse_server_info(await http.json("GET", "/api/heartbeat"))
        check_supported(info.version)
        return http


def _poll_status(detail: object) -> DevicePollStatus:
    if detail == "invalid_grant":  # an unknown device code: the flow must start again
        return DevicePollStatus.EXPIRED
    for status in _POLL_ANSWERS:
        if detail == status.value:
            return status
    shown = detail if isinstance(detail, str) else "no reason given"
    raise BadResponseError(f"The RomM server refused the device sign-in poll: {shown}.")
