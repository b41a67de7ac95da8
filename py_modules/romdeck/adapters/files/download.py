"""HTTP download of ROM content: resumable, retried, verified, installed atomically.

Source: ``GET /api/roms/{id}/content/{name}`` and ``/api/roms/{file_id}/files/content/{name}``
(API-NOTES §5): single files support ``Range``/``If-Range`` (206, 416), multi-file zips
only when the first request carries ``Range: bytes=0-`` (production nginx then serves a
cached stable zip); DEV_MODE ignores Range on zips (200).
"""

from __future__ import annotations

import asyncio
import functools
import ssl as ssl_module
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, NoReturn

import aiohttp
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from romdeck.adapters.files.download_job import (
    DownloadJob,
    Paused,
    ProgressCallback,
    ProgressMeter,
    Restart,
    Transient,
)
from romdeck.adapters.files.hashing import FileHasher
from romdeck.adapters.files.part_file import PartFile, storage_error
from romdeck.adapters.files.threads import in_thread, settle
from romdeck.domain.downloads import (
    MIB,
    DownloadResult,
    PartState,
    RunningDigest,
    choose_expected_hash,
    parse_content_range,
)
from romdeck.errors import (
    AuthRejectedError,
    CancelledError,
    DiskFullError,
    DownloadFailedError,
    HashMismatchError,
    MissingScopeError,
    NotFoundError,
    RomDeckError,
    ServerUnreachableError,
    TlsError,
)


def _write_block(file: BinaryIO, data: bytes) -> None:
    """Blocking write of one batch to the part file (the one place bytes hit the disk)."""
    file.write(data)


class AiohttpDownloader:
    """Downloads one URL into a file with resume, retries and hash verification.

    Bytes go to ``<target>.part`` (sidecar ``<target>.part.json`` records the URL, ETag,
    Last-Modified and sizes), then ``os.replace`` installs the verified file. Retries
    (tenacity, exponential backoff) continue from the bytes on disk; ``attempts`` counts
    consecutive attempts that brought no new byte. File writes and hashing run in worker
    threads, one ``chunk_size`` batch at a time, so memory stays bounded.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        chunk_size: int = 4 * MIB,
        attempts: int = 5,
        backoff_seconds: float = 1.0,
        backoff_max_seconds: float = 30.0,
        read_timeout_seconds: float = 60.0,
        progress_interval_seconds: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        hasher: FileHasher | None = None,
    ) -> None:
        self._session = session
        self._chunk_size = chunk_size
        self._max_stalls = attempts
        self._wait = wait_exponential(multiplier=backoff_seconds, max=backoff_max_seconds)
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=30, sock_read=read_timeout_seconds
        )
        self._interval = progress_interval_seconds
        self._clock = clock
        self._sleep = sleep
        self._hasher = hasher or FileHasher(block_size=chunk_size)

    async def download(
        self,
        url: str,
        target: Path,
        *,
        headers: Mapping[str, str] | None = None,
        ssl: ssl_module.SSLContext | bool | None = None,
        expected_size: int | None = None,
        expected_md5: str | None = None,
        expected_sha1: str | None = None,
        expected_crc: str | None = None,
        force_range: bool = False,
        on_progress: ProgressCallback | None = None,
        cancel: asyncio.Event | None = None,
        pause: asyncio.Event | None = None,
        keep_partial: bool = False,
    ) -> DownloadResult:
        """Download ``url`` to ``target`` (parent folders created) and return what was installed.

        ``headers``: auth headers for RomM. ``expected_*``: the hash to verify (sha1 preferred,
        then md5, then crc32; lowercase hex). ``force_range``: send ``Range: bytes=0-`` on a
        fresh start (multi-file ROMs, API-NOTES §5). ``on_progress`` is called on the loop
        at most every 0.25 s and once at the end; it must not block. ``pause``: set = run,
        cleared = paused (the connection is closed and the download resumes with Range when
        set again). ``cancel`` set → ``CancelledError``, the part kept only if ``keep_partial``.

        Raises ``AuthRejectedError`` (401), ``MissingScopeError`` (403), ``NotFoundError`` (404),
        ``HashMismatchError`` (wrong hash or size; part deleted), ``DiskFullError`` (part
        deleted), ``TlsError``, ``ServerUnreachableError`` or ``DownloadFailedError`` (part kept
        for a later resume), ``CancelledError``. Nothing is ever left at ``target`` on failure.
        """
        job = DownloadJob(
            url=url,
            files=PartFile(target),
            headers=dict(headers or {}),
            ssl=ssl,
            expected_size=expected_size,
            expected=choose_expected_hash(expected_md5, expected_sha1, expected_crc),
            force_range=force_range,
            pause=pause,
            meter=ProgressMeter(on_progress, self._clock, self._interval),
        )
        if cancel is not None and cancel.is_set():
            await self._cancelled(job, keep_partial)
        return await self._run_unless_cancelled(job, cancel, keep_partial)

    async def _run_unless_cancelled(
        self, job: DownloadJob, cancel: asyncio.Event | None, keep_partial: bool
    ) -> DownloadResult:
        """Run ``job`` until it ends or ``cancel`` is set, whichever comes first."""
        work = asyncio.ensure_future(self._run(job))
        stopper = asyncio.ensure_future(cancel.wait()) if cancel is not None else None
        try:
            await asyncio.wait(
                {work, *([stopper] if stopper else [])}, return_when=asyncio.FIRST_COMPLETED
            )
        except asyncio.CancelledError:
            await self._stop(work)
            await self._discard_unless(job, keep_partial)
            raise
        finally:
            if stopper is not None:
                stopper.cancel()
        if work.done():
            return work.result()
        await self._stop(work)
        if job.files.installed:  # the cancel came too late: the file is already in place
            return self._result(job)
        return await self._cancelled(job, keep_partial)

    async def _stop(self, work: asyncio.Future[DownloadResult]) -> None:
        work.cancel()
        await settle(work)

    async def _cancelled(self, job: DownloadJob, keep_partial: bool) -> DownloadResult:
        await self._discard_unless(job, keep_partial)
        raise CancelledError("The download was cancelled")

    async def _discard_unless(self, job: DownloadJob, keep: bool) -> None:
        if not keep:
            await in_thread(job.files.discard)

    async def _run(self, job: DownloadJob) -> DownloadResult:
        try:
            await self._prepare(job)
            while True:
                try:
                    await self._attempts(job)
                    break
                except Paused:
                    assert job.pause is not None
                    await job.pause.wait()
            return await self._finish(job)
        except (HashMismatchError, DiskFullError):
            await in_thread(job.files.discard)
            raise
        except Transient as err:
            tail = " The partial download is kept and resumes next time."
            if err.unreachable:
                raise ServerUnreachableError(f"{err}.{tail}") from err
            raise DownloadFailedError(f"{err} after {self._max_stalls} attempts.{tail}") from err

    async def _prepare(self, job: DownloadJob) -> None:
        """Create the folder, keep a resumable part (hashing it, a cancel stops the hashing
        thread between blocks), else clear it."""
        state, size = await in_thread(job.files.load)
        if state is None or not state.resumes(job.url, job.expected_size, size):
            await in_thread(job.files.discard)
            return
        job.state, job.done, job.digest = state, size, job.new_digest()
        if job.digest is not None:
            await self._hasher.feed_async(job.files.part, [job.digest], limit=size)

    async def _attempts(self, job: DownloadJob) -> None:
        retrying = AsyncRetrying(
            stop=lambda _state: job.stalls >= self._max_stalls,
            wait=self._wait,
            retry=retry_if_exception_type(Transient),
            sleep=self._sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                await self._attempt(job)

    async def _attempt(self, job: DownloadJob) -> None:
        written = job.written
        try:
            try:
                await self._request(job)
            except Restart:
                await self._reset(job)
                await self._request(job)
        except Restart as err:
            raise DownloadFailedError(
                "The server keeps changing the file during the download"
            ) from err
        except Transient:
            job.stalls = 0 if job.written > written else job.stalls + 1
            raise

    async def _request(self, job: DownloadJob) -> None:
        try:
            async with self._session.get(
                job.url,
                headers=self._request_headers(job),
                ssl=True if job.ssl is None else job.ssl,
                timeout=self._timeout,
                auto_decompress=False,
            ) as response:
                if await self._accept(job, response):
                    await self._receive(job, response)
        except aiohttp.ClientSSLError as err:
            raise TlsError(f"TLS failed while downloading: {err}") from err
        except aiohttp.ClientConnectorError as err:
            raise Transient(f"Cannot reach the server ({err.os_error})", unreachable=True) from err
        except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError, TimeoutError) as err:
            raise Transient("The connection was lost during the download") from err
        except aiohttp.ClientError as err:
            raise DownloadFailedError(f"The download failed: {err}") from err

    def _request_headers(self, job: DownloadJob) -> dict[str, str]:
        headers = {**job.headers, "Accept-Encoding": "identity"}
        if job.done > 0 and job.state is not None:
            headers["Range"] = f"bytes={job.done}-"
            headers["If-Range"] = job.state.validator
        elif job.force_range:
            headers["Range"] = "bytes=0-"
        return headers

    async def _accept(self, job: DownloadJob, response: aiohttp.ClientResponse) -> bool:
        """Decide from the status what the body means; True when it must be written."""
        status = response.status
        first, total = parse_content_range(response.headers.get("Content-Range", ""))
        etag = response.headers.get("ETag", "")
        if status == 206:
            old_etag = job.state.etag if job.state else ""
            if first != job.done or (job.done > 0 and old_etag and etag and etag != old_etag):
                raise Restart
        elif status == 200:
            if job.done > 0:
                await self._reset(job)
            total = response.content_length
        elif status == 416:
            if total == job.done:
                job.total, job.complete = total, True
                return False
            raise Restart
        else:
            _raise_for_status(status, response.reason or "")
        job.total = total
        if job.done == 0:
            job.state = PartState(
                job.url, etag, response.headers.get("Last-Modified", ""), total, job.expected_size
            )
            await in_thread(job.files.save_state, job.state)
        return True

    async def _receive(self, job: DownloadJob, response: aiohttp.ClientResponse) -> None:
        """Append the body to the part in ``chunk_size`` batches written in a thread.

        One batch is written (and hashed) while the next is received, so the socket
        keeps flowing; at most two batches are held in memory.
        """
        await self._resync_digest(job)
        file = await in_thread(job.files.open, job.done)
        try:
            await self._write_body(job, response, file)
        finally:
            await in_thread(file.close)
        if job.total is not None and job.done < job.total:
            raise Transient("The connection closed before the end of the file")
        job.complete = True

    async def _resync_digest(self, job: DownloadJob) -> None:
        """Make ``job.digest`` cover exactly the part's first ``done`` bytes (re-hashing them)."""
        if job.digest is None or job.digest.bytes_seen != job.done:
            job.digest = job.new_digest()
            if job.digest is not None and job.done > 0:
                await self._hasher.feed_async(job.files.part, [job.digest], limit=job.done)

    async def _write_body(
        self, job: DownloadJob, response: aiohttp.ClientResponse, file: BinaryIO
    ) -> None:
        """Write the body to ``file`` in ``chunk_size`` batches, one batch in a thread while
        the next is received (at most two batches in memory).

        Progress counts bytes received. Whatever was received is written to the part before
        a lost connection, a pause or a cancel propagates, so the part keeps every byte that
        arrived and a later request resumes right after it.
        """
        batch = _Batch()
        job.meter.update(job.done, job.total)
        try:
            async for chunk in response.content.iter_chunked(self._chunk_size):
                batch.chunks.append(chunk)
                batch.size += len(chunk)
                job.meter.update(job.done + batch.pending_size + batch.size, job.total)
                if job.pause is not None and not job.pause.is_set():
                    raise Paused
                if batch.size >= self._chunk_size:
                    await self._hand_over(job, file, batch)
        except BaseException:
            await self._flush(job, file, batch)  # keep what arrived; the failure goes on
            raise
        error = await self._flush(job, file, batch)
        if error is not None:
            raise error

    async def _hand_over(self, job: DownloadJob, file: BinaryIO, batch: _Batch) -> None:
        """Wait for the batch being written, then start writing the one in hand."""
        if batch.pending is not None:
            await asyncio.shield(batch.pending)  # a cancel must not lose track of the write
            job.advance(batch.pending_size)
            batch.pending, batch.pending_size = None, 0
        write = functools.partial(self._write_batch, job, file, batch.chunks)
        batch.pending = asyncio.ensure_future(asyncio.to_thread(write))
        batch.pending_size, batch.chunks, batch.size = batch.size, [], 0

    async def _flush(self, job: DownloadJob, file: BinaryIO, batch: _Batch) -> Exception | None:
        """Finish the write in flight and write the batch in hand; the write error, if any."""
        if batch.pending is not None:
            await settle(batch.pending)
            error = batch.pending.exception()
            if error is not None:
                return error if isinstance(error, Exception) else None
            job.advance(batch.pending_size)
            batch.pending, batch.pending_size = None, 0
        if batch.chunks:
            try:
                await in_thread(self._write_batch, job, file, batch.chunks)
            except RomDeckError as err:
                return err
            job.advance(batch.size)
            batch.chunks, batch.size = [], 0
        return None

    def _write_batch(self, job: DownloadJob, file: BinaryIO, chunks: list[bytes]) -> None:
        for data in chunks:
            try:
                _write_block(file, data)
            except OSError as err:
                raise storage_error(err, job.files.part) from err
            if job.digest is not None:
                job.digest.update(data)

    async def _reset(self, job: DownloadJob) -> None:
        """Forget the part's bytes: the next request starts from byte 0."""
        job.done, job.state, job.digest, job.complete = 0, None, job.new_digest(), False
        await in_thread(job.files.discard)

    async def _finish(self, job: DownloadJob) -> DownloadResult:
        job.meter.update(job.done, job.total, final=True)
        if job.expected_size is not None and job.done != job.expected_size:
            raise HashMismatchError(
                f"Downloaded {job.done} bytes but the server said {job.expected_size}"
            )
        if job.expected is not None:
            if job.digest is None or job.digest.bytes_seen != job.done:
                job.digest = RunningDigest(job.expected.algorithm)
                await self._hasher.feed_async(job.files.part, [job.digest])
            actual = job.digest.hexdigest()
            if not job.expected.matches(actual):
                raise HashMismatchError(
                    f"The downloaded file's {job.expected.algorithm} is {actual}, "
                    f"the server said {job.expected.hexdigest}"
                )
        await in_thread(job.files.install)
        return self._result(job)

    def _result(self, job: DownloadJob) -> DownloadResult:
        return DownloadResult(job.files.target, job.done, job.state.etag if job.state else "")


@dataclass(eq=False)
class _Batch:
    """The bytes received and not yet written: ``chunks`` in hand (``size`` bytes) and the
    ``pending`` write of the previous batch (``pending_size`` bytes)."""

    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    pending: asyncio.Future[None] | None = None
    pending_size: int = 0


def _raise_for_status(status: int, reason: str) -> NoReturn:
    if status == 401:
        raise AuthRejectedError("The server rejected the credentials for this download (HTTP 401)")
    if status == 403:
        raise MissingScopeError("The token may not download ROMs (HTTP 403, needs roms.read)")
    if status == 404:
        raise NotFoundError("The server has no such file to download (HTTP 404)")
    if status >= 500 or status in (408, 429):
        raise Transient(f"The server answered HTTP {status} {reason}".rstrip())
    raise DownloadFailedError(f"The server answered HTTP {status} {reason}".rstrip())
