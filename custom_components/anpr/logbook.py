"""Describe `anpr_plate_detected` events in the logbook."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant, callback

from .const import ATTR_CAMERA, ATTR_CATEGORY, ATTR_PLATE, DOMAIN, EVENT_PLATE_DETECTED

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    """Describe the integration's bus events."""

    @callback
    def async_describe_plate_detected(event: Event) -> dict[str, str]:
        data: Mapping[str, Any] = event.data
        camera = data[ATTR_CAMERA]
        state = hass.states.get(camera)
        where = state.name if state else camera
        return {
            LOGBOOK_ENTRY_NAME: "ANPR",
            LOGBOOK_ENTRY_MESSAGE: (
                f"read plate {data[ATTR_PLATE]} ({data[ATTR_CATEGORY]} vehicle) at {where}"
            ),
            LOGBOOK_ENTRY_ENTITY_ID: camera,
        }

    async_describe_event(DOMAIN, EVENT_PLATE_DETECTED, async_describe_plate_detected)
