"""BIOS (firmware) rules: what each system's emulator needs, and the status of each file.

Requirements come from libretro core ``.info`` files (``firmwareN_desc``,
``firmwareN_path``, ``firmwareN_opt``; md5s in ``notes`` as ``(!) name (md5): hex``)
when the installed cores are found, else from :mod:`romdeck.domain.firmware_table`.
Paths are relative to the target's bios folder (RetroArch's ``system_directory``),
``/``-separated (``dc/dc_boot.bin``). Our md5 decides a file's status; RomM's
``is_verified`` is only shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from posixpath import basename

from romdeck.domain.firmware_table import EXTRA_FOLDERS, TABLE, TableRow
from romdeck.domain.launch_command import RETROARCH_CORES


class FirmwareStatus(StrEnum):
    """A file's status. ``missing_on_server``: missing here, and the RomM server has it
    (downloadable); ``missing``: missing here and not on the server (required file);
    ``optional_missing``: an optional file that is missing here."""

    VERIFIED = "verified"
    WRONG_HASH = "wrong_hash"
    MISSING_ON_SERVER = "missing_on_server"
    MISSING = "missing"
    OPTIONAL_MISSING = "optional_missing"


@dataclass(frozen=True, slots=True)
class FirmwareRequirement:
    """One file an emulator reads from the bios folder.

    ``path`` is relative to the bios folder; ``md5s`` the known good lowercase md5s
    (empty: unknown, then any file at the path counts as verified); ``source`` the core
    (``swanstation``) or standalone emulator (``pcsx2``) that reads it.
    """

    path: str
    required: bool
    md5s: tuple[str, ...] = ()
    description: str = ""
    source: str = ""

    @property
    def file_name(self) -> str:
        return basename(self.path)


@dataclass(frozen=True, slots=True)
class CoreInfo:
    """What a libretro core's ``.info`` says: ``core`` is the short name (``flycast``)."""

    core: str
    display_name: str
    firmware: tuple[FirmwareRequirement, ...]


@dataclass(frozen=True, slots=True)
class ServerFirmware:
    """One ``GET /api/firmware`` item: hashes lowercase hex (``""``: not given), size in bytes."""

    id: int
    file_name: str
    size_bytes: int
    md5: str = ""
    sha1: str = ""
    crc: str = ""
    is_verified: bool = False


@dataclass(frozen=True, slots=True)
class FileStatus:
    """One row of a platform's BIOS status.

    ``md5`` is the local file's md5 (``None``: no file); ``server`` the RomM file that
    matches (by name, then by a known md5), ``None`` when the server has none;
    ``requirement`` is ``None`` for a server file no emulator we know asks for (it
    goes to the platform's default folder and counts as optional).
    """

    path: str
    required: bool
    status: FirmwareStatus
    md5: str | None
    server: ServerFirmware | None
    requirement: FirmwareRequirement | None

    @property
    def file_name(self) -> str:
        return basename(self.path)


_LINE = re.compile(r"^\s*([A-Za-z0-9_]+)\s*=\s*(.*?)\s*$")
_FIRMWARE_KEY = re.compile(r"^firmware(\d+)_(desc|path|opt)$")
_NOTE_MD5 = re.compile(r"\(!\)\s*(\S+?)\s*\(md5\)\s*:\s*([0-9a-fA-F]{32})")


def _value(raw: str) -> str:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return raw[1:-1].strip()
    return raw.strip('"').strip()


def is_safe_bios_path(path: str) -> bool:
    """True for a relative ``/`` path with a file name, no ``..``, no backslash, no NUL."""
    parts = path.split("/")
    return (
        bool(path)
        and not path.startswith("/")
        and "\\" not in path
        and "\0" not in path
        and all(p not in ("", ".", "..") for p in parts)
    )


def _looks_like_file(path: str) -> bool:
    return "." in basename(path).lstrip(".")


def parse_core_info(text: str, core: str) -> CoreInfo:
    """Parse a core's ``.info`` text loosely (any spacing around ``=``, quoted or bare
    values, comments, unknown keys, gaps in the numbering).

    Firmware entries whose path is a folder (``pcsx2/bios``, ``Machines``), unsafe
    (absolute, ``..``) or missing are left out. ``firmwareN_opt`` other than ``true``
    means required. md5s come from ``notes`` entries naming the path or its file name.
    """
    values: dict[str, str] = {}
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if match:
            values[match.group(1).lower()] = _value(match.group(2))
    md5s: dict[str, list[str]] = {}
    for name, digest in _NOTE_MD5.findall(values.get("notes", "")):
        md5s.setdefault(name.lower(), []).append(digest.lower())
    entries: dict[int, dict[str, str]] = {}
    for key, value in values.items():
        match = _FIRMWARE_KEY.match(key)
        if match:
            entries.setdefault(int(match.group(1)), {})[match.group(2)] = value
    firmware: list[FirmwareRequirement] = []
    for index in sorted(entries):
        entry = entries[index]
        path = entry.get("path", "").strip().replace("\\", "/")
        if not is_safe_bios_path(path) or not _looks_like_file(path):
            continue
        known = md5s.get(path.lower()) or md5s.get(basename(path).lower()) or []
        firmware.append(
            FirmwareRequirement(
                path=path,
                required=entry.get("opt", "").strip().lower() != "true",
                md5s=tuple(dict.fromkeys(known)),
                description=entry.get("desc", ""),
                source=core,
            )
        )
    name = values.get("display_name", core)
    return CoreInfo(core=core, display_name=name, firmware=tuple(firmware))


def _from_table(rows: Iterable[TableRow]) -> tuple[FirmwareRequirement, ...]:
    return tuple(
        FirmwareRequirement(path=p, required=r, md5s=m, description=d, source=s)
        for p, r, m, d, s in rows
    )


def requirements_for_system(
    system: str, cores: Mapping[str, CoreInfo] | None = None
) -> tuple[FirmwareRequirement, ...]:
    """The files the system's default emulator reads (empty: it needs none).

    ``cores``: the installed cores' parsed ``.info`` by short name. When the system's
    default libretro core is among them its ``.info`` decides; otherwise our table.
    Standalone emulators' rows (PCSX2 reading the bios root) always come from the table.
    """
    system = system.strip().lower()
    core = RETROARCH_CORES.get(system, "")
    rows = TABLE.get(system, ())
    if core and cores and core in cores:
        standalone = [r for r in rows if r[4] != core]
        return cores[core].firmware + _from_table(standalone)
    return _from_table(rows)


def default_folder(system: str) -> str:
    """Folder (relative to bios, ``""``: root) for a server file no requirement names."""
    return EXTRA_FOLDERS.get(system.strip().lower(), "")


ANY_OF: dict[str, tuple[str, ...]] = {
    # Each of these files is optional in the core's .info because any one will do; the
    # games do not boot without one of them. "*" means any file of the platform.
    "psx": ("scph5500.bin", "scph5501.bin", "scph5502.bin", "psxonpsp660.bin", "ps1_rom.bin"),
    "ps2": ("*",),
    "segacd": ("bios_CD_U.bin", "bios_CD_E.bin", "bios_CD_J.bin"),
    "tg-cd": ("syscard3.pce", "syscard2.pce", "syscard1.pce", "gexpress.pce"),
    "3do": (
        "panafz1.bin", "panafz10.bin", "panafz10-norsa.bin", "panafz10e-anvil.bin",
        "panafz10e-anvil-norsa.bin", "goldstar.bin", "sanyotry.bin", "panafz1j.bin",
        "panafz1j-norsa.bin",
    ),
    "neogeo": ("fbneo/neogeo.zip",),
    "neogeocd": (
        "neocd/neocd_f.rom", "neocd/neocd_sf.rom", "neocd/front-sp1.bin", "neocd/neocd_t.rom",
        "neocd/neocd_st.rom", "neocd/top-sp1.bin", "neocd/neocd_z.rom", "neocd/neocd_sz.rom",
        "neocd/neocd.bin",
    ),
}  # fmt: skip
"""System -> files of which at least one must be present and verified (``ready``)."""


def platform_ready(system: str, rows: Sequence[FileStatus]) -> bool:
    """True when the system's games can boot: every required file verified and, for a
    system in :data:`ANY_OF`, at least one of its group verified."""
    verified = {r.path for r in rows if r.status is FirmwareStatus.VERIFIED}
    if any(r.required and r.path not in verified for r in rows):
        return False
    group = ANY_OF.get(system.strip().lower())
    if group is None:
        return True
    return bool(verified) if group == ("*",) else any(p in verified for p in group)


def decide_status(
    requirement: FirmwareRequirement | None, local_md5: str | None, on_server: bool
) -> FirmwareStatus:
    """The status of one file from our md5 of the local file (``None``: absent).

    Present: ``verified`` when its md5 is a known one or none is known, else
    ``wrong_hash``. Absent: ``optional_missing`` for an optional (or unrequested) file,
    else ``missing_on_server`` when the server has it, else ``missing``.
    """
    if local_md5 is not None:
        known = requirement.md5s if requirement else ()
        ok = not known or local_md5.lower() in known
        return FirmwareStatus.VERIFIED if ok else FirmwareStatus.WRONG_HASH
    if requirement is None or not requirement.required:
        return FirmwareStatus.OPTIONAL_MISSING
    return FirmwareStatus.MISSING_ON_SERVER if on_server else FirmwareStatus.MISSING


def _match(req: FirmwareRequirement, server: Sequence[ServerFirmware]) -> ServerFirmware | None:
    name = req.file_name.lower()
    by_name = [f for f in server if f.file_name.lower() == name]
    if by_name:
        good = [f for f in by_name if f.md5 in req.md5s]
        return (good or by_name)[0]
    return next((f for f in server if f.md5 and f.md5 in req.md5s), None)


def platform_status(
    system: str,
    requirements: Sequence[FirmwareRequirement],
    server: Sequence[ServerFirmware],
    local_md5: Mapping[str, str],
) -> tuple[FileStatus, ...]:
    """Every requirement's status, then the server's other files (in the default folder).

    ``local_md5``: md5 of each file present, by path relative to the bios folder.
    A requirement repeated by two sources is listed once (the first, required wins).
    """
    rows: list[FileStatus] = []
    seen: dict[str, int] = {}
    for req in requirements:
        key = req.path.lower()
        if key in seen:
            if req.required and not rows[seen[key]].required:
                rows[seen[key]] = _row(req, server, local_md5)
            continue
        seen[key] = len(rows)
        rows.append(_row(req, server, local_md5))
    used = {r.server.id for r in rows if r.server}
    folder = default_folder(system)
    for fw in server:
        path = f"{folder}/{fw.file_name}" if folder else fw.file_name
        if fw.id in used or path.lower() in seen or not is_safe_bios_path(path):
            continue
        md5 = local_md5.get(path)
        status = decide_status(None, md5, True)
        if md5 is not None and fw.md5 and md5 != fw.md5:
            status = FirmwareStatus.WRONG_HASH
        rows.append(FileStatus(path, False, status, md5, fw, None))
    return tuple(rows)


def _row(
    req: FirmwareRequirement, server: Sequence[ServerFirmware], local_md5: Mapping[str, str]
) -> FileStatus:
    match = _match(req, server)
    md5 = local_md5.get(req.path)
    return FileStatus(
        req.path, req.required, decide_status(req, md5, match is not None), md5, match, req
    )


@dataclass(frozen=True, slots=True)
class FetchDecision:
    """Whether to download a row's server file; ``reason`` says why not (``""``: fetch)."""

    fetch: bool
    reason: str = ""
    replaces: bool = False
    """True when a (wrong) local file will be replaced: it is backed up first."""


def fetch_decision(row: FileStatus) -> FetchDecision:
    """Download rule: never over a verified file; never a copy no better than a wrong one.

    A missing file is fetched when the server has it. A ``wrong_hash`` file is replaced
    only when the server's md5 is one of the known good ones (a verified copy).
    """
    if row.server is None:
        return FetchDecision(False, "not on the server")
    if row.status is FirmwareStatus.VERIFIED:
        return FetchDecision(False, "already verified")
    if row.status is FirmwareStatus.WRONG_HASH:
        known = row.requirement.md5s if row.requirement else ()
        if row.server.md5 and row.server.md5 in known:
            return FetchDecision(True, replaces=True)
        return FetchDecision(False, "the server's copy is not a known good dump either")
    return FetchDecision(True)


def may_replace(
    requirement: FirmwareRequirement | None, existing_md5: str | None, new_md5: str
) -> bool:
    """True when a new file with ``new_md5`` may take the place of the one there now.

    Nothing there: yes. A verified file is never replaced; a wrong one only by a
    verified one (the status after must be better than before).
    """
    if existing_md5 is None:
        return True
    before = decide_status(requirement, existing_md5, True)
    after = decide_status(requirement, new_md5, True)
    return before is FirmwareStatus.WRONG_HASH and after is FirmwareStatus.VERIFIED


@dataclass(frozen=True, slots=True)
class Placement:
    """A BIOS file RomDeck put in place: ``path`` relative to ``bios_root``, its md5 then,
    the RomM firmware id and platform it came from, when (ISO-8601 UTC)."""

    bios_root: str
    path: str
    md5: str
    firmware_id: int | None
    platform_slug: str
    placed_at: str
