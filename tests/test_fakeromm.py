"""The fake RomM server answers in the recorded shapes (``../shared/romm-api/captures``)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
import pytest_asyncio

from fakeromm.library import FakeLibrary, load_capture
from fakeromm.server import FakeRommServer

ADMIN = aiohttp.BasicAuth("admin", "hunter2")
LIGHT = "with_char_index=false&with_filter_values=false&with_rom_id_index=false"


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def get_json(
    http: aiohttp.ClientSession, url: str, auth: aiohttp.BasicAuth | None = ADMIN, **kw: Any
) -> tuple[int, Any]:
    async with http.get(url, auth=auth, **kw) as response:
        return response.status, await response.json()


async def test_rom_list_items_have_exactly_the_recorded_keys(
    romm_url: str, http: aiohttp.ClientSession
) -> None:
    recorded = load_capture("roms_page1_light.json")
    status, body = await get_json(http, f"{romm_url}/api/roms?limit=5&{LIGHT}")
    assert status == 200
    assert list(body) == list(recorded)
    assert list(body["items"][0]) == list(recorded["items"][0])
    assert [r["id"] for r in body["items"]] == [r["id"] for r in recorded["items"]]


async def test_rom_list_pages_report_total_and_full_rom_id_index(
    romm_url: str, http: aiohttp.ClientSession
) -> None:
    recorded = load_capture("roms_page1.json")
    _, page1 = await get_json(http, f"{romm_url}/api/roms?limit=5&offset=0")
    _, page2 = await get_json(http, f"{romm_url}/api/roms?limit=5&offset=5")
    assert page1["total"] == 20
    assert page1["rom_id_index"] == recorded["rom_id_index"]
    assert page1["char_index"] == recorded["char_index"]
    assert [r["id"] for r in page2["items"]] == recorded["rom_id_index"][5:10]
    _, no_total = await get_json(http, f"{romm_url}/api/roms?limit=5&with_total=false&{LIGHT}")
    assert no_total["total"] is None


async def test_rom_list_rejects_limit_zero_and_naive_updated_after(
    romm_url: str, http: aiohttp.ClientSession
) -> None:
    status, body = await get_json(http, f"{romm_url}/api/roms?limit=0")
    assert (status, body) == (422, load_capture("error_422_roms_limit0.json"))
    status, body = await get_json(http, f"{romm_url}/api/roms?updated_after=2026-01-01T00:00:00")
    assert status == 422
    assert body["detail"][0]["loc"] == ["query", "updated_after"]


async def test_updated_after_returns_only_roms_changed_later(
    fake_romm: FakeRommServer, romm_url: str, http: aiohttp.ClientSession
) -> None:
    lib = fake_romm.library
    newest = max(r.updated_at for r in lib.roms.values())
    lib.rename_rom(7, "Metroid Fusion (renamed)")
    after = quote(newest.isoformat())
    _, body = await get_json(http, f"{romm_url}/api/roms?updated_after={after}&{LIGHT}")
    assert [(r["id"], r["name"]) for r in body["items"]] == [(7, "Metroid Fusion (renamed)")]


async def test_platform_filter_matches_any_of_the_repeated_ids(
    romm_url: str, http: aiohttp.ClientSession
) -> None:
    url = f"{romm_url}/api/roms?platform_ids=2&platform_ids=5&order_by=name&order_dir=desc"
    _, body = await get_json(http, f"{url}&{LIGHT}")
    recorded = load_capture("roms_platform_gba_or_snes.json")
    assert [r["id"] for r in body["items"]] == [r["id"] for r in recorded["items"]]


async def test_rom_detail_lists_files_and_unknown_rom_is_404(
    romm_url: str, http: aiohttp.ClientSession
) -> None:
    _, detail = await get_json(http, f"{romm_url}/api/roms/14")
    assert set(detail) == set(load_capture("rom_detail_14.json"))
    assert [f["id"] for f in detail["files"]] == [18, 19, 17, 16]
    assert detail["has_multiple_files"] is False
    status, body = await get_json(http, f"{romm_url}/api/roms/999999")
    assert (status, body) == (404, load_capture("error_404_rom.json"))


async def test_single_file_download_honours_range_and_rejects_bad_range(
    fake_romm: FakeRommServer, romm_url: str, http: aiohttp.ClientSession
) -> None:
    content = fake_romm.library.roms[20].files[0].content
    url = f"{romm_url}/api/roms/20/content/{quote('Super Metroid (USA, Europe).sfc')}"
    async with http.get(url, auth=ADMIN, headers={"Range": "bytes=0-99"}) as response:
        assert response.status == 206
        assert response.headers["Content-Range"] == f"bytes 0-99/{len(content)}"
        assert await response.read() == content[:100]
    async with http.get(url, auth=ADMIN, headers={"Range": "bytes=99999999-"}) as response:
        assert response.status == 416
        assert response.headers["Content-Range"] == f"bytes */{len(content)}"


async def test_multi_file_download_is_a_zip_with_subfolders_and_an_m3u(
    romm_url: str, http: aiohttp.ClientSession
) -> None:
    url = f"{romm_url}/api/roms/14/content/{quote('Metal Gear Solid (USA)')}"
    async with http.get(url, auth=ADMIN) as response:
        assert "Content-Length" not in response.headers
        data = await response.read()
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.namelist()[-1] == "Metal Gear Solid (USA).m3u"
    assert archive.read("Metal Gear Solid (USA).m3u").decode() == (
        "Disc 1/Metal Gear Solid (USA) (Disc 1).cue\nDisc 2/Metal Gear Solid (USA) (Disc 2).cue"
    )


async def test_multi_file_range_request_builds_a_stable_cached_zip(
    romm_url: str, http: aiohttp.ClientSession
) -> None:
    url = f"{romm_url}/api/roms/12/content/x"
    async with http.head(url, auth=ADMIN) as response:
        assert response.headers["Content-Length"] == "0"
    async with http.get(url, auth=ADMIN, headers={"Range": "bytes=0-"}) as response:
        assert response.status == 206
        first, etag = await response.read(), response.headers["ETag"]
    async with http.get(url, auth=ADMIN, headers={"Range": "bytes=100-"}) as response:
        assert (await response.read(), response.headers["ETag"]) == (first[100:], etag)
    async with http.head(url, auth=ADMIN) as response:
        assert response.headers["Content-Length"] == str(len(first))
    names = zipfile.ZipFile(io.BytesIO(first)).namelist()
    assert names[-1] == "Castlevania - Symphony of the Night (USA).m3u"


async def test_cover_path_with_raw_spaces_is_served_without_auth(
    romm_url: str, http: aiohttp.ClientSession
) -> None:
    _, rom = await get_json(http, f"{romm_url}/api/roms/20")
    path = rom["path_cover_large"]
    assert " " in path and "+00:00" in path
    async with http.get(romm_url + quote(path, safe="/?=")) as response:
        assert response.status == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert (await response.read())[:8] == b"\x89PNG\r\n\x1a\n"
    async with http.get(f"{romm_url}/assets/romm/resources/roms/5/19/cover/big.png") as response:
        assert response.status == 404


async def test_auth_errors_match_the_recorded_shapes(
    romm_url: str, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{romm_url}/api/roms") as response:
        assert response.status == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert await response.json() == {"detail": "Not authenticated"}
    headers = {"Authorization": "Bearer eyJnot.a.jwt"}
    async with http.get(f"{romm_url}/api/users/me", headers=headers) as response:
        assert (response.status, await response.text()) == (500, "Internal Server Error")
    headers = {"Authorization": "Bearer rmm_" + "0" * 64}
    status, _ = await get_json(http, f"{romm_url}/api/roms", auth=None, headers=headers)
    assert status == 401
    form = {"username": "admin", "password": "wrong"}
    async with http.post(f"{romm_url}/api/token", data=form) as response:
        assert (response.status, await response.json()) == (
            401, {"detail": "Invalid username or password"},
        )  # fmt: skip


async def test_scopeless_password_grant_token_is_forbidden_everywhere(
    romm_url: str, http: aiohttp.ClientSession
) -> None:
    form = {"grant_type": "password", "username": "admin", "password": "hunter2"}
    async with http.post(f"{romm_url}/api/token", data=form) as response:
        token = (await response.json())["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    status, body = await get_json(http, f"{romm_url}/api/roms", auth=None, headers=headers)
    assert (status, body) == (403, {"detail": "Forbidden"})
    form["scope"] = "roms.read not.a.scope"
    async with http.post(f"{romm_url}/api/token", data=form) as response:
        assert (response.status, await response.json()) == (403, {"detail": "Insufficient scope"})


async def test_revoked_client_token_stops_working(
    romm_url: str, http: aiohttp.ClientSession
) -> None:
    payload = {"name": "Deck", "scopes": ["roms.read"], "expires_in": "30d"}
    async with http.post(f"{romm_url}/api/client-tokens", json=payload, auth=ADMIN) as response:
        assert response.status == 201
        created = await response.json()
    headers = {"Authorization": f"Bearer {created['raw_token']}"}
    status, _ = await get_json(http, f"{romm_url}/api/roms?limit=1", auth=None, headers=headers)
    assert status == 200
    async with http.delete(f"{romm_url}/api/client-tokens/{created['id']}", auth=ADMIN) as r:
        assert (r.status, await r.json()) == (200, None)
    status, _ = await get_json(http, f"{romm_url}/api/roms?limit=1", auth=None, headers=headers)
    assert status == 401
    bad = {**payload, "expires_in": "7d"}
    async with http.post(f"{romm_url}/api/client-tokens", json=bad, auth=ADMIN) as response:
        assert await response.json() == load_capture("error_422_client_token_bad_expiry.json")


async def test_device_flow_goes_pending_then_approved_then_expired(
    fake_romm: FakeRommServer, romm_url: str, http: aiohttp.ClientSession
) -> None:
    init = {"client_device_identifier": "deck-1", "name": "Deck", "client": "romdeck",
            "requested_scopes": ["roms.read", "me.read"]}  # fmt: skip
    async with http.post(f"{romm_url}/api/auth/device/init", json=init) as response:
        assert response.status == 201
        started = await response.json()
    poll = {"device_code": started["device_code"]}
    url = f"{romm_url}/api/auth/device/token"
    details = []
    for step in ("pending", "approve", "again"):
        if step == "approve":
            fake_romm.library.approve_device(started["user_code"])
        async with http.post(url, json=poll) as response:
            details.append((response.status, (await response.json()).get("detail")))
    assert details == [(400, "authorization_pending"), (200, None), (400, "expired_token")]


async def test_device_flow_answers_slow_down_and_access_denied(
    fake_romm: FakeRommServer, romm_url: str, http: aiohttp.ClientSession
) -> None:
    fake_romm.device_interval = 60
    init = {"client_device_identifier": "deck-2", "name": "Deck", "client": "romdeck",
            "requested_scopes": ["roms.read"]}  # fmt: skip
    async with http.post(f"{romm_url}/api/auth/device/init", json=init) as response:
        started = await response.json()
    poll = {"device_code": started["device_code"]}
    url = f"{romm_url}/api/auth/device/token"
    async with http.post(url, json=poll) as response:
        assert (await response.json())["detail"] == "authorization_pending"
    async with http.post(url, json=poll) as response:
        assert (await response.json())["detail"] == "slow_down"
    fake_romm.library.deny_device(started["user_code"])
    fake_romm.library.auth.device_requests[started["device_code"]].last_poll = None
    async with http.post(url, json=poll) as response:
        assert (await response.json())["detail"] == "access_denied"


async def test_failure_knobs_fail_requests_and_log_them(
    fake_romm: FakeRommServer, romm_url: str, http: aiohttp.ClientSession
) -> None:
    fake_romm.fail_after(1, status=503)
    assert (await get_json(http, f"{romm_url}/api/heartbeat"))[0] == 200
    assert (await get_json(http, f"{romm_url}/api/heartbeat"))[0] == 503
    fake_romm.clear_failures()
    fake_romm.rate_limit_429(1, retry_after=7)
    async with http.get(f"{romm_url}/api/heartbeat") as response:
        assert (response.status, response.headers["Retry-After"]) == (429, "7")
    assert [s for _, _, s in fake_romm.requests] == [200, 503, 429]


async def test_dropped_download_ends_before_its_announced_length(
    fake_romm: FakeRommServer, romm_url: str, http: aiohttp.ClientSession
) -> None:
    fake_romm.fail_after(0, drop_after_bytes=1000)
    with pytest.raises(aiohttp.ClientPayloadError):
        async with http.get(f"{romm_url}/api/roms/20/content/x", auth=ADMIN) as response:
            await response.read()


async def test_down_server_closes_connections_unanswered(
    fake_romm: FakeRommServer, romm_url: str, http: aiohttp.ClientSession
) -> None:
    fake_romm.down = True
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await get_json(http, f"{romm_url}/api/heartbeat")


def test_generated_library_of_ten_thousand_roms_renders_like_the_recorded_ones() -> None:
    lib = FakeLibrary.generated(10_000, 20, 500)
    rom = lib.render_rom(next(iter(lib.roms.values())), with_files=False)
    assert list(rom) == list(load_capture("roms_page1_light.json")["items"][0])
    assert len(lib.roms) == 10_000 and len(lib.platforms) == 20
    assert sum(1 for r in lib.roms.values() if r.cover) == 500
