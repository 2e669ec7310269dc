"""The logbook describes `anpr_plate_detected` (needs the recorder, so its own module)."""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING

from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.anpr.const import DOMAIN

from .conftest import CAMERA, MOTION

if TYPE_CHECKING:
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
    assert entries[0]["message"] == "read plate AYO9034 (unknown vehicle) at Driveway"
    assert entries[0]["entity_id"] == CAMERA
