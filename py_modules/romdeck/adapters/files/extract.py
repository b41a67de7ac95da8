"""Safe extraction of downloaded zip and 7z archives (multi-file ROMs, zipped ROMs).

RomM serves a multi-file ROM as one zip whose paths are relative to the ROM folder,
``Disc 1/...`` sub-folders kept (API-NOTES §5); a 7z ROM arrives as the raw .7z.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import os
import shutil
import stat
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, BinaryIO, cast

from romdeck.adapters.files.atomic import fsync_dir
from romdeck.adapters.files.os_errors import write_error
from romdeck.adapters.files.threads import in_thread
from romdeck.domain.downloads import (
    MIB,
    ArchiveMember,
    ExtractionLimits,
    ExtractionProgress,
    check_archive,
    safe_member_path,
)
from romdeck.errors import (
    CancelledError,
    CorruptFileError,
    DownloadFailedError,
    InvalidInputError,
    NotFoundError,
    RomDeckError,
    UnsafeArchiveError,
)

if TYPE_CHECKING:
    from py7zr import SevenZipFile
    from py7zr.io import WriterFactory

ExtractionCallback = Callable[[ExtractionProgress], None]
_SAFE_TYPES = (0, stat.S_IFREG, stat.S_IFDIR)


class SafeExtractor:
    """Unpacks a zip (``zipfile``) or 7z (``py7zr``) into a folder, or writes nothing.

    Before any byte is written the whole listing is checked (:func:`check_archive`):
    safe relative paths only, no links or special files (all refused, whatever they
    point to), entry count, total size and compression ratio within ``limits``. Members
    are streamed in ``block_size`` (1 MiB) blocks into a temporary folder next to the
    target, their declared sizes enforced, then the folder is renamed into place.
    """

    def __init__(self, limits: ExtractionLimits | None = None, *, block_size: int = MIB) -> None:
        self._limits = limits or ExtractionLimits()
        self._block_size = block_size

    def extract(
        self,
        archive: Path,
        target_dir: Path,
        *,
        cancel: threading.Event | None = None,
        on_progress: ExtractionCallback | None = None,
    ) -> list[Path]:
        """Blocking: unpack ``archive`` into ``target_dir`` (absent or empty); return the files.

        ``on_progress`` runs in the calling thread after every block. On refusal, failure
        or ``cancel`` nothing is left in ``target_dir`` nor next to it.
        Raises ``UnsafeArchiveError`` (names the member and the reason), ``CorruptFileError``
        (not a readable zip/7z, or password-protected), ``NotFoundError`` (no archive),
        ``InvalidInputError`` (target not empty), ``DiskFullError``, ``DownloadFailedError``
        (other write failure), ``CancelledError``.
        """
        _require_empty(target_dir)
        try:
            with _open_archive(archive, self._block_size) as reader:
                members = reader.members()
                paths = check_archive(members, self._limits, archive_bytes=reader.archive_bytes)
                total = sum(member.size for member in members if not member.is_dir)
                sink = _Sink(total, self._block_size, cancel, on_progress)
                return self._unpack(reader, members, paths, target_dir, sink)
        except OSError as err:
            raise _os_error(err, target_dir) from err

    async def extract_async(
        self,
        archive: Path,
        target_dir: Path,
        *,
        cancel: threading.Event | None = None,
        on_progress: ExtractionCallback | None = None,
    ) -> list[Path]:
        """:meth:`extract` in a worker thread; ``on_progress`` is called on the event loop.

        Cancelling the awaiting task stops the thread at the next block and waits for it to
        clean up before re-raising ``asyncio.CancelledError``.
        """
        loop = asyncio.get_running_loop()
        stop = cancel or threading.Event()

        def report(progress: ExtractionProgress) -> None:
            if on_progress is not None:
                loop.call_soon_threadsafe(on_progress, progress)

        return await in_thread(
            functools.partial(self.extract, archive, target_dir, cancel=stop, on_progress=report),
            stop=stop,
        )

    def _unpack(
        self,
        reader: _ZipReader | _SevenZipReader,
        members: list[ArchiveMember],
        paths: list[PurePosixPath],
        target_dir: Path,
        sink: _Sink,
    ) -> list[Path]:
        target_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.", dir=target_dir.parent))
        try:
            for member, path in zip(members, paths, strict=True):
                if member.is_dir:
                    (staging / path).mkdir(parents=True, exist_ok=True)
            reader.extract(staging, members, paths, sink)
            staging.chmod(0o755)  # mkdtemp made it private
            fsync_dir(staging)
            os.replace(staging, target_dir)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return [
            target_dir / path
            for member, path in zip(members, paths, strict=True)
            if not member.is_dir
        ]


class _Sink:
    """Progress and cancellation shared by every member of one extraction."""

    def __init__(
        self,
        total: int,
        block_size: int,
        cancel: threading.Event | None,
        on_progress: ExtractionCallback | None,
    ) -> None:
        self.total, self.block_size, self.done = total, block_size, 0
        self._cancel, self._on_progress = cancel, on_progress

    def check_cancel(self) -> None:
        if self._cancel is not None and self._cancel.is_set():
            raise CancelledError("The extraction was cancelled")

    def advance(self, count: int) -> None:
        self.done += count
        if self._on_progress is not None:
            self._on_progress(ExtractionProgress(self.done, self.total))


class _MemberFile:
    """One member's output file: enforces the declared size, honours cancel, fsyncs.

    It has the methods of py7zr's ``Py7zIO`` (py7zr uses them by duck typing), so py7zr
    is imported only when a 7z archive is actually opened.
    """

    def __init__(self, path: Path, member: ArchiveMember, sink: _Sink) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: BinaryIO = path.open("xb")
        self._member, self._sink, self._written = member, sink, 0
        self.finished = False

    def write(self, s: bytes | bytearray) -> int:
        view = memoryview(s)
        for start in range(0, len(view), self._sink.block_size):
            self._sink.check_cancel()
            block = view[start : start + self._sink.block_size]
            self._written += len(block)
            if self._written > self._member.size:
                raise UnsafeArchiveError(
                    f"Archive member {self._member.name!r} holds more than the "
                    f"{self._member.size} bytes its header declares"
                )
            self._file.write(block)
            self._sink.advance(len(block))
        return len(s)

    def close(self) -> None:
        """Called by py7zr (and by us) once the member is complete."""
        if self._written != self._member.size:
            raise UnsafeArchiveError(
                f"Archive member {self._member.name!r} holds {self._written} bytes, "
                f"its header declares {self._member.size}"
            )
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self.finished = True

    def discard(self) -> None:
        self._file.close()

    def seekable(self) -> bool:
        return False

    def read(self, size: int | None = None) -> bytes:
        raise OSError(errno.EBADF, "write-only archive member")

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._written

    def flush(self) -> None:
        self._file.flush()

    def size(self) -> int:
        return self._written


class _ZipReader:
    def __init__(self, archive: zipfile.ZipFile, block_size: int) -> None:
        self._zip, self._block_size = archive, block_size
        self._infos = archive.infolist()
        self.archive_bytes: int | None = None

    def members(self) -> list[ArchiveMember]:
        if any(info.flag_bits & 0x1 for info in self._infos):
            raise CorruptFileError("The zip is password-protected; RomDeck cannot unpack it")
        return [_zip_member(info) for info in self._infos]

    def extract(
        self, root: Path, members: list[ArchiveMember], paths: list[PurePosixPath], sink: _Sink
    ) -> None:
        for info, member, path in zip(self._infos, members, paths, strict=True):
            if member.is_dir:
                continue
            output = _MemberFile(root / path, member, sink)
            try:
                with _member_errors(member), self._zip.open(info) as source:
                    while block := source.read(self._block_size):
                        output.write(block)
                output.close()
            finally:
                output.discard()


class _SevenZipReader:
    """py7zr's ``WriterFactory`` (by duck typing): hands py7zr one checked output per member."""

    def __init__(self, archive: SevenZipFile, size: int) -> None:
        self._archive = archive
        self.archive_bytes: int | None = size
        self._outputs: dict[PurePosixPath, _MemberFile] = {}
        self._plan: dict[PurePosixPath, ArchiveMember] = {}
        self._root = Path()
        self._sink: _Sink | None = None

    def members(self) -> list[ArchiveMember]:
        if self._archive.needs_password():
            raise CorruptFileError("The 7z archive is password-protected; RomDeck cannot unpack it")
        return [
            ArchiveMember(
                name=info.filename,
                size=info.uncompressed,
                is_dir=info.is_directory,
                is_special=not (info.is_directory or info.is_file),
            )
            for info in self._archive.list()
        ]

    def extract(
        self, root: Path, members: list[ArchiveMember], paths: list[PurePosixPath], sink: _Sink
    ) -> None:
        self._root, self._sink = root, sink
        self._plan = {p: m for m, p in zip(members, paths, strict=True) if not m.is_dir}
        try:
            with _member_errors(None):
                self._archive.extractall(factory=cast("WriterFactory", self))
            for path, member in self._plan.items():
                output = self._outputs.get(path)
                if output is None or not output.finished:
                    raise UnsafeArchiveError(f"Archive member {member.name!r} was not extracted")
        finally:
            for output in self._outputs.values():
                output.discard()

    def create(self, filename: str) -> _MemberFile:
        path = safe_member_path(PurePosixPath(), filename)
        member = self._plan.get(path)
        if member is None or path in self._outputs or self._sink is None:
            raise UnsafeArchiveError(f"Archive member {filename!r} was not in the checked listing")
        output = _MemberFile(self._root / path, member, self._sink)
        self._outputs[path] = output
        return output


def _zip_member(info: zipfile.ZipInfo) -> ArchiveMember:
    mode = info.external_attr >> 16 if info.create_system == 3 else 0
    return ArchiveMember(
        name=info.filename,
        size=info.file_size,
        compressed_size=info.compress_size,
        is_dir=info.is_dir(),
        is_special=stat.S_IFMT(mode) not in _SAFE_TYPES,
    )


@contextlib.contextmanager
def _open_archive(archive: Path, block_size: int) -> Iterator[_ZipReader | _SevenZipReader]:
    """Open a zip or 7z by its content, not its name; ``CorruptFileError`` otherwise."""
    if not archive.is_file():
        raise NotFoundError(f"No archive at {archive}")
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as opened:
                yield _ZipReader(opened, block_size)
            return
        import py7zr  # here, not at module level: it costs ~35 ms at start-up

        if py7zr.is_7zfile(archive):
            with archive.open("rb") as raw, py7zr.SevenZipFile(raw) as opened:
                yield _SevenZipReader(opened, archive.stat().st_size)
            return
    except (zipfile.BadZipFile, *_py7zr_errors(), EOFError) as err:
        raise CorruptFileError(f"{archive.name} cannot be read as an archive: {err}") from err
    raise CorruptFileError(f"{archive.name} is neither a zip nor a 7z archive")


def _py7zr_errors() -> tuple[type[Exception], ...]:
    """py7zr's archive errors, imported lazily (only 7z extraction raises them)."""
    from py7zr.exceptions import ArchiveError, PasswordRequired

    return (ArchiveError, PasswordRequired)


@contextlib.contextmanager
def _member_errors(member: ArchiveMember | None) -> Iterator[None]:
    """Decoder failures while streaming mean the content is not what the header says."""
    try:
        yield
    except (zipfile.BadZipFile, *_py7zr_errors(), zlib.error, EOFError, NotImplementedError) as err:
        name = f"Archive member {member.name!r}" if member else "The archive's content"
        raise UnsafeArchiveError(f"{name} does not match its header ({err})") from err


def _require_empty(target_dir: Path) -> None:
    try:
        if target_dir.exists() and (not target_dir.is_dir() or any(target_dir.iterdir())):
            raise InvalidInputError(f"{target_dir} already exists and is not empty")
    except OSError as err:
        raise _os_error(err, target_dir) from err


def _os_error(err: OSError, path: Path) -> RomDeckError:
    return write_error(err, path, other=DownloadFailedError, doing="unpack into")
