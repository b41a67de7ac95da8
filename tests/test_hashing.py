"""FileHasher on real files, and the incremental digests the downloader uses."""

from __future__ import annotations

import asyncio
import hashlib
import zlib
from pathlib import Path

import pytest

from romdeck.adapters.files.hashing import FileHasher
from romdeck.domain.downloads import RunningDigest, choose_expected_hash
from romdeck.errors import NotFoundError

DATA = bytes(range(256)) * 10_000 + b"odd tail"  # ~2.4 MiB: several 1 MiB blocks


async def test_md5_sha1_and_crc32_match_the_standard_library(tmp_path: Path) -> None:
    rom = tmp_path / "game.sfc"
    rom.write_bytes(DATA)
    digests = await FileHasher().hash_file(rom)
    assert digests == {
        "md5": hashlib.md5(DATA).hexdigest(),
        "sha1": hashlib.sha1(DATA).hexdigest(),
        "crc32": f"{zlib.crc32(DATA):08x}",
    }


async def test_only_the_requested_algorithms_are_computed(tmp_path: Path) -> None:
    rom = tmp_path / "game.sfc"
    rom.write_bytes(DATA)
    assert await FileHasher(block_size=4096).hash_file(rom, ["crc32"]) == {
        "crc32": f"{zlib.crc32(DATA):08x}"
    }


async def test_an_empty_file_has_the_empty_digests(tmp_path: Path) -> None:
    empty = tmp_path / "empty.srm"
    empty.write_bytes(b"")
    digests = await FileHasher().hash_file(empty)
    assert digests["md5"] == hashlib.md5(b"").hexdigest()
    assert digests["crc32"] == "00000000"


def test_feeding_a_prefix_hashes_only_that_many_bytes(tmp_path: Path) -> None:
    rom = tmp_path / "game.part"
    rom.write_bytes(DATA)
    digest = RunningDigest("md5")
    count = FileHasher(block_size=1000).feed(rom, [digest], limit=123_456)
    assert count == 123_456
    assert digest.bytes_seen == 123_456
    assert digest.hexdigest() == hashlib.md5(DATA[:123_456]).hexdigest()


async def test_a_missing_file_raises_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        await FileHasher().hash_file(tmp_path / "nope.bin")


def test_crc32_keeps_leading_zeros() -> None:
    digest = RunningDigest("crc32")
    data = next(bytes([i]) * 3 for i in range(256) if zlib.crc32(bytes([i]) * 3) < 0x10000000)
    digest.update(data)
    assert len(digest.hexdigest()) == 8
    assert digest.hexdigest().startswith("0")


@pytest.mark.parametrize(
    ("md5", "sha1", "crc", "algorithm"),
    [
        ("ABCDEF", "123", "dead", "sha1"),
        ("ABCDEF", "", "dead", "md5"),
        ("", "123", "dead", "sha1"),
        (None, "", "0xDEAD", "crc32"),
        ("", None, "", None),
    ],
)
def test_the_strongest_given_hash_is_chosen(
    md5: str | None, sha1: str | None, crc: str | None, algorithm: str | None
) -> None:
    chosen = choose_expected_hash(md5, sha1, crc)
    assert (chosen.algorithm if chosen else None) == algorithm


def test_crc32_comparison_ignores_case_and_missing_leading_zeros() -> None:
    chosen = choose_expected_hash(None, None, "0BCDD6D6")
    assert chosen is not None
    assert chosen.matches("0bcdd6d6")
    assert choose_expected_hash(None, None, "bcdd6d6") is not None
    assert choose_expected_hash(None, None, "bcdd6d6").matches("0bcdd6d6")  # type: ignore[union-attr]
    assert not chosen.matches("0bcdd6d7")


async def test_cancelling_a_hash_of_a_multi_gb_file_stops_its_thread_within_seconds(
    tmp_path: Path,
) -> None:
    big = tmp_path / "disc.iso"
    with big.open("wb") as file:  # sparse: 8 GiB on paper, nothing on disk
        file.truncate(8 * 1024**3)
    loop = asyncio.get_running_loop()
    work = asyncio.ensure_future(FileHasher().hash_file(big, ["sha1"]))
    await asyncio.sleep(0.3)
    assert not work.done()
    started = loop.time()
    work.cancel()
    with pytest.raises(asyncio.CancelledError):
        await work
    assert loop.time() - started < 5  # the cancel waits for the thread: it stopped early
