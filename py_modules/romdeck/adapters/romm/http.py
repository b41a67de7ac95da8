"""The HTTP transport shared by the RomM adapters: one request, retried and mapped to our errors.

Every request goes through :meth:`RommHttp.send` on the caller's ``aiohttp.ClientSession``:
TLS verified unless the user turned it off, connect/read timeouts from the
``Connection``, ``Accept-Encoding: gzip`` and ``User-Agent: RomDeck/<version>``.
Idempotent requests (GET, HEAD) are retried with exponential backoff and jitter on
connection errors, 429 (honouring ``Retry-After`` up to a cap) and 5xx; other
methods are sent once. Failures become :mod:`romdeck.errors` with a message a user
understands; no message or log line carries a token or password.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import socket
import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypedDict, Unpack
from urllib.parse import quote, unquote

import aiohttp
import tenacity
from yarl import URL

from romdeck import __version__
from romdeck.adapters.romm.json_slices import loads_in_slices
from romdeck.adapters.romm.parse import error_detail, render_detail
from romdeck.domain.settings import Connection
from romdeck.errors import (
    AuthRejectedError,
    BadResponseError,
    InvalidInputError,
    MissingScopeError,
    NotFoundError,
    RomDeckError,
    ServerUnreachableError,
    TlsError,
)

log = logging.getLogger(__name__)

USER_AGENT = f"RomDeck/{__version__}"
SslSetting = ssl.SSLContext | bool  # False: verification off; True only for plain HTTP
Params = Sequence[tuple[str, str]]
_IDEMPOTENT = frozenset({"GET", "HEAD"})
_BIG_JSON_BYTES = 512 * 1024


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How idempotent requests are retried. Times are seconds.

    ``attempts`` counts the first try. Waits grow from ``initial_wait`` doubling up to
    ``max_wait``, plus up to ``jitter`` at random; a 429's ``Retry-After`` replaces the
    backoff, capped at ``retry_after_cap``. ``sleep`` is how waits are spent (tests
    inject one that records them).
    """

    attempts: int = 4
    initial_wait: float = 0.5
    max_wait: float = 5.0
    jitter: float = 0.5
    retry_after_cap: float = 30.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)


@dataclass(frozen=True, slots=True)
class Reply:
    """A response read whole: status, media type (no parameters), body bytes."""

    status: int
    content_type: str
    body: bytes
    retry_after: str = ""
    date: str = ""
    """The raw ``Date`` header: when the server answered, by its clock."""


class _Transient(Exception):
    """A failure worth another try; ``error`` is raised once the tries run out."""

    def __init__(self, error: RomDeckError, retry_after: float | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.retry_after = retry_after


def tls_context(verify_tls: bool, ca_file: str, *, https: bool = True) -> SslSetting:
    """The ``ssl`` argument for aiohttp: a verifying context (plus ``ca_file``) or ``False``.

    Reads the trust store and ``ca_file`` (blocking: call it off the event loop when
    in a coroutine); the context is reused until ``ca_file`` changes on disk. Raises
    ``TlsError`` when ``ca_file`` cannot be read as PEM certificates.
    """
    if not verify_tls:
        return False
    if not https:
        return True  # plain HTTP: aiohttp ignores it; spares building a trust store
    try:
        changed = os.stat(ca_file).st_mtime_ns if ca_file else 0
        return _verifying_context(ca_file, changed)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise TlsError(f"Cannot use the certificate file {ca_file}: {reason}") from exc


@functools.lru_cache(maxsize=8)
def _verifying_context(ca_file: str, changed: int) -> ssl.SSLContext:
    del changed  # only part of the cache key
    return ssl.create_default_context(cafile=ca_file or None)


def base_url(url: str) -> str:
    """The server address as an encoded string without a trailing slash.

    Raises ``InvalidInputError`` unless it is ``http(s)://host[:port][/prefix]`` with no
    user name, password, query or fragment.
    """
    text = url.strip().rstrip("/")
    try:
        parsed = URL(text)
    except ValueError:
        parsed = URL()
    if parsed.user or parsed.password:
        raise InvalidInputError("Put no user name or password in the RomM server address.")
    if parsed.scheme not in ("http", "https") or not parsed.host or parsed.query_string:
        raise InvalidInputError(
            f"'{text}' is not a RomM server address: use http://host:port or https://host."
        )
    return str(parsed.with_fragment(None))


def server_path_url(base: str, path: str) -> URL:
    """Absolute URL of a server-relative path as RomM serves it (raw spaces and '+' allowed).

    Path and query are percent-encoded once (``' '`` -> ``%20``, ``'+'`` -> ``%2B``);
    already-encoded parts stay as they are. Raises ``InvalidInputError`` unless
    ``path`` starts with a single ``/``.
    """
    if not path.startswith("/") or path.startswith("//"):
        raise InvalidInputError(f"'{path}' is not a path on the RomM server.")
    raw_path, _, raw_query = path.partition("#")[0].partition("?")
    encoded = quote(unquote(raw_path), safe="/")
    pairs = [_encode_pair(pair) for pair in raw_query.split("&") if pair]
    query = f"?{'&'.join(pairs)}" if pairs else ""
    return URL(base + encoded + query, encoded=True)


def _encode_pair(pair: str) -> str:
    key, sep, value = pair.partition("=")
    return quote(unquote(key), safe="") + sep + quote(unquote(value), safe="")


def describe(reply: Reply) -> str:
    """A short, readable account of an error body (its ``detail``, else its text)."""
    detail = error_detail(reply.body)
    if detail is not None:
        text = render_detail(detail)
    elif reply.content_type == "text/html":
        text = "an HTML page instead of an API answer"
    else:
        text = reply.body.decode("utf-8", "replace").strip()
    text = " ".join(text.split())
    return (text[:297] + "...") if len(text) > 300 else (text or "no explanation given")


class RequestOptions(TypedDict, total=False):
    """What a request may carry besides its method and URL (see :class:`Request`)."""

    params: Params
    json_body: object
    form: Mapping[str, str]
    multipart: aiohttp.FormData
    bearer: str
    scope: str
    on_401: str
    accept: Sequence[int]
    max_bytes: int


@dataclass(frozen=True, slots=True)
class Request:
    """One request: query ``params``, a JSON or form body, a ``bearer`` token, the
    ``scope`` a 403 names, the message of a 401 (``on_401``), error statuses to
    return instead of raise (``accept``), and a body size limit in bytes. ``multipart``
    (a form with files) replaces ``form`` and is sent once, never retried."""

    method: str
    url: URL
    params: Params = ()
    json_body: object = None
    form: Mapping[str, str] | None = None
    multipart: aiohttp.FormData | None = None
    bearer: str = ""
    scope: str = ""
    on_401: str = ""
    accept: Sequence[int] = ()
    max_bytes: int | None = None


class RommHttp:
    """Requests to one RomM server over a shared session (see the module docstring).

    ``base`` is the encoded server address; ``ssl`` the value handed to aiohttp (a
    context, or ``False`` when the user turned verification off); ``timeout`` the
    per-request socket timeouts. Raises ``InvalidInputError`` for a bad address.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        connection: Connection,
        *,
        ssl_setting: SslSetting,
        retry: RetryPolicy,
    ) -> None:
        self.base = base_url(connection.url)
        self.ssl: SslSetting = ssl_setting
        self.timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=connection.connect_timeout, sock_read=connection.read_timeout
        )
        self._session = session
        self._retry = retry
        self._backoff = tenacity.wait_exponential(
            multiplier=retry.initial_wait, max=retry.max_wait
        ) + tenacity.wait_random(0, retry.jitter)

    @classmethod
    def for_connection(
        cls,
        session: aiohttp.ClientSession,
        connection: Connection,
        retry: RetryPolicy | None = None,
    ) -> RommHttp:
        """A client of ``connection``'s server with its TLS setting (:func:`tls_context`:
        the cached context, read once per CA file) and ``retry`` (default policy).
        Raises ``TlsError`` for an unreadable ``ca_file``."""
        https = connection.url.startswith("https:")
        ssl_setting = tls_context(connection.verify_tls, connection.ca_file, https=https)
        return cls(session, connection, ssl_setting=ssl_setting, retry=retry or RetryPolicy())

    def url(self, path: str) -> URL:
        """Absolute URL of an API path such as ``/api/roms`` (ASCII, already safe)."""
        return URL(self.base + path, encoded=True)

    def headers(self, bearer: str = "") -> dict[str, str]:
        """Our standard request headers, with ``Authorization`` when ``bearer`` is given."""
        headers = {
            "User-Agent": USER_AGENT,
            "Accept-Encoding": "gzip",
            "Accept": "application/json",
        }
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        return headers

    async def json(self, method: str, path: str, **options: Unpack[RequestOptions]) -> object:
        """Send to an API ``path`` and decode the JSON answer (errors as :meth:`send`)."""
        reply = await self.send(method, self.url(path), **options)
        return await decode_json(reply, f"{method} {path}")

    async def send(self, method: str, url: URL, **options: Unpack[RequestOptions]) -> Reply:
        """Send one request (retried when GET/HEAD) and return the whole reply.

        A 2xx or a status in ``accept`` is returned. Otherwise raises
        ``ServerUnreachableError``/``TlsError`` (no answer), ``AuthRejectedError`` (401,
        message ``on_401`` when given), ``MissingScopeError`` (403, naming ``scope``),
        ``NotFoundError`` (404) or ``BadResponseError`` (429, 5xx after retries, other
        4xx with the server's detail, a body over ``max_bytes``).
        """
        request = Request(method.upper(), url, **options)
        attempt = functools.partial(self._attempt, request)
        try:
            if request.method not in _IDEMPOTENT:
                return await attempt()
            retrying = tenacity.AsyncRetrying(
                stop=tenacity.stop_after_attempt(self._retry.attempts),
                wait=self._wait,
                retry=tenacity.retry_if_exception_type(_Transient),
                sleep=self._retry.sleep,
                reraise=True,
            )
            return await retrying(attempt)
        except _Transient as exc:
            raise exc.error from exc.__cause__

    def _wait(self, state: tenacity.RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        if isinstance(failure, _Transient) and failure.retry_after is not None:
            return min(failure.retry_after, self._retry.retry_after_cap)
        return self._backoff(state)

    async def _attempt(self, request: Request) -> Reply:
        url = request.url
        body = request.form if request.multipart is None else request.multipart
        try:
            async with self._session.request(
                request.method, url, params=list(request.params) or None,
                json=request.json_body, data=body, headers=self.headers(request.bearer),
                ssl=self.ssl, timeout=self.timeout,
            ) as response:  # fmt: skip
                reply = Reply(
                    status=response.status,
                    content_type=response.content_type,
                    body=await _read_body(response, request.max_bytes, url),
                    retry_after=response.headers.get("Retry-After", ""),
                    date=response.headers.get("Date", ""),
                )
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise self._connection_error(exc) from exc
        log.debug("%s %s -> %d", request.method, url.path, reply.status)
        if reply.status < 300 or reply.status in request.accept:
            return reply
        raise self._status_error(request, reply)

    def _connection_error(self, exc: BaseException) -> Exception:
        if _is_tls_failure(exc):
            return TlsError(
                f"The secure connection to the RomM server at {self.base} failed: "
                f"{_tls_reason(exc)}. Add its certificate file in the settings, or fix "
                "the server's certificate."
            )
        if isinstance(exc, aiohttp.InvalidURL | aiohttp.TooManyRedirects):
            return BadResponseError(f"The RomM server at {self.base} redirected badly: {exc}")
        reason = _connection_reason(exc)
        return _Transient(
            ServerUnreachableError(f"Cannot reach the RomM server at {self.base}: {reason}.")
        )

    def _status_error(self, request: Request, reply: Reply) -> Exception:
        status, path, scope = reply.status, request.url.path, request.scope
        what = f"{request.method} {path}"
        if status == 401:
            return AuthRejectedError(
                request.on_401 or f"The RomM server rejected the credentials ({describe(reply)})."
            )
        if status == 403:
            needs = f" ({scope})" if scope else ""
            return MissingScopeError(
                f"The RomM server refused {what}: RomDeck's sign-in lacks a permission it "
                f"needs{needs}; the server said: {describe(reply)}."
            )
        if status == 404:
            said = error_detail(reply.body)
            shown = f" ({render_detail(said)})" if said is not None else ""
            return NotFoundError(f"The RomM server has no {path}{shown}.")
        if status == 429:
            return _Transient(
                BadResponseError(
                    "The RomM server is limiting how often RomDeck may ask; try again in a minute."
                ),
                retry_after=_seconds(reply.retry_after),
            )
        if status >= 500:
            return _Transient(
                BadResponseError(
                    f"The RomM server had a server error (HTTP {status}) answering {what}; "
                    "its log may tell why."
                )
            )
        return BadResponseError(
            f"The RomM server refused {what} (HTTP {status}): {describe(reply)}."
        )


async def decode_json(reply: Reply, what: str) -> object:
    """The reply's JSON (large bodies decoded off the event loop); else ``BadResponseError``."""
    try:
        if len(reply.body) > _BIG_JSON_BYTES:  # in a worker, in slices: the loop keeps running
            return await asyncio.to_thread(loads_in_slices, reply.body)
        return json.loads(reply.body)
    except ValueError as exc:
        kind = reply.content_type or "no content type"
        raise BadResponseError(
            f"The answer to {what} is not JSON ({kind}): is this address a RomM server?"
        ) from exc


async def _read_body(response: aiohttp.ClientResponse, max_bytes: int | None, url: URL) -> bytes:
    if max_bytes is None:
        return await response.read()
    if (response.content_length or 0) > max_bytes:
        raise BadResponseError(f"{url.path} is larger than {max_bytes} bytes.")
    body = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > max_bytes:
            raise BadResponseError(f"{url.path} is larger than {max_bytes} bytes.")
    return bytes(body)


def _is_tls_failure(exc: BaseException) -> bool:
    if isinstance(exc, aiohttp.ClientSSLError | aiohttp.ServerFingerprintMismatch):
        return True
    cause = getattr(exc, "os_error", None) or exc.__cause__
    return isinstance(cause, ssl.SSLError)


def _tls_reason(exc: BaseException) -> str:
    cause = getattr(exc, "os_error", None) or exc.__cause__ or exc
    reason = getattr(cause, "verify_message", None) or getattr(cause, "reason", None)
    return str(reason or cause)


def _connection_reason(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ServerTimeoutError | TimeoutError):
        return "it did not answer in time"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "it closed the connection"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "the answer was cut off"
    os_error = getattr(exc, "os_error", None)
    if isinstance(os_error, socket.gaierror):
        return f"its name could not be resolved ({os_error.strerror})"
    if isinstance(os_error, OSError) and os_error.errno:
        return os.strerror(os_error.errno).lower()
    return str(exc) or type(exc).__name__


def _seconds(retry_after: str) -> float | None:
    try:
        return max(0.0, float(retry_after))
    except ValueError:
        return None
