"""Entities, events and logbook after real scans of a real camera against the fake service."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus
from typing import TYPE_CHECKING
from unittest.mock import patch

from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNKNOWN
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.translation import async_get_translations
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.anpr.access import Classification
from custom_components.anpr.compat import async_get_device
from custom_components.anpr.const import DOMAIN, EVENT_PLATE_DETECTED, Category
from custom_components.anpr.entity import camera_name

from .conftest import CAMERA, MOTION
from .fakes import CROP_JPEG, INSTANCE_ID, FakeAnprService, plate_json, recognition_json

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

LAST_PLATE = "sensor.driveway_last_plate"
LAST_SCAN = "sensor.driveway_last_scan"
INFERENCE = "sensor.driveway_inference_time"
IMAGE = "image.driveway_last_plate_picture"
EVENT = "event.driveway_vehicle"
UNKNOWN_PRESENT = "binary_sensor.driveway_unknown_vehicle_present"
RESIDENT_PRESENT = "binary_sensor.driveway_resident_vehicle_present"
CONNECTIVITY = "binary_sensor.anpr_127_0_0_1_connectivity"


async def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    """Let time pass, and wait for what it sets off (health polls run in the background)."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def motion(hass: HomeAssistant) -> None:
    """Motion at the driveway; wait for the burst it starts."""
    hass.states.async_set(MOTION, "on")
    await hass.async_block_till_done(wait_background_tasks=True)
    hass.states.async_set(MOTION, "off")
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_words_a_user_sees(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    # Occupancy reads Detected / Clear; presence read "Away" ("was detected away").
    for category in Category:
        state = hass.states.get(f"binary_sensor.driveway_{category}_vehicle_present")
        assert state.attributes["device_class"] == "occupancy"

    # No two entities of the camera's device share a name ("Last plate" was the sensor's
    # and the image's).
    entities = er.async_get(hass)
    camera = entities.async_get(LAST_PLATE).device_id
    names = [
        hass.states.get(entity.entity_id).name
        for entity in er.async_entries_for_device(entities, camera)
        if hass.states.get(entity.entity_id) is not None
    ]
    assert len(names) == len(set(names))
    assert hass.states.get(IMAGE).name == "Driveway Last plate picture"

    # An unknown car is not shown as "Unknown", Home Assistant's word for a missing state.
    texts = await async_get_translations(hass, "en", "entity", [DOMAIN])
    prefix = f"component.{DOMAIN}.entity"
    for attribute in (
        "event.vehicle.state_attributes.event_type",
        "sensor.last_plate.state_attributes.category",
    ):
        assert texts[f"{prefix}.{attribute}.state.unknown"] == "Unrecognised"


async def test_devices(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    devices = dr.async_get(hass)
    service = async_get_device(devices, (DOMAIN, INSTANCE_ID), loaded_entry.entry_id)
    assert service is not None
    assert service.sw_version == "0.1.0"
    assert service.name == "ANPR (127.0.0.1)"
    assert service.configuration_url == f"{loaded_entry.data['url']}/v1/health"
    camera = async_get_device(
        devices, (DOMAIN, f"{loaded_entry.entry_id}_{CAMERA}"), loaded_entry.entry_id
    )
    assert camera is not None
    assert camera.name == "Driveway"
    assert camera.via_device_id == service.id
    entity = er.async_get(hass).async_get(LAST_PLATE)
    assert entity is not None
    assert entity.device_id == camera.id
    assert entity.unique_id == f"{loaded_entry.entry_id}_{CAMERA}_last_plate"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_scan_updates_entities(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    hass_client: ClientSessionGenerator,
) -> None:
    events = async_capture_events(hass, EVENT_PLATE_DETECTED)
    await motion(hass)

    # One burst of three frames, each a real JPEG of the camera, with the entry's settings.
    requests = anpr_service.recognize_requests
    assert len(requests) == 3
    assert requests[0].body[:3] == b"\xff\xd8\xff"
    assert requests[0].query == {"region": "br", "min_confidence": "0.5", "crops": "true"}

    plate = hass.states.get(LAST_PLATE)
    assert plate.state == "AYO9034"
    assert plate.attributes["confidence"] == 0.95
    assert plate.attributes["category"] == "unknown"
    assert plate.attributes["owner"] is None
    assert plate.attributes["frames"] == 3
    assert "time" in plate.attributes
    assert hass.states.get(LAST_SCAN).state != STATE_UNKNOWN
    assert float(hass.states.get(INFERENCE).state) == 56.0
    assert hass.states.get(UNKNOWN_PRESENT).state == STATE_ON
    assert hass.states.get(RESIDENT_PRESENT).state == STATE_OFF

    event = hass.states.get(EVENT)
    assert event.attributes["event_type"] == "unknown"
    assert event.attributes["plate"] == "AYO9034"
    assert event.attributes["camera"] == CAMERA
    assert "owner" not in event.attributes

    assert len(events) == 1
    device = async_get_device(
        dr.async_get(hass), (DOMAIN, f"{loaded_entry.entry_id}_{CAMERA}"), loaded_entry.entry_id
    )
    assert device is not None
    assert events[0].data == {
        "camera": CAMERA,
        "device_id": device.id,
        "plate": "AYO9034",
        "confidence": 0.95,
        "category": "unknown",
        "owner": None,
        "matched_plate": None,
        "reason": "AYO9034 is not in the plate registry",
        "frames": 3,
        "access_granted": False,
        "decision": events[0].data["decision"],
        "match": "no_match",
        "distance": None,
    }
    assert "matches nobody" in events[0].data["decision"]

    # The image entity serves the plate's crop.
    image = hass.states.get(IMAGE)
    assert image.state != STATE_UNKNOWN
    client = await hass_client()
    response = await client.get(f"/api/image_proxy/{IMAGE}")
    assert response.status == HTTPStatus.OK
    assert await response.read() == CROP_JPEG


@pytest.mark.usefixtures("loaded_entry")
async def test_same_visit_fires_once(
    hass: HomeAssistant, anpr_service: FakeAnprService, freezer: FrozenDateTimeFactory
) -> None:
    events = async_capture_events(hass, EVENT_PLATE_DETECTED)
    await motion(hass)
    first_event = hass.states.get(EVENT).state

    # Seen again within the cooldown (even misread by one character): same visit.
    await advance(hass, freezer, 30)
    anpr_service.default_recognition = recognition_json(plate_json("AYO9O34", 0.9))
    await motion(hass)
    assert len(events) == 1
    assert hass.states.get(EVENT).state == first_event
    assert hass.states.get(LAST_PLATE).state == "AYO9O34"

    # After the cooldown it is a new visit.
    await advance(hass, freezer, 301)
    await motion(hass)
    assert len(events) == 2


@pytest.mark.usefixtures("loaded_entry")
async def test_presence_holds_then_clears(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    await motion(hass)
    assert hass.states.get(UNKNOWN_PRESENT).state == STATE_ON

    await advance(hass, freezer, 45)
    await motion(hass)  # seen again: the hold time starts over
    await advance(hass, freezer, 45)
    assert hass.states.get(UNKNOWN_PRESENT).state == STATE_ON

    await advance(hass, freezer, 16)
    assert hass.states.get(UNKNOWN_PRESENT).state == STATE_OFF


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "loaded_entry")
async def test_scan_without_plates(hass: HomeAssistant, anpr_service: FakeAnprService) -> None:
    anpr_service.default_recognition = recognition_json(total_ms=20.0)
    await motion(hass)
    assert hass.states.get(LAST_PLATE).state == STATE_UNKNOWN
    assert float(hass.states.get(INFERENCE).state) == 20.0
    assert hass.states.get(UNKNOWN_PRESENT).state == STATE_OFF


@pytest.mark.usefixtures("loaded_entry")
async def test_low_confidence_is_ignored(
    hass: HomeAssistant, anpr_service: FakeAnprService
) -> None:
    anpr_service.default_recognition = recognition_json(plate_json("AYO9034", 0.3))
    await motion(hass)
    assert hass.states.get(LAST_PLATE).state == STATE_UNKNOWN


@pytest.mark.usefixtures("loaded_entry")
async def test_plate_without_crop_keeps_image(
    hass: HomeAssistant, anpr_service: FakeAnprService
) -> None:
    anpr_service.default_recognition = recognition_json(plate_json("AYO9034", crop=None))
    await motion(hass)
    assert hass.states.get(LAST_PLATE).state == "AYO9034"
    assert hass.states.get(IMAGE).state == STATE_UNKNOWN


@pytest.mark.usefixtures("loaded_entry")
async def test_access_decision_reaches_every_output(hass: HomeAssistant) -> None:
    """What `access.classify` decides shows up in the event, sensors and bus event."""
    events = async_capture_events(hass, EVENT_PLATE_DETECTED)
    decision = Classification(
        category=Category.RESIDENT,
        owner="Alice",
        matched_plate="AYO9034",
        reason="registered to Alice",
    )
    with patch("custom_components.anpr.visits.classify", return_value=decision):
        await motion(hass)

    event = hass.states.get(EVENT)
    assert event.attributes["event_type"] == "resident"
    assert event.attributes["owner"] == "Alice"
    plate = hass.states.get(LAST_PLATE)
    assert plate.attributes["category"] == "resident"
    assert plate.attributes["owner"] == "Alice"
    assert plate.attributes["matched_plate"] == "AYO9034"
    assert hass.states.get(RESIDENT_PRESENT).state == STATE_ON
    assert hass.states.get(UNKNOWN_PRESENT).state == STATE_OFF
    assert events[0].data["category"] == "resident"
    assert events[0].data["owner"] == "Alice"
    assert events[0].data["reason"] == "registered to Alice"


def test_camera_name_fallbacks(hass: HomeAssistant) -> None:
    hass.states.async_set("camera.porch", "idle", {"friendly_name": "Porch"})
    assert camera_name(hass, "camera.porch") == "Porch"
    assert camera_name(hass, "camera.nowhere") == "camera.nowhere"


@pytest.mark.usefixtures("loaded_entry")
async def test_inference_time_is_disabled_by_default(hass: HomeAssistant) -> None:
    entity = er.async_get(hass).async_get(INFERENCE)
    assert entity is not None
    assert entity.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert hass.states.get(INFERENCE) is None
