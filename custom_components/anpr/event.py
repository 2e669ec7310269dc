"""Event entity of a watched camera: fires once per vehicle visit, typed by the decision."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback

from .const import (
    ATTR_ACCESS_GRANTED,
    ATTR_CAMERA,
    ATTR_CONFIDENCE,
    ATTR_MATCHED_PLATE,
    ATTR_OWNER,
    ATTR_PLATE,
    ATTR_REASON,
    Category,
)
from .entity import AnprCameraEntity

if TYPE_CHECKING:
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .detection import Detection
    from .runtime import AnprConfigEntry

PARALLEL_UPDATES = 0

EVENT_KEYS = (ATTR_PLATE, ATTR_CONFIDENCE, ATTR_CAMERA, ATTR_ACCESS_GRANTED, ATTR_REASON)
"""The attributes of every vehicle event."""
OPTIONAL_EVENT_KEYS = (ATTR_OWNER, ATTR_MATCHED_PLATE)
"""Attributes a vehicle event has only when they have a value."""

VEHICLE = EventEntityDescription(
    key="vehicle",
    translation_key="vehicle",
    event_types=[category.value for category in Category],
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AnprConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one vehicle event entity per watched camera."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        AnprVehicleEvent(coordinator, watcher, VEHICLE)
        for watcher in entry.runtime_data.all_sources()
    )


class AnprVehicleEvent(AnprCameraEntity, EventEntity):
    """Fires `resident`, `visitor`, `unknown` or `blocked` when a vehicle arrives.

    `access_granted` tells whether the vehicle may enter (a visitor's pass may be expired);
    `reason` explains the decision.
    """

    async def async_added_to_hass(self) -> None:
        """Listen for new visits (repeat sightings within the cooldown do not fire)."""
        await super().async_added_to_hass()
        self.async_on_remove(self.watcher.async_add_visit_listener(self._async_handle_visit))

    @callback
    def _handle_watcher_update(self) -> None:
        """Ignore plain state updates: only visits change an event entity."""

    @callback
    def _async_handle_visit(self, detection: Detection) -> None:
        attributes = detection.as_dict(EVENT_KEYS) | detection.as_dict(
            OPTIONAL_EVENT_KEYS, skip_empty=True
        )
        self._trigger_event(detection.category.value, attributes)
        self.async_write_ha_state()
