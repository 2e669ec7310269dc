"""`anpr.open_gate`: it opens for a granted, recent visit once, and refuses everything else.

The camera, the integration and the inference service (fake, on 127.0.0.1) are real; only
the gate's own action is mocked: it is hardware outside the box.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE
from homeassistant.core import Context
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.anpr.const import CONF_GATE, DOMAIN, EVENT_GATE_OPENED, EVENT_PLATE_DETECTED

from .conftest import CAMERA, GATE, camera_options
from .fakes import (
    Answer,
    FakeAnprService,
    alternatives_of,
    error_json,
    plate_json,
    recognition_json,
)

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant, ServiceCall
    from pytest_homeassistant_custom_component.common import MockConfigEntry

EVENT = "event.driveway_vehicle"


@pytest.fixture
def cameras_options() -> dict[str, dict[str, Any]]:
    """Watch the driveway camera, whose gate is `cover.gate` (hold time 60 s)."""
    return {CAMERA: camera_options(**{CONF_GATE: GATE})}


async def add_plate(hass: HomeAssistant, plate: str, name: str, category: str = "resident") -> None:
    await hass.services.async_call(
        DOMAIN, "add_plate", {"plate": plate, "name": name, "category": category}, blocking=True
    )


async def scan(hass: HomeAssistant) -> None:
    """Let a vehicle arrive: one burst of the camera."""
    await hass.services.async_call(DOMAIN, "scan", {ATTR_ENTITY_ID: CAMERA}, blocking=True)


async def open_gate(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN,
        "open_gate",
        {"camera": CAMERA, **data},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return dict(response)


async def refused(hass: HomeAssistant, **data: Any) -> HomeAssistantError:
    with pytest.raises(HomeAssistantError) as info:
        await open_gate(hass, **data)
    assert info.value.translation_domain == DOMAIN
    return info.value


async def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


# --- opening -------------------------------------------------------------------------------


@pytest.mark.usefixtures("loaded_entry")
async def test_opens_for_a_resident_once_per_visit(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    gate_calls: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    await add_plate(hass, "AYO9034", "Alice")
    opened = async_capture_events(hass, EVENT_GATE_OPENED)
    await scan(hass)

    context = Context()
    response = await hass.services.async_call(
        DOMAIN,
        "open_gate",
        {"camera": CAMERA, "plate": "ayo 9034"},
        blocking=True,
        return_response=True,
        context=context,
    )
    assert [call.data[ATTR_ENTITY_ID] for call in gate_calls] == [GATE]
    assert gate_calls[0].context is context
    expected = {
        "camera": CAMERA,
        "gate": GATE,
        "plate": "AYO9034",
        "name": "Alice",
        "category": "resident",
        "reason": "Resident Alice (AYO9034), exact match: access granted",
        "forced": False,
        "entry_id": loaded_entry.entry_id,
        "matched_plate": "AYO9034",
        "access_granted": True,
        "entries_left": None,
    }
    assert response == expected
    assert [event.data for event in opened] == [expected]
    assert opened[0].context is context

    # The same visit (the car still in front of the camera) does not open it again.
    await advance(hass, freezer, 20)
    await scan(hass)
    error = await refused(hass, plate="AYO9034")
    assert error.translation_key == "gate_already_opened"
    assert len(gate_calls) == 1

    # The next visit, after the cooldown, does.
    await advance(hass, freezer, 400)
    await scan(hass)
    await open_gate(hass)
    assert len(gate_calls) == 2


@pytest.mark.parametrize(
    ("gate", "domain", "action"),
    [
        ("switch.gate", "switch", "turn_on"),
        ("button.gate", "button", "press"),
        ("lock.gate", "lock", "unlock"),
    ],
)
async def test_gate_domains(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    gate: str,
    domain: str,
    action: str,
) -> None:
    hass.states.async_set(gate, "off")
    calls = async_mock_service(hass, domain, action)
    hass.config_entries.async_update_entry(
        loaded_entry, options={"cameras": {CAMERA: camera_options(**{CONF_GATE: gate})}}
    )
    await hass.async_block_till_done()
    await add_plate(hass, "AYO9034", "Alice")
    await scan(hass)
    await hass.services.async_call(DOMAIN, "open_gate", {"camera": CAMERA}, blocking=True)
    assert [call.data[ATTR_ENTITY_ID] for call in calls] == [gate]


@pytest.mark.usefixtures("loaded_entry")
async def test_visitor_pass_entries_are_counted(
    hass: HomeAssistant,
    gate_calls: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    await hass.services.async_call(
        DOMAIN,
        "add_visitor_pass",
        {"plate": "AYO9034", "name": "Grandma", "duration": {"days": 1}, "max_entries": 2},
        blocking=True,
    )
    await scan(hass)
    assert (await open_gate(hass))["entries_left"] == 1

    await advance(hass, freezer, 400)
    await scan(hass)
    response = await open_gate(hass, plate="AYO9034")
    assert response["category"] == "visitor"
    assert response["entries_left"] == 0
    assert len(gate_calls) == 2

    # Every entry used: the next visit is a visitor without access.
    await advance(hass, freezer, 400)
    await scan(hass)
    assert hass.states.get(EVENT).attributes["access_granted"] is False
    error = await refused(hass)
    assert error.translation_key == "access_denied"
    assert "has used all 2 entries" in error.translation_placeholders["reason"]
    assert len(gate_calls) == 2

    plates = await hass.services.async_call(
        DOMAIN, "list_plates", {}, blocking=True, return_response=True
    )
    assert plates["plates"][0]["entries_left"] == 0
    assert plates["plates"][0]["active"] is False


@pytest.mark.usefixtures("loaded_entry")
async def test_picks_the_granted_vehicle_of_the_visit(
    hass: HomeAssistant, anpr_service: FakeAnprService, gate_calls: list[ServiceCall]
) -> None:
    await add_plate(hass, "AYO9034", "Alice")
    anpr_service.default_recognition = recognition_json(
        plate_json("XYZ9876", 0.97, box=(10, 10, 60, 30)), plate_json("AYO9034", 0.9)
    )
    await scan(hass)
    assert (await open_gate(hass))["plate"] == "AYO9034"
    assert len(gate_calls) == 1


# --- refusing ------------------------------------------------------------------------------


@pytest.mark.usefixtures("loaded_entry")
async def test_refuses_an_unknown_vehicle(
    hass: HomeAssistant, gate_calls: list[ServiceCall]
) -> None:
    await scan(hass)
    error = await refused(hass, plate="AYO9034")
    assert isinstance(error, ServiceValidationError)
    assert error.translation_key == "access_denied"
    assert error.translation_placeholders == {
        "plate": "AYO9034",
        "reason": "AYO9034 is not in the plate registry",
    }
    assert gate_calls == []


@pytest.mark.usefixtures("loaded_entry")
async def test_refuses_a_plate_removed_since_the_read(
    hass: HomeAssistant, gate_calls: list[ServiceCall]
) -> None:
    """The decision is made again when the gate would open: the registry has the last word."""
    await add_plate(hass, "AYO9034", "Alice")
    await scan(hass)
    await hass.services.async_call(DOMAIN, "remove_plate", {"plate": "AYO9034"}, blocking=True)
    assert (await refused(hass)).translation_key == "access_denied"
    assert gate_calls == []


@pytest.mark.usefixtures("loaded_entry", "gate_calls")
async def test_refuses_without_a_visit(hass: HomeAssistant) -> None:
    error = await refused(hass)
    assert error.translation_key == "no_recent_visit"
    assert error.translation_placeholders == {"camera": CAMERA}


@pytest.mark.usefixtures("loaded_entry")
async def test_refuses_another_plate(hass: HomeAssistant, gate_calls: list[ServiceCall]) -> None:
    await add_plate(hass, "AYO9034", "Alice")
    await add_plate(hass, "XYZ9876", "Bob")
    await scan(hass)
    error = await refused(hass, plate="XYZ9876")
    assert error.translation_key == "plate_mismatch"
    assert error.translation_placeholders == {
        "camera": CAMERA,
        "plate": "XYZ9876",
        "latest": "AYO9034",
    }
    assert gate_calls == []


@pytest.mark.usefixtures("loaded_entry")
async def test_refuses_a_stale_visit(
    hass: HomeAssistant, gate_calls: list[ServiceCall], freezer: FrozenDateTimeFactory
) -> None:
    await add_plate(hass, "AYO9034", "Alice")
    await scan(hass)
    await advance(hass, freezer, 61)  # the camera's hold time is 60 s
    error = await refused(hass)
    assert error.translation_key == "visit_stale"
    assert error.translation_placeholders == {"camera": CAMERA, "plate": "AYO9034", "age": "61"}
    assert gate_calls == []


@pytest.mark.usefixtures("loaded_entry")
async def test_refuses_when_a_blocked_vehicle_is_there_too(
    hass: HomeAssistant, anpr_service: FakeAnprService, gate_calls: list[ServiceCall]
) -> None:
    await add_plate(hass, "AYO9034", "Alice")
    await add_plate(hass, "BAD6666", "Mallory", "blocked")
    anpr_service.default_recognition = recognition_json(
        plate_json("AYO9034", 0.95), plate_json("BAD6666", 0.9, box=(10, 10, 60, 30))
    )
    await scan(hass)
    error = await refused(hass, plate="AYO9034")
    assert error.translation_key == "blocked_vehicle_present"
    assert error.translation_placeholders == {"camera": CAMERA, "plates": "BAD6666"}
    assert gate_calls == []


@pytest.mark.usefixtures("loaded_entry")
async def test_refuses_when_the_service_is_down(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    gate_calls: list[ServiceCall],
) -> None:
    await add_plate(hass, "AYO9034", "Alice")
    await scan(hass)
    anpr_service.down = True
    await loaded_entry.runtime_data.coordinator.async_refresh()
    error = await refused(hass)
    assert isinstance(error, ServiceValidationError)  # an expected refusal: one log line
    assert error.translation_key == "gate_service_unavailable"
    assert gate_calls == []


@pytest.mark.usefixtures("loaded_entry")
async def test_refuses_after_a_failed_scan(
    hass: HomeAssistant, anpr_service: FakeAnprService, gate_calls: list[ServiceCall]
) -> None:
    await add_plate(hass, "AYO9034", "Alice")
    await scan(hass)
    anpr_service.recognize_answers += [Answer(400, error_json("invalid_image", "garbled"))] * 3
    with pytest.raises(HomeAssistantError):
        await scan(hass)
    error = await refused(hass)
    assert error.translation_key == "gate_scan_failed"
    assert gate_calls == []

    await scan(hass)  # scanning works again: so does the gate
    await open_gate(hass)
    assert len(gate_calls) == 1


@pytest.mark.parametrize("cameras_options", [{CAMERA: camera_options()}])
@pytest.mark.usefixtures("loaded_entry")
async def test_refuses_without_a_gate(hass: HomeAssistant) -> None:
    error = await refused(hass, force=True)
    assert error.translation_key == "no_gate"
    assert error.translation_placeholders == {"camera": CAMERA}


@pytest.mark.usefixtures("loaded_entry")
async def test_refuses_a_missing_or_unavailable_gate(hass: HomeAssistant) -> None:
    error = await refused(hass, force=True)
    assert error.translation_key == "gate_missing"
    assert error.translation_placeholders == {"camera": CAMERA, "gate": GATE}

    hass.states.async_set(GATE, STATE_UNAVAILABLE)
    error = await refused(hass, force=True)
    assert error.translation_key == "gate_unavailable"


@pytest.mark.usefixtures("loaded_entry")
async def test_reports_a_gate_that_fails(hass: HomeAssistant) -> None:
    hass.states.async_set(GATE, "closed")
    async_mock_service(hass, "cover", "open_cover", raise_exception=HomeAssistantError("jammed"))
    opened = async_capture_events(hass, EVENT_GATE_OPENED)
    await add_plate(hass, "AYO9034", "Alice")
    await scan(hass)
    error = await refused(hass)
    assert error.translation_key == "gate_failed"
    assert error.translation_placeholders == {"gate": GATE, "error": "jammed"}
    assert opened == []


async def test_camera_not_watched_or_not_loaded(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as info:
        await hass.services.async_call(
            DOMAIN, "open_gate", {"camera": "camera.garden"}, blocking=True
        )
    assert info.value.translation_key == "camera_not_watched"
    await hass.config_entries.async_unload(loaded_entry.entry_id)
    with pytest.raises(ServiceValidationError) as info:
        await hass.services.async_call(
            DOMAIN, "open_gate", {"camera": CAMERA, "force": True}, blocking=True
        )
    assert info.value.translation_key == "entry_not_loaded"


# --- force ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("loaded_entry")
async def test_force_opens_for_an_unknown_vehicle(
    hass: HomeAssistant, gate_calls: list[ServiceCall]
) -> None:
    opened = async_capture_events(hass, EVENT_GATE_OPENED)
    await scan(hass)
    response = await open_gate(hass, force=True)
    assert len(gate_calls) == 1
    assert response["forced"] is True
    assert response["plate"] == "AYO9034"
    assert response["category"] == "unknown"
    assert response["access_granted"] is False
    assert response["reason"] == (
        "Opened by force; the checks said: Not opening the gate for AYO9034: "
        "AYO9034 is not in the plate registry"
    )
    assert opened[0].data["forced"] is True


@pytest.mark.usefixtures("loaded_entry")
async def test_force_without_any_visit(hass: HomeAssistant, gate_calls: list[ServiceCall]) -> None:
    response = await open_gate(hass, force=True, plate="AB12CDE")
    assert len(gate_calls) == 1
    assert response["plate"] == "AB12CDE"
    assert (response["name"], response["category"]) == (None, None)
    assert response["reason"].startswith("Opened by force; the checks said: ")


@pytest.mark.usefixtures("loaded_entry")
async def test_force_for_a_granted_visit_says_so(
    hass: HomeAssistant, gate_calls: list[ServiceCall]
) -> None:
    await add_plate(hass, "AYO9034", "Alice")
    await scan(hass)
    response = await open_gate(hass, force=True)
    assert response["reason"] == (
        "Opened by force. Resident Alice (AYO9034), exact match: access granted"
    )
    assert response["forced"] is True
    # A forced opening counts as this visit's: the automation's own call is refused.
    assert (await refused(hass)).translation_key == "gate_already_opened"
    assert len(gate_calls) == 1


# --- the whole story -----------------------------------------------------------------------


@pytest.mark.usefixtures("loaded_entry")
async def test_lookalike_resident_is_named_not_let_in_and_near_blocked_plate_is_refused(
    hass: HomeAssistant,
    anpr_service: FakeAnprService,
    gate_calls: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Issue 17 changed the first half: a read one look-alike from a resident opened the gate.

    AY09034 may be another car: it names Alice but stays shut, with the reason. A read of
    AYO9034 whose image is unsure between O and 0 stays shut too (the refusal names the other
    plate); a clear read opens. One real edit from a blocked plate is reported as blocked
    (event type, presence), not as unknown.
    """
    await add_plate(hass, "AYO9034", "Alice")
    await add_plate(hass, "BAD6666", "Mallory", "blocked")
    detected = async_capture_events(hass, EVENT_PLATE_DETECTED)

    anpr_service.default_recognition = recognition_json(plate_json("AY09034"))  # 0 for O
    await scan(hass)
    event = hass.states.get(EVENT)
    assert event.attributes["event_type"] == "unknown"
    assert event.attributes["access_granted"] is False
    assert event.attributes["owner"] == "Alice"
    assert event.attributes["matched_plate"] == "AYO9034"
    assert event.attributes["reason"] == (
        "Probably Alice's AYO9034, look-alike match, distance 0.5, but the image does not "
        "prove it: access denied"
    )
    assert detected[-1].data["match"] == "lookalike"
    with pytest.raises(ServiceValidationError):
        await open_gate(hass, plate="AY09034")
    assert not gate_calls

    await advance(hass, freezer, 400)  # a new visit
    unsure = [[(c, 1.0)] for c in "AYO9034"]
    unsure[2] = [("O", 0.7), ("0", 0.3)]
    anpr_service.default_recognition = recognition_json(plate_json("AYO9034", alternatives=unsure))
    await scan(hass)
    assert detected[-1].data["access_granted"] is False
    assert "The image could also be AY09034 (30%)" in detected[-1].data["decision"]
    with pytest.raises(ServiceValidationError):
        await open_gate(hass, plate="AYO9034")
    assert not gate_calls

    await advance(hass, freezer, 400)
    anpr_service.default_recognition = recognition_json(
        plate_json("AYO9034", alternatives=alternatives_of("AYO9034", 0.99))
    )
    await scan(hass)
    assert detected[-1].data["access_granted"] is True
    assert "The image supports AYO9034 and no other plate." in detected[-1].data["decision"]
    response = await open_gate(hass, plate="AYO9034")
    assert response["name"] == "Alice"
    assert len(gate_calls) == 1

    await advance(hass, freezer, 30)
    anpr_service.default_recognition = recognition_json(plate_json("BAD6686"))  # one real edit
    await scan(hass)
    event = hass.states.get(EVENT)
    assert event.attributes["event_type"] == "blocked"
    assert event.attributes["access_granted"] is False
    assert event.attributes["owner"] == "Mallory"
    assert hass.states.get("binary_sensor.driveway_blocked_vehicle_present").state == "on"
    assert detected[-1].data["category"] == "blocked"
    error = await refused(hass, plate="BAD6686")
    assert error.translation_key == "access_denied"
    assert error.translation_placeholders["reason"] == (
        "Blocked plate BAD6666 (Mallory), near match, distance 1: access denied"
    )
    assert len(gate_calls) == 1


@pytest.mark.usefixtures("loaded_entry")
async def test_racing_requests_open_once(hass: HomeAssistant) -> None:
    """Two automations asking at the same moment: the visit opens the gate once."""
    hass.states.async_set(GATE, "closed")
    entered = asyncio.Event()
    release = asyncio.Event()
    calls: list[ServiceCall] = []

    async def slow_gate(call: ServiceCall) -> None:
        """Open slowly, as a real gate talking to hardware does."""
        calls.append(call)
        entered.set()
        await release.wait()

    hass.services.async_register("cover", "open_cover", slow_gate)
    await add_plate(hass, "AYO9034", "Alice")
    await scan(hass)

    first = hass.async_create_task(open_gate(hass))
    await entered.wait()
    second = hass.async_create_task(open_gate(hass))
    for _ in range(10):  # let the second request run as far as it can
        await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert len(calls) == 1
    assert results[0]["plate"] == "AYO9034"
    assert isinstance(results[1], HomeAssistantError)
    assert results[1].translation_key == "gate_already_opened"


@pytest.mark.usefixtures("loaded_entry")
async def test_visitor_pass_expires_by_itself(
    hass: HomeAssistant, gate_calls: list[ServiceCall], freezer: FrozenDateTimeFactory
) -> None:
    await hass.services.async_call(
        DOMAIN,
        "add_visitor_pass",
        {"plate": "AYO9034", "name": "Plumber", "duration": {"hours": 1}},
        blocking=True,
    )
    await scan(hass)
    assert hass.states.get(EVENT).attributes["access_granted"] is True

    await advance(hass, freezer, 3601)
    await scan(hass)  # a new visit (the cooldown is long over), after the pass ended
    event = hass.states.get(EVENT)
    assert event.attributes["event_type"] == "visitor"
    assert event.attributes["owner"] == "Plumber"
    assert event.attributes["access_granted"] is False
    assert "expired at" in event.attributes["reason"]
    assert (await refused(hass)).translation_key == "access_denied"
    assert gate_calls == []
