"""The plate registry: validation, visitor passes, its store, migrations and removal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.exceptions import ConfigEntryError
import pytest
from pytest_homeassistant_custom_component.common import flush_store

from custom_components.anpr.const import DOMAIN, Category
from custom_components.anpr.registry import (
    DATA_REGISTRIES,
    PASS_PURGE_AFTER,
    PassState,
    PlateRegistry,
    RegisteredPlate,
    RegistryError,
    async_get_registry,
    async_remove_registry,
)

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

ENTRY_ID = "01JREGISTRYTEST"
KEY = f"{DOMAIN}.registry.{ENTRY_ID}"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
async def registry(hass: HomeAssistant) -> PlateRegistry:
    """Return an empty registry."""
    return await async_get_registry(hass, ENTRY_ID)


async def flush(hass: HomeAssistant) -> None:
    """Write what the registry's delayed save is waiting to write."""
    for registry in hass.data[DATA_REGISTRIES].values():
        await flush_store(registry._store)


async def restart(hass: HomeAssistant) -> PlateRegistry:
    """Forget the registry in memory, as a restart does, and load it from the store."""
    hass.data[DATA_REGISTRIES].clear()
    return await async_get_registry(hass, ENTRY_ID)


def error_of(info: pytest.ExceptionInfo[RegistryError]) -> tuple[str | None, str]:
    return info.value.translation_key, info.value.field


def stored(
    plates: list[dict[str, Any]], minor_version: int = 3, version: int = 1
) -> dict[str, Any]:
    return {
        "version": version,
        "minor_version": minor_version,
        "key": KEY,
        "data": {"plates": plates},
    }


# --- adding, validating ------------------------------------------------------------------


async def test_add_normalises_the_plate(registry: PlateRegistry) -> None:
    entry = registry.async_add(" ab-12 cde ", "  Alice ", Category.RESIDENT, "  blue car ", now=NOW)
    assert entry.plate == "AB12CDE"
    assert entry.name == "Alice"
    assert entry.notes == "blue car"
    assert entry.added == NOW
    assert registry.plates == {"AB12CDE": entry}
    assert [candidate.key for candidate in registry.candidates] == ["AB12CDE"]
    assert entry.as_dict(NOW) == {
        "plate": "AB12CDE",
        "name": "Alice",
        "category": "resident",
        "notes": "blue car",
        "valid_from": None,
        "valid_until": None,
        "max_entries": None,
        "entries_left": None,
        "active": True,
        "pass": "none",
        "wildcard": False,
    }
    assert registry.find("AB 12 CDE") is entry


async def test_wildcard_pattern(registry: PlateRegistry) -> None:
    entry = registry.async_add("fleet-*", "Acme deliveries")
    assert entry.plate == "FLEET*"
    assert entry.is_pattern
    assert entry.as_dict(NOW)["wildcard"] is True


@pytest.mark.parametrize(
    ("kwargs", "key", "field"),
    [
        pytest.param({"plate": "   "}, "empty_plate", "plate", id="empty-plate"),
        pytest.param({"plate": "--"}, "invalid_plate", "plate", id="no-characters"),
        pytest.param({"plate": "A*"}, "invalid_plate", "plate", id="pattern-too-broad"),
        pytest.param({"plate": "A" * 17}, "invalid_plate", "plate", id="too-long"),
        pytest.param({"name": " "}, "empty_name", "name", id="empty-name"),
        pytest.param({"plate": "ab12cde"}, "duplicate_plate", "plate", id="duplicate"),
        pytest.param({"plate": "AB1ZCDE"}, "plate_too_similar", "plate", id="look-alike"),
        pytest.param(
            {"valid_until": NOW + HOUR}, "pass_needs_visitor", "category", id="resident-pass"
        ),
        pytest.param(
            {"category": Category.BLOCKED, "max_entries": 2},
            "pass_needs_visitor",
            "category",
            id="blocked-pass",
        ),
        pytest.param(
            {"category": Category.VISITOR, "valid_from": NOW},
            "pass_needs_end",
            "valid_until",
            id="no-end",
        ),
        pytest.param(
            {"category": Category.VISITOR, "valid_from": NOW + 2 * HOUR, "valid_until": NOW + HOUR},
            "end_before_start",
            "valid_until",
            id="end-before-start",
        ),
        pytest.param(
            {"category": Category.VISITOR, "valid_until": NOW - HOUR},
            "pass_in_past",
            "valid_until",
            id="in-the-past",
        ),
        pytest.param(
            {"category": Category.VISITOR, "valid_until": NOW + HOUR, "max_entries": 0},
            "invalid_entries",
            "max_entries",
            id="no-entries",
        ),
    ],
)
async def test_add_rejects(
    registry: PlateRegistry, kwargs: dict[str, Any], key: str, field: str
) -> None:
    registry.async_add("AB12CDE", "Alice")
    arguments: dict[str, Any] = {"plate": "XY98ZZZ", "name": "Bob", "now": NOW, **kwargs}
    with pytest.raises(RegistryError) as info:
        registry.async_add(**arguments)
    assert error_of(info) == (key, field)
    assert list(registry.plates) == ["AB12CDE"]


async def test_rejections_explain_themselves(hass: HomeAssistant, registry: PlateRegistry) -> None:
    registry.async_add("AB12CDE", "Alice")
    with pytest.raises(RegistryError) as info:
        registry.async_add("A*", "Bob")
    assert info.value.translation_placeholders == {
        "plate": "A*",
        "error": "pattern 'A*' has 1 literal character(s); a wildcard pattern needs at least "
        "3 so that it cannot match almost every car",
    }
    with pytest.raises(RegistryError) as info:
        registry.async_add("AB12CDE", "Bob")
    assert info.value.translation_placeholders == {
        "plate": "AB12CDE",
        "name": "Alice",
        "category": "resident",
    }
    with pytest.raises(RegistryError) as info:
        registry.async_add("AB1ZCDE", "Bob", Category.VISITOR)
    assert info.value.translation_placeholders == {
        "plate": "AB1ZCDE",
        "other": "AB12CDE",
        "name": "Alice",
    }


async def test_similar_plates_allowed_where_safe(registry: PlateRegistry) -> None:
    """Blocked plates may sit near others beyond their reach; plates inside patterns too."""
    registry.async_add("AB12CDE", "Alice")
    registry.async_add("AB1ZCDX", "Mallory", Category.BLOCKED)  # 1.5 from Alice and Carol
    registry.async_add("AB12CD*", "Fleet")  # Alice's plate inside it: hers beats the pattern
    registry.async_add("AB12CDF", "Carol")  # one real edit: reads tell these apart
    registry.async_add("AB12C*", "Wider fleet")  # the first fleet lies inside it
    registry.async_add("AB12C9Z", "Sacked driver", Category.BLOCKED)  # the fleet minus one
    registry.async_add("AB12CQ*", "Blocked part", Category.BLOCKED)  # a blocked part of it
    registry.async_add("QQ?1*", "Gang", Category.BLOCKED)
    registry.async_add("Q?X1*", "Other gang", Category.BLOCKED)  # both blocked: may overlap
    assert len(registry.plates) == 9


RES, VIS, BLK = Category.RESIDENT, Category.VISITOR, Category.BLOCKED


@pytest.mark.parametrize(
    ("existing", "new", "key"),
    [
        (("AB?1*", RES), ("A?C1*", VIS), "patterns_overlap"),
        (("ABC?*", RES), ("ABC*?", RES), "patterns_overlap"),
        (("AB12CDE", RES), ("AB12CED", BLK), "blocks_registered"),
        (("AB12CDE", VIS), ("AB12CDF", BLK), "blocks_registered"),
        (("AB12CDE", RES), ("AB12*", BLK), "blocks_registered"),
        (("AB12C*", RES), ("AB12*", BLK), "blocks_registered"),
        (("AB12CDF", BLK), ("AB12CDE", RES), "always_blocked"),
        (("AB12CED", BLK), ("AB12CDE", VIS), "always_blocked"),
        (("AB12*", BLK), ("AB12CDE", VIS), "always_blocked"),
        (("AB12*", BLK), ("AB12C*", RES), "always_blocked"),
    ],
)
async def test_entries_that_could_not_be_told_apart_or_would_be_locked_out_are_refused(
    registry: PlateRegistry,
    existing: tuple[str, Category],
    new: tuple[str, Category],
    key: str,
) -> None:
    """Issue 13, items 1 and 10: nothing in the registry may silently lock another entry out."""
    registry.async_add(existing[0], "First", existing[1])
    with pytest.raises(RegistryError) as info:
        registry.async_add(new[0], "Second", new[1])
    assert error_of(info) == (key, "plate")
    assert list(registry.plates) == [existing[0]]
    # Editing another entry into the same conflict is refused as well.
    registry.async_add("ZZ99ZZZ", "Third", new[1])
    with pytest.raises(RegistryError) as info:
        registry.async_update(
            "ZZ99ZZZ",
            new_plate=new[0],
            name="Third",
            category=new[1],
            notes=None,
            valid_from=None,
            valid_until=None,
            entries_left=None,
        )
    assert error_of(info) == (key, "plate")


async def test_overlap_and_lockout_errors_name_the_other_entry(registry: PlateRegistry) -> None:
    registry.async_add("AB?1*", "Acme", Category.RESIDENT)
    with pytest.raises(RegistryError) as info:
        registry.async_add("a?c1*", "Bolt")
    assert info.value.translation_placeholders == {
        "plate": "A?C1*",
        "other": "AB?1*",
        "name": "Acme",
        "example": "ABC1",
    }
    registry.async_add("FZB9581", "Oscar", Category.BLOCKED)
    with pytest.raises(RegistryError) as info:
        registry.async_add("FBZ9581", "Alice")
    assert info.value.translation_placeholders == {
        "plate": "FBZ9581",
        "other": "FZB9581",
        "name": "Oscar",
        "category": "blocked",
    }


# --- changing and removing -----------------------------------------------------------------


async def test_remove(registry: PlateRegistry) -> None:
    registry.async_add("AB12CDE", "Alice")
    removed = registry.async_remove("ab 12 cde")
    assert removed.name == "Alice"
    assert registry.plates == {}
    assert registry.candidates == ()
    with pytest.raises(RegistryError) as info:
        registry.async_remove("AB12CDE")
    assert error_of(info) == ("unknown_plate", "plate")


async def test_update(registry: PlateRegistry) -> None:
    registry.async_add("AB12CDE", "Alice", notes="old notes")
    registry.async_add("XY98ZZZ", "Bob")
    changed = registry.async_update(
        "AB12CDE",
        new_plate="ab12cdf",
        name="Alice Smith",
        category=Category.VISITOR,
        notes=None,
        valid_from=NOW,
        valid_until=NOW + HOUR,
        entries_left=3,
    )
    assert changed.plate == "AB12CDF"
    assert changed.notes is None
    assert (changed.max_entries, changed.entries_left) == (3, 3)
    assert list(registry.plates) == ["XY98ZZZ", "AB12CDF"]

    # Fewer entries left keep what the pass was issued with; no limit clears it.
    fewer = registry.async_update(
        "AB12CDF",
        new_plate="AB12CDF",
        name="Alice",
        category=Category.VISITOR,
        notes="n",
        valid_from=NOW,
        valid_until=NOW + HOUR,
        entries_left=1,
    )
    assert (fewer.max_entries, fewer.entries_left) == (3, 1)
    unlimited = registry.async_update(
        "AB12CDF",
        new_plate="AB12CDF",
        name="Alice",
        category=Category.VISITOR,
        notes=None,
        valid_from=None,
        valid_until=NOW + HOUR,
        entries_left=None,
    )
    assert (unlimited.max_entries, unlimited.entries_left) == (None, None)

    common: dict[str, Any] = {
        "name": "Alice",
        "category": Category.VISITOR,
        "notes": None,
        "valid_from": None,
        "valid_until": NOW + HOUR,
        "entries_left": None,
    }
    with pytest.raises(RegistryError) as info:
        registry.async_update("AB12CDF", **{**common, "new_plate": "XY98ZZZ"})
    assert error_of(info) == ("duplicate_plate", "plate")
    with pytest.raises(RegistryError) as info:
        registry.async_update("NOPE", **{**common, "new_plate": "NOPE"})
    assert error_of(info) == ("unknown_plate", "plate")
    with pytest.raises(RegistryError) as info:
        registry.async_update(
            "AB12CDF", **{**common, "new_plate": "AB12CDF", "category": Category.RESIDENT}
        )
    assert error_of(info) == ("pass_needs_visitor", "category")
    with pytest.raises(RegistryError) as info:
        registry.async_update("AB12CDF", **{**common, "new_plate": "AB12CDF", "entries_left": -1})
    assert error_of(info) == ("invalid_entries", "entries_left")
    assert registry.plates["AB12CDF"] == unlimited


# --- visitor passes ------------------------------------------------------------------------


async def test_pass_window_and_entries(registry: PlateRegistry) -> None:
    visitor = registry.async_set_pass(
        "XY98ZZZ", "Bob", start=NOW + HOUR, end=NOW + 3 * HOUR, max_entries=2, now=NOW
    )
    assert visitor.category is Category.VISITOR
    assert (visitor.max_entries, visitor.entries_left) == (2, 2)

    # Before the start the pass is pending, and nothing is counted.
    assert visitor.pass_state(NOW) is PassState.PENDING
    assert not visitor.active(NOW)
    assert "not valid before" in visitor.describe_pass(NOW)
    assert registry.async_use_entry("XY98ZZZ", NOW) is None

    during = NOW + 2 * HOUR
    assert visitor.pass_state(during) is PassState.VALID
    assert visitor.describe_pass(during).endswith(", 2 entries left")
    first = registry.async_use_entry("XY98ZZZ", during)
    assert first is not None
    assert first.entries_left == 1
    assert first.describe_pass(during).endswith(", 1 entry left")
    second = registry.async_use_entry("XY98ZZZ", during)
    assert second is not None
    assert second.entries_left == 0
    assert second.pass_state(during) is PassState.USED_UP
    assert second.describe_pass(during) == "has used all 2 entries of the visitor pass"
    assert second.as_dict(during)["active"] is False
    assert registry.async_use_entry("XY98ZZZ", during) is None  # never below zero

    after = NOW + 3 * HOUR
    assert second.pass_state(after) is PassState.EXPIRED
    assert "expired at" in second.describe_pass(after)


async def test_single_entry_pass_used_up(registry: PlateRegistry) -> None:
    visitor = registry.async_set_pass(
        "XY98ZZZ", "Bob", start=NOW, end=NOW + HOUR, max_entries=1, now=NOW
    )
    assert visitor.describe_pass(NOW).endswith(", 1 entry left")
    used = registry.async_use_entry("XY98ZZZ", NOW)
    assert used is not None
    assert used.describe_pass(NOW) == "has used the only entry of the visitor pass"


async def test_unlimited_pass_and_no_pass(registry: PlateRegistry) -> None:
    unlimited = registry.async_set_pass("XY98ZZZ", "Bob", start=NOW, end=NOW + HOUR, now=NOW)
    assert unlimited.pass_state(NOW) is PassState.VALID
    assert "entries left" not in unlimited.describe_pass(NOW)
    assert registry.async_use_entry("XY98ZZZ", NOW) is None  # nothing to count

    known = registry.async_add("GR4NDMA", "Grandma", Category.VISITOR)
    assert known.pass_state(NOW) is PassState.NONE
    assert known.describe_pass(NOW) == "has no visitor pass"
    assert not known.active(NOW)

    resident = registry.async_add("AB12CDE", "Alice")
    assert resident.pass_state(NOW) is PassState.NONE
    assert resident.active(NOW)
    assert registry.async_use_entry("AB12CDE", NOW) is None
    assert registry.async_use_entry("UNKNOWN", NOW) is None


async def test_set_pass_renews_a_visitor_but_not_others(registry: PlateRegistry) -> None:
    registry.async_set_pass(
        "XY98ZZZ", "Bob", start=NOW, end=NOW + HOUR, max_entries=1, notes="first", now=NOW
    )
    registry.async_use_entry("XY98ZZZ", NOW)
    renewed = registry.async_set_pass(
        "xy 98 zzz", "Bob B.", start=NOW, end=NOW + 5 * HOUR, max_entries=3, now=NOW
    )
    assert renewed.name == "Bob B."
    assert renewed.notes == "first"  # kept when no new notes are given
    assert (renewed.valid_until, renewed.entries_left) == (NOW + 5 * HOUR, 3)

    registry.async_add("BAD6666", "Mallory", Category.BLOCKED)
    with pytest.raises(RegistryError) as info:
        registry.async_set_pass("BAD6666", "Mallory", start=NOW, end=NOW + HOUR, now=NOW)
    assert error_of(info) == ("duplicate_plate", "plate")
    assert registry.plates["BAD6666"].category is Category.BLOCKED

    with pytest.raises(RegistryError) as info:
        registry.async_set_pass("XY98ZZZ", "Bob", start=NOW, end=NOW - HOUR, now=NOW)
    assert error_of(info) == ("pass_in_past", "valid_until")
    with pytest.raises(RegistryError) as info:
        registry.async_set_pass("XY98ZZZ", "Bob", start=NOW + 2 * HOUR, end=NOW + HOUR, now=NOW)
    assert error_of(info) == ("end_before_start", "valid_until")


async def test_purge_removes_long_expired_passes(registry: PlateRegistry) -> None:
    registry.async_add("AB12CDE", "Alice")
    registry.async_set_pass("OLD1234", "Old", start=NOW, end=NOW + HOUR, now=NOW)
    registry.async_set_pass("NEW1234", "New", start=NOW, end=NOW + 5 * HOUR, now=NOW)
    registry.async_add("GR4NDMA", "Grandma", Category.VISITOR)  # no pass: kept

    # Expired, but not long enough ago: still there (a late visitor is still named).
    assert registry.async_purge(NOW + 2 * HOUR) == []
    purged = registry.async_purge(NOW + HOUR + PASS_PURGE_AFTER)
    assert [entry.plate for entry in purged] == ["OLD1234"]
    assert sorted(registry.plates) == ["AB12CDE", "GR4NDMA", "NEW1234"]


# --- the store -----------------------------------------------------------------------------


async def test_saved_with_a_delay_and_loaded_after_a_restart(
    hass: HomeAssistant, hass_storage: dict[str, Any], registry: PlateRegistry
) -> None:
    registry.async_add("AB12CDE", "Alice", notes="blue")
    registry.async_set_pass(
        "XY98ZZZ", "Bob", start=NOW, end=NOW + 1000 * HOUR, max_entries=2, now=NOW
    )
    assert KEY not in hass_storage  # a batch of changes is written once, a moment later
    await flush(hass)
    assert hass_storage[KEY]["version"] == 1
    assert hass_storage[KEY]["minor_version"] == 3
    assert [plate["plate"] for plate in hass_storage[KEY]["data"]["plates"]] == [
        "AB12CDE",
        "XY98ZZZ",
    ]

    reloaded = await restart(hass)
    assert reloaded is not registry
    assert reloaded.plates == registry.plates
    assert reloaded.plates["XY98ZZZ"].valid_until == NOW + 1000 * HOUR


async def test_migration_from_1_1(hass: HomeAssistant, hass_storage: dict[str, Any]) -> None:
    """The first format had neither `max_entries` nor `added`."""
    hass_storage[KEY] = stored(
        [
            {
                "plate": "AB12CDE",
                "name": "Alice",
                "category": "resident",
                "notes": None,
                "valid_from": None,
                "valid_until": None,
                "entries_left": None,
            },
            {
                "plate": "XY98ZZZ",
                "name": "Bob",
                "category": "visitor",
                "notes": "cousin",
                "valid_from": "2025-06-01T12:00:00+00:00",
                "valid_until": "2025-06-02T12:00:00+00:00",
                "entries_left": 2,
            },
        ],
        minor_version=1,
    )
    registry = await async_get_registry(hass, ENTRY_ID)
    bob = registry.plates["XY98ZZZ"]
    assert (bob.max_entries, bob.entries_left, bob.added) == (2, 2, None)
    assert bob.notes == "cousin"
    assert registry.plates["AB12CDE"].max_entries is None
    # The migrated document is written back in the current format.
    assert hass_storage[KEY]["minor_version"] == 3
    assert hass_storage[KEY]["data"]["plates"][1]["max_entries"] == 2
    assert "added" in hass_storage[KEY]["data"]["plates"][0]
    assert hass_storage[KEY]["data"]["plates"][1]["uid"] == bob.uid
    assert bob.created_by is None


async def test_migration_from_1_2_gives_stable_uids(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """1.3 added `uid` (calendar events) and `created_by`.

    Older entries get a uid of their own, the same at every load, also when an entry without
    one is read.
    """
    alice = {"plate": "AB12CDE", "name": "Alice", "category": "resident"}
    bob = {"plate": "XY98ZZZ", "name": "Bob", "category": "resident"}
    hass_storage[KEY] = stored([alice, bob], minor_version=2)
    registry = await async_get_registry(hass, ENTRY_ID)
    uids = {plate: entry.uid for plate, entry in registry.plates.items()}
    assert len(set(uids.values())) == 2
    assert [plate["uid"] for plate in hass_storage[KEY]["data"]["plates"]] == list(uids.values())

    hass_storage[KEY] = stored([alice, bob])  # 1.3 without uids: derived the same way
    reloaded = await restart(hass)
    assert {plate: entry.uid for plate, entry in reloaded.plates.items()} == uids


async def test_newer_minor_version_is_read(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    hass_storage[KEY] = stored(
        [{"plate": "AB12CDE", "name": "Alice", "category": "resident", "colour": "blue"}],
        minor_version=4,
    )
    registry = await async_get_registry(hass, ENTRY_ID)
    assert list(registry.plates) == ["AB12CDE"]


async def test_newer_major_version_is_refused(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    hass_storage[KEY] = stored([], version=2, minor_version=1)
    with pytest.raises(ConfigEntryError) as info:
        await async_get_registry(hass, ENTRY_ID)
    assert info.value.translation_key == "registry_too_new"


async def test_corrupt_entries_are_left_out(
    hass: HomeAssistant, hass_storage: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    good = {"plate": "AB12CDE", "name": "Alice", "category": "resident"}
    hass_storage[KEY] = stored(
        [
            good,
            {**good, "name": "Alice again"},  # the same plate twice
            {**good, "plate": "A*"},  # invalid pattern
            {**good, "plate": "XY98ZZZ", "category": "unknown"},  # not registrable
            {**good, "plate": "XY98ZZZ", "category": "friend"},
            {**good, "plate": "XY98ZZZ", "name": "  "},
            {**good, "plate": "XY98ZZZ", "valid_until": "tomorrow"},
            {"plate": "XY98ZZZ", "category": "resident"},  # no name
        ]
    )
    with caplog.at_level(logging.ERROR):
        registry = await async_get_registry(hass, ENTRY_ID)
    assert list(registry.plates) == ["AB12CDE"]
    assert registry.plates["AB12CDE"].name == "Alice"
    assert caplog.text.count("Ignoring") == 7


async def test_loaded_once(hass: HomeAssistant, registry: PlateRegistry) -> None:
    assert await async_get_registry(hass, ENTRY_ID) is registry
    await registry.async_load()  # a second load changes nothing
    assert registry.plates == {}


async def test_remove_registry(
    hass: HomeAssistant, hass_storage: dict[str, Any], registry: PlateRegistry
) -> None:
    registry.async_add("AB12CDE", "Alice")
    await flush(hass)
    assert KEY in hass_storage
    await async_remove_registry(hass, ENTRY_ID)
    assert KEY not in hass_storage
    assert ENTRY_ID not in hass.data[DATA_REGISTRIES]

    # A registry that was never loaded in this run is removed from the store as well.
    hass_storage[KEY] = stored([])
    await async_remove_registry(hass, ENTRY_ID)
    assert KEY not in hass_storage


def test_stored_entry_round_trip() -> None:
    entry = RegisteredPlate(
        plate="XY98ZZZ",
        name="Bob",
        category=Category.VISITOR,
        notes="n",
        valid_from=NOW,
        valid_until=NOW + HOUR,
        max_entries=3,
        entries_left=1,
        added=NOW,
        created_by="Alice",
    )
    assert RegisteredPlate.from_storage(entry.to_storage()) == entry
    assert entry.uid != RegisteredPlate(plate="A", name="A", category=Category.RESIDENT).uid
