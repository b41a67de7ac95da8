"""Portraits for the panel fit Steam's 600×900 capsule and one Decky reply (< 1 MiB)."""

from __future__ import annotations

import base64
import io
import json
import random
from typing import Any

import pytest
from PIL import Image

from fakeromm.library import FakeLibrary
from fakeromm.server import FakeRommServer
from romdeck.adapters.romm.covers import PORTRAIT_MAX_BYTES, PillowCoverFetcher
from romdeck.errors import BadResponseError
from test_plugin_contract import ok, plugin, sign_in_and_select_everything, wait_for_apply

__all__ = ["plugin"]

BRIDGE_CAP = 1024 * 1024


def noisy(size: tuple[int, int], fmt: str = "PNG", mode: str = "RGB", seed: int = 7) -> bytes:
    """An image of random pixels: it does not compress, the worst case for a reply."""
    channels = len(mode)
    pixels = random.Random(seed).randbytes(size[0] * size[1] * channels)
    out = io.BytesIO()
    Image.frombytes(mode, size, pixels).save(out, format=fmt)
    return out.getvalue()


class _Source:
    def __init__(self, body: bytes, content_type: str = "image/png") -> None:
        self.body, self.content_type = body, content_type

    async def fetch_cover(self, path: str) -> tuple[bytes, str]:
        return self.body, self.content_type


def dims(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(png)) as image:
        return image.size


async def test_a_huge_noisy_png_is_scaled_to_600x900_and_fits_the_budget():
    body = noisy((1200, 1800))
    assert len(body) > 4 * BRIDGE_CAP
    png = await PillowCoverFetcher(_Source(body)).fetch_portrait("c.png")
    assert dims(png) == (600, 900)
    assert len(png) <= PORTRAIT_MAX_BYTES


async def test_a_noisy_cover_already_600x900_falls_back_to_a_palette_png():
    body = noisy((600, 900), mode="RGBA")
    assert len(body) > PORTRAIT_MAX_BYTES
    png = await PillowCoverFetcher(_Source(body)).fetch_portrait("c.png")
    assert dims(png) == (600, 900) and len(png) <= PORTRAIT_MAX_BYTES
    with Image.open(io.BytesIO(png)) as image:
        assert image.mode == "P"


async def test_a_wide_jpeg_keeps_its_aspect_inside_the_capsule():
    body = noisy((3000, 1500), fmt="JPEG")
    png = await PillowCoverFetcher(_Source(body, "image/jpeg")).fetch_portrait("c.jpg")
    assert dims(png) == (600, 300) and len(png) <= PORTRAIT_MAX_BYTES


async def test_a_small_png_passes_through_byte_for_byte():
    body = noisy((60, 90))
    assert await PillowCoverFetcher(_Source(body)).fetch_portrait("c.png") == body


async def test_a_budget_no_encoding_meets_is_an_error_not_a_huge_reply():
    with pytest.raises(BadResponseError, match="does not fit"):
        await PillowCoverFetcher(_Source(noisy((600, 900)))).fetch_portrait("c.png", 10_000)


async def test_not_an_image_is_a_bad_response():
    with pytest.raises(BadResponseError, match="not an image"):
        await PillowCoverFetcher(_Source(b"<html>", "text/html")).fetch_portrait("c.png")


async def test_get_artwork_of_a_huge_cover_stays_under_the_bridge_cap(
    plugin: Any, fake_romm: FakeRommServer, fake_library: FakeLibrary
):
    rom_id = next(r.id for r in fake_library.roms.values() if r.cover is not None)
    fake_library.set_cover(rom_id, noisy((2000, 3000), seed=3))
    await sign_in_and_select_everything(plugin, fake_romm)
    await ok(plugin.start_sync())
    await wait_for_apply(plugin)
    reply = await plugin.get_artwork(rom_id)
    assert reply["ok"], reply
    assert len(json.dumps(reply).encode()) < BRIDGE_CAP
    assert dims(base64.b64decode(reply["data"]["png_base64"])) == (600, 900)
