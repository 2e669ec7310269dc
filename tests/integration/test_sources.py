"""Plate sources besides cameras, in a real Home Assistant: an entity and an action source.

Each source gets a camera's device and entities, the `anpr_plate_detected` event once per
visit, history, presence, and the gate's checks behind its own permission.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.anpr import logbook
from custom_components.anpr.const import (
    CONF_CONFIDENCE_ATTRIBUTE,
    CONF_GATE,
    CONF_OPEN_GATE,
    CONF_SOURCE_ENTITY,
    CONF_SOURCE_KIND,
    CONF_SOURCE_NAME,
    CONF_SOURCES,
    DOMAIN,
    EVENT_PLATE_DETECTED,
)
from custom_components.anpr.diagnostics import async_get_config_entry_diagnostics
from custom_components.anpr.sources.reads import clean_confidence, clean_plate

from .conftest import CAMERA, GATE, camera_options

if TYPE_CHECKING:
    from pathlib import Path

    from homeassistant.core import HomeAssistant, ServiceCall

    from .fakes import FakeAnprService

SENSOR = "sensor.gate_reader_plate"
TRUSTED = "action:gate_camera"
UNTRUSTED = "action:street_camera"
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 64


@pytest.fixture
def cameras_options() -> dict[str, dict[str, Any]]:
    """Return the test camera (the entry needs no camera, but keeps one like a real home)."""
    return {CAMERA: camera_options()}


@pytest.fixture
def config_entry(config_entry: MockConfigEntry, hass: HomeAssistant) -> MockConfigEntry:
    """Add an entity source and two action sources (one allowed to open) to the entry."""
    hass.states.async_set(SENSOR, "unknown", {"friendly_name": "Gate reader plate"})
    sources = {
        SENSOR: {
            CONF_SOURCE_KIND: "entity",
            CONF_SOURCE_ENTITY: SENSOR,
            CONF_CONFIDENCE_ATTRIBUTE: "confidence",
            CONF_GATE: GATE,
        },
        TRUSTED: {
            CONF_SOURCE_KIND: "action",
            CONF_SOURCE_NAME: "Gate camera",
            CONF_GATE: GATE,
            CONF_OPEN_GATE: True,
        },
        UNTRUSTED: {CONF_SOURCE_KIND: "action", CONF_SOURCE_NAME: "Street camera"},
    }
    return MockConfigEntry(
        domain=DOMAIN,
        title=config_entry.title,
        unique_id=config_entry.unique_id,
        data=dict(config_entry.data),
        options={**config_entry.options, CONF_SOURCES: sources},
    )


async def add_plate(hass: HomeAssistant, plate: str, name: str, category: str = "resident") -> None:
    await hass.services.async_call(
        DOMAIN, "add_plate", {"plate": plate, "name": name, "category": category}, blocking=True
    )


async def report(hass: HomeAssistant, source: str, plate: str, **extra: Any) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN,
        "report_plate",
        {"source": source, "plate": plate, **extra},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return dict(response)


async def open_gate(hass: HomeAssistant, camera: str, **data: Any) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN, "open_gate", {"camera": camera, **data}, blocking=True, return_response=True
    )
    assert response is not None
    return dict(response)


async def refusal(hass: HomeAssistant, camera: str) -> str | None:
    with pytest.raises(HomeAssistantError) as info:
        await open_gate(hass, camera)
    return info.value.translation_key


def entity_of(hass: HomeAssistant, entry: MockConfigEntry, source: str, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(
        {"last_plate": "sensor", "vehicle": "event", "resident_present": "binary_sensor"}.get(
            key, "image"
        ),
        DOMAIN,
        f"{entry.entry_id}_{source}_{key}",
    )
    assert entity_id is not None
    return entity_id


# --- the junk filter --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "plate"),
    [
        ("AB-12 CDE", "AB12CDE"),
        ("ab12cde", "AB12CDE"),
        ("ＡＢ１２", "AB12"),  # noqa: RUF001 - full-width, as some readers write
        ("", None),
        ("   ", None),
        ("X" * 40, None),
        ("АВ123", None),  # noqa: RUF001 - Cyrillic letters
        ("車123", None),
        ("AB12;DROP", None),
        (None, None),
        (12, None),
    ],
)
def test_clean_plate(text: object, plate: str | None) -> None:
    assert clean_plate(text) == plate


@pytest.mark.parametrize(
    ("value", "confidence"),
    [(0.9, 0.9), ("0.8", 0.8), (87, 0.87), ("high", None), (-1, None), (101, None), (True, None)],
)
def test_clean_confidence(value: object, confidence: float | None) -> None:
    assert clean_confidence(value) == confidence


# --- the entity source ------------------------------------------------------------------------


@pytest.mark.usefixtures("gate_calls")
async def test_entity_source_reports_visits(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    await add_plate(hass, "AB12CDE", "Alice")
    events = async_capture_events(hass, EVENT_PLATE_DETECTED)
    hass.states.async_set(SENSOR, "AB-12 CDE", {"confidence": 0.93})
    await hass.async_block_till_done()
    assert len(events) == 1
    data = events[0].data
    assert data["camera"] == SENSOR
    assert data["plate"] == "AB12CDE"
    assert data["confidence"] == 0.93
    assert data["category"] == "resident"
    assert data["owner"] == "Alice"
    assert data["device_id"] is not None

    last_plate = hass.states.get(entity_of(hass, loaded_entry, SENSOR, "last_plate"))
    assert last_plate is not None
    assert last_plate.state == "AB12CDE"
    vehicle = hass.states.get(entity_of(hass, loaded_entry, SENSOR, "vehicle"))
    assert vehicle is not None
    assert vehicle.attributes["event_type"] == "resident"
    assert vehicle.attributes["camera"] == SENSOR
    present = hass.states.get(entity_of(hass, loaded_entry, SENSOR, "resident_present"))
    assert present is not None
    assert present.state == "on"

    # The same plate again within the cooldown: the same visit, no second event.
    hass.states.async_set(SENSOR, "unknown")
    hass.states.async_set(SENSOR, "AB12CDE", {"confidence": 0.95})
    await hass.async_block_till_done()
    assert len(events) == 1
    # An attribute change is no new read.
    hass.states.async_set(SENSOR, "AB12CDE", {"confidence": 0.99})
    await hass.async_block_till_done()
    assert len(events) == 1


async def test_entity_source_may_not_open_by_default(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, gate_calls: list[ServiceCall]
) -> None:
    """Naming and notifying yes, opening no: until the user allows the source to open."""
    await add_plate(hass, "AB12CDE", "Alice")
    hass.states.async_set(SENSOR, "AB12CDE")
    await hass.async_block_till_done()
    assert await refusal(hass, SENSOR) == "source_may_not_open"
    assert gate_calls == []
    # A person at the gate (a notification's button) can still open it.
    opening = await open_gate(hass, SENSOR, force=True)
    assert opening["forced"] is True
    assert len(gate_calls) == 1


async def test_entity_source_ignores_junk_and_low_confidence(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    events = async_capture_events(hass, EVENT_PLATE_DETECTED)
    for state in ("x" * 40, "АВ123", "no plate read right now!"):  # noqa: RUF001
        hass.states.async_set(SENSOR, state)
    hass.states.async_set(SENSOR, "unavailable")
    hass.states.async_set(SENSOR, "AB12CDE", {"confidence": 0.2})
    await hass.async_block_till_done()
    assert events == []
    warnings = [
        r for r in caplog.records if r.levelno == logging.WARNING and "not a plate" in r.message
    ]
    assert len(warnings) == 1  # logged once, then at debug until a plate comes


async def test_entity_source_repair_issue(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    issues = ir.async_get(hass)
    issue_id = f"missing_source_entity_{loaded_entry.entry_id}_{SENSOR}"
    hass.states.async_remove(SENSOR)
    await hass.async_block_till_done()
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "missing_source_entity"
    assert issue.translation_placeholders == {"entity": SENSOR, "entry": loaded_entry.title}
    hass.states.async_set(SENSOR, "unknown")
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, issue_id) is None


# --- the action source ------------------------------------------------------------------------


async def test_report_plate_opens_for_an_exact_read_of_a_trusted_source(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, gate_calls: list[ServiceCall]
) -> None:
    await add_plate(hass, "AYO9034", "Bob")
    events = async_capture_events(hass, EVENT_PLATE_DETECTED)
    result = await report(hass, "Gate camera", "ayo 9034", confidence=0.9)
    assert result == {
        "camera": TRUSTED,
        "plate": "AYO9034",
        "category": "resident",
        "owner": "Bob",
        "recorded": True,
    }
    assert [event.data["camera"] for event in events] == [TRUSTED]
    opening = await open_gate(hass, TRUSTED)
    assert opening["plate"] == "AYO9034"
    assert opening["forced"] is False
    assert len(gate_calls) == 1
    assert gate_calls[0].data["entity_id"] == [GATE] or gate_calls[0].data["entity_id"] == GATE
    # One visit opens once.
    assert await refusal(hass, TRUSTED) == "gate_already_opened"


async def test_report_plate_look_alike_never_opens(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, gate_calls: list[ServiceCall]
) -> None:
    """A text read with a look-alike (0 for O) may name Bob, but opens nothing."""
    await add_plate(hass, "AYO9034", "Bob")
    await report(hass, "Gate camera", "AY09034")
    assert await refusal(hass, TRUSTED) in {"text_read_not_exact", "access_denied"}
    assert gate_calls == []


async def test_report_plate_untrusted_and_unknown(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    await add_plate(hass, "AYO9034", "Bob")
    await report(hass, "Street camera", "AYO9034")
    assert await refusal(hass, UNTRUSTED) == "source_may_not_open"
    with pytest.raises(HomeAssistantError) as info:
        await report(hass, "Back door", "AYO9034")
    assert info.value.translation_key == "unknown_source"
    with pytest.raises(HomeAssistantError) as info:
        await report(hass, "Gate camera", "x" * 40)
    assert info.value.translation_key == "not_a_plate"


async def test_report_plate_picture(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, tmp_path: Path
) -> None:
    picture = tmp_path / "plate.jpg"
    picture.write_bytes(JPEG)
    not_jpeg = tmp_path / "plate.txt"
    not_jpeg.write_text("hello", encoding="utf-8")
    with pytest.raises(HomeAssistantError) as info:
        await report(hass, "Gate camera", "AB12CDE", image=str(picture))
    assert info.value.translation_key == "image_not_allowed"
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    with pytest.raises(HomeAssistantError) as info:
        await report(hass, "Gate camera", "AB12CDE", image=str(not_jpeg))
    assert info.value.translation_key == "image_not_jpeg"
    with pytest.raises(HomeAssistantError) as info:
        await report(hass, "Gate camera", "AB12CDE", image=str(tmp_path / "gone.jpg"))
    assert info.value.translation_key == "image_unreadable"
    await report(hass, "Gate camera", "AB12CDE", image=str(picture))
    image = entity_of(hass, loaded_entry, TRUSTED, "last_plate_image")
    client_state = hass.states.get(image)
    assert client_state is not None
    assert client_state.state != "unknown"


async def test_sources_work_while_the_inference_service_is_down(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    gate_calls: list[ServiceCall],
) -> None:
    """Text reads need no inference service: its outage leaves the source's entities and gate."""
    await add_plate(hass, "AYO9034", "Bob")
    await anpr_service.stop()
    coordinator = loaded_entry.runtime_data.coordinator
    await coordinator.async_refresh()
    assert not coordinator.last_update_success
    await report(hass, "Gate camera", "AYO9034")
    vehicle = hass.states.get(entity_of(hass, loaded_entry, TRUSTED, "vehicle"))
    assert vehicle is not None
    assert vehicle.attributes["event_type"] == "resident"
    await open_gate(hass, TRUSTED)
    assert len(gate_calls) == 1


async def test_diagnostics_show_sources_without_plates(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    await report(hass, "Gate camera", "AYO9034")
    result = await async_get_config_entry_diagnostics(hass, loaded_entry)
    source = result["sources"][TRUSTED]
    assert source["settings"]["kind"] == "action"
    assert source["last_detection"]["plate"] == "**REDACTED**"
    assert "AYO9034" not in str(result)


async def test_logbook_describes_a_sources_read(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """A Frigate or action source's id is no entity: the logbook entry names none."""
    describers: dict[str, Any] = {}
    logbook.async_describe_events(
        hass, lambda _domain, event, describe: describers.__setitem__(event, describe)
    )
    events = async_capture_events(hass, EVENT_PLATE_DETECTED)
    await report(hass, "Gate camera", "AYO9034")
    entry = describers[EVENT_PLATE_DETECTED](events[0])
    assert "entity_id" not in entry
    assert entry["message"].startswith("read plate AYO9034 (unknown vehicle) at action:gate_camera")
