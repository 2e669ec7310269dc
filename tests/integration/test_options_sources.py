"""Options flow: adding, changing and removing plate sources (entity, Frigate, action)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.data_entry_flow import FlowResult, FlowResultType, InvalidData
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.anpr.const import (
    CONF_COOLDOWN,
    CONF_FRIGATE_CAMERA,
    CONF_FRIGATE_URL,
    CONF_HOLD_TIME,
    CONF_MIN_CONFIDENCE,
    CONF_OPEN_GATE,
    CONF_SOURCE,
    CONF_SOURCE_ENTITY,
    CONF_SOURCE_NAME,
    CONF_SOURCES,
    CONF_TOPIC_PREFIX,
    DOMAIN,
)

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

SENSOR = "sensor.protect_plate"


@pytest.fixture
def entry(hass: HomeAssistant) -> MockConfigEntry:
    """Return an entry that is not loaded: the options flow works without the service."""
    hass.states.async_set(SENSOR, "unknown")
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="0" * 32,
        data={CONF_URL: "http://127.0.0.1:1", CONF_API_KEY: None},
        options={},
    )
    entry.add_to_hass(hass)
    return entry


async def open_step(hass: HomeAssistant, entry: MockConfigEntry, step: str) -> FlowResult:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "sources"}
    )
    assert result["type"] is FlowResultType.MENU
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": step}
    )


def defaults(result: FlowResult) -> dict[str, Any]:
    schema = result["data_schema"]
    assert schema is not None
    return {str(key): key.default() for key in schema.schema if key.default is not vol.UNDEFINED}


async def test_menu(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "sources"}
    )
    assert result["menu_options"] == [
        "add_entity_source",
        "add_frigate_source",
        "add_action_source",
        "init",
    ]


async def test_add_entity_source_may_not_open_by_default(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    result = await open_step(hass, entry, "add_entity_source")
    assert result["step_id"] == "add_entity_source"
    assert defaults(result)[CONF_OPEN_GATE] is False
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_SOURCE_ENTITY: SENSOR,
            "confidence_attribute": " confidence ",
            CONF_MIN_CONFIDENCE: 0.6,
            CONF_HOLD_TIME: 60,
            CONF_COOLDOWN: 120,
            CONF_OPEN_GATE: False,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_SOURCES] == {
        SENSOR: {
            "kind": "entity",
            CONF_SOURCE_ENTITY: SENSOR,
            "confidence_attribute": "confidence",
            CONF_MIN_CONFIDENCE: 0.6,
            CONF_HOLD_TIME: 60,
            CONF_COOLDOWN: 120,
            CONF_OPEN_GATE: False,
        }
    }
    # Added once only: the selector no longer offers it.
    result = await open_step(hass, entry, "add_entity_source")
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_SOURCE_ENTITY: SENSOR}
        )


async def test_frigate_needs_mqtt(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    result = await open_step(hass, entry, "add_frigate_source")
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "mqtt_not_configured"


async def test_add_frigate_source(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    MockConfigEntry(domain="mqtt", data={"broker": "127.0.0.1"}).add_to_hass(hass)
    result = await open_step(hass, entry, "add_frigate_source")
    assert defaults(result)[CONF_OPEN_GATE] is True
    assert defaults(result)[CONF_TOPIC_PREFIX] == "frigate"
    for answer, error in (
        ({CONF_FRIGATE_CAMERA: "drive way"}, {CONF_FRIGATE_CAMERA: "invalid_frigate_camera"}),
        ({CONF_FRIGATE_URL: "ftp://frigate"}, {CONF_FRIGATE_URL: "invalid_url"}),
        ({CONF_TOPIC_PREFIX: "frigate/#"}, {CONF_TOPIC_PREFIX: "invalid_topic"}),
    ):
        result = await hass.config_entries.options.async_configure(
            result["flow_id"],
            {CONF_FRIGATE_CAMERA: "driveway", CONF_TOPIC_PREFIX: "frigate", **answer},
        )
        assert result["errors"] == error
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_FRIGATE_CAMERA: "driveway",
            CONF_FRIGATE_URL: "http://frigate.local:5000/",
            CONF_TOPIC_PREFIX: "frigate",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    source = entry.options[CONF_SOURCES]["frigate:driveway"]
    assert source[CONF_FRIGATE_URL] == "http://frigate.local:5000"
    assert source[CONF_OPEN_GATE] is True


async def test_add_change_and_remove_an_action_source(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    result = await open_step(hass, entry, "add_action_source")
    assert defaults(result)[CONF_OPEN_GATE] is False
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SOURCE_NAME: "!!!"}
    )
    assert result["errors"] == {CONF_SOURCE_NAME: "invalid_source_name"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SOURCE_NAME: "Gate camera"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert "action:gate_camera" in entry.options[CONF_SOURCES]

    result = await open_step(hass, entry, "edit_source")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SOURCE: "action:gate_camera"}
    )
    assert result["step_id"] == "source_settings"
    assert result["description_placeholders"] == {"source": "Gate camera"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_OPEN_GATE: True, CONF_COOLDOWN: 30}
    )
    source = entry.options[CONF_SOURCES]["action:gate_camera"]
    assert source[CONF_OPEN_GATE] is True
    assert source[CONF_COOLDOWN] == 30
    assert source[CONF_SOURCE_NAME] == "Gate camera"

    result = await open_step(hass, entry, "remove_source")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SOURCES: ["action:gate_camera"]}
    )
    assert entry.options[CONF_SOURCES] == {}
