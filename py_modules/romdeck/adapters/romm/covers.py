"""RomM cover art as PNG bytes for Steam's grid folder (the ``CoverFetcher`` port)."""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING, Protocol

from romdeck.errors import BadResponseError

if TYPE_CHECKING:
    from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PORTRAIT_SIZE = (600, 900)
"""Steam's portrait capsule (width, height in pixels); larger covers are scaled to fit it."""
PORTRAIT_MAX_BYTES = 700_000
"""Largest portrait PNG (bytes) handed to the panel: base64 makes it at most 933,336
characters, so the whole ``get_artwork`` reply stays under Decky's ~1 MiB bridge cap."""
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

    async def fetch_portrait(self, path: str, max_bytes: int = PORTRAIT_MAX_BYTES) -> bytes:
        """The cover at ``path`` as a PNG of at most ``max_bytes`` bytes, for the panel.

        A cover larger than ``PORTRAIT_SIZE`` (600×900) is scaled down to fit it (aspect
        kept); a PNG still over ``max_bytes`` is reduced to a 256-colour palette (at
        600×900 that is at most ~545 KB). A PNG that already fits both bounds is passed
        through untouched. Decoding and encoding run in a worker thread. Raises the
        errors of ``fetch_png`` and ``BadResponseError`` when no encoding fits.
        """
        body, content_type = await self._client.fetch_cover(path)
        what = f"{path} ({content_type or 'no type'})"
        return await asyncio.to_thread(_to_portrait, body, what, max_bytes)


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


def _to_portrait(body: bytes, what: str, max_bytes: int) -> bytes:
    """Decode ``body``, fit it in ``PORTRAIT_SIZE`` and encode a PNG of <= ``max_bytes``."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(body), formats=("PNG", *_DECODABLE)) as image:
            fits = image.width <= PORTRAIT_SIZE[0] and image.height <= PORTRAIT_SIZE[1]
            if fits and body.startswith(PNG_SIGNATURE) and len(body) <= max_bytes:
                return body
            image.load()
            picture = image if image.mode in _PNG_MODES else _to_rgb(image)
            if not fits:
                picture = picture.copy()
                picture.thumbnail(PORTRAIT_SIZE, Image.Resampling.LANCZOS)
            png = _encode_png(picture)
            if len(png) > max_bytes:
                png = _encode_png(_palette(picture))
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise BadResponseError(f"The cover {what} is not an image RomDeck can read.") from exc
    if len(png) > max_bytes:
        raise BadResponseError(
            f"The cover {what} does not fit in {max_bytes} bytes even with 256 colours."
        )
    return png


def _encode_png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()


def _palette(image: Image.Image) -> Image.Image:
    """At most 256 colours (one byte per pixel); transparency kept (fast octree)."""
    from PIL import Image

    if image.mode == "P":
        return image
    rgba = image.convert("RGBA")
    return rgba.quantize(256, method=Image.Quantize.FASTOCTREE)


def _to_rgb(image: Image.Image) -> Image.Image:
    return image.convert("RGBA" if "A" in image.getbands() else "RGB")
