"""The blueprints, unchanged, on a plate source's vehicle event entity (an action source).

Same world as `test_blueprints.py` (real `mobile_app` phones pushing to a fake gateway, the
gate a recorded cover); the vehicle arrives through `anpr.report_plate` instead of a scan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.const import ATTR_ENTITY_ID
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.anpr.const import (
    CONF_GATE,
    CONF_OPEN_GATE,
    CONF_SOURCE_KIND,
    CONF_SOURCE_NAME,
    CONF_SOURCES,
    DOMAIN,
)

from .conftest import GATE
from .test_blueprints import (
    OPEN_GATE,
    UNKNOWN_VEHICLE,
    Phone,
    PushGateway,
    Question,
    add_automation,
    add_plate,
    anpr_world,
    answer,
    blueprint_folder,
    phones,
    push_gateway,
    until,
)

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant, ServiceCall
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

__all__ = ["anpr_world", "blueprint_folder", "phones", "push_gateway"]
"""The end-to-end fixtures of the blueprint tests, used here too."""

SOURCE = "action:gate_camera"
EVENT = "event.gate_camera_vehicle"
IMAGE = "image.gate_camera_last_plate_picture"
PLATE = "AYO9034"
ANSWER_EVENT = "mobile_app_notification_action"


@pytest.fixture
def config_entry(config_entry: MockConfigEntry) -> MockConfigEntry:
    """Add the action source "Gate camera", allowed to open `cover.gate`."""
    source = {
        CONF_SOURCE_KIND: "action",
        CONF_SOURCE_NAME: "Gate camera",
        CONF_GATE: GATE,
        CONF_OPEN_GATE: True,
    }
    return MockConfigEntry(
        domain=DOMAIN,
        title=config_entry.title,
        unique_id=config_entry.unique_id,
        data=dict(config_entry.data),
        options={**config_entry.options, CONF_SOURCES: {SOURCE: source}},
    )


async def vehicle_reported(hass: HomeAssistant, plate: str = PLATE) -> None:
    await hass.services.async_call(
        DOMAIN, "report_plate", {"source": "Gate camera", "plate": plate}, blocking=True
    )


@pytest.mark.usefixtures("anpr_world")
async def test_open_gate_blueprint_opens_for_a_sources_resident(
    hass: HomeAssistant,
    phones: list[Phone],
    push_gateway: PushGateway,
    gate_calls: list[ServiceCall],
) -> None:
    await add_plate(hass, "Alice", "resident", plate=PLATE)
    await add_automation(
        hass,
        OPEN_GATE,
        {"vehicle_events": [EVENT], "notify_devices": [phone.device_id for phone in phones]},
    )
    opened = async_capture_events(hass, "anpr_gate_opened")
    await vehicle_reported(hass)
    await hass.async_block_till_done()
    assert [call.data[ATTR_ENTITY_ID] for call in gate_calls] == [GATE]
    assert opened[0].data["camera"] == SOURCE
    assert opened[0].data["forced"] is False
    [push] = push_gateway.to(phones[0])
    assert push["message"] == f"Gate opened for Alice ({PLATE})"
    assert push["title"] == "Gate camera"  # the source's device: its id names no entity


@pytest.mark.usefixtures("anpr_world")
async def test_unknown_vehicle_blueprint_asks_and_opens_for_a_source(
    hass: HomeAssistant,
    phones: list[Phone],
    push_gateway: PushGateway,
    gate_calls: list[ServiceCall],
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    await add_automation(
        hass,
        UNKNOWN_VEHICLE,
        {"vehicle_events": [EVENT], "notify_devices": [phone.device_id for phone in phones]},
    )
    await vehicle_reported(hass, "ZZ99ZZZ")
    await until(lambda: hass.bus.async_listeners().get(ANSWER_EVENT, 0) == 3)
    [question, _] = [Question(push) for phone in phones for push in push_gateway.to(phone)]
    assert question.push["message"] == "Plate ZZ99ZZZ is not in the registry. Let it in?"
    assert question.push["title"] == "Unknown vehicle at Gate camera"  # the source's device
    assert question.push["data"]["image"] == f"/api/image_proxy/{IMAGE}"
    # "Open gate": a person decides, so the source's permission does not matter here.
    await answer(hass, hass_client_no_auth, phones[0], question.action_ids[0])
    await until(lambda: len(gate_calls) == 1)
    assert [call.data[ATTR_ENTITY_ID] for call in gate_calls] == [GATE]
