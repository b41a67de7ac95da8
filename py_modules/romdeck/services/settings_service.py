"""What the user sets from the panel or the CLI: read, patch, validate, save.

The emulation target, the ROMs folder, launch commands and the TLS choice. Everything
is checked before anything is written: a refused change leaves ``settings.json`` as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from posixpath import isabs
from typing import Protocol

from romdeck.domain.settings import Settings, apply_patch, looks_like_pem
from romdeck.errors import InvalidInputError
from romdeck.services.protocols import SettingsStore


class CaBundleReader(Protocol):
    """Reads a CA bundle file the user named."""

    async def read_head(self, path: str) -> bytes:
        """The first bytes (64 KiB) of the file at ``path``; raises ``InvalidInputError``
        naming the path when it does not exist or cannot be read."""
        ...


class SettingsService:
    """Reads and changes the user's settings.

    Args:
        store: ``settings.json``.
        ca_files: checks that a CA bundle named in the settings exists and is PEM.
    """

    def __init__(self, *, store: SettingsStore, ca_files: CaBundleReader) -> None:
        self._store = store
        self._ca_files = ca_files

    def current(self) -> Settings:
        """The saved settings (defaults when none). Raises ``CorruptFileError``."""
        return self._store.load()

    async def update(self, patch: Mapping[str, object]) -> Settings:
        """Apply a partial ``{emulation: {target, roms_root, templates}, tls: {verify,
        ca_file}}`` (see ``domain.settings.apply_patch``), check it, save it; returns
        the new settings.

        Raises ``InvalidInputError`` (nothing saved) for an unknown key or wrong type, an
        unknown target, a relative ROMs folder, a malformed launch command, or a CA file
        that is relative, missing, unreadable or not PEM; ``StateError``/``DiskFullError``
        when the file cannot be written.
        """
        current = self._store.load()
        updated = apply_patch(current, patch)
        ca_file = updated.connection.ca_file
        if ca_file and ca_file != current.connection.ca_file:
            await self._check_ca_file(ca_file)
        if updated != current:
            await self._store.save_async(updated)
        return updated

    async def _check_ca_file(self, path: str) -> None:
        if not isabs(path):
            raise InvalidInputError(f"The CA file must be an absolute path, not {path!r}.")
        if not looks_like_pem(await self._ca_files.read_head(path)):
            raise InvalidInputError(
                f"The CA file {path} is not a PEM certificate bundle "
                "(no '-----BEGIN CERTIFICATE-----' line)."
            )
