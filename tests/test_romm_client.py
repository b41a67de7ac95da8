"""AiohttpRommClient and PillowCoverFetcher against the fake RomM server on loopback.

Shapes, paging and the usual failures run against ``fake_romm``; answers the fake cannot
give (odd ``detail`` shapes, a 500 that heals, TLS) come from a small aiohttp app here.
"""

from __future__ import annotations

import io
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from PIL import Image

from fakeromm.library import FakeLibrary, cover_image
from fakeromm.server import FakeRommServer
from romdeck.adapters.romm.auth import AiohttpRommAuth
from romdeck.adapters.romm.catalog import AiohttpRommClient
from romdeck.adapters.romm.covers import PNG_SIGNATURE, PillowCoverFetcher
from romdeck.adapters.romm.http import RetryPolicy
from romdeck.adapters.romm.parse import parse_platforms, parse_rom_page
from romdeck.domain.auth import CLIENT_TOKEN_SCOPES
from romdeck.domain.settings import Connection
from romdeck.errors import (
    AuthRejectedError,
    BadResponseError,
    InvalidInputError,
    MissingScopeError,
    NotConfiguredError,
    NotFoundError,
    ServerUnreachableError,
    TlsError,
)
from romdeck.services.protocols import CoverFetcher, RommAuthApi, RommCatalogApi

ATTEMPTS = 3


class SleepLog:
    """Records the waits the retry policy asks for instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> SleepLog:
    return SleepLog()


@pytest.fixture
def retry(sleeps: SleepLog) -> RetryPolicy:
    return RetryPolicy(
        attempts=ATTEMPTS, initial_wait=0.5, max_wait=2, jitter=0, retry_after_cap=5, sleep=sleeps
    )


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def issue_token(library: FakeLibrary, scopes: tuple[str, ...] = CLIENT_TOKEN_SCOPES) -> str:
    return library.auth.create_client_token("admin", "deck", list(scopes), None).raw_token


@pytest.fixture
def token(fake_library: FakeLibrary) -> str:
    return issue_token(fake_library)


@pytest.fixture
def client(
    session: aiohttp.ClientSession, romm_url: str, token: str, retry: RetryPolicy
) -> AiohttpRommClient:
    return AiohttpRommClient(session, Connection(url=romm_url, token=token), retry=retry)


# ---- a scripted server for answers the fake does not give -------------------------------------
Answer = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Scripted:
    """An aiohttp app answering every request with the next scripted response."""

    def __init__(self) -> None:
        self.answers: list[web.Response] = []
        self.seen: list[web.Request] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(request)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@pytest_asyncio.fixture
async def scripted() -> AsyncIterator[Scripted]:
    script = Scripted()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", script.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # pyright: ignore
    script.url = f"http://127.0.0.1:{port}"
    yield script
    await runner.cleanup()


def scripted_client(
    session: aiohttp.ClientSession, script: Scripted, retry: RetryPolicy
) -> AiohttpRommClient:
    return AiohttpRommClient(session, Connection(url=script.url, token="rmm_x"), retry=retry)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---- catalog ----------------------------------------------------------------------------------
def test_the_adapters_fit_their_ports(
    session: aiohttp.ClientSession, client: AiohttpRommClient
) -> None:
    """Checked statically by basedpyright; at run time the assignments must simply hold."""
    catalog: RommCatalogApi = client
    auth: RommAuthApi = AiohttpRommAuth(session)
    covers: CoverFetcher = PillowCoverFetcher(client)

    assert callable(catalog.list_roms) and callable(auth.device_poll)
    assert callable(covers.fetch_png)


async def test_platforms_come_with_their_rom_counts(client: AiohttpRommClient) -> None:
    platforms = {p.slug: p for p in await client.list_platforms()}

    assert set(platforms) == {"gb", "gba", "n64", "psx", "snes"}
    assert platforms["psx"].rom_count == 4
    assert platforms["snes"].display_name == "Super Nintendo Entertainment System"


def test_platform_display_name_falls_back_to_custom_name_then_name() -> None:
    base = {"id": 1, "slug": "gb", "fs_slug": "gb", "name": "Game Boy", "rom_count": 0}
    rows = [
        {**base, "display_name": "Nice GB", "custom_name": "Custom"},
        {**base, "display_name": "", "custom_name": "Custom"},
        {**base, "custom_name": None},
    ]

    assert [p.display_name for p in parse_platforms(rows)] == ["Nice GB", "Custom", "Game Boy"]


async def test_paging_through_roms_returns_every_rom_once_in_id_order(
    client: AiohttpRommClient, fake_library: FakeLibrary
) -> None:
    ids: list[int] = []
    offset, total = 0, None
    while total is None or offset < total:
        page = await client.list_roms(offset=offset, limit=7)
        ids += [rom.id for rom in page.items]
        offset, total = offset + page.limit, page.total

    assert total == len(fake_library.roms)
    assert ids == sorted(fake_library.roms)


async def test_rom_list_asks_for_the_cheap_list(
    client: AiohttpRommClient, fake_romm: FakeRommServer
) -> None:
    await client.list_roms(limit=5)

    query = fake_romm.requests[-1][1]
    for flag in ("with_char_index=false", "with_filter_values=false", "with_files=false",
                 "with_rom_id_index=false", "with_total=true", "order_by=id"):  # fmt: skip
        assert flag in query


async def test_rom_list_filters_by_any_of_several_platforms(
    client: AiohttpRommClient, fake_romm: FakeRommServer
) -> None:
    page = await client.list_roms(platform_ids=[1, 5], limit=50)

    assert {rom.platform_slug for rom in page.items} == {"gb", "snes"}
    assert "platform_ids=1&platform_ids=5" in fake_romm.requests[-1][1]


async def test_rom_list_filters_by_collection(client: AiohttpRommClient) -> None:
    page = await client.list_roms(collection_id=1, limit=50)

    assert sorted(rom.id for rom in page.items) == [4, 12, 20]


async def test_updated_after_keeps_its_plus_sign(
    client: AiohttpRommClient, fake_romm: FakeRommServer
) -> None:
    page = await client.list_roms(updated_after="2999-01-01T00:00:00+00:00")

    assert page.items == ()
    assert "updated_after=2999-01-01T00:00:00%2B00:00" in fake_romm.requests[-1][1]


async def test_platform_rom_ids_lists_every_rom_of_the_platform(
    client: AiohttpRommClient, fake_library: FakeLibrary
) -> None:
    ids = await client.platform_rom_ids(4)

    assert sorted(ids) == sorted(r.id for r in fake_library.roms.values() if r.platform_id == 4)


def test_rom_name_falls_back_to_the_file_name_without_tags() -> None:
    item = {"id": 1, "platform_id": 2, "platform_slug": "gba", "name": "", "fs_name": "X (USA).gba",
            "fs_name_no_tags": "X", "path_cover_large": None, "updated_at": "t"}  # fmt: skip

    page = parse_rom_page({"items": [item], "total": None, "offset": 0, "limit": 1})

    assert page.items[0].name == "X"
    assert page.items[0].cover_path == ""
    assert page.total is None


def test_a_missing_field_is_named_in_the_error() -> None:
    item = {"id": 1, "platform_slug": "gba", "name": "X", "fs_name_no_tags": "X"}

    with pytest.raises(BadResponseError, match=r"items\[0\]\.platform_id is missing"):
        parse_rom_page({"items": [item], "total": 1, "offset": 0, "limit": 1})


async def test_a_rom_comes_with_its_files_and_an_encoded_content_url(
    client: AiohttpRommClient, romm_url: str
) -> None:
    rom = await client.get_rom(4)

    assert len(rom.files) == 1
    assert rom.fs_path == "roms/gba"
    assert client.content_url(rom) == (
        f"{romm_url}/api/roms/4/content/"
        "Harry%20Potter%20%C3%A0%20l%27%C3%89cole%20des%20Sorciers%20%28France%29.gba"
    )


async def test_collections_list_their_rom_ids(client: AiohttpRommClient) -> None:
    (collection,) = await client.list_collections()

    assert collection.rom_ids == (4, 12, 20)


async def test_download_helpers_carry_the_token_and_tls_setting(
    session: aiohttp.ClientSession, romm_url: str
) -> None:
    client = AiohttpRommClient(session, Connection(url=romm_url, token="rmm_t", verify_tls=False))

    assert client.auth_headers()["Authorization"] == "Bearer rmm_t"
    assert client.auth_headers()["User-Agent"].startswith("RomDeck/")
    assert client.ssl is False


# ---- error mapping ----------------------------------------------------------------------------
async def test_an_unknown_rom_is_not_found(client: AiohttpRommClient) -> None:
    with pytest.raises(NotFoundError, match="999"):
        await client.get_rom(999)


async def test_a_revoked_token_is_rejected_without_showing_it(
    session: aiohttp.ClientSession, romm_url: str
) -> None:
    client = AiohttpRommClient(session, Connection(url=romm_url, token="rmm_revoked123"))

    with pytest.raises(AuthRejectedError, match="Sign in again") as caught:
        await client.list_platforms()
    assert "rmm_revoked123" not in str(caught.value)


async def test_a_token_without_the_scope_names_the_missing_scope(
    session: aiohttp.ClientSession, romm_url: str, fake_library: FakeLibrary
) -> None:
    token = issue_token(fake_library, scopes=("roms.read",))
    client = AiohttpRommClient(session, Connection(url=romm_url, token=token))

    with pytest.raises(MissingScopeError, match=r"platforms\.read"):
        await client.list_platforms()


async def test_no_token_means_not_signed_in(session: aiohttp.ClientSession, romm_url: str) -> None:
    with pytest.raises(NotConfiguredError):
        await AiohttpRommClient(session, Connection(url=romm_url)).list_platforms()


def test_an_address_that_is_not_http_is_refused(session: aiohttp.ClientSession) -> None:
    with pytest.raises(InvalidInputError):
        AiohttpRommClient(session, Connection(url="ftp://romm.local", token="rmm_x"))


async def test_a_persistent_server_error_fails_after_every_attempt(
    client: AiohttpRommClient, fake_romm: FakeRommServer, sleeps: SleepLog
) -> None:
    fake_romm.fail_status = 500

    with pytest.raises(BadResponseError, match="server error"):
        await client.list_platforms()
    assert len(fake_romm.requests) == ATTEMPTS
    assert sleeps.waits == [0.5, 1.0]


async def test_rate_limits_are_waited_out_up_to_the_cap(
    client: AiohttpRommClient, fake_romm: FakeRommServer, sleeps: SleepLog
) -> None:
    fake_romm.rate_limit_429(2, retry_after=120)

    platforms = await client.list_platforms()

    assert len(platforms) == 5
    assert sleeps.waits == [5, 5]


async def test_a_server_error_that_heals_is_retried_to_success(
    session: aiohttp.ClientSession, scripted: Scripted, retry: RetryPolicy
) -> None:
    scripted.answers = [
        web.Response(status=502, text="Bad Gateway"),
        web.Response(status=500, text="Internal Server Error"),
        web.json_response({"SYSTEM": {"VERSION": "5.0.0"}}),
    ]

    info = await scripted_client(session, scripted, retry).heartbeat()

    assert info.version == "5.0.0"
    assert len(scripted.seen) == 3


async def test_a_closed_port_is_unreachable(
    session: aiohttp.ClientSession, retry: RetryPolicy, sleeps: SleepLog
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    client = AiohttpRommClient(session, Connection(url=url, token="rmm_x"), retry=retry)

    with pytest.raises(ServerUnreachableError, match=f"Cannot reach the RomM server at {url}"):
        await client.list_platforms()
    assert len(sleeps.waits) == ATTEMPTS - 1


async def test_a_server_that_drops_connections_is_unreachable(
    client: AiohttpRommClient, fake_romm: FakeRommServer
) -> None:
    fake_romm.down = True

    with pytest.raises(ServerUnreachableError):
        await client.heartbeat()


@pytest.mark.parametrize(
    ("detail", "shown"),
    [
        ("Invalid expires_in value: 7d", "Invalid expires_in value: 7d"),
        ({"error": "device_exists", "message": "Device already exists"},
         "device_exists: Device already exists"),
        ([{"type": "greater_than_equal", "loc": ["query", "limit"],
           "msg": "Input should be greater than or equal to 1", "input": "0"}],
         "limit: Input should be greater than or equal to 1"),
    ],
)  # fmt: skip
async def test_a_refusal_shows_the_servers_detail_readably(
    session: aiohttp.ClientSession, scripted: Scripted, retry: RetryPolicy,
    detail: object, shown: str,
) -> None:  # fmt: skip
    scripted.answers = [web.json_response({"detail": detail}, status=422)]

    with pytest.raises(BadResponseError) as caught:
        await scripted_client(session, scripted, retry).list_platforms()
    assert shown in str(caught.value)
    assert "HTTP 422" in str(caught.value)
    assert len(scripted.seen) == 1


async def test_an_answer_that_is_not_json_is_a_bad_response(
    session: aiohttp.ClientSession, scripted: Scripted, retry: RetryPolicy
) -> None:
    scripted.answers = [web.Response(text="<html>login</html>", content_type="text/html")]

    with pytest.raises(BadResponseError, match="not JSON"):
        await scripted_client(session, scripted, retry).list_platforms()


async def test_an_answer_of_the_wrong_shape_names_the_field(
    session: aiohttp.ClientSession, scripted: Scripted, retry: RetryPolicy
) -> None:
    scripted.answers = [web.json_response([{"id": 1, "slug": "gb", "fs_slug": "gb"}])]

    with pytest.raises(BadResponseError, match=r"platforms\[0\]\.name is missing"):
        await scripted_client(session, scripted, retry).list_platforms()


# ---- covers -----------------------------------------------------------------------------------
async def test_a_cover_path_with_raw_spaces_and_plus_is_encoded_once(
    client: AiohttpRommClient, fake_library: FakeLibrary, fake_romm: FakeRommServer
) -> None:
    fake_library.set_cover(20, cover_image("PNG"))
    path = fake_library.cover_paths(fake_library.roms[20])[1]
    assert " " in path and "+" in path

    body, content_type = await client.fetch_cover(path)

    assert body == cover_image("PNG")
    assert content_type == "image/png"
    sent = fake_romm.requests[-1][1]
    assert " " not in sent and "+" not in sent
    assert "%20" in sent and "%2B" in sent


async def test_asset_requests_carry_no_authorization(
    session: aiohttp.ClientSession, scripted: Scripted, retry: RetryPolicy
) -> None:
    scripted.answers = [web.Response(body=cover_image("PNG"), content_type="image/png")]

    await scripted_client(session, scripted, retry).fetch_cover("/assets/a b.png?ts=1 2+3")

    assert "Authorization" not in scripted.seen[0].headers
    assert scripted.seen[0].raw_path == "/assets/a%20b.png?ts=1%202%2B3"


async def test_a_webp_cover_is_converted_to_png(
    client: AiohttpRommClient, fake_library: FakeLibrary
) -> None:
    fake_library.set_cover(20, cover_image("WEBP"), "image/webp")
    path = fake_library.cover_paths(fake_library.roms[20])[1]

    png = await PillowCoverFetcher(client).fetch_png(path)

    assert png.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(png)) as image:
        assert (image.format, image.size) == ("PNG", (264, 352))


async def test_a_png_cover_passes_through_untouched(
    client: AiohttpRommClient, fake_library: FakeLibrary
) -> None:
    original = cover_image("PNG", color=(1, 2, 3))
    fake_library.set_cover(15, original)
    path = fake_library.cover_paths(fake_library.roms[15])[1]

    assert await PillowCoverFetcher(client).fetch_png(path) == original


async def test_a_cover_that_is_not_an_image_is_a_bad_response(
    session: aiohttp.ClientSession, scripted: Scripted, retry: RetryPolicy
) -> None:
    scripted.answers = [web.Response(text="oops", content_type="image/jpeg")]
    fetcher = PillowCoverFetcher(scripted_client(session, scripted, retry))

    with pytest.raises(BadResponseError, match="not an image"):
        await fetcher.fetch_png("/assets/cover.jpg")


async def test_a_missing_cover_is_not_found(client: AiohttpRommClient) -> None:
    with pytest.raises(NotFoundError):
        await PillowCoverFetcher(client).fetch_png("/assets/romm/resources/roms/3/8/cover/big.png")


# ---- TLS --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest_asyncio.fixture
async def tls_url(self_signed: tuple[Path, Path]) -> AsyncIterator[str]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*self_signed)

    async def heartbeat(_: web.Request) -> web.Response:
        return web.json_response({"SYSTEM": {"VERSION": "5.1.0"}})

    app = web.Application()
    app.router.add_get("/api/heartbeat", heartbeat)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    yield f"https://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # pyright: ignore
    await runner.cleanup()


async def test_an_untrusted_certificate_is_a_tls_failure(
    session: aiohttp.ClientSession, tls_url: str, retry: RetryPolicy, sleeps: SleepLog
) -> None:
    client = AiohttpRommClient(session, Connection(url=tls_url, token="rmm_x"), retry=retry)

    with pytest.raises(TlsError, match="certificate"):
        await client.heartbeat()
    assert sleeps.waits == []


async def test_a_ca_file_makes_a_self_signed_server_trusted(
    session: aiohttp.ClientSession, tls_url: str, self_signed: tuple[Path, Path]
) -> None:
    connection = Connection(url=tls_url, token="rmm_x", ca_file=str(self_signed[0]))

    assert (await AiohttpRommClient(session, connection).heartbeat()).version == "5.1.0"


async def test_turning_verification_off_accepts_any_certificate(
    session: aiohttp.ClientSession, tls_url: str
) -> None:
    connection = Connection(url=tls_url, token="rmm_x", verify_tls=False)

    assert (await AiohttpRommClient(session, connection).heartbeat()).version == "5.1.0"


def test_an_unreadable_ca_file_is_a_tls_failure(
    session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    connection = Connection(url="https://romm.local", token="rmm_x", ca_file=str(tmp_path / "x"))

    with pytest.raises(TlsError, match="certificate file"):
        AiohttpRommClient(session, connection)
