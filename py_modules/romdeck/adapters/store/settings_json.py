"""The user's settings as ``settings.json`` (versioned, validated, atomic, mode 0600).

File shape (version 1)::

    {"version": 1,
     "connection": {"url": str, "token": str, "verify_tls": bool, "ca_file": str,
                    "connect_timeout": number, "read_timeout": number},
     "selection": {"platform_ids": [int], "collection_ids": [int]},
     "device_name": str,
     "emulation": {"target": "auto"|"retrodeck"|"emudeck"|"custom", "roms_root": str,
                   "bios_root": str, "templates": {system: str},
                   "system_overrides": {slug: str}},
     "saves": {"sync": bool, "states": bool}}

Missing keys take their defaults; unknown keys are dropped on the next save. The file
holds the RomM token: it is written mode 0600 and its content is never logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from romdeck.adapters.files.atomic import write_bytes_atomic
from romdeck.adapters.files.os_errors import write_error
from romdeck.domain.models import Selection
from romdeck.domain.settings import (
    EMULATION_TARGETS,
    SETTINGS_SCHEMA_VERSION,
    Connection,
    EmulationSettings,
    SaveSettings,
    Settings,
)
from romdeck.errors import CorruptFileError, InvalidInputError, StateError

log = logging.getLogger(__name__)

SettingsMigration = Callable[[dict[str, Any]], dict[str, Any]]
"""Turns a version-``n`` document into a version-``n + 1`` one (sets ``"version"`` too)."""

MIGRATIONS: Mapping[int, SettingsMigration] = {}
"""Migration from each old version to the next; empty while version 1 is the only one."""


_DEFAULT = Connection()


class _InvalidDocument(ValueError):
    """The document's shape or types are wrong; the message names the key, never a value."""


def _section(doc: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise _InvalidDocument(f"'{key}' must be an object")
    return value


def _text(section: Mapping[str, Any], key: str, default: str, where: str) -> str:
    value = section.get(key, default)
    if not isinstance(value, str):
        raise _InvalidDocument(f"'{where}{key}' must be a string")
    return value


def _seconds(section: Mapping[str, Any], key: str, default: float) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise _InvalidDocument(f"'connection.{key}' must be a positive number of seconds")
    return float(value)


def _ids(section: Mapping[str, Any], key: str) -> frozenset[int]:
    value = section.get(key, [])
    if not isinstance(value, list | tuple | set | frozenset) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in value
    ):
        raise _InvalidDocument(f"'selection.{key}' must be a list of integers")
    return frozenset(value)


def _text_map(section: Mapping[str, Any], key: str) -> dict[str, str]:
    value = section.get(key, {})
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise _InvalidDocument(f"'emulation.{key}' must map names to strings")
    return dict(value)


def _emulation(doc: Mapping[str, Any]) -> EmulationSettings:
    emu = _section(doc, "emulation")
    target = _text(emu, "target", "auto", "emulation.")
    if target not in EMULATION_TARGETS:
        raise _InvalidDocument(f"'emulation.target' must be one of {', '.join(EMULATION_TARGETS)}")
    return EmulationSettings(
        target=target,
        roms_root=_text(emu, "roms_root", "", "emulation."),
        bios_root=_text(emu, "bios_root", "", "emulation."),
        templates=_text_map(emu, "templates"),
        system_overrides=_text_map(emu, "system_overrides"),
    )


def parse_settings(doc: Mapping[str, Any]) -> Settings:
    """Build :class:`Settings` from a current-version document; raises ``ValueError``."""
    conn = _section(doc, "connection")
    verify_tls = conn.get("verify_tls", True)
    if not isinstance(verify_tls, bool):
        raise _InvalidDocument("'connection.verify_tls' must be true or false")
    connection = Connection(
        url=_text(conn, "url", "", "connection."),
        token=_text(conn, "token", "", "connection."),
        verify_tls=verify_tls,
        ca_file=_text(conn, "ca_file", "", "connection."),
        connect_timeout=_seconds(conn, "connect_timeout", _DEFAULT.connect_timeout),
        read_timeout=_seconds(conn, "read_timeout", _DEFAULT.read_timeout),
    )
    sel = _section(doc, "selection")
    selection = Selection(
        platform_ids=_ids(sel, "platform_ids"), collection_ids=_ids(sel, "collection_ids")
    )
    return Settings(
        connection=connection,
        selection=selection,
        device_name=_text(doc, "device_name", "", ""),
        emulation=_emulation(doc),
        saves=_saves(doc),
    )


def _saves(doc: Mapping[str, Any]) -> SaveSettings:
    section = _section(doc, "saves")
    values: dict[str, bool] = {}
    for key, default in (("sync", True), ("states", False)):
        value = section.get(key, default)
        if not isinstance(value, bool):
            raise _InvalidDocument(f"'saves.{key}' must be true or false")
        values[key] = value
    return SaveSettings(**values)


def settings_document(settings: Settings, version: int) -> dict[str, Any]:
    """The JSON document of ``settings`` at schema ``version`` (ids sorted)."""
    c = settings.connection
    return {
        "version": version,
        "connection": {
            "url": c.url,
            "token": c.token,
            "verify_tls": c.verify_tls,
            "ca_file": c.ca_file,
            "connect_timeout": c.connect_timeout,
            "read_timeout": c.read_timeout,
        },
        "selection": {
            "platform_ids": sorted(settings.selection.platform_ids),
            "collection_ids": sorted(settings.selection.collection_ids),
        },
        "device_name": settings.device_name,
        "emulation": {
            "target": settings.emulation.target,
            "roms_root": settings.emulation.roms_root,
            "bios_root": settings.emulation.bios_root,
            "templates": dict(sorted(settings.emulation.templates.items())),
            "system_overrides": dict(sorted(settings.emulation.system_overrides.items())),
        },
        "saves": {"sync": settings.saves.sync, "states": settings.saves.states},
    }


def _os_error(err: OSError, action: str, path: Path) -> Exception:
    return write_error(err, path, other=StateError, doing=action)


class JsonSettingsStore:
    """``SettingsStore`` backed by one JSON file at ``path``.

    ``load`` returns defaults when the file is missing, migrates an older version in
    memory, and validates every field. A file that cannot be parsed or validated is
    moved aside to ``<name>.corrupt-<UTC timestamp>`` and reported with
    ``CorruptFileError`` (naming where it went); a file from a newer RomDeck is
    refused with ``CorruptFileError`` and left in place. ``save`` validates, then
    writes atomically (temp file in the same folder, fsync, ``os.replace``) with mode
    0600, creating the folder with mode 0700. Raises ``StateError`` for other I/O
    failures and ``DiskFullError`` when the disk is full.

    After the first read, ``load`` serves the settings from memory: it only ``stat``s
    the file and reads it again when its mtime, size or inode changed (an edit by hand,
    another process). ``save`` refreshes the memory copy.
    """

    def __init__(
        self,
        path: Path,
        *,
        migrations: Mapping[int, SettingsMigration] = MIGRATIONS,
        version: int = SETTINGS_SCHEMA_VERSION,
    ) -> None:
        self.path = Path(path)
        self._migrations = migrations
        self._version = version
        self._lock = threading.Lock()
        self._cached: tuple[tuple[int, int, int] | None, Settings] | None = None

    def _stamp(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError as err:
            raise _os_error(err, "read", self.path) from err
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def load(self) -> Settings:
        """The saved settings, or defaults when there is no file yet (memory after the
        first read, unless the file changed since)."""
        with self._lock:
            stamp = self._stamp()
            if self._cached is not None and self._cached[0] == stamp:
                return self._cached[1]
            settings = self._read()
            self._cached = (stamp, settings)
            return settings

    def _read(self) -> Settings:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return Settings()
        except OSError as err:
            raise _os_error(err, "read", self.path) from err
        try:
            doc = json.loads(raw.decode("utf-8"))
            if not isinstance(doc, dict):
                raise _InvalidDocument("the top level must be an object")
            return parse_settings(self._upgrade(doc))
        except (ValueError, TypeError, KeyError) as err:
            aside = self._set_aside()
            log.warning("Settings file %s was unreadable; moved to %s", self.path, aside)
            raise CorruptFileError(
                f"The settings file {self.path} was unreadable ({_reason(err)}); "
                f"it was moved to {aside} and defaults are used"
            ) from None

    def save(self, settings: Settings) -> None:
        """Write ``settings`` at the current schema version.

        Raises ``InvalidInputError`` when a field has the wrong type (nothing written).
        """
        doc = settings_document(settings, self._version)
        try:
            parse_settings(doc)
        except ValueError as err:
            raise InvalidInputError(f"Settings not saved: {err}") from None
        data = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            self._cached = None
            self._write_atomic(data)
            self._cached = (self._stamp(), parse_settings(doc))
        log.info("Settings saved to %s", self.path)

    async def save_async(self, settings: Settings) -> None:
        """:meth:`save` in a worker thread (the atomic write and its fsync stay off the
        event loop); the same errors."""
        await asyncio.to_thread(self.save, settings)

    def _upgrade(self, doc: dict[str, Any]) -> dict[str, Any]:
        version = doc.get("version")
        if isinstance(version, bool) or not isinstance(version, int):
            raise _InvalidDocument("'version' must be an integer")
        if version > self._version:
            raise CorruptFileError(
                f"The settings file {self.path} is from a newer RomDeck (schema {version}, "
                f"this one knows {self._version}); it was left untouched"
            )
        while version < self._version:
            migrate = self._migrations.get(version)
            if migrate is None:
                raise _InvalidDocument(f"schema version {version} is unknown")
            doc = migrate(doc)
            version += 1
        return doc

    def _set_aside(self) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while aside.exists():
            n += 1
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        try:
            os.rename(self.path, aside)
        except OSError as err:
            raise CorruptFileError(
                f"The settings file {self.path} is unreadable and could not be moved aside "
                f"({err.strerror or err})"
            ) from None
        return aside

    def _write_atomic(self, data: bytes) -> None:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_bytes_atomic(self.path, data, mode=0o600)
        except OSError as err:
            raise _os_error(err, "write", self.path) from err


def _reason(err: Exception) -> str:
    if isinstance(err, json.JSONDecodeError):
        return f"not valid JSON at line {err.lineno}"
    if isinstance(err, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(err, _InvalidDocument):
        return str(err)
    return f"cannot be migrated: {type(err).__name__}"
