"""The `anpr.scan` action: a burst on demand, with a response; clear errors otherwise."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
import voluptuous as vol

from custom_components.anpr.const import DOMAIN

from .conftest import CAMERA
from .fakes import Answer, FakeAnprService, error_json, plate_json, recognition_json

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry


@pytest.mark.usefixtures("loaded_entry")
async def test_scan_returns_plates(hass: HomeAssistant, anpr_service: FakeAnprService) -> None:
    anpr_service.default_recognition = recognition_json(
        plate_json("AYO9034", 0.95), plate_json("XYZ1234", 0.8)
    )
    response = await hass.services.async_call(
        DOMAIN, "scan", {ATTR_ENTITY_ID: CAMERA}, blocking=True, return_response=True
    )
    assert response is not None
    assert response["camera"] == CAMERA
    assert response["frames"] == 3
    assert response["plates"] == [
        {
            "plate": "AYO9034",
            "confidence": 0.95,
            "category": "unknown",
            "owner": None,
            "matched_plate": None,
            "frames": 3,
        },
        {
            "plate": "XYZ1234",
            "confidence": 0.8,
            "category": "unknown",
            "owner": None,
            "matched_plate": None,
            "frames": 3,
        },
    ]
    assert hass.states.get("sensor.driveway_last_plate").state == "AYO9034"


@pytest.mark.usefixtures("loaded_entry")
async def test_scan_without_response(hass: HomeAssistant, anpr_service: FakeAnprService) -> None:
    assert (
        await hass.services.async_call(DOMAIN, "scan", {ATTR_ENTITY_ID: CAMERA}, blocking=True)
        is None
    )
    assert len(anpr_service.recognize_requests) == 3


@pytest.mark.usefixtures("loaded_entry")
async def test_scan_camera_not_watched(hass: HomeAssistant) -> None:
    with pytest.raises(ServiceValidationError) as info:
        await hass.services.async_call(
            DOMAIN, "scan", {ATTR_ENTITY_ID: "camera.garden"}, blocking=True
        )
    assert info.value.translation_key == "camera_not_watched"
    assert info.value.translation_placeholders == {"camera": "camera.garden"}


@pytest.mark.usefixtures("loaded_entry")
async def test_scan_needs_a_camera(hass: HomeAssistant) -> None:
    with pytest.raises(vol.Invalid):
        await hass.services.async_call(
            DOMAIN, "scan", {ATTR_ENTITY_ID: "light.kitchen"}, blocking=True
        )


async def test_scan_entry_not_loaded(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    await hass.config_entries.async_unload(loaded_entry.entry_id)
    with pytest.raises(ServiceValidationError) as info:
        await hass.services.async_call(DOMAIN, "scan", {ATTR_ENTITY_ID: CAMERA}, blocking=True)
    assert info.value.translation_key == "entry_not_loaded"
    assert info.value.translation_placeholders == {
        "camera": CAMERA,
        "entry": loaded_entry.title,
    }


@pytest.mark.usefixtures("loaded_entry")
async def test_scan_service_fails(hass: HomeAssistant, anpr_service: FakeAnprService) -> None:
    anpr_service.recognize_answers += [Answer(500, error_json("internal_error", "boom"))] * 3
    with pytest.raises(HomeAssistantError) as info:
        await hass.services.async_call(DOMAIN, "scan", {ATTR_ENTITY_ID: CAMERA}, blocking=True)
    assert info.value.translation_domain == DOMAIN
    assert info.value.translation_key == "service_unavailable"
    assert "The ANPR inference service is unavailable" in str(info.value)
