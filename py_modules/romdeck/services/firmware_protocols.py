"""Ports of the BIOS (firmware) service. All async: adapters do their I/O off the loop."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from romdeck.domain.emulation import EmulationTarget
from romdeck.domain.firmware import CoreInfo, Placement, ServerFirmware
from romdeck.domain.models import Platform

FirmwareProgress = Callable[[str, int, int | None], None]
"""``(path relative to bios, bytes done, bytes total or None)``, called on the loop."""


class FirmwareServer(Protocol):
    """RomM's platforms and firmware files (``/api/platforms``, ``/api/firmware``)."""

    async def list_platforms(self) -> list[Platform]: ...

    async def list_firmware(self, platform_id: int) -> list[ServerFirmware]: ...

    async def download_firmware(
        self,
        firmware: ServerFirmware,
        target: str,
        on_progress: Callable[[int, int | None], None] | None = None,
    ) -> None:
        """Download to the absolute file ``target``, verified against the server's hash."""
        ...


class BiosFolder(Protocol):
    """Files under a bios root by ``/`` paths relative to it."""

    async def md5s(self, root: str, paths: Sequence[str]) -> dict[str, str]: ...

    async def md5_of(self, file: str) -> str: ...

    def staging_path(self, root: str, path: str) -> str: ...

    async def install(self, root: str, staged: str, path: str, *, backup: bool) -> str: ...

    async def discard(self, staged: str) -> None: ...

    async def remove(self, root: str, path: str, *, backup: bool) -> str: ...


class FirmwarePlacements(Protocol):
    """What RomDeck placed in a bios folder (so it deletes only its own files)."""

    async def placed(self, bios_root: str) -> dict[str, Placement]: ...

    async def record(self, placement: Placement) -> None: ...

    async def forget(self, bios_root: str, path: str) -> None: ...


class CoreInfoSource(Protocol):
    """The installed libretro cores' parsed ``.info`` files for a target."""

    async def installed_cores(self, target: EmulationTarget) -> Mapping[str, CoreInfo]: ...
