"""The registry actions: add_plate, remove_plate, add_visitor_pass, list_plates."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.anpr.const import DOMAIN

from .conftest import CAMERA

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .fakes import FakeAnprService


async def call(hass: HomeAssistant, service: str, **data: Any) -> Any:
    """Call an anpr action with a response."""
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=True
    )


async def invalid(hass: HomeAssistant, service: str, **data: Any) -> ServiceValidationError:
    """Call an action that must refuse; return the translated error."""
    with pytest.raises(ServiceValidationError) as info:
        await hass.services.async_call(
            DOMAIN, service, data, blocking=True, return_response=service == "list_plates"
        )
    assert info.value.translation_domain == DOMAIN
    return info.value


async def plates(hass: HomeAssistant, **data: Any) -> list[dict[str, Any]]:
    response = await call(hass, "list_plates", **data)
    return list(response["plates"])


@pytest.mark.usefixtures("loaded_entry")
async def test_add_list_remove(hass: HomeAssistant) -> None:
    response = await call(hass, "add_plate", plate="ayo-9034", name="Alice", notes="blue car")
    assert response["plate"]["plate"] == "AYO9034"
    assert response["plate"]["category"] == "resident"
    assert response["plate"]["notes"] == "blue car"
    await hass.services.async_call(
        DOMAIN,
        "add_plate",
        {"plate": "BAD6666", "name": "Mallory", "category": "blocked"},
        blocking=True,
    )
    await call(hass, "add_plate", plate="FLEET*", name="Acme", category="resident")

    listed = await plates(hass)
    assert [(p["plate"], p["category"], p["active"]) for p in listed] == [
        ("AYO9034", "resident", True),
        ("FLEET*", "resident", True),
        ("BAD6666", "blocked", True),
    ]
    assert set(listed[0]) == {
        "plate",
        "name",
        "category",
        "notes",
        "valid_from",
        "valid_until",
        "max_entries",
        "entries_left",
        "active",
        "pass",
        "wildcard",
    }
    assert [p["plate"] for p in await plates(hass, category="blocked")] == ["BAD6666"]

    await hass.services.async_call(DOMAIN, "remove_plate", {"plate": "ayo 9034"}, blocking=True)
    assert [p["plate"] for p in await plates(hass)] == ["FLEET*", "BAD6666"]


@pytest.mark.usefixtures("loaded_entry")
async def test_registered_plate_changes_the_next_read(hass: HomeAssistant) -> None:
    await call(hass, "add_plate", plate="AYO9034", name="Alice")
    response = await call(hass, "scan", entity_id=CAMERA)
    assert response["plates"][0]["category"] == "resident"
    assert response["plates"][0]["owner"] == "Alice"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"plate": " ", "name": "Alice"}, "empty_plate"),
        ({"plate": "*", "name": "Alice"}, "invalid_plate"),
        ({"plate": "AYO9034", "name": " "}, "empty_name"),
        ({"plate": "AYO 9034", "name": "Bob"}, "duplicate_plate"),
        ({"plate": "AY09034", "name": "Bob"}, "plate_too_similar"),
    ],
)
@pytest.mark.usefixtures("loaded_entry")
async def test_add_plate_errors(hass: HomeAssistant, data: dict[str, Any], key: str) -> None:
    await call(hass, "add_plate", plate="AYO9034", name="Alice")
    assert (await invalid(hass, "add_plate", **data)).translation_key == key


@pytest.mark.usefixtures("loaded_entry")
async def test_errors_are_translated(hass: HomeAssistant) -> None:
    await call(hass, "add_plate", plate="AYO9034", name="Alice")
    error = await invalid(hass, "add_plate", plate="AYO9034", name="Bob")
    assert str(error) == "AYO9034 is already registered to Alice (resident)"
    error = await invalid(hass, "remove_plate", plate="XYZ")
    assert error.translation_key == "unknown_plate"
    assert str(error) == "XYZ is not registered"


@pytest.mark.usefixtures("loaded_entry")
async def test_a_fleet_pattern_does_not_lock_out_a_resident(hass: HomeAssistant) -> None:
    """Issue 13, item 1, as it was found: `AYO*` beside Alice's plate denied her car."""
    await call(hass, "add_plate", plate="AYO9034", name="Alice")
    await call(hass, "add_plate", plate="AYO*", name="AYO fleet")
    response = await call(hass, "scan", entity_id=CAMERA)  # the camera shows AYO9034
    plate = response["plates"][0]
    assert (plate["plate"], plate["category"], plate["owner"]) == ("AYO9034", "resident", "Alice")
    await call(hass, "add_plate", plate="AZJ*", name="AZJ fleet")
    await call(hass, "add_plate", plate="AZJ69*", name="AZJ69 fleet")  # nested: fine
    error = await invalid(hass, "add_plate", plate="AY?9*", name="Overlap")
    assert error.translation_key == "patterns_overlap"
    assert str(error) == (
        "The pattern AY?9* overlaps AYO* (AYO fleet): both match AYO9, and neither lies inside "
        "the other, so nobody could tell whose car that is. Make one pattern narrower than the "
        "other (a pattern inside another speaks for its plates), or change it"
    )


@pytest.mark.usefixtures("loaded_entry")
async def test_a_blocked_plate_that_would_lock_out_a_resident_is_refused(
    hass: HomeAssistant,
) -> None:
    await call(hass, "add_plate", plate="AYO9034", name="Alice")
    error = await invalid(hass, "add_plate", plate="AYO9043", name="Mallory", category="blocked")
    assert error.translation_key == "blocks_registered"
    assert str(error) == (
        "Blocking AYO9043 would lock out AYO9034 (Alice, resident): a read within one "
        "character or one swap of a blocked plate, or matched by a blocked pattern, counts as "
        "blocked, and every read of AYO9034 would. Remove or change AYO9034 first if that is "
        "really meant"
    )
    await call(hass, "add_plate", plate="FZB9581", name="Mallory", category="blocked")
    error = await invalid(hass, "add_plate", plate="FBZ9581", name="Bob")
    assert error.translation_key == "always_blocked"
    assert str(error) == (
        "FBZ9581 would always count as blocked, because of the blocked entry FZB9581 "
        "(Mallory): a read within one character or one swap of a blocked plate, or matched by "
        "a blocked pattern, counts as blocked. Remove or change FZB9581 first if FBZ9581 "
        "should be let in"
    )


@pytest.mark.usefixtures("loaded_entry")
async def test_schema_errors(hass: HomeAssistant) -> None:
    with pytest.raises(vol.Invalid):
        await call(hass, "add_plate", plate="AYO9034", name="Alice", category="friend")
    with pytest.raises(vol.Invalid):
        await call(hass, "add_plate", plate="AYO9034")
    with pytest.raises(vol.Invalid):
        await call(
            hass, "add_visitor_pass", plate="AYO9034", name="Bob", duration="1:00", max_entries=0
        )


@pytest.mark.usefixtures("loaded_entry")
async def test_add_visitor_pass(hass: HomeAssistant) -> None:
    before = dt_util.utcnow()
    response = await call(
        hass,
        "add_visitor_pass",
        plate="AYO9034",
        name="Grandma",
        duration={"hours": 24},
        max_entries=2,
        notes="Sunday lunch",
    )
    visitor = response["plate"]
    assert visitor["category"] == "visitor"
    assert (visitor["max_entries"], visitor["entries_left"]) == (2, 2)
    assert visitor["active"] is True
    assert visitor["pass"] == "valid"
    start = dt_util.parse_datetime(visitor["valid_from"])
    end = dt_util.parse_datetime(visitor["valid_until"])
    assert start is not None
    assert end is not None
    assert start >= before
    assert end - start == timedelta(hours=24)

    # A start and an end, as the frontend's date-time fields send them (local time).
    start_local = (dt_util.now() + timedelta(days=1)).replace(microsecond=0, tzinfo=None)
    response = await call(
        hass,
        "add_visitor_pass",
        plate="XYZ9876",
        name="Plumber",
        start=start_local.isoformat(),
        end=(start_local + timedelta(hours=2)).isoformat(),
    )
    plumber = response["plate"]
    assert plumber["pass"] == "pending"
    assert plumber["active"] is False
    assert plumber["entries_left"] is None
    valid_from = dt_util.parse_datetime(plumber["valid_from"])
    assert valid_from == dt_util.as_utc(start_local.replace(tzinfo=dt_util.get_default_time_zone()))

    # Without a response the pass is issued all the same.
    assert (
        await hass.services.async_call(
            DOMAIN,
            "add_visitor_pass",
            {"plate": "GR4NDMA", "name": "Gran", "end": "2099-01-01T00:00:00+00:00"},
            blocking=True,
        )
        is None
    )
    assert [p["plate"] for p in await plates(hass, category="visitor")] == [
        "AYO9034",
        "GR4NDMA",
        "XYZ9876",
    ]


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"end": "2099-01-01T00:00:00", "duration": {"hours": 1}}, "end_and_duration"),
        ({}, "end_or_duration_required"),
        ({"duration": {"hours": 0}}, "invalid_duration"),
        ({"start": "2099-01-02T00:00:00", "end": "2099-01-01T00:00:00"}, "end_before_start"),
        ({"end": "2000-01-01T00:00:00"}, "pass_in_past"),
        ({"start": "2000-01-01T00:00:00", "duration": {"hours": 1}}, "pass_in_past"),
    ],
)
@pytest.mark.usefixtures("loaded_entry")
async def test_add_visitor_pass_errors(hass: HomeAssistant, data: dict[str, Any], key: str) -> None:
    error = await invalid(hass, "add_visitor_pass", plate="AYO9034", name="Bob", **data)
    assert error.translation_key == key
    assert await plates(hass) == []


@pytest.mark.usefixtures("loaded_entry")
async def test_no_pass_for_residents_or_blocked(hass: HomeAssistant) -> None:
    await call(hass, "add_plate", plate="AYO9034", name="Alice")
    error = await invalid(
        hass, "add_visitor_pass", plate="AYO9034", name="Alice", duration={"hours": 1}
    )
    assert error.translation_key == "duplicate_plate"


# --- which entry ---------------------------------------------------------------------------


@pytest.mark.usefixtures("loaded_entry")
async def test_unknown_entry(hass: HomeAssistant) -> None:
    error = await invalid(hass, "list_plates", config_entry_id="nope")
    assert error.translation_key == "entry_not_found"
    other = MockConfigEntry(domain="local_file", title="x")
    other.add_to_hass(hass)
    error = await invalid(hass, "list_plates", config_entry_id=other.entry_id)
    assert error.translation_key == "entry_not_found"


async def test_registry_of_an_entry_that_is_not_loaded(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """The registry lives beside the entry: named explicitly, it works while unloaded."""
    await hass.config_entries.async_unload(loaded_entry.entry_id)
    error = await invalid(hass, "add_plate", plate="AYO9034", name="Alice")
    assert error.translation_key == "no_loaded_entry"

    await call(
        hass, "add_plate", plate="AYO9034", name="Alice", config_entry_id=loaded_entry.entry_id
    )
    await hass.config_entries.async_setup(loaded_entry.entry_id)
    await hass.async_block_till_done()
    response = await call(hass, "scan", entity_id=CAMERA)
    assert response["plates"][0]["owner"] == "Alice"


async def test_several_entries(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, anpr_service: FakeAnprService
) -> None:
    second = MockConfigEntry(
        domain=DOMAIN,
        title="Second",
        unique_id="f" * 32,
        data={CONF_URL: anpr_service.url, CONF_API_KEY: "secret-key-123"},
        options={},
    )
    second.add_to_hass(hass)
    assert await hass.config_entries.async_setup(second.entry_id)
    await hass.async_block_till_done()

    error = await invalid(hass, "add_plate", plate="AYO9034", name="Alice")
    assert error.translation_key == "several_entries"
    assert error.translation_placeholders == {"count": "2"}
    await call(hass, "add_plate", plate="AYO9034", name="Alice", config_entry_id=second.entry_id)
    assert await plates(hass, config_entry_id=loaded_entry.entry_id) == []
    assert len(await plates(hass, config_entry_id=second.entry_id)) == 1
    await hass.config_entries.async_unload(second.entry_id)
