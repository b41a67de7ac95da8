"""AiohttpRommAuth: password sign-in, token check and the device flow against the fake RomM."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from fakeromm.fixtures import FAKE_PASSWORD, FAKE_USERNAME
from fakeromm.library import FakeLibrary
from fakeromm.server import FakeRommServer
from romdeck.adapters.romm.auth import AiohttpRommAuth
from romdeck.adapters.romm.http import RetryPolicy
from romdeck.domain.auth import CLIENT_TOKEN_SCOPES, PASSWORD_GRANT_SCOPES, DevicePollStatus
from romdeck.domain.settings import Connection
from romdeck.errors import (
    AuthRejectedError,
    BadResponseError,
    MissingScopeError,
    ServerTooOldError,
    ServerUnreachableError,
)


async def _no_wait(_: float) -> None:
    return None


@pytest_asyncio.fixture
async def auth() -> AsyncIterator[AiohttpRommAuth]:
    retry = RetryPolicy(attempts=2, initial_wait=0, max_wait=0, jitter=0, sleep=_no_wait)
    async with aiohttp.ClientSession() as session:
        yield AiohttpRommAuth(session, retry=retry)


@pytest.fixture
def connection(romm_url: str) -> Connection:
    return Connection(url=romm_url)


def posts(server: FakeRommServer, path: str) -> int:
    return sum(1 for method, sent, _ in server.requests if method == "POST" and sent == path)


# ---- password sign-in -------------------------------------------------------------------------
async def test_password_sign_in_returns_a_working_client_token(
    auth: AiohttpRommAuth, connection: Connection, fake_library: FakeLibrary
) -> None:
    token = await auth.create_client_token(
        connection, username=FAKE_USERNAME, password=FAKE_PASSWORD, token_name="Steam Deck"
    )

    (stored,) = fake_library.auth.client_tokens.values()
    assert token.startswith("rmm_")
    assert (stored.name, stored.scopes, stored.expires_at) == (
        "Steam Deck", list(CLIENT_TOKEN_SCOPES), None,
    )  # fmt: skip
    await auth.check_token(Connection(url=connection.url, token=token))


async def test_password_grant_asks_for_the_client_scopes_plus_me_write(
    auth: AiohttpRommAuth, connection: Connection, fake_library: FakeLibrary
) -> None:
    await auth.create_client_token(
        connection, username=FAKE_USERNAME, password=FAKE_PASSWORD, token_name="deck"
    )

    granted = [g.scopes for g in fake_library.auth.grants.values() if g.kind == "access"]
    assert granted == [list(PASSWORD_GRANT_SCOPES)]


async def test_a_wrong_password_is_rejected_and_never_echoed(
    auth: AiohttpRommAuth, connection: Connection, fake_romm: FakeRommServer
) -> None:
    with pytest.raises(AuthRejectedError, match="user name or password") as caught:
        await auth.create_client_token(
            connection, username=FAKE_USERNAME, password="s3cret-guess", token_name="deck"
        )
    assert "s3cret-guess" not in str(caught.value)
    assert posts(fake_romm, "/api/client-tokens") == 0


async def test_a_user_without_a_needed_scope_gets_missing_scope(
    auth: AiohttpRommAuth, connection: Connection, fake_library: FakeLibrary
) -> None:
    fake_library.auth.add_user("viewer", "pw", scopes=["me.read", "roms.read"])

    with pytest.raises(MissingScopeError):
        await auth.create_client_token(
            connection, username="viewer", password="pw", token_name="deck"
        )


async def test_a_server_too_old_is_refused_before_the_password_is_sent(
    auth: AiohttpRommAuth, connection: Connection, fake_romm: FakeRommServer
) -> None:
    fake_romm.version = "4.7.2"

    with pytest.raises(ServerTooOldError, match=r"4\.7\.2"):
        await auth.create_client_token(
            connection, username=FAKE_USERNAME, password=FAKE_PASSWORD, token_name="deck"
        )
    assert posts(fake_romm, "/api/token") == 0


async def test_the_token_request_is_never_retried(
    auth: AiohttpRommAuth, connection: Connection, fake_romm: FakeRommServer
) -> None:
    fake_romm.fail_after(1, 500)  # the heartbeat passes, the token POST fails

    with pytest.raises(BadResponseError, match="server error"):
        await auth.create_client_token(
            connection, username=FAKE_USERNAME, password=FAKE_PASSWORD, token_name="deck"
        )
    assert posts(fake_romm, "/api/token") == 1


async def test_client_token_creation_is_never_retried(
    auth: AiohttpRommAuth, connection: Connection, fake_romm: FakeRommServer
) -> None:
    fake_romm.fail_after(2, 503)

    with pytest.raises(BadResponseError):
        await auth.create_client_token(
            connection, username=FAKE_USERNAME, password=FAKE_PASSWORD, token_name="deck"
        )
    assert posts(fake_romm, "/api/client-tokens") == 1


async def test_a_revoked_token_fails_the_check(
    auth: AiohttpRommAuth, connection: Connection
) -> None:
    with pytest.raises(AuthRejectedError, match="revoked"):
        await auth.check_token(Connection(url=connection.url, token="rmm_" + "0" * 64))


async def test_an_unreachable_server_is_reported_with_its_address(auth: AiohttpRommAuth) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    with pytest.raises(ServerUnreachableError, match=f"Cannot reach the RomM server at {url}"):
        await auth.heartbeat(Connection(url=url))


# ---- device flow ------------------------------------------------------------------------------
async def test_device_sign_in_is_pending_until_approved_then_gives_a_token(
    auth: AiohttpRommAuth, connection: Connection, fake_library: FakeLibrary
) -> None:
    started = await auth.device_init(connection, device_id="deck-1", device_name="My Deck")
    pending = await auth.device_poll(connection, started.device_code)
    fake_library.approve_device(started.user_code)
    approved = await auth.device_poll(connection, started.device_code)

    assert started.verification_url == (
        f"{connection.url}/pair/device?user_code={started.user_code}"
    )
    assert pending.status is DevicePollStatus.PENDING
    assert approved.status is DevicePollStatus.APPROVED
    assert approved.token.startswith("rmm_")
    await auth.check_token(Connection(url=connection.url, token=approved.token))


async def test_device_sign_in_requests_the_client_scopes(
    auth: AiohttpRommAuth, connection: Connection, fake_library: FakeLibrary
) -> None:
    started = await auth.device_init(connection, device_id="deck-1", device_name="My Deck")

    request = fake_library.auth.device_requests[started.device_code]
    assert (request.requested_scopes, request.name) == (list(CLIENT_TOKEN_SCOPES), "My Deck")


async def test_polling_too_fast_is_told_to_slow_down(
    auth: AiohttpRommAuth, connection: Connection, fake_romm: FakeRommServer
) -> None:
    fake_romm.device_interval = 600
    started = await auth.device_init(connection, device_id="deck-1", device_name="Deck")

    await auth.device_poll(connection, started.device_code)
    second = await auth.device_poll(connection, started.device_code)

    assert second.status is DevicePollStatus.SLOW_DOWN


async def test_a_denied_device_sign_in_says_denied(
    auth: AiohttpRommAuth, connection: Connection, fake_library: FakeLibrary
) -> None:
    started = await auth.device_init(connection, device_id="deck-1", device_name="Deck")
    fake_library.deny_device(started.user_code)

    assert (await auth.device_poll(connection, started.device_code)).status is (
        DevicePollStatus.DENIED
    )


async def test_an_expired_device_sign_in_says_expired(
    auth: AiohttpRommAuth, connection: Connection, fake_library: FakeLibrary
) -> None:
    started = await auth.device_init(connection, device_id="deck-1", device_name="Deck")
    fake_library.expire_device(started.user_code)

    poll = await auth.device_poll(connection, started.device_code)

    assert (poll.status, poll.token) == (DevicePollStatus.EXPIRED, "")


async def test_a_server_without_the_device_flow_is_too_old(auth: AiohttpRommAuth) -> None:
    async def heartbeat(_: web.Request) -> web.Response:
        return web.json_response({"SYSTEM": {"VERSION": "development"}})

    app = web.Application()
    app.router.add_get("/api/heartbeat", heartbeat)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # pyright: ignore
    try:
        with pytest.raises(ServerTooOldError, match="device sign-in"):
            await auth.device_init(Connection(url=url), device_id="d", device_name="Deck")
    finally:
        await runner.cleanup()
