"""Builders of ready-made fake libraries: the recorded lab library and a generated big one.

- ``load_lab``: the lab server of the captures (``platforms.json``, ``roms_all_with_files.json``,
  ``collections.json``, ``firmware.json``) with ids, names, paths and timestamps as recorded
  and synthetic file contents of the recorded sizes (a real zip for ``.zip``, m3u text).
- ``build_generated``: a synthetic library of any size for benchmarks.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from typing import TYPE_CHECKING

from fakeromm.records import JSON, load_capture, synthetic_bytes

if TYPE_CHECKING:
    from fakeromm.library import FakeLibrary


def cover_image(fmt: str = "PNG", color: tuple[int, int, int] = (40, 90, 160)) -> bytes:
    """A 264x352 cover image in ``fmt`` (PNG, WEBP or JPEG) made with Pillow."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (264, 352), color).save(out, format=fmt)
    return out.getvalue()


# ---- the recorded lab library ------------------------------------------------------------------
def _lab_file_bytes(rom: JSON, f: JSON) -> bytes:
    """Synthetic content for a recorded RomFile: a real zip for .zip, real m3u text."""
    if f["file_name"].endswith(".zip"):
        member = rom["fs_name_no_ext"] + ".sfc"
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(member, synthetic_bytes(member, 524288))
        return buf.getvalue()
    if f["file_name"].endswith(".m3u"):
        cues = sorted(g["file_name"] for g in rom["files"] if g["file_name"].endswith(".cue"))
        return ("\n".join(cues) + "\n").encode()
    return synthetic_bytes(f["full_path"], f["file_size_bytes"])


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _load_platforms(lib: FakeLibrary) -> None:
    for p in load_capture("platforms.json"):
        lib.add_platform(p["slug"], p["name"], p["fs_slug"], id=p["id"])
        lib.platforms[p["id"]].update(
            {k: v for k, v in p.items() if k not in ("firmware", "rom_count", "fs_size_bytes")}
        )


def _load_rom(lib: FakeLibrary, r: JSON) -> None:
    """Add one recorded ROM with its recorded file ids, paths and timestamps."""
    folder = "" if r["has_simple_single_file"] else f"{r['fs_path']}/{r['fs_name']}"
    files = []
    for f in r["files"]:
        sub = f["file_path"][len(folder) + 1 :] if folder else ""
        rel = f"{sub}/{f['file_name']}" if sub else f["file_name"]
        files.append((rel, _lab_file_bytes(r, f), f["id"]))
    files.sort(key=lambda item: item[0])
    rid = lib.add_rom(
        r["platform_id"], name=r["name"], fs_name=r["fs_name"], id=r["id"],
        files=[(rel, data) for rel, data, _ in files],
        file_ids=[fid for _, _, fid in files],
    )  # fmt: skip
    rom = lib.roms[rid]
    rom.created_at, rom.updated_at = _parse(r["created_at"]), _parse(r["updated_at"])
    rom.regions, rom.revision = r["regions"], r["revision"]
    recorded = {f["id"]: f for f in r["files"]}
    for f in rom.files:
        f.created_at = _parse(recorded[f.id]["created_at"])
        f.last_modified = _parse(recorded[f.id]["last_modified"])


def _load_collections(lib: FakeLibrary) -> None:
    for col in load_capture("collections.json"):
        cid = lib.add_collection(col["name"], col["rom_ids"], id=col["id"])
        lib.collections[cid].update(
            description=col["description"], created_at=_parse(col["created_at"]),
            updated_at=_parse(col["updated_at"]),
        )  # fmt: skip


def _load_firmware(lib: FakeLibrary) -> None:
    by_fs_slug = {p["fs_slug"]: pid for pid, p in lib.platforms.items()}
    for fw in load_capture("firmware.json"):
        pid = by_fs_slug[fw["file_path"].split("/")[-1]]
        content = synthetic_bytes(fw["full_path"], fw["file_size_bytes"])
        lib.add_firmware(pid, fw["file_name"], content, id=fw["id"])
        lib.firmware[fw["id"]].created_at = _parse(fw["created_at"])


def load_lab(lib: FakeLibrary) -> None:
    """Fill an empty ``lib`` with the lab library: 5 platforms, 20 ROMs, 1 collection,
    3 firmware files; ROMs 20 and 15 get a PNG cover (their ``updated_at`` moves on)."""
    _load_platforms(lib)
    for r in load_capture("roms_all_with_files.json")["items"]:
        _load_rom(lib, r)
    _load_collections(lib)
    _load_firmware(lib)
    for rom in lib.roms.values():
        lib.clock.seen(rom.updated_at)
    png = cover_image()
    lib.set_cover(20, png)
    lib.set_cover(15, png)


# ---- the generated benchmark library -----------------------------------------------------------
_GEN_PLATFORMS = [
    ("gb", "Game Boy"), ("gba", "Game Boy Advance"), ("gbc", "Game Boy Color"),
    ("nes", "Nintendo Entertainment System"), ("snes", "Super Nintendo Entertainment System"),
    ("n64", "Nintendo 64"), ("psx", "PlayStation"), ("ps2", "PlayStation 2"), ("psp", "PSP"),
    ("nds", "Nintendo DS"), ("genesis", "Sega Mega Drive/Genesis"), ("sms", "Sega Master System"),
    ("gamegear", "Sega Game Gear"), ("saturn", "Sega Saturn"), ("dc", "Dreamcast"),
    ("ngc", "Nintendo GameCube"), ("wii", "Wii"), ("tg16", "TurboGrafx-16"),
    ("ngp", "Neo Geo Pocket"), ("atari2600", "Atari 2600"),
]  # fmt: skip


def build_generated(lib: FakeLibrary, n_roms: int, n_platforms: int, n_covers: int) -> None:
    """Fill an empty ``lib`` as ``FakeLibrary.generated`` describes."""
    pids = []
    for index in range(n_platforms):
        slug, name = _GEN_PLATFORMS[index % len(_GEN_PLATFORMS)]
        if index >= len(_GEN_PLATFORMS):
            slug, name = f"{slug}{index}", f"{name} {index}"
        pids.append(lib.add_platform(slug, name))
    covers = {"image/png": cover_image("PNG"), "image/webp": cover_image("WEBP"),
              "image/jpeg": cover_image("JPEG")}  # fmt: skip
    for index in range(n_roms):
        name = f"Game {index:05d}"
        seed = index.to_bytes(4, "little") * 8
        if index % 25 == 24:
            files = [(f"{name} (USA).cue", b"FILE " + seed), (f"{name} (USA).bin", seed)]
            rid = lib.add_rom(pids[index % n_platforms], name=name, fs_name=f"{name} (USA)",
                              files=files)  # fmt: skip
        else:
            fs_name = f"{name} (USA).rom"
            rid = lib.add_rom(pids[index % n_platforms], name=name, files=[(fs_name, seed)])
        if index < n_covers:
            kind = ("image/webp", "image/jpeg")[index % 2] if index % 50 == 49 else "image/png"
            lib.set_cover(rid, covers[kind], kind)
