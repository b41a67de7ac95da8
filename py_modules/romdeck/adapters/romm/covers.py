"""RomM cover art as PNG bytes for Steam's grid folder (the ``CoverFetcher`` port)."""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING, Protocol

from romdeck.errors import BadResponseError

if TYPE_CHECKING:
    from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_DECODABLE = ("JPEG", "WEBP", "GIF", "BMP")
_PNG_MODES = frozenset({"1", "L", "LA", "P", "RGB", "RGBA"})


class _CoverSource(Protocol):
    async def fetch_cover(self, path: str) -> tuple[bytes, str]: ...


class PillowCoverFetcher:
    """Fetches covers through a RomM client and hands them back as PNG.

    ``client`` is anything with ``fetch_cover(path) -> (bytes, media type)``
    (``AiohttpRommClient``). PNG bodies pass through untouched; JPEG, WebP (first
    frame), GIF and BMP are converted with Pillow in a worker thread.
    """

    def __init__(self, client: _CoverSource) -> None:
        self._client = client

    async def fetch_png(self, path: str) -> bytes:
        """The cover at server-relative ``path`` as PNG bytes.

        Raises ``NotFoundError`` (no such asset), ``BadResponseError`` (not an image we
        can read), and the client's connection and auth errors.
        """
        body, content_type = await self._client.fetch_cover(path)
        if body.startswith(PNG_SIGNATURE):
            return body
        return await asyncio.to_thread(_to_png, body, f"{path} ({content_type or 'no type'})")


def _to_png(body: bytes, what: str) -> bytes:
    """Decode ``body`` (one of ``_DECODABLE``) and encode it as PNG.

    Pillow is imported here, in the worker thread, so a sync whose covers are all PNG
    (and every resync) never pays for it at start-up.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(body), formats=_DECODABLE) as image:
            image.load()
            converted = image if image.mode in _PNG_MODES else _to_rgb(image)
            out = io.BytesIO()
            converted.save(out, format="PNG")
            return out.getvalue()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise BadResponseError(f"The cover {what} is not an image RomDeck can read.") from exc


def _to_rgb(image: Image.Image) -> Image.Image:
    return image.convert("RGBA" if "A" in image.getbands() else "RGB")
