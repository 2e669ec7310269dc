"""The logbook describes the decisions and gate openings (needs the recorder: own module)."""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.anpr.const import CONF_GATE, DOMAIN

from .conftest import CAMERA, GATE, MOTION, camera_options
from .fakes import FakeAnprService, plate_json, recognition_json

if TYPE_CHECKING:
    from typing import Any

    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: object, enable_custom_integrations: None
) -> None:
    """Start the recorder before Home Assistant (the logbook reads from it)."""


async def test_logbook(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    # The frontend's files are not installed in tests; the logbook only registers a panel.
    hass.config.components.add("frontend")
    assert await async_setup_component(hass, "logbook", {})
    await hass.async_block_till_done()
    hass.states.async_set(MOTION, "on")
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)

    client = await hass_client()
    response = await client.get("/api/logbook")
    assert response.status == HTTPStatus.OK
    entries = [e for e in await response.json() if e.get("domain") == DOMAIN]
    assert len(entries) == 1
    assert entries[0]["name"] == "ANPR"
    assert entries[0]["message"] == (
        "read plate AYO9034 (unknown vehicle) at Driveway: AYO9034 is not in the plate registry"
    )
    assert entries[0]["entity_id"] == CAMERA


async def logbook_messages(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> list[dict[str, Any]]:
    """Return the anpr entries of the logbook, oldest first."""
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)
    client = await hass_client()
    response = await client.get("/api/logbook")
    assert response.status == HTTPStatus.OK
    return [e for e in await response.json() if e.get("domain") == DOMAIN]


@pytest.mark.parametrize("cameras_options", [{CAMERA: camera_options(**{CONF_GATE: GATE})}])
@pytest.mark.usefixtures("loaded_entry")
async def test_logbook_explains_decisions_and_gate_openings(
    hass: HomeAssistant, anpr_service: FakeAnprService, hass_client: ClientSessionGenerator
) -> None:
    hass.config.components.add("frontend")
    assert await async_setup_component(hass, "logbook", {})
    hass.states.async_set(GATE, "closed", {"friendly_name": "Front gate"})
    async_mock_service(hass, "cover", "open_cover")
    for plate, name, category in (
        ("AYO9034", "Alice", "resident"),
        ("BAD6666", "Mallory", "blocked"),
    ):
        await hass.services.async_call(
            DOMAIN, "add_plate", {"plate": plate, "name": name, "category": category}, blocking=True
        )

    # Issue 17: an exact read (a look-alike read, AY09034, no longer opens the gate).
    anpr_service.default_recognition = recognition_json(plate_json("AYO9034"))
    await hass.services.async_call(DOMAIN, "scan", {ATTR_ENTITY_ID: CAMERA}, blocking=True)
    await hass.services.async_call(DOMAIN, "open_gate", {"camera": CAMERA}, blocking=True)
    anpr_service.default_recognition = recognition_json(plate_json("BAD6686"))
    await hass.services.async_call(DOMAIN, "scan", {ATTR_ENTITY_ID: CAMERA}, blocking=True)
    await hass.services.async_call(
        DOMAIN, "open_gate", {"camera": CAMERA, "force": True}, blocking=True
    )

    entries = await logbook_messages(hass, hass_client)
    assert [(entry["entity_id"], entry["message"]) for entry in entries] == [
        (
            CAMERA,
            (
                "read plate AYO9034 (resident vehicle) at Driveway: Resident Alice (AYO9034), "
                "exact match: access granted"
            ),
        ),
        (
            GATE,
            (
                "opened Front gate for AYO9034 (Alice) at Driveway: Resident Alice (AYO9034), "
                "exact match: access granted"
            ),
        ),
        (
            CAMERA,
            (
                "read plate BAD6686 (blocked vehicle) at Driveway: Blocked plate BAD6666 "
                "(Mallory), near match, distance 1: access denied"
            ),
        ),
        (
            GATE,
            (
                "force-opened Front gate for BAD6686 (Mallory) at Driveway: Opened by force; the "
                "checks said: Not opening the gate for BAD6686: Blocked plate BAD6666 (Mallory), "
                "near match, distance 1: access denied"
            ),
        ),
    ]


async def test_logbook_gate_opened_without_a_plate(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """Events with little in them (no vehicle, unknown entities, no reason) read well."""
    hass.config.components.add("frontend")
    assert await async_setup_component(hass, DOMAIN, {})
    assert await async_setup_component(hass, "logbook", {})
    hass.bus.async_fire(
        "anpr_gate_opened",
        {
            "camera": CAMERA,
            "gate": GATE,
            "plate": None,
            "name": None,
            "category": None,
            "reason": "Opened by force; the checks said: no vehicle",
            "forced": True,
            "entry_id": "x",
        },
    )
    # An event recorded before decisions had reasons.
    hass.bus.async_fire(
        "anpr_plate_detected", {"camera": CAMERA, "plate": "AYO9034", "category": "unknown"}
    )
    entries = await logbook_messages(hass, hass_client)
    assert [entry["message"] for entry in entries] == [
        "force-opened cover.gate at camera.driveway: Opened by force; the checks said: no vehicle",
        "read plate AYO9034 (unknown vehicle) at camera.driveway",
    ]
