"""Diagnostics: useful for support, without the API key or any plate."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from custom_components.anpr.const import DOMAIN
from custom_components.anpr.scanner import ScanError

from .conftest import CAMERA, MOTION
from .fakes import API_KEY

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

    from .fakes import FakeAnprService

REDACTED = "**REDACTED**"


async def test_diagnostics_redact_key_and_plates(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    hass.states.async_set(MOTION, "on")
    await hass.async_block_till_done(wait_background_tasks=True)

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, loaded_entry)

    text = json.dumps(diagnostics)
    assert API_KEY not in text
    assert "AYO9034" not in text
    assert diagnostics["entry"]["data"]["api_key"] == REDACTED

    service = diagnostics["service"]
    assert service["available"] is True
    assert service["health"]["version"] == "0.1.0"
    assert service["health"]["models"]["ocr"]["name"] == "fake-ocr"

    camera = diagnostics["cameras"][CAMERA]
    assert camera["settings"]["region"] == "br"
    assert camera["present"]["unknown"] is True
    assert camera["active_visits"] == 1
    assert camera["busy"] is False
    detection = camera["last_detection"]
    assert detection["plate"] == REDACTED
    assert detection["reason"] == REDACTED
    assert detection["confidence"] == 0.95
    assert detection["crop_bytes"] > 0
    assert camera["last_scan"]["frames"] == 3
    assert camera["last_scan"]["detections"][0]["plate"] == REDACTED


async def test_diagnostics_before_any_scan(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, loaded_entry)
    camera = diagnostics["cameras"][CAMERA]
    assert camera["last_detection"] is None
    assert camera["last_scan"] is None
    assert diagnostics["service"]["last_error"] is None


async def test_diagnostics_keep_registry_and_history_private(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    """The registry and the history are plates, names and notes: only their counts show."""
    for plate, name, category in (
        ("AYO9034", "Alice Example", "resident"),
        ("BAD6666", "Mallory Example", "blocked"),
    ):
        await hass.services.async_call(
            DOMAIN,
            "add_plate",
            {"plate": plate, "name": name, "category": category, "notes": "gate code 4711"},
            blocking=True,
        )
    await hass.services.async_call(
        DOMAIN,
        "add_visitor_pass",
        {"plate": "XYZ9876", "name": "Victor Visitor", "duration": {"hours": 2}},
        blocking=True,
    )
    hass.states.async_set(MOTION, "on")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert loaded_entry.runtime_data.history.visits[0].owner == "Alice Example"

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, loaded_entry)

    text = json.dumps(diagnostics)
    for private in (
        "AYO9034",
        "BAD6666",
        "XYZ9876",
        "Alice",
        "Mallory",
        "Victor",
        "4711",
        "Resident",
    ):
        assert private not in text
    assert diagnostics["registry"] == {"resident": 1, "visitor": 1, "blocked": 1}
    assert diagnostics["history"] == {"visits": 1}
    camera = diagnostics["cameras"][CAMERA]
    assert camera["last_detection"]["owner"] == REDACTED
    assert camera["last_detection"]["matched_plate"] == REDACTED
    assert camera["last_detection"]["decision"] == REDACTED
    assert camera["last_detection"]["access_granted"] is True
    assert camera["last_error"] is None


async def test_diagnostics_during_an_outage(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    hass_client: ClientSessionGenerator,
) -> None:
    await anpr_service.stop()
    with pytest.raises(ScanError):
        await loaded_entry.runtime_data.watchers[CAMERA].async_scan()
    await loaded_entry.runtime_data.coordinator.async_refresh()

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, loaded_entry)

    service = diagnostics["service"]
    assert service["available"] is False
    assert "cannot reach" in service["last_error"]
    assert service["outage_since"] is not None
    assert "unavailable" in diagnostics["cameras"][CAMERA]["last_error"]
    assert API_KEY not in json.dumps(diagnostics)
