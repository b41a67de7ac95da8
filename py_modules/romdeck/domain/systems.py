"""RomM platforms → ES-DE systems (RetroDECK's and EmuDeck's ROM folders), and launch-file rules.

RetroDECK and EmuDeck both name ROM folders after ES-DE's ``<system><name>``
(``roms/mastersystem``, ``roms/gc``). RomM names platforms by its own slugs: the
``UniversalPlatformSlug`` values of RomM ≥ 4.x (``sms``, ``ngc``, ``3ds``) and, on older
servers, IGDB-style slugs (``sega-master-system``, ``gamecube``). :data:`ES_DE_SYSTEMS`
maps both to the ES-DE folder; a slug not in it falls back to the platform's
``fs_slug`` (the server's folder name, usually ES-DE style already), then to the slug.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from posixpath import basename, dirname, splitext
from types import MappingProxyType

from romdeck.errors import InvalidInputError

# RomM slug (current, then legacy aliases) → ES-DE system folder. Where ES-DE has two
# names for one system (genesis/megadrive, tg16/pcengine, segacd/megacd) we use the
# North-American one, which is also RomM's slug.
_SLUG_TO_SYSTEM: dict[str, str] = {
    # Nintendo
    "nes": "nes",
    "famicom": "famicom",
    "fds": "fds",
    "snes": "snes",
    "sfam": "sfc",
    "satellaview": "satellaview",
    "sufami-turbo": "sufami",
    "n64": "n64",
    "64dd": "n64dd",
    "ngc": "gc",
    "gamecube": "gc",
    "wii": "wii",
    "wiiu": "wiiu",
    "switch": "switch",
    "gb": "gb",
    "gameboy": "gb",
    "gbc": "gbc",
    "gameboy-color": "gbc",
    "gba": "gba",
    "gameboy-advance": "gba",
    "nds": "nds",
    "nintendo-ds": "nds",
    "nintendo-dsi": "nds",
    "3ds": "n3ds",
    "new-nintendo-3ds": "n3ds",
    "nintendo-3ds": "n3ds",
    "virtualboy": "virtualboy",
    "virtual-boy": "virtualboy",
    "g-and-w": "gameandwatch",
    "game-and-watch": "gameandwatch",
    "pokemon-mini": "pokemini",
    # Sony
    "psx": "psx",
    "ps": "psx",
    "playstation": "psx",
    "ps2": "ps2",
    "playstation-2": "ps2",
    "ps3": "ps3",
    "psp": "psp",
    "psvita": "psvita",
    "ps-vita": "psvita",
    # Sega
    "sms": "mastersystem",
    "sega-master-system": "mastersystem",
    "genesis": "genesis",
    "genesis-slash-megadrive": "genesis",
    "megadrive": "megadrive",
    "segacd": "segacd",
    "sega-cd": "segacd",
    "sega32": "sega32x",
    "sega-32x": "sega32x",
    "saturn": "saturn",
    "sega-saturn": "saturn",
    "dc": "dreamcast",
    "dreamcast": "dreamcast",
    "gamegear": "gamegear",
    "game-gear": "gamegear",
    "sg1000": "sg-1000",
    "sg-1000": "sg-1000",
    "stv": "stv",
    "model2": "model2",
    # NEC, SNK, Bandai
    "tg16": "tg16",
    "turbografx16--1": "tg16",
    "turbo-grafx": "tg16",
    "turbografx-cd": "tg-cd",
    "turbografx-16-slash-pc-engine-cd": "tg-cd",
    "supergrafx": "supergrafx",
    "pc-fx": "pcfx",
    "neogeoaes": "neogeo",
    "neogeomvs": "neogeo",
    "neo-geo": "neogeo",
    "neo-geo-cd": "neogeocd",
    "neo-geo-pocket": "ngp",
    "neo-geo-pocket-color": "ngpc",
    "wonderswan": "wonderswan",
    "wonderswan-color": "wonderswancolor",
    # Arcade
    "arcade": "arcade",
    "mame": "mame",
    "fbneo": "fbneo",
    "cps1": "cps1",
    "cps2": "cps2",
    "cps3": "cps3",
    "naomi": "naomi",
    "atomiswave": "atomiswave",
    # Atari
    "atari2600": "atari2600",
    "atari-2600": "atari2600",
    "atari5200": "atari5200",
    "atari-5200": "atari5200",
    "atari7800": "atari7800",
    "atari-7800": "atari7800",
    "atari800": "atari800",
    "atari-8-bit": "atari800",
    "atari-xegs": "atarixe",
    "lynx": "atarilynx",
    "atari-lynx": "atarilynx",
    "jaguar": "atarijaguar",
    "atari-jaguar": "atarijaguar",
    "atari-st": "atarist",
    # Other consoles and handhelds
    "3do": "3do",
    "philips-cd-i": "cdimono1",
    "cd-i": "cdimono1",
    "colecovision": "colecovision",
    "colecoadam": "adam",
    "intellivision": "intellivision",
    "vectrex": "vectrex",
    "odyssey-2": "odyssey2",
    "videopac-g7400": "videopac",
    "fairchild-channel-f": "channelf",
    "arcadia-2001": "arcadia",
    "astrocade": "astrocde",
    "casio-pv-1000": "pv1000",
    "creativision": "crvision",
    "epoch-super-cassette-vision": "scv",
    "gamate": "gamate",
    "game-dot-com": "gamecom",
    "mega-duck-slash-cougar-boy": "megaduck",
    "super-acan": "supracan",
    "supervision": "supervision",
    "vsmile": "vsmile",
    "uzebox": "uzebox",
    "xbox": "xbox",
    # Computers
    "c64": "c64",
    "vic-20": "vic20",
    "c-plus-4": "plus4",
    "amiga": "amiga",
    "amiga-cd32": "amigacd32",
    "commodore-cdtv": "cdtv",
    "acpc": "amstradcpc",
    "cpc": "amstradcpc",
    "amstrad-gx4000": "gx4000",
    "appleii": "apple2",
    "apple-iigs": "apple2gs",
    "mac": "macintosh",
    "acorn-archimedes": "archimedes",
    "acorn-electron": "electron",
    "bbcmicro": "bbcmicro",
    "msx": "msx",
    "msx2": "msx2",
    "msx-turbo": "msxturbor",
    "spectravideo": "spectravideo",
    "zxs": "zxspectrum",
    "zx-spectrum": "zxspectrum",
    "zx81": "zx81",
    "sharp-x68000": "x68000",
    "x1": "x1",
    "pc-8800-series": "pc88",
    "pc-9800-series": "pc98",
    "fm-7": "fm7",
    "fm-towns": "fmtowns",
    "thomson-mo5": "moto",
    "thomson-to": "to8",
    "ti-994a": "ti99",
    "ti-99": "ti99",
    "palm-os": "palm",
    "dos": "dos",
    "win3x": "windows3x",
    # Engines and fantasy consoles
    "scummvm": "scummvm",
    "tic-80": "tic80",
    "tic80": "tic80",
    "pico-8": "pico8",
    "arduboy": "arduboy",
    "openbor": "openbor",
    "mugen": "mugen",
    "wasm-4": "wasm4",
    "j2me": "j2me",
    "android": "android",
}

ES_DE_SYSTEMS: Mapping[str, str] = MappingProxyType(_SLUG_TO_SYSTEM)
"""RomM platform slug (current and legacy) → ES-DE system folder name."""

_SAFE_SYSTEM = re.compile(r"^[a-z0-9][a-z0-9_+.-]*$")

# Systems whose emulators take the zip itself as the game: keep it, never extract.
KEEPS_ZIP_SYSTEMS: frozenset[str] = frozenset(
    {
        # ES-DE lists only archives (plus MAME .cmd/.neo and launcher scripts): the
        # archive is the game (MAME/FBNeo romsets, software-list sets).
        "arcade", "mame", "fbneo", "fba", "neogeo", "cps", "cps1", "cps2", "cps3",
        "model2", "stv", "astrocde", "mess", "android", "androidapps", "androidgames",
        # Flycast loads NAOMI/Atomiswave romsets as zips.
        "naomi", "naomi2", "naomigd", "atomiswave",
        # MAME LCD handhelds and the TI-99 software list are loaded by set name.
        "gameandwatch", "lcdgames", "ti99",
        # DOSBox Pure mounts a zipped game directly; EasyRPG plays zipped games.
        "dos", "pc", "windows3x", "windows9x", "easyrpg",
    }
)  # fmt: skip

ARCHIVE_EXTENSIONS: frozenset[str] = frozenset({".zip", ".7z"})
_LAUNCHER_EXTENSIONS = frozenset({".cmd", ".desktop", ".sh", ".appimage", ".neo", ".chd"})


def _norm(slug: str) -> str:
    return slug.strip().lower()


def is_safe_system_name(name: str) -> bool:
    """True when ``name`` can be one folder under ``roms/`` (no ``/``, no ``..``, lowercase)."""
    return bool(_SAFE_SYSTEM.match(name)) and ".." not in name


def system_for_platform(
    slug: str, fs_slug: str = "", *, overrides: Mapping[str, str] | None = None
) -> str:
    """The ES-DE system folder for a RomM platform.

    Order: the user's ``overrides`` (by slug, then fs_slug), :data:`ES_DE_SYSTEMS` by
    slug, then by fs_slug, then fs_slug itself, then the slug itself; slugs compare
    case-insensitively. Raises ``InvalidInputError`` when no candidate is a safe folder
    name (e.g. both empty, or a server folder like ``../x``).
    """
    keys = [k for k in (_norm(slug), _norm(fs_slug)) if k]
    user = {_norm(k): v for k, v in (overrides or {}).items()}
    candidates = [user[k] for k in keys if k in user]
    candidates += [ES_DE_SYSTEMS[k] for k in keys if k in ES_DE_SYSTEMS]
    candidates += [fs_slug, slug]
    for candidate in map(_norm, candidates):
        if is_safe_system_name(candidate):
            return candidate
    raise InvalidInputError(f"No ROM folder can be chosen for platform {slug!r}.")


def keeps_zip(system: str) -> bool:
    """True when the system's emulators read the zip itself (arcade romsets, DOSBox Pure)."""
    return _norm(system) in KEEPS_ZIP_SYSTEMS


def archive_is_the_game(extensions: Iterable[str]) -> bool:
    """True when an ES-DE extension list accepts zips and no other game format.

    Archives, MAME ``.cmd``/``.neo``/``.chd`` companions and launcher scripts don't count
    as game formats. Used to check :data:`KEEPS_ZIP_SYSTEMS` against es_systems.xml and
    to classify systems we have no row for.
    """
    exts = {e.lower() if e.startswith(".") else "." + e.lower() for e in extensions}
    return ".zip" in exts and not (exts - ARCHIVE_EXTENSIONS - _LAUNCHER_EXTENSIONS)


# --- Which file to launch ---------------------------------------------------------------

LAUNCH_PRIORITY: tuple[str, ...] = (".m3u", ".cue", ".gdi", ".ccd", ".toc", ".mds", ".chd", ".cdi")
"""Launch-file preference: a playlist, then disc sheets, then single-file disc images."""

AUXILIARY_EXTENSIONS: frozenset[str] = frozenset(
    {
        ".txt", ".nfo", ".diz", ".pdf", ".htm", ".html", ".url", ".xml", ".json",
        ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".ico",
        ".sub", ".sbi", ".srm", ".sav", ".state", ".rtc", ".md5", ".sha1", ".sfv",
        ".ini", ".cfg", ".log",
    }
)  # fmt: skip
"""Extensions that are never the game (readmes, art, checksums, subchannel data, saves)."""

# "Disc 2", "(Disk 1 of 3)", "CD1"; "CD" takes one digit only, so "CD32" is no disc number.
_DISC = re.compile(
    r"(?<![a-z0-9])(?:(?:disc|disk)[\s_-]*(\d{1,2})|cd[\s_-]*(\d))(?!\d)", re.IGNORECASE
)


def _ext(path: str) -> str:
    return splitext(path)[1].lower()


def disc_number(path: str) -> int | None:
    """The disc number a path names (``Game (Disc 2).cue``, ``CD1/track.bin``), or None.

    The file name is searched first, then the folders from the nearest up.
    """
    parts = path.replace("\\", "/").split("/")
    for part in reversed(parts):
        match = _DISC.search(part)
        if match:
            return int(match.group(1) or match.group(2))
    return None


def _natural(text: str) -> tuple[object, ...]:
    return tuple(int(t) if t.isdecimal() else t for t in re.split(r"(\d+)", text.lower()))


def _launch_key(path: str) -> tuple[object, ...]:
    ext = _ext(path)
    rank = LAUNCH_PRIORITY.index(ext) if ext in LAUNCH_PRIORITY else len(LAUNCH_PRIORITY)
    if ext in AUXILIARY_EXTENSIONS:
        rank += 1
    depth = path.replace("\\", "/").strip("/").count("/")
    return (rank, depth, disc_number(path) or 0, _natural(path))


def choose_launch_file(paths: Sequence[str]) -> str:
    """The file to hand to the emulator out of an installed game's files.

    Rule: an ``.m3u`` playlist first; then a ``.cue`` sheet; then ``.gdi``, ``.ccd``,
    ``.toc``, ``.mds``; then a ``.chd`` or ``.cdi`` image; otherwise the game file itself
    — any file that is not auxiliary (readme, art, checksum, ``.sbi``/``.sub``, saves).
    Ties go to the shallowest path, then the lowest disc number, then natural name
    order (``Disc 2`` before ``Disc 10``). Returns one of ``paths`` unchanged.
    Raises ``InvalidInputError`` when ``paths`` is empty.
    """
    if not paths:
        raise InvalidInputError("The game has no files to launch.")
    return min(paths, key=_launch_key)


def _disc_groups(paths: Iterable[str]) -> dict[int, list[str]]:
    groups: dict[int, list[str]] = {}
    for path in paths:
        ext = _ext(path)
        if ext == ".m3u" or ext in AUXILIARY_EXTENSIONS:
            continue
        number = disc_number(path)
        if number is not None:
            groups.setdefault(number, []).append(path)
    return groups


def is_multi_disc(paths: Iterable[str]) -> bool:
    """True when the game files name at least two different disc numbers."""
    return len(_disc_groups(paths)) >= 2


def needs_m3u(paths: Sequence[str]) -> bool:
    """True for a multi-disc game that ships no ``.m3u`` of its own."""
    return is_multi_disc(paths) and not any(_ext(p) == ".m3u" for p in paths)


def m3u_for_discs(disc_files: Iterable[str]) -> str:
    """The text of an ``.m3u`` playlist: one line per disc, ordered by disc number.

    ``disc_files`` are paths relative to the folder the playlist will be written in
    (``/`` separators). Each disc's line is its :func:`choose_launch_file` (the cue of a
    cue+bin pair); files without a disc number and auxiliary files are left out.
    Lines end with ``\\n``. Raises ``InvalidInputError`` for an absolute path, a path
    with ``..``, or when no file names a disc.
    """
    files = [f.replace("\\", "/") for f in disc_files]
    for f in files:
        if f.startswith("/") or ".." in f.split("/"):
            raise InvalidInputError(f"A playlist entry must be a relative path: {f!r}.")
    groups = _disc_groups(files)
    if not groups:
        raise InvalidInputError("No disc files were found for the playlist.")
    return "".join(choose_launch_file(groups[n]) + "\n" for n in sorted(groups))


def playlist_name(disc_files: Sequence[str]) -> str:
    """A file name for the playlist: disc 1's name without its disc tag, plus ``.m3u``."""
    first = choose_launch_file(disc_files)
    stem = splitext(basename(first))[0] or basename(dirname(first)) or "game"
    cleaned = re.sub(r"\s*[\(\[]\s*(?:disc|disk|cd)[^\)\]]*[\)\]]", "", stem, flags=re.I)
    cleaned = _DISC.sub("", cleaned).strip(" _-") or stem
    return cleaned + ".m3u"
