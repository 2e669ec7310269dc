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
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, TypedDict
import uuid

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryError, ServiceValidationError
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .compat import STORE_VERSION_TOO_NEW
from .const import DOMAIN, LOGGER, REGISTERED_CATEGORIES, Category
from .entry_data import async_get_entry_data, async_remove_entry_data
from .matching import (
    BLOCKED_REACH,
    DEFAULT_MARGIN,
    WILDCARDS,
    Candidate,
    ExactIndex,
    pattern_contains,
    patterns_overlap,
    plate_distance,
    validate_pattern,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

STORAGE_VERSION: Final = 1
STORAGE_MINOR_VERSION: Final = 3
"""1.1 (the first format) had no `max_entries` and no `added`; 1.2 added both; 1.3 added
`uid` and `created_by` (an entry stored without them gets them on load, see `from_storage`)."""
SAVE_DELAY: Final = 1.0
"""Seconds a change waits before it is written, so a batch of changes is written once."""
PASS_PURGE_AFTER: Final = timedelta(days=7)
"""How long an expired visitor pass stays in the registry (inactive) before it is removed."""

DATA_REGISTRIES: HassKey[dict[str, PlateRegistry]] = HassKey(f"{DOMAIN}_registries")


class PassState(StrEnum):
    """Where a visitor pass stands at a given moment."""

    NONE = "none"
    """Not a visitor, or a visitor without a pass."""
    PENDING = "pending"
    """Not valid yet."""
    VALID = "valid"
    EXPIRED = "expired"
    USED_UP = "used_up"
    """Inside its window but every entry has been used."""


class PlateData(TypedDict):
    """One registry entry as stored (format 1.2)."""

    plate: str
    name: str
    category: str
    notes: str | None
    valid_from: str | None
    valid_until: str | None
    max_entries: int | None
    entries_left: int | None
    added: str | None
    uid: str
    created_by: str | None


class RegistryData(TypedDict):
    """The stored document."""

    plates: list[PlateData]


class RegistryError(ServiceValidationError):
    """Invalid registry input; translated, and tells a form which field is wrong."""

    def __init__(
        self,
        *,
        translation_key: str,
        translation_placeholders: dict[str, str] | None = None,
        field: str = "base",
    ) -> None:
        """Describe the problem by its translation key; `field` is the form field at fault."""
        super().__init__(
            translation_domain=DOMAIN,
            translation_key=translation_key,
            translation_placeholders=translation_placeholders,
        )
        self.field = field


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = dt_util.parse_datetime(value)
    if parsed is None:
        raise ValueError(f"invalid time {value!r}")
    return dt_util.as_utc(parsed)


def _new_uid() -> str:
    return uuid.uuid4().hex


def _uid_of_older_entry(stored_plate: str) -> str:
    """Return the uid of an entry stored before 1.3.

    Derived from its plate as stored, so it is the same whether the migration wrote it or an
    entry without one is read (`from_storage`).
    """
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{DOMAIN}:registry:{stored_plate}").hex


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisteredPlate:
    """One registry entry: a plate (or fleet pattern), its owner and what it may do."""

    plate: str
    """Normalised plate or wildcard pattern; the entry's key."""
    name: str
    """The owner, shown in events, notifications and the logbook."""
    category: Category
    notes: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    """End of the visitor pass; a visitor without it has no pass."""
    max_entries: int | None = None
    """Entries the pass was issued with; None for unlimited."""
    entries_left: int | None = None
    added: datetime | None = None
    uid: str = field(default_factory=_new_uid)
    """Stable identity of the entry, kept when its plate or pass changes (calendar events)."""
    created_by: str | None = None
    """Who issued the visitor pass (a Home Assistant user's name), when known."""

    @property
    def is_pattern(self) -> bool:
        """Whether the entry is a wildcard pattern (a fleet) rather than one plate."""
        return key_is_pattern(self.plate)

    def pass_state(self, now: datetime) -> PassState:
        """Where the visitor pass stands at `now`."""
        if self.category is not Category.VISITOR or self.valid_until is None:
            return PassState.NONE
        if self.valid_from is not None and now < self.valid_from:
            return PassState.PENDING
        if now >= self.valid_until:
            return PassState.EXPIRED
        if self.entries_left is not None and self.entries_left <= 0:
            return PassState.USED_UP
        return PassState.VALID

    def active(self, now: datetime) -> bool:
        """Whether the entry is in force: always, except a visitor needs a valid pass."""
        return self.category is not Category.VISITOR or self.pass_state(now) is PassState.VALID

    def describe_pass(self, now: datetime) -> str:
        """Say in words where the pass stands (for decisions and the options flow)."""
        state = self.pass_state(now)
        local = dt_util.as_local
        if state is PassState.NONE:
            return "has no visitor pass"
        assert self.valid_until is not None  # noqa: S101 - implied by the state
        until = local(self.valid_until).strftime("%Y-%m-%d %H:%M")
        if state is PassState.PENDING:
            assert self.valid_from is not None  # noqa: S101 - implied by the state
            since = local(self.valid_from).strftime("%Y-%m-%d %H:%M")
            return f"has a visitor pass that is not valid before {since}"
        if state is PassState.EXPIRED:
            return f"has a visitor pass that expired at {until}"
        if state is PassState.USED_UP:
            if self.max_entries == 1:
                return "has used the only entry of the visitor pass"
            return f"has used all {self.max_entries} entries of the visitor pass"
        entries = ""
        if self.entries_left is not None:
            noun = "entry" if self.entries_left == 1 else "entries"
            entries = f", {self.entries_left} {noun} left"
        return f"has a visitor pass valid until {until}{entries}"

    def as_dict(self, now: datetime) -> dict[str, Any]:
        """Return the entry as `anpr.list_plates` does (JSON-compatible)."""
        return {
            "plate": self.plate,
            "name": self.name,
            "category": self.category.value,
            "notes": self.notes,
            "valid_from": _iso(self.valid_from),
            "valid_until": _iso(self.valid_until),
            "max_entries": self.max_entries,
            "entries_left": self.entries_left,
            "active": self.active(now),
            "pass": self.pass_state(now).value,
            "wildcard": self.is_pattern,
        }

    def to_storage(self) -> PlateData:
        """Return the entry as stored."""
        return {
            "plate": self.plate,
            "name": self.name,
            "category": self.category.value,
            "notes": self.notes,
            "valid_from": _iso(self.valid_from),
            "valid_until": _iso(self.valid_until),
            "max_entries": self.max_entries,
            "entries_left": self.entries_left,
            "added": _iso(self.added),
            "uid": self.uid,
            "created_by": self.created_by,
        }

    @classmethod
    def from_storage(cls, data: Mapping[str, Any]) -> RegisteredPlate:
        """Rebuild a stored entry; raises `ValueError`/`KeyError`/`TypeError` if corrupt."""
        category = Category(data["category"])
        if category not in REGISTERED_CATEGORIES:
            raise ValueError(f"category {category} cannot be registered")
        name = str(data["name"]).strip()
        if not name:
            raise ValueError("the entry has no name")
        max_entries = data.get("max_entries")
        entries_left = data.get("entries_left")
        return cls(
            plate=validate_pattern(str(data["plate"])),
            name=name,
            category=category,
            notes=data.get("notes") or None,
            valid_from=_parse_time(data.get("valid_from")),
            valid_until=_parse_time(data.get("valid_until")),
            max_entries=None if max_entries is None else int(max_entries),
            entries_left=None if entries_left is None else int(entries_left),
            added=_parse_time(data.get("added")),
            uid=str(data.get("uid") or _uid_of_older_entry(str(data["plate"]))),
            created_by=data.get("created_by") or None,
        )


class _RegistryStore(Store[RegistryData]):
    """The registry's store, with its migrations."""

    async def _async_migrate_func(
        self,
        old_major_version: int,
        old_minor_version: int,
        old_data: dict[str, Any],
    ) -> RegistryData:
        """Bring an older document up to date (newer minor versions are read as they are)."""
        if old_major_version > STORAGE_VERSION:
            # Written by a newer anpr release; guessing could lose or misread entries. (From
            # HA 2026.3 the store refuses such a document before asking: STORE_VERSION_TOO_NEW.)
            raise NotImplementedError
        plates: list[dict[str, Any]] = [dict(plate) for plate in old_data.get("plates", [])]
        if old_minor_version < 2:
            for plate in plates:
                # 1.2 remembers what the pass was issued with, so lists can say "2 of 5 left".
                plate.setdefault("max_entries", plate.get("entries_left"))
                plate.setdefault("added", None)
        if old_minor_version < 3:
            for plate in plates:
                # 1.3 gives every entry a uid (a visitor pass's calendar event) and a creator.
                plate.setdefault("uid", _uid_of_older_entry(str(plate.get("plate"))))
                plate.setdefault("created_by", None)
        return {"plates": plates}  # type: ignore[typeddict-item]


def normalise_plate_input(plate: str, *, field: str = "plate") -> str:
    """Return the registry key of a typed plate or pattern, or raise a translated error."""
    if not plate.strip():
        raise RegistryError(translation_key="empty_plate", field=field)
    try:
        return validate_pattern(plate)
    except ValueError as err:
        raise RegistryError(
            translation_key="invalid_plate",
            translation_placeholders={"plate": plate, "error": str(err)},
            field=field,
        ) from err


def _clean_name(name: str) -> str:
    if not (cleaned := name.strip()):
        raise RegistryError(translation_key="empty_name", field="name")
    return cleaned


def _clean_notes(notes: str | None) -> str | None:
    return (notes or "").strip() or None


def _check_not_past(end: datetime, now: datetime) -> None:
    """Refuse a pass that would be expired the moment it is issued."""
    if end <= now:
        raise RegistryError(
            translation_key="pass_in_past",
            translation_placeholders={"end": dt_util.as_local(end).strftime("%Y-%m-%d %H:%M")},
            field="valid_until",
        )


class PlateRegistry:
    """The registered plates of one config entry, persisted in a `Store`."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Prepare the registry of `entry_id`; call `async_load` before use."""
        self.hass = hass
        self.entry_id = entry_id
        self._store = _RegistryStore(
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

    def _check_new_key(self, key: str, category: Category, *, ignore: str | None = None) -> None:
        """Refuse a duplicate, a plate reads could not tell from another, and worse pairs.

        The worse pairs (`_check_pair`): overlapping patterns neither of which lies inside the
        other, and an entry that a blocked one would lock out.
        """
        if key in self._plates and key != ignore:
            existing = self._plates[key]
            raise RegistryError(
                translation_key="duplicate_plate",
                translation_placeholders={
                    "plate": key,
                    "name": existing.name,
                    "category": existing.category.value,
                },
                field="plate",
            )
        for other in self._plates.values():
            if other.plate not in (key, ignore):
                _check_pair(key, category, other)
        if category is Category.BLOCKED or key_is_pattern(key):
            # Blocked plates were checked above; look-alikes do not apply to patterns.
            return
        for other in self._plates.values():
            if (
                other.plate == ignore
                or other.category is Category.BLOCKED
                or other.is_pattern
                or plate_distance(key, other.plate) >= DEFAULT_MARGIN
            ):
                continue
            raise RegistryError(
                translation_key="plate_too_similar",
                translation_placeholders={"plate": key, "other": other.plate, "name": other.name},
                field="plate",
            )

    @callback
    def async_add(
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
            _check_not_past(valid_until, now)
        entry = self._validated(
            RegisteredPlate(
                plate=key,
                name=_clean_name(name),
                category=Category(category),
                notes=_clean_notes(notes),
                valid_from=valid_from,
                valid_until=valid_until,
                max_entries=max_entries,
                entries_left=max_entries,
                added=now,
                created_by=created_by,
            ),
        )
        self._check_new_key(key, entry.category)
        self._plates[key] = entry
        self._changed()
        LOGGER.info("Registered %s (%s, %s)", key, entry.name, entry.category)
        return entry

    @callback
    def async_update(
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
        changed = self._validated(
            replace(
                current,
                plate=key,
                name=_clean_name(name),
                category=Category(category),
                notes=_clean_notes(notes),
                valid_from=valid_from,
                valid_until=valid_until,
                entries_left=entries_left,
                # What the pass was issued with, raised if more entries are given now.
                max_entries=None
                if entries_left is None
                else max(entries_left, current.max_entries or 1),
            )
        )
        self._check_new_key(key, changed.category, ignore=current.plate)
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
    def async_set_pass(
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
        _check_not_past(end, now)
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
        renewed = self._validated(
            replace(
                existing,
                name=_clean_name(name),
                notes=_clean_notes(notes) or existing.notes,
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

    @staticmethod
    def _validated(entry: RegisteredPlate) -> RegisteredPlate:
        """Check an entry's pass fields; return it, the pass start defaulted to `added`."""
        has_pass_fields = (
            entry.valid_from is not None
            or entry.valid_until is not None
            or entry.entries_left is not None
        )
        if entry.category is not Category.VISITOR:
            if has_pass_fields:
                raise RegistryError(translation_key="pass_needs_visitor", field="category")
            return entry
        if entry.valid_until is None:
            if has_pass_fields:
                raise RegistryError(translation_key="pass_needs_end", field="valid_until")
            return entry
        if entry.valid_from is not None and entry.valid_until <= entry.valid_from:
            raise RegistryError(translation_key="end_before_start", field="valid_until")
        if entry.entries_left is not None and entry.entries_left < 0:
            raise RegistryError(translation_key="invalid_entries", field="entries_left")
        if entry.max_entries is not None and entry.max_entries < 1:
            raise RegistryError(translation_key="invalid_entries", field="max_entries")
        return entry


def _check_pair(key: str, category: Category, other: RegisteredPlate) -> None:
    """Refuse a new entry (`key`, `category`) that cannot live beside `other`.

    * Two patterns that overlap must lie one inside the other: the narrower one then speaks
      for the plates both match (the matcher's rule); otherwise nobody could say whose car a
      plate both match is, and reads of it would be ambiguous. A blocked pattern may
      overlap any other: it wins wherever it matches (a fleet minus some cars).
    * A blocked entry wins over everything within its reach (`matching.BLOCKED_REACH`: one
      real edit or one swap from a blocked plate, any plate a blocked pattern matches). An
      entry that would therefore always count as blocked is refused, both ways round, so a
      blocked entry never locks a resident or a visitor out silently. A blocked plate inside
      a resident fleet pattern is fine: that is the fleet minus one car.
    """
    if (
        key_is_pattern(key)
        and other.is_pattern
        and Category.BLOCKED not in (category, other.category)
        and (example := patterns_overlap(key, other.plate))
        and pattern_contains(key, other.plate) == pattern_contains(other.plate, key)
    ):
        raise RegistryError(
            translation_key="patterns_overlap",
            translation_placeholders={
                "plate": key,
                "other": other.plate,
                "name": other.name,
                "example": example,
            },
            field="plate",
        )
    if (category is Category.BLOCKED) == (other.category is Category.BLOCKED):
        return
    blocked, welcome = (key, other.plate) if category is Category.BLOCKED else (other.plate, key)
    if key_is_pattern(blocked):
        locked_out = pattern_contains(blocked, welcome)
    else:
        locked_out = not key_is_pattern(welcome) and (
            plate_distance(blocked, welcome, transpositions=True) <= BLOCKED_REACH
        )
    if not locked_out:
        return
    placeholders = {
        "plate": key,
        "other": other.plate,
        "name": other.name,
        "category": other.category.value,
    }
    if category is Category.BLOCKED:
        raise RegistryError(
            translation_key="blocks_registered",
            translation_placeholders=placeholders,
            field="plate",
        )
    raise RegistryError(
        translation_key="always_blocked", translation_placeholders=placeholders, field="plate"
    )


def key_is_pattern(key: str) -> bool:
    """Whether a normalised registry key is a wildcard pattern."""
    return any(character in WILDCARDS for character in key)


async def async_get_registry(hass: HomeAssistant, entry_id: str) -> PlateRegistry:
    """Return the loaded registry of `entry_id`, loading it on first use."""
    return await async_get_entry_data(hass, DATA_REGISTRIES, entry_id, PlateRegistry)


async def async_remove_registry(hass: HomeAssistant, entry_id: str) -> None:
    """Delete the registry of a removed entry, stored or in memory."""
    await async_remove_entry_data(hass, DATA_REGISTRIES, entry_id, PlateRegistry)
