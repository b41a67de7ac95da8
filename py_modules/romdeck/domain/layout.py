"""Where a downloaded ROM goes in the emulation target's ROM folders. Pure: no I/O.

Source: a DetailedRom (``GET /api/roms/{id}``, API-NOTES §4) and the content endpoint's
behaviour (§5): one file comes back raw (Range works), several files come back as one
zip (ask ``Range: bytes=0-`` so a resume hits the server's cached, stable zip).

Layouts (``<roms>/<system>`` is the system folder):

- one file → ``<roms>/<system>/<file_name>``, a nested single file flattened the same way;
  a ``.zip`` or ``.7z`` is kept as is for systems that read archives (:func:`keeps_zip`),
  else downloaded aside and unpacked (one member → flattened like a single file;
  several → a folder);
- several files → ``<roms>/<system>/<fs_name>/...`` with the sub-folders kept, the
  server's ``.m3u`` when the zip has one, else ours for a multi-disc game.

The launch file follows :func:`choose_launch_file` (m3u, then cue, then the game file).
Temporary names start with ``.romdeck-`` so ES-DE never lists them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from posixpath import basename, join, splitext

from romdeck.domain.downloads import HashAlgorithm
from romdeck.domain.emulation import EmulationPaths
from romdeck.domain.launch_command import launch_argv, template_for
from romdeck.domain.models import RomDetail, RomFile
from romdeck.domain.systems import choose_launch_file, m3u_for_discs, needs_m3u
from romdeck.errors import BadResponseError, InvalidInputError

TEMP_PREFIX = ".romdeck-"
"""Names of our temporary files and folders inside a system folder."""

_CONTENT_HASHED = frozenset({".zip", ".7z"})
"""A single file with these extensions carries its *content's* hashes (API-NOTES §4)."""

SAVE_EXTENSIONS: frozenset[str] = frozenset(
    {
        ".srm", ".sav", ".rtc", ".eep", ".fla", ".sra", ".mpk", ".mcr", ".mcd", ".dsv",
        ".nv", ".bkr", ".bcr", ".ps2", ".vmp", ".state", ".auto", ".png.state",
    }
)  # fmt: skip
"""Files an emulator may write next to a ROM: an uninstall never removes them."""

_SAVE_FOLDERS = frozenset({"saves", "save", "states", "savestates", "memcards"})
_STATE_SLOT = re.compile(r"\.state\d+$", re.IGNORECASE)


class InstallKind(StrEnum):
    """How the content arrives and is put in place."""

    FILE = "file"
    """One file downloaded straight into place (raw file, or a zip the system reads)."""
    UNZIP = "unzip"
    """One ``.zip`` or ``.7z`` the system cannot read: downloaded aside, then unpacked."""
    FOLDER = "folder"
    """Several files: the server's zip, unpacked into the game's folder."""


@dataclass(frozen=True, slots=True)
class PlayTarget:
    """The emulation target a ROM is installed for and launched on.

    ``templates``: the user's launch command per ES-DE system (``"*"``: any system);
    ``cores_dir``: RetroArch's cores folder on the host (``""``: unknown);
    ``system_overrides``: RomM platform slug → ROM folder chosen by the user.
    """

    paths: EmulationPaths
    templates: dict[str, str] = field(default_factory=dict)
    cores_dir: str = ""
    system_overrides: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ExpectedFile:
    """A file the server says the ROM has: ``path`` relative to the plan's base folder
    (the game folder for :attr:`InstallKind.FOLDER`, else the system folder), its size in
    bytes and lowercase hex hashes (``""``: unknown, or not the file's own hash)."""

    path: str
    size_bytes: int
    md5: str = ""
    sha1: str = ""
    crc: str = ""


@dataclass(frozen=True, slots=True)
class InstallPlan:
    """Everything decided before a byte is downloaded.

    ``download_path``: where the downloader writes (its ``.part`` sits next to it);
    ``force_range``: send ``Range: bytes=0-`` on a fresh start; ``expected``: what the
    download itself is checked against (hashes blank for an archive, whose server
    hashes are its content's); ``staging_dir``: the unpack folder (``""`` for FILE);
    ``root``: the installed file (FILE) or game folder (FOLDER; UNZIP when it has
    several files); ``files``: what the server lists, for adoption and verification;
    ``content``: for UNZIP, the hashes of the one game file inside (``None``: unknown);
    sizes in bytes.
    """

    rom_id: int
    name: str
    platform_slug: str
    system: str
    system_dir: str
    kind: InstallKind
    download_path: str
    force_range: bool
    expected: ExpectedFile
    staging_dir: str
    root: str
    files: tuple[ExpectedFile, ...]
    content: ExpectedFile | None
    download_bytes: int
    extract_bytes: int

    @property
    def needed_bytes(self) -> int:
        """Free space needed to start: the download plus room to unpack it."""
        return self.download_bytes + self.extract_bytes

    @property
    def adopt_base(self) -> str:
        """The folder the :attr:`files` paths are relative to, for adoption."""
        return self.root if self.kind == InstallKind.FOLDER else self.system_dir


@dataclass(frozen=True, slots=True)
class FinalLayout:
    """Where an unpacked or downloaded ROM ends up.

    ``move_from`` is moved (renamed) to ``root`` (``""``: already in place); ``m3u`` is
    the text of our playlist, to be written at ``launch_path`` *before* the move, inside
    the staging folder at ``m3u_staged`` (``""``: none written).
    """

    root: str
    launch_path: str
    move_from: str = ""
    m3u: str = ""
    m3u_staged: str = ""


def safe_name(name: str, what: str = "file name") -> str:
    """``name`` when it is one usable path component, else ``BadResponseError``.

    Refused: empty, ``.``/``..``, a ``/`` or ``\\``, a NUL byte, a leading ``.romdeck-``.
    """
    if (
        not name
        or name in (".", "..")
        or any(c in name for c in "/\\\x00")
        or name.startswith(TEMP_PREFIX)
    ):
        raise BadResponseError(f"The server gave an unsafe {what}: {name!r}")
    return name


def _folder_relative(rom: RomDetail, f: RomFile) -> str:
    """A RomFile's path inside the ROM folder (``Disc 1/Game (Disc 1).cue``), checked."""
    folder = f"{rom.fs_path.rstrip('/')}/{rom.summary.fs_name}"
    parts: list[str] = []
    if f.file_path.startswith(folder + "/"):
        parts = [p for p in f.file_path[len(folder) + 1 :].split("/") if p not in ("", ".")]
    return "/".join([*(safe_name(p, "folder name") for p in parts), safe_name(f.file_name)])


def _expected(path: str, f: RomFile, *, own_hashes: bool) -> ExpectedFile:
    if not own_hashes:
        return ExpectedFile(path, f.size_bytes)
    return ExpectedFile(path, f.size_bytes, f.md5_hash, f.sha1_hash, f.crc_hash)


def _extension(name: str) -> str:
    return splitext(name)[1].lower()


def plan_install(rom: RomDetail, *, system: str, roms_root: str, keep_zip: bool) -> InstallPlan:
    """Decide how ``rom`` is downloaded and laid out in ``<roms_root>/<system>``.

    One file or several is decided on ``len(rom.files)``, never on RomM's flags.
    ``keep_zip`` is :func:`romdeck.domain.systems.keeps_zip` of ``system``. Raises
    ``BadResponseError`` (no files, or an unsafe name) or ``InvalidInputError``
    (a relative ``roms_root``).
    """
    if not roms_root.startswith("/"):
        raise InvalidInputError(f"The ROMs folder must be an absolute path: {roms_root!r}")
    if not rom.files:
        raise BadResponseError(f"The server lists no files for ROM {rom.summary.id}")
    system_dir = join(roms_root.rstrip("/") or "/", safe_name(system, "system folder"))
    temp = join(system_dir, f"{TEMP_PREFIX}{rom.summary.id}")
    only = rom.files[0]
    if len(rom.files) > 1:
        folder = join(system_dir, safe_name(rom.summary.fs_name, "folder name"))
        files = tuple(_expected(_folder_relative(rom, f), f, own_hashes=True) for f in rom.files)
        total = sum(f.size_bytes for f in rom.files)
        return _plan(
            rom, system, system_dir, InstallKind.FOLDER, download_path=f"{temp}.zip",
            expected=ExpectedFile("", 0), staging_dir=f"{temp}.unpack", root=folder,
            files=files, content=None, sizes=(total, total),
        )  # fmt: skip
    name = safe_name(only.file_name)
    this_file = _expected(name, only, own_hashes=_extension(name) not in _CONTENT_HASHED)
    archive = _extension(name)
    if archive in _CONTENT_HASHED and not keep_zip:
        content = ExpectedFile("", 0, only.md5_hash, only.sha1_hash, only.crc_hash)
        folder = join(system_dir, safe_name(rom.fs_name_no_ext or splitext(name)[0]))
        room = max(only.size_bytes, rom.summary.fs_size_bytes)
        return _plan(
            rom, system, system_dir, InstallKind.UNZIP, download_path=f"{temp}{archive}",
            expected=this_file, staging_dir=f"{temp}.unpack", root=folder,
            files=(this_file,), content=content, sizes=(only.size_bytes, room),
        )  # fmt: skip
    return _plan(
        rom, system, system_dir, InstallKind.FILE, download_path=join(system_dir, name),
        expected=this_file, staging_dir="", root=join(system_dir, name),
        files=(this_file,), content=None, sizes=(only.size_bytes, 0),
    )  # fmt: skip


def _plan(
    rom: RomDetail,
    system: str,
    system_dir: str,
    kind: InstallKind,
    *,
    download_path: str,
    expected: ExpectedFile,
    staging_dir: str,
    root: str,
    files: tuple[ExpectedFile, ...],
    content: ExpectedFile | None,
    sizes: tuple[int, int],
) -> InstallPlan:
    return InstallPlan(
        rom_id=rom.summary.id,
        name=rom.summary.name or rom.summary.fs_name,
        platform_slug=rom.summary.platform_slug,
        system=system,
        system_dir=system_dir,
        kind=kind,
        download_path=download_path,
        force_range=kind == InstallKind.FOLDER,
        expected=expected,
        staging_dir=staging_dir,
        root=root,
        files=files,
        content=content,
        download_bytes=sizes[0],
        extract_bytes=sizes[1],
    )


def final_layout(plan: InstallPlan, unpacked: Sequence[str] = ()) -> FinalLayout:
    """Where the files end up, given the relative paths unpacked into ``plan.staging_dir``.

    FILE: already in place. UNZIP with one file: that file flattened into the system
    folder. UNZIP with several, and FOLDER: the staging folder becomes ``root``; a
    multi-disc game without an ``.m3u`` gets ours (``<folder name>.m3u``, one line per
    disc). Raises ``BadResponseError`` when nothing was unpacked.
    """
    if plan.kind == InstallKind.FILE:
        return FinalLayout(root=plan.root, launch_path=plan.root)
    paths = [p.replace("\\", "/") for p in unpacked]
    if not paths:
        raise BadResponseError(f"The download of ROM {plan.rom_id} holds no files")
    if plan.kind == InstallKind.UNZIP and len(paths) == 1:
        root = join(plan.system_dir, safe_name(basename(paths[0])))
        return FinalLayout(root=root, launch_path=root, move_from=join(plan.staging_dir, paths[0]))
    m3u = ""
    playlist = ""
    if needs_m3u(paths):
        playlist = basename(plan.root) + ".m3u"
        m3u = m3u_for_discs(paths)
        paths = [*paths, playlist]
    launch = choose_launch_file(paths)
    return FinalLayout(
        root=plan.root,
        launch_path=join(plan.root, launch),
        move_from=plan.staging_dir,
        m3u=m3u,
        m3u_staged=join(plan.staging_dir, playlist) if playlist else "",
    )


def launch_file_in(root: str, paths: Sequence[str]) -> str:
    """The launch file of a game folder holding ``paths`` (relative), as an absolute path."""
    return join(root, choose_launch_file(list(paths)))


def is_save_path(relative: str) -> bool:
    """True for a file an uninstall must keep: a save, a state, or anything under a
    ``saves``/``states``-like folder (``relative`` uses ``/``)."""
    parts = relative.replace("\\", "/").lower().split("/")
    if any(p in _SAVE_FOLDERS for p in parts[:-1]):
        return True
    name = parts[-1]
    return _extension(name) in SAVE_EXTENSIONS or bool(_STATE_SLOT.search(name))


def mismatch(expected: ExpectedFile, size: int, hashes: Mapping[HashAlgorithm, str]) -> str:
    """Why a local file differs from ``expected`` (``""``: it matches).

    ``hashes`` holds the local ``md5``/``sha1``/``crc32`` digests that were computed;
    the strongest hash the server gave is compared (sha1, then md5, then crc32).
    """
    what = expected.path or "the file"
    if expected.size_bytes and size != expected.size_bytes:
        return f"{what} is {size} bytes, the server says {expected.size_bytes}"
    algorithm = hash_to_check(expected)
    if algorithm is None:
        return ""
    wanted = {"md5": expected.md5, "sha1": expected.sha1, "crc32": expected.crc}[algorithm]
    actual = hashes.get(algorithm, "").lower()
    if algorithm == "crc32":
        same = actual != "" and int(actual, 16) == int(wanted, 16)
    else:
        same = actual == wanted.lower()
    return "" if same else f"{what} has {algorithm} {actual or '?'}, the server says {wanted}"


def hash_to_check(expected: ExpectedFile) -> HashAlgorithm | None:
    """The algorithm :func:`mismatch` will compare for ``expected`` (``None``: size only)."""
    if expected.sha1:
        return "sha1"
    if expected.md5:
        return "md5"
    return "crc32" if expected.crc else None


def install_argv(target: PlayTarget, *, system: str, launch_path: str) -> tuple[str, ...]:
    """The command that starts ``launch_path`` on ``target`` (the user's template for the
    system wins); ``()`` when none can be built yet (a custom root with no template)."""
    try:
        return launch_argv(
            target.paths.target,
            rom=launch_path,
            system=system,
            template=template_for(target.templates, system),
            cores_dir=target.cores_dir,
        )
    except InvalidInputError:
        return ()
