"""A busy service is reachable: `degraded` health keeps the connectivity sensor on.

The inference service answers its health check with `"status": "degraded"` while every
worker is busy and its queue is full (recognitions get 503 until one finishes). That is
busy, not down: Home Assistant must keep showing it as connected.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from homeassistant.const import STATE_ON
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.anpr.const import HEALTH_INTERVAL

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant

    from .fakes import FakeAnprService

CONNECTIVITY = "binary_sensor.anpr_127_0_0_1_connectivity"


@pytest.mark.usefixtures("loaded_entry")
async def test_degraded_health_is_still_connected(
    hass: HomeAssistant, anpr_service: FakeAnprService, freezer: FrozenDateTimeFactory
) -> None:
    anpr_service.health = {**anpr_service.health, "status": "degraded"}
    polls = len([r for r in anpr_service.requests if r.path == "/v1/health"])
    freezer.tick(HEALTH_INTERVAL + timedelta(seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len([r for r in anpr_service.requests if r.path == "/v1/health"]) > polls
    assert hass.states.get(CONNECTIVITY).state == STATE_ON
