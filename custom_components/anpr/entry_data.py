"""Per-entry stored data (the plate registry, the visit history) kept beside the entry.

Both live in `hass.data` under their own key, by entry id, rather than in the entry's runtime
data: the services that manage plates and export the history must work while the entry is
not loaded (after a failed setup, say), and removing an entry deletes its files even when
they were never loaded in this run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.core import HomeAssistant
    from homeassistant.util.hass_dict import HassKey


class EntryData(Protocol):
    """Data of one entry, persisted in its own `Store`."""

    async def async_load(self) -> None:
        """Load the stored data; cheap once loaded."""

    async def async_remove_store(self) -> None:
        """Delete the stored data."""


async def async_get_entry_data[T: EntryData](
    hass: HomeAssistant,
    key: HassKey[dict[str, T]],
    entry_id: str,
    create: Callable[[HomeAssistant, str], T],
) -> T:
    """Return the loaded data of `entry_id` under `key`, creating and loading it on first use."""
    by_entry = hass.data.setdefault(key, {})
    if (data := by_entry.get(entry_id)) is None:
        data = by_entry[entry_id] = create(hass, entry_id)
    await data.async_load()
    return data


async def async_remove_entry_data[T: EntryData](
    hass: HomeAssistant,
    key: HassKey[dict[str, T]],
    entry_id: str,
    create: Callable[[HomeAssistant, str], T],
) -> None:
    """Delete the stored data of a removed entry, whether it was loaded or not."""
    data = hass.data.setdefault(key, {}).pop(entry_id, None) or create(hass, entry_id)
    await data.async_remove_store()
