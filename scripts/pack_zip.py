"""Pack a staged plugin folder into a deterministic zip, the way Decky's CLI lays it out.

Usage: ``python3 scripts/pack_zip.py <staged folder> <zip path>``. The staged folder's
name becomes the zip's single top-level folder (``RomDeck/...``), as ``decky plugin build``
produces. The same staged bytes always give the same zip bytes: entries are sorted, every
timestamp is 1980-01-01 00:00 (or ``$SOURCE_DATE_EPOCH``), modes are normalised (0755 for
folders, for ``bin/`` and for files that were executable; 0644 for the rest) and
``__pycache__``, ``*.pyc``, ``tests`` and ``node_modules`` are left out. Standard library only.
"""

from __future__ import annotations

import os
import stat
import sys
import time
import zipfile
from pathlib import Path

EXCLUDED_DIRS = frozenset({"__pycache__", "tests", "node_modules", ".git", ".pytest_cache"})
"""Folder names never shipped, at any depth."""

EXCLUDED_SUFFIXES = (".pyc", ".pyo")


def _timestamp() -> tuple[int, int, int, int, int, int]:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return (1980, 1, 1, 0, 0, 0)
    t = time.gmtime(max(int(epoch), 315532800))  # zip cannot store dates before 1980
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)


def _entries(root: Path) -> list[tuple[str, Path]]:
    """Every folder and file under ``root`` as (arcname, path), sorted by arcname."""
    found: list[tuple[str, Path]] = [(root.name + "/", root)]
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in EXCLUDED_DIRS)
        base = Path(current)
        for name in dirs:
            path = base / name
            found.append((path.relative_to(root.parent).as_posix() + "/", path))
        for name in files:
            if name.endswith(EXCLUDED_SUFFIXES):
                continue
            path = base / name
            found.append((path.relative_to(root.parent).as_posix(), path))
    return sorted(found)


def pack(staged: Path, target: Path) -> int:
    """Write ``target`` from the folder ``staged``; return the number of files written.

    Raises ``OSError`` when a file cannot be read or the zip cannot be written; the zip is
    written to ``<target>.part`` and renamed, so a failed build leaves no half zip.
    """
    stamp = _timestamp()
    partial = target.with_name(target.name + ".part")
    files = 0
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for arcname, path in _entries(staged):
            info = zipfile.ZipInfo(arcname, date_time=stamp)
            info.create_system = 3  # unix, so the modes below are honoured on extraction
            if arcname.endswith("/"):
                info.external_attr = (stat.S_IFDIR | 0o755) << 16 | 0x10
                archive.writestr(info, b"")
                continue
            in_bin = arcname.split("/")[1] == "bin"
            executable = in_bin or bool(path.stat().st_mode & stat.S_IXUSR)
            info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
            files += 1
    partial.replace(target)
    return files


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    staged, target = Path(argv[1]), Path(argv[2])
    if not (staged / "plugin.json").is_file():
        print(f"{staged} has no plugin.json: not a staged plugin", file=sys.stderr)
        return 1
    count = pack(staged, target)
    print(f"{target}: {count} files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
