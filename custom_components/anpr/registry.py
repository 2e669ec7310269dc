"""The plate registry of one config entry: residents, visitors with passes, blocked plates.

Why a `Store` and not the entry's options: changing options reloads the entry (watchers
restart, visits and presence are lost), while plates are added and passes counted down all the
time. The registry is one JSON document per entry (`.storage/anpr.registry.<entry_id>`),
loaded once and shared by the entry, the options flow and the actions, so it can be managed
even while the entry is not loaded (the inference service is down, say). It is deleted with
the entry (`async_remove_registry`).

Entries are keyed by their normalised plate or wildcard pattern (`matching.validate_pattern`),
so `ab-12 cde` and `AB12CDE` are the same entry and a plate is registered once.

Visitor passes
    A visitor entry may carry a pass: valid from (default: when it was issued), valid until,
    and optionally a number of entries that counts down each time the pass opens a gate. A
    pass is valid inside its window while entries are left; a visitor without a valid pass is
    still recognised (named, reported as a visitor) but never opens a gate. Passes expire by
    themselves (every decision checks the time); expired passes are purged `PASS_PURGE_AFTER`
    after their end, so a visitor who comes back a little late is still named, while old
    passes do not pile up.

Durability
    The registry decides who may enter, so it is written atomically *and* durably
    (`atomic_writes`: a temporary file, flushed to disk, then renamed over the old one, the
    folder synced): a power cut or a crash in the middle of a write leaves the previous
    registry, never a truncated one. A change waits `SAVE_DELAY` before it is written, and is
    written at once when Home Assistant stops.

Listeners
    `async_add_listener` tells others (the visitor-pass calendar) about every change, so what
    they show follows the registry whoever changed it (an action, the options flow, a used
    entry, the purge).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryError
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .compat import STORE_VERSION_TOO_NEW
from .const import DOMAIN, LOGGER, Category
from .entry_data import async_get_entry_data, async_remove_entry_data
from .matching import Candidate, ExactIndex
from .registry_entry import (
    STORAGE_MINOR_VERSION,
    STORAGE_VERSION,
    PassState,
    PlateData,
    RegisteredPlate,
    RegistryData,
    RegistryError,
    RegistryStore,
    key_is_pattern,
)
from .registry_rules import (
    check_new_key,
    check_not_past,
    clean_name,
    clean_notes,
    normalise_plate_input,
    registry_conflicts,
    validated,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = [
    "PassState",
    "PlateData",
    "RegisteredPlate",
    "RegistryData",
    "RegistryError",
    "key_is_pattern",
    "normalise_plate_input",
]
"""Re-exported for the callers that knew them here before the registry was split."""

SAVE_DELAY: Final = 1.0
"""Seconds a change waits before it is written, so a batch of changes is written once."""
PASS_PURGE_AFTER: Final = timedelta(days=7)
"""How long an expired visitor pass stays in the registry (inactive) before it is removed."""

DATA_REGISTRIES: HassKey[dict[str, PlateRegistry]] = HassKey(f"{DOMAIN}_registries")


class PlateRegistry:
    """The registered plates of one config entry, persisted in a `Store`."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Prepare the registry of `entry_id`; call `async_load` before use."""
        self.hass = hass
        self.entry_id = entry_id
        self._store = RegistryStore(
            hass,
            STORAGE_VERSION,
            f"{DOMAIN}.registry.{entry_id}",
            private=True,
            atomic_writes=True,
            minor_version=STORAGE_MINOR_VERSION,
        )
        self._plates: dict[str, RegisteredPlate] = {}
        self._candidates: tuple[Candidate, ...] = ()
        self._index = ExactIndex(())
        self._loaded = False
        self._lock = asyncio.Lock()
        self._listeners: list[Callable[[], None]] = []

    # --- loading and saving -------------------------------------------------------------

    async def async_load(self) -> None:
        """Load the stored entries once; corrupt entries are logged and left out."""
        async with self._lock:
            if self._loaded:
                return
            try:
                data = await self._store.async_load()
            except STORE_VERSION_TOO_NEW as err:
                raise ConfigEntryError(
                    translation_domain=DOMAIN,
                    translation_key="registry_too_new",
                    translation_placeholders={"key": self._store.key},
                ) from err
            for stored in data["plates"] if data else []:
                try:
                    entry = RegisteredPlate.from_storage(stored)
                except (KeyError, TypeError, ValueError) as err:
                    LOGGER.error("Ignoring a corrupt plate registry entry %s: %s", stored, err)
                    continue
                if entry.plate in self._plates:
                    LOGGER.error("Ignoring a second registry entry for %s", entry.plate)
                    continue
                self._plates[entry.plate] = entry
            self._changed(save=False)
            self._loaded = True

    def _data_to_save(self) -> RegistryData:
        return {"plates": [entry.to_storage() for entry in self._plates.values()]}

    @callback
    def _changed(self, *, save: bool = True) -> None:
        """Rebuild the matcher's candidates and schedule a save."""
        self._candidates = tuple(
            Candidate(plate=key, key=key, blocked=entry.category is Category.BLOCKED)
            for key, entry in self._plates.items()
        )
        self._index = ExactIndex(self._candidates)
        if save:
            self._store.async_delay_save(self._data_to_save, SAVE_DELAY)
            for listener in list(self._listeners):
                listener()

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` after every change; return the function that stops it."""
        self._listeners.append(listener)

        @callback
        def remove() -> None:
            self._listeners.remove(listener)

        return remove

    async def async_remove_store(self) -> None:
        """Delete the stored registry (the entry is being removed)."""
        await self._store.async_remove()

    # --- reading ------------------------------------------------------------------------

    @property
    def plates(self) -> Mapping[str, RegisteredPlate]:
        """Every entry, keyed by normalised plate or pattern."""
        return self._plates

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        """Every entry as the matcher wants it."""
        return self._candidates

    @property
    def index(self) -> ExactIndex:
        """Which entries speak for a plate exactly (for the evidence rule)."""
        return self._index

    def conflicts(self) -> list[str]:
        """Name what the registry holds that it would refuse today (a stored older one)."""
        return registry_conflicts(self._plates)

    def find(self, plate: str) -> RegisteredPlate:
        """Return the entry of a typed plate or pattern, or raise a translated error."""
        key = normalise_plate_input(plate)
        if (entry := self._plates.get(key)) is None:
            raise RegistryError(
                translation_key="unknown_plate",
                translation_placeholders={"plate": key},
                field="plate",
            )
        return entry

    # --- changing -----------------------------------------------------------------------

    def async_add(  # noqa: PLR0913 - one keyword per field of an entry (actions, forms, calendar)
        self,
        plate: str,
        name: str,
        category: Category = Category.RESIDENT,
        notes: str | None = None,
        *,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        max_entries: int | None = None,
        now: datetime | None = None,
        created_by: str | None = None,
    ) -> RegisteredPlate:
        """Register a new plate or pattern; a visitor may come with a pass."""
        now = now or dt_util.utcnow()
        key = normalise_plate_input(plate)
        if valid_until is not None:
            check_not_past(valid_until, now)
        entry = validated(
            RegisteredPlate(
                plate=key,
                name=clean_name(name),
                category=Category(category),
                notes=clean_notes(notes),
                valid_from=valid_from,
                valid_until=valid_until,
                max_entries=max_entries,
                entries_left=max_entries,
                added=now,
                created_by=created_by,
            ),
        )
        check_new_key(self._plates, key, entry.category)
        self._plates[key] = entry
        self._changed()
        LOGGER.info("Registered %s (%s, %s)", key, entry.name, entry.category)
        return entry

    @callback
    def async_update(  # noqa: PLR0913 - one keyword per field of the edit form
        self,
        plate: str,
        *,
        new_plate: str,
        name: str,
        category: Category,
        notes: str | None,
        valid_from: datetime | None,
        valid_until: datetime | None,
        entries_left: int | None,
    ) -> RegisteredPlate:
        """Replace an entry's fields (its plate too), as the options flow's edit form does."""
        current = self.find(plate)
        key = normalise_plate_input(new_plate)
        changed = validated(
            replace(
                current,
                plate=key,
                name=clean_name(name),
                category=Category(category),
                notes=clean_notes(notes),
                valid_from=valid_from,
                valid_until=valid_until,
                entries_left=entries_left,
                # What the pass was issued with, raised if more entries are given now.
                max_entries=None
                if entries_left is None
                else max(entries_left, current.max_entries or 1),
            )
        )
        check_new_key(self._plates, key, changed.category, ignore=current.plate)
        del self._plates[current.plate]
        self._plates[key] = changed
        self._changed()
        LOGGER.info("Changed the registry entry %s (now %s, %s)", current.plate, key, changed.name)
        return changed

    @callback
    def async_remove(self, plate: str) -> RegisteredPlate:
        """Forget an entry; raises a translated error for a plate that is not registered."""
        entry = self.find(plate)
        del self._plates[entry.plate]
        self._changed()
        LOGGER.info("Removed %s (%s) from the plate registry", entry.plate, entry.name)
        return entry

    @callback
    def async_set_pass(  # noqa: PLR0913 - one keyword per field of a pass (actions, calendar)
        self,
        plate: str,
        name: str,
        *,
        start: datetime,
        end: datetime,
        max_entries: int | None = None,
        notes: str | None = None,
        now: datetime | None = None,
        created_by: str | None = None,
    ) -> RegisteredPlate:
        """Issue a visitor pass: a new visitor entry, or a new pass for a known visitor.

        A plate registered as resident or blocked is refused: a pass must never turn a
        blocked car into a welcome one by accident.
        """
        now = now or dt_util.utcnow()
        key = normalise_plate_input(plate)
        check_not_past(end, now)
        if (existing := self._plates.get(key)) is None:
            return self.async_add(
                key,
                name,
                Category.VISITOR,
                notes,
                valid_from=start,
                valid_until=end,
                max_entries=max_entries,
                now=now,
                created_by=created_by,
            )
        if existing.category is not Category.VISITOR:
            raise RegistryError(
                translation_key="duplicate_plate",
                translation_placeholders={
                    "plate": key,
                    "name": existing.name,
                    "category": existing.category.value,
                },
                field="plate",
            )
        renewed = validated(
            replace(
                existing,
                name=clean_name(name),
                notes=clean_notes(notes) or existing.notes,
                valid_from=start,
                valid_until=end,
                max_entries=max_entries,
                entries_left=max_entries,
                created_by=created_by,
            )
        )
        self._plates[key] = renewed
        self._changed()
        LOGGER.info("Renewed the visitor pass of %s (%s)", key, renewed.name)
        return renewed

    @callback
    def async_use_entry(self, plate: str, now: datetime) -> RegisteredPlate | None:
        """Count one entry of a valid visitor pass; return the updated entry (None: nothing)."""
        entry = self._plates.get(plate)
        if (
            entry is None
            or entry.pass_state(now) is not PassState.VALID
            or entry.entries_left is None
        ):
            return None
        used = replace(entry, entries_left=entry.entries_left - 1)
        self._plates[plate] = used
        self._changed()
        return used

    @callback
    def async_purge(self, now: datetime) -> list[RegisteredPlate]:
        """Remove visitor entries whose pass ended more than `PASS_PURGE_AFTER` ago."""
        expired = [
            entry
            for entry in self._plates.values()
            if entry.category is Category.VISITOR
            and entry.valid_until is not None
            and entry.valid_until + PASS_PURGE_AFTER <= now
        ]
        for entry in expired:
            del self._plates[entry.plate]
            LOGGER.info("Purged the expired visitor pass of %s (%s)", entry.plate, entry.name)
        if expired:
            self._changed()
        return expired


async def async_get_registry(hass: HomeAssistant, entry_id: str) -> PlateRegistry:
    """Return the loaded registry of `entry_id`, loading it on first use."""
    return await async_get_entry_data(hass, DATA_REGISTRIES, entry_id, PlateRegistry)


async def async_remove_registry(hass: HomeAssistant, entry_id: str) -> None:
    """Delete the registry of a removed entry, stored or in memory."""
    await async_remove_entry_data(hass, DATA_REGISTRIES, entry_id, PlateRegistry)
