"""Diagnostics: useful for support, without the API key or any plate."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from .conftest import CAMERA, MOTION
from .fakes import API_KEY

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

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
