"""A password sent over plain http:// to another host is warned about (never to loopback)."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from bootstrap import Paths, build_app
from fakeromm.server import FakeRommServer
from romdeck.domain.auth import cleartext_password_warning


class LanNamesOnLoopback(AbstractResolver):
    """Resolves every name to 127.0.0.1, so ``http://romm.lan`` reaches the fake server."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [{"hostname": host, "host": "127.0.0.1", "port": port,
                 "family": socket.AF_INET, "proto": 0, "flags": socket.AI_NUMERICHOST}]  # fmt: skip

    async def close(self) -> None:
        return None


@pytest.mark.parametrize(
    ("url", "warns"),
    [
        ("http://romm.lan", True),
        ("http://192.168.1.20:8080", True),
        ("HTTP://romm.example.com/romm", True),
        ("http://[fe80::1]:80", True),
        ("https://romm.lan", False),
        ("http://localhost:8080", False),
        ("http://romm.localhost", False),
        ("http://127.0.0.1:3000", False),
        ("http://127.1.2.3", False),
        ("http://[::1]:3000", False),
    ],
)
def test_only_plain_http_to_another_host_warns(url: str, warns: bool):
    warning = cleartext_password_warning(url)
    assert (warning is not None) is warns
    if warning:
        assert str(urlsplit(url).hostname) in warning and "http://" in warning


async def test_a_password_sign_in_over_http_to_a_lan_host_warns_and_still_signs_in(
    tmp_path: Path, fake_romm: FakeRommServer, caplog: pytest.LogCaptureFixture
):
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=LanNamesOnLoopback()))
    app = build_app(Paths(tmp_path, tmp_path), session=session, home=tmp_path)
    port = urlsplit(fake_romm.url).port
    try:
        lan = await app.account.login_password(f"http://romm.lan:{port}", "admin", "hunter2")
        assert len(lan.warnings) == 1 and "romm.lan" in lan.warnings[0]
        assert any("romm.lan" in r.getMessage() for r in caplog.records)
        assert app.settings.load().connection.configured
        local = await app.account.login_password(fake_romm.url, "admin", "hunter2")
        assert local.warnings == ()
    finally:
        await app.close()
