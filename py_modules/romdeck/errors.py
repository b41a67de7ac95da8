"""RomDeck's error hierarchy.

Adapters translate library exceptions (aiohttp, sqlite3, OSError, vdf) into these;
services decide what to do; ``main.py`` and the CLI turn them into result objects
(``{"ok": false, "error": {"code", "message"}}``) and exit codes. Every error carries
a stable ``code`` (mirrored in the panel's TypeScript) and a message a user understands.
Messages never contain a password or token.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Closed set of error codes sent to the panel (``src/backend.ts`` mirrors it)."""

    SERVER_UNREACHABLE = "server_unreachable"
    TLS_FAILURE = "tls_failure"
    AUTH_REJECTED = "auth_rejected"
    MISSING_SCOPE = "missing_scope"
    SERVER_TOO_OLD = "server_too_old"
    NOT_FOUND = "not_found"
    BAD_RESPONSE = "bad_response"
    NOT_CONFIGURED = "not_configured"
    INVALID_INPUT = "invalid_input"
    STEAM_NOT_FOUND = "steam_not_found"
    STEAM_RUNNING = "steam_running"
    CORRUPT_FILE = "corrupt_file"
    DISK_FULL = "disk_full"
    UNSAFE_ARCHIVE = "unsafe_archive"
    HASH_MISMATCH = "hash_mismatch"
    DOWNLOAD_FAILED = "download_failed"
    CANCELLED = "cancelled"
    BUSY = "busy"
    AUTH_PENDING = "auth_pending"
    STATE_ERROR = "state_error"
    INTERNAL = "internal"


class RomDeckError(Exception):
    """Base of every error RomDeck raises on purpose.

    Attributes:
        code: the stable :class:`ErrorCode` for the panel and the CLI.
        message: one sentence for the user (``str(err)`` returns it).
    """

    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ServerUnreachableError(RomDeckError):
    """The RomM server could not be reached (DNS, refused, timeout, reset)."""

    code = ErrorCode.SERVER_UNREACHABLE


class TlsError(ServerUnreachableError):
    """The TLS handshake failed (untrusted certificate, wrong host name)."""

    code = ErrorCode.TLS_FAILURE


class AuthRejectedError(RomDeckError):
    """The server rejected the credentials (wrong password, revoked or expired token)."""

    code = ErrorCode.AUTH_REJECTED


class MissingScopeError(RomDeckError):
    """The token is valid but lacks a scope the request needs (HTTP 403)."""

    code = ErrorCode.MISSING_SCOPE


class ServerTooOldError(RomDeckError):
    """The server's version is older than the oldest RomM we support."""

    code = ErrorCode.SERVER_TOO_OLD


class NotFoundError(RomDeckError):
    """The server or a local store has no such thing (ROM, platform, file)."""

    code = ErrorCode.NOT_FOUND


class BadResponseError(RomDeckError):
    """The server answered with something we cannot use (wrong shape, 5xx, bad JSON)."""

    code = ErrorCode.BAD_RESPONSE


class NotConfiguredError(RomDeckError):
    """RomDeck has no server or token yet: the user must sign in first."""

    code = ErrorCode.NOT_CONFIGURED


class InvalidInputError(RomDeckError):
    """An argument from the user or the panel is not acceptable."""

    code = ErrorCode.INVALID_INPUT


class SteamNotFoundError(RomDeckError):
    """No Steam installation, or no such Steam user, was found."""

    code = ErrorCode.STEAM_NOT_FOUND


class SteamRunningError(RomDeckError):
    """Steam is running, so its files must not be written directly."""

    code = ErrorCode.STEAM_RUNNING


class CorruptFileError(RomDeckError):
    """A file we read (shortcuts.vdf, settings.json, state) cannot be parsed.

    The file is left untouched (or set aside, for settings.json).
    """

    code = ErrorCode.CORRUPT_FILE


class DiskFullError(RomDeckError):
    """There is not enough free space for a write or a download."""

    code = ErrorCode.DISK_FULL


class UnsafeArchiveError(RomDeckError):
    """An archive tried to write outside its target, or expands beyond the allowed size."""

    code = ErrorCode.UNSAFE_ARCHIVE


class HashMismatchError(RomDeckError):
    """Downloaded bytes do not match the hash the server gave."""

    code = ErrorCode.HASH_MISMATCH


class DownloadFailedError(RomDeckError):
    """A download failed for a reason other than the ones above."""

    code = ErrorCode.DOWNLOAD_FAILED


class CancelledError(RomDeckError):
    """The user cancelled the operation."""

    code = ErrorCode.CANCELLED


class BusyError(RomDeckError):
    """Another operation of the same kind is already running (a sync, a login)."""

    code = ErrorCode.BUSY


class AuthPendingError(RomDeckError):
    """A device authorization is not approved yet."""

    code = ErrorCode.AUTH_PENDING


class StateError(RomDeckError):
    """The local state database cannot be opened or written."""

    code = ErrorCode.STATE_ERROR
