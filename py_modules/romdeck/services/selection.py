"""What the user chose to sync (platforms, collections), kept in the settings.

Both entry points (the panel's ``save_selection`` and ``romdeck select``) save through
here, so the merge into the rest of the settings lives in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from romdeck.domain.models import Selection
from romdeck.errors import InvalidInputError
from romdeck.services.protocols import SettingsStore


class SelectionService:
    """Reads and saves the selection in ``settings.json``.

    Args:
        settings: the settings store (the selection is one part of it; the rest is kept).
    """

    def __init__(self, *, settings: SettingsStore) -> None:
        self._settings = settings

    def current(self) -> Selection:
        """The saved selection (memory after the settings' first read)."""
        return self._settings.load().selection

    async def save(
        self, platform_ids: Iterable[object], collection_ids: Iterable[object]
    ) -> Selection:
        """Replace the selection with these RomM platform and collection ids; keep the rest.

        Raises ``InvalidInputError`` (nothing saved) when an id is not a whole number >= 0.
        """
        selection = Selection(_ids(platform_ids, "platform"), _ids(collection_ids, "collection"))
        await self._settings.save_async(replace(self._settings.load(), selection=selection))
        return selection


def _ids(values: Iterable[object], kind: str) -> frozenset[int]:
    ids: set[int] = set()
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise InvalidInputError(f"A {kind} id must be a whole number, not {value!r}.")
        try:
            number = int(value)
        except ValueError:
            raise InvalidInputError(f"A {kind} id must be a whole number, not {value!r}.") from None
        if number < 0:
            raise InvalidInputError(f"A {kind} id cannot be negative ({number}).")
        ids.add(number)
    return frozenset(ids)
