"""Cover art for the panel: the PNG the panel sets as a shortcut's portrait art."""

from __future__ import annotations

from collections.abc import Callable

from romdeck.services.protocols import CatalogStore, PortraitFetcher, RommCatalogApi


class ArtworkService:
    """Fetches a mirrored ROM's cover from RomM as PNG.

    Args:
        catalog: the local mirror (gives the ROM's ``cover_path``).
        connect: a client for the saved connection (raises ``NotConfiguredError``).
        covers: a portrait fetcher (PNG, <= 600×900, small enough for one bridge reply)
            over a client.
    """

    def __init__(
        self,
        *,
        catalog: CatalogStore,
        connect: Callable[[], RommCatalogApi],
        covers: Callable[[RommCatalogApi], PortraitFetcher],
    ) -> None:
        self._catalog = catalog
        self._connect = connect
        self._covers = covers

    async def portrait_png(self, rom_id: int) -> bytes | None:
        """The ROM's cover (the server's ``path_cover_large``) as PNG bytes, scaled to fit
        600×900 and small enough that its base64 fits one Decky reply (< 1 MiB); None when
        the ROM is not mirrored or has no cover. Raises the client's errors,
        ``NotFoundError`` (asset gone) and ``BadResponseError`` (not an image)."""
        found = await self._catalog.roms(platform_ids=(), rom_ids=[rom_id])
        if not found or not found[0].cover_path:
            return None
        return await self._covers(self._connect()).fetch_portrait(found[0].cover_path)
