"""One registry entry and how it is stored: plate, owner, category, visitor pass.

Visitor passes
    A visitor entry may carry a pass: valid from (default: when it was issued), valid until,
    and optionally a number of entries that counts down each time the pass opens a gate. A
    pass is valid inside its window while entries are left; a visitor without a valid pass is
    still recognised (named, reported as a visitor) but never opens a gate.

Storage format
    One JSON document per config entry; `RegistryStore` migrates older minor versions (see
    `STORAGE_MINOR_VERSION`) and refuses a document from a newer major version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, TypedDict
import uuid

from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN, REGISTERED_CATEGORIES, Category
from .patterns import WILDCARDS, validate_pattern

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

STORAGE_VERSION: Final = 1
STORAGE_MINOR_VERSION: Final = 3
"""1.1 (the first format) had no `max_entries` and no `added`; 1.2 added both; 1.3 added
`uid` and `created_by` (an entry stored without them gets them on load, see `from_storage`)."""


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


class RegistryStore(Store[RegistryData]):
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


def key_is_pattern(key: str) -> bool:
    """Whether a normalised registry key is a wildcard pattern."""
    return any(character in WILDCARDS for character in key)
