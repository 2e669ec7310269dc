"""Visits without a camera: a text-only plate source reuses `VisitTracker` as it is.

The coming plate sources (a sensor, Frigate over MQTT, an action) give a plate as text; they
need classification, the cooldown, presence and the bus event, and none of the camera parts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.anpr.const import DOMAIN, EVENT_PLATE_DETECTED, Category
from custom_components.anpr.registry import async_get_registry
from custom_components.anpr.settings import CameraSettings
from custom_components.anpr.visits import PlateSighting, PlateSource, VisitTracker

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant

SENSOR = "sensor.gate_plate_reader"


async def test_text_only_source_gets_visits_presence_and_events(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A read reported as text is classified, fires once per visit and holds presence."""
    registry = await async_get_registry(hass, "entry")
    registry.async_add("AYO9034", "Alice", Category.RESIDENT)
    rules = CameraSettings(SENSOR, cooldown=60, hold_time=30)
    tracker = VisitTracker(
        hass, PlateSource(SENSOR, (DOMAIN, "entry_sensor"), "entry"), rules, registry
    )
    events = async_capture_events(hass, EVENT_PLATE_DETECTED)
    visits = []
    tracker.async_add_visit_listener(visits.append)

    [first] = tracker.async_report([PlateSighting("AYO9034", 0.97)], dt_util.utcnow())
    [again] = tracker.async_report([PlateSighting("AYO9O34", 0.9)], dt_util.utcnow())
    await hass.async_block_till_done()

    assert first.new_visit
    assert not again.new_visit
    assert first.visit_id == again.visit_id
    assert first.category is Category.RESIDENT
    assert visits == [first]
    assert len(events) == 1
    assert events[0].data["camera"] == SENSOR
    assert events[0].data["owner"] == "Alice"
    assert events[0].data["device_id"] is None  # no device registered for this source
    assert tracker.present[Category.RESIDENT]
    assert tracker.active_visits == 1

    freezer.tick(timedelta(seconds=31))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert not tracker.present[Category.RESIDENT]
    tracker.async_stop()
