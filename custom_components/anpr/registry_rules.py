"""What the registry accepts: typed plates, passes, and entries that can live side by side.

Typed plates (`normalise_plate_input`)
    The Cyrillic letters plates share with Latin ones are transliterated; any other letter or
    digit that is not A-Z or 0-9 is refused (`non_latin_plate`), never dropped. A new plate
    needs `patterns.MIN_PLATE_LENGTH` (2) characters (`plate_too_short`); a new pattern may
    match at most `patterns.MAX_PATTERN_RATE` (1 in 10,000) of random plates
    (`pattern_too_broad`, estimated by `patterns.pattern_match_rate`).

Pairs (`check_new_key`)
    Two plates one look-alike apart are refused (reads could not tell them apart), and so are
    overlapping patterns neither of which lies inside the other and entries a blocked one would
    lock out (`_check_pair`). `registry_conflicts` runs the same checks over a stored registry,
    which may predate them; the entry setup raises a repair issue naming what it finds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.util import dt as dt_util

from .const import Category
from .distance import plate_distance
from .matching import BLOCKED_REACH, DEFAULT_MARGIN
from .patterns import (
    MAX_PATTERN_RATE,
    MIN_PLATE_LENGTH,
    NonLatinPlateError,
    clean_plate_input,
    pattern_contains,
    pattern_match_rate,
    patterns_overlap,
    validate_pattern,
)
from .registry_entry import RegisteredPlate, RegistryError, key_is_pattern

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime


def normalise_plate_input(plate: str, *, field: str = "plate") -> str:
    """Return the registry key of a typed plate or pattern, or raise a translated error."""
    if not plate.strip():
        raise RegistryError(translation_key="empty_plate", field=field)
    try:
        return validate_pattern(clean_plate_input(plate))
    except NonLatinPlateError as err:
        raise RegistryError(
            translation_key="non_latin_plate",
            translation_placeholders={"plate": plate, "character": err.character},
            field=field,
        ) from err
    except ValueError as err:
        raise RegistryError(
            translation_key="invalid_plate",
            translation_placeholders={"plate": plate, "error": str(err)},
            field=field,
        ) from err


def clean_name(name: str) -> str:
    """Return the owner's name without surrounding blanks, or refuse an empty one."""
    if not (cleaned := name.strip()):
        raise RegistryError(translation_key="empty_name", field="name")
    return cleaned


def clean_notes(notes: str | None) -> str | None:
    """Return the notes without surrounding blanks, None when there are none."""
    return (notes or "").strip() or None


def check_not_past(end: datetime, now: datetime) -> None:
    """Refuse a pass that would be expired the moment it is issued."""
    if end <= now:
        raise RegistryError(
            translation_key="pass_in_past",
            translation_placeholders={"end": dt_util.as_local(end).strftime("%Y-%m-%d %H:%M")},
            field="valid_until",
        )


def check_new_key(
    plates: Mapping[str, RegisteredPlate], key: str, category: Category, ignore: str | None = None
) -> None:
    """Refuse a duplicate, a plate reads could not tell from another, and worse pairs.

    The worse pairs (`_check_pair`): overlapping patterns neither of which lies inside the
    other, and an entry that a blocked one would lock out. A new key must also pass
    `check_new_plate` (an entry kept under its key is not re-judged by it).
    """
    if key != ignore:
        check_new_plate(key, category)
    check_pairs(plates, key, category, ignore)


def check_pairs(
    plates: Mapping[str, RegisteredPlate], key: str, category: Category, ignore: str | None = None
) -> None:
    """Refuse `key` if it cannot live beside an entry of `plates` (see `check_new_key`)."""
    if key in plates and key != ignore:
        existing = plates[key]
        raise RegistryError(
            translation_key="duplicate_plate",
            translation_placeholders={
                "plate": key,
                "name": existing.name,
                "category": existing.category.value,
            },
            field="plate",
        )
    for other in plates.values():
        if other.plate not in (key, ignore):
            _check_pair(key, category, other)
    if category is Category.BLOCKED or key_is_pattern(key):
        # Blocked plates were checked above; look-alikes do not apply to patterns.
        return
    for other in plates.values():
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


def validated(entry: RegisteredPlate) -> RegisteredPlate:
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


def check_new_plate(key: str, category: Category) -> None:
    """Refuse a new plate that is too short, or a new pattern that is too broad.

    A blocked entry may be as broad as the user likes: it only ever shuts the gate.
    """
    if category is Category.BLOCKED:
        return
    if not key_is_pattern(key):
        if len(key) < MIN_PLATE_LENGTH:
            raise RegistryError(
                translation_key="plate_too_short",
                translation_placeholders={"plate": key, "length": str(MIN_PLATE_LENGTH)},
                field="plate",
            )
        return
    if (rate := pattern_match_rate(key)) > MAX_PATTERN_RATE:
        raise RegistryError(
            translation_key="pattern_too_broad",
            translation_placeholders={"plate": key, "one_in": f"{round(1 / rate):,}"},
            field="plate",
        )


def registry_conflicts(plates: Mapping[str, RegisteredPlate]) -> list[str]:
    """Return what a stored registry holds that it would refuse today, one line per problem.

    Each line names the entries (``AB12COE / AB12CDE``, or one entry that is too short or too
    broad); a pair is named once.
    """
    found: dict[frozenset[str], str] = {}
    for entry in plates.values():
        try:
            check_new_plate(entry.plate, entry.category)
        except RegistryError:
            found[frozenset({entry.plate})] = entry.plate
        for other in plates.values():
            pair = frozenset({entry.plate, other.plate})
            if other.plate == entry.plate or pair in found:
                continue
            try:
                check_pairs({other.plate: other}, entry.plate, entry.category)
            except RegistryError:
                found[pair] = " / ".join(sorted(pair))
    return sorted(found.values())
