"""Pytest fixtures for the fake RomM server (listed in ``tests/conftest.py`` pytest_plugins).

- ``fake_library``: the recorded lab library (``FakeLibrary.from_captures()``), mutable per test.
- ``fake_romm``: a started ``FakeRommServer`` over ``fake_library`` on 127.0.0.1 (user
  ``admin`` / ``hunter2``, device-flow ``interval`` 0 s so polling tests need no waits);
  stopped after the test. Its knobs (``down``, ``fail_status``, ``fail_after``, ``latency``,
  ``per_rom_cost``, ``rate_limit_429``) and ``requests`` log are there for assertions.
- ``romm_url``: the base URL, ``http://127.0.0.1:<port>`` (no trailing slash).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from fakeromm.library import FakeLibrary
from fakeromm.server import FakeRommServer

FAKE_USERNAME = "admin"
FAKE_PASSWORD = "hunter2"


@pytest.fixture
def fake_library() -> FakeLibrary:
    """The recorded lab library: 5 platforms, 20 ROMs, 1 collection, 3 firmware files."""
    return FakeLibrary.from_captures()


@pytest_asyncio.fixture
async def fake_romm(fake_library: FakeLibrary) -> AsyncIterator[FakeRommServer]:
    """A running fake RomM server over ``fake_library``."""
    server = FakeRommServer(
        fake_library, username=FAKE_USERNAME, password=FAKE_PASSWORD, device_interval=0
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def romm_url(fake_romm: FakeRommServer) -> str:
    """Base URL of the running fake server, e.g. ``http://127.0.0.1:41234``."""
    return fake_romm.url
