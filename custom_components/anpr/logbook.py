"""Describe the integration's bus events in the logbook, with the decision's reason.

Every entry says what was decided and why (the registry entry, the kind of match, the pass),
so the logbook answers "why did (or didn't) the gate open?" without reading the log. A gate
opened by force says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant, callback, valid_entity_id

from .const import (
    ATTR_CAMERA,
    ATTR_CATEGORY,
    ATTR_FORCED,
    ATTR_GATE,
    ATTR_NAME,
    ATTR_PLATE,
    ATTR_REASON,
    DOMAIN,
    EVENT_GATE_OPENED,
    EVENT_PLATE_DETECTED,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    """Describe the integration's bus events."""

    def name_of(entity_id: str) -> str:
        state = hass.states.get(entity_id)
        return state.name if state else entity_id

    @callback
    def async_describe_plate_detected(event: Event) -> dict[str, str]:
        data: Mapping[str, Any] = event.data
        camera = data[ATTR_CAMERA]
        message = (
            f"read plate {data[ATTR_PLATE]} ({data[ATTR_CATEGORY]} vehicle) at {name_of(camera)}"
        )
        if reason := data.get(ATTR_REASON):
            message += f": {reason}"
        entry = {LOGBOOK_ENTRY_NAME: "ANPR", LOGBOOK_ENTRY_MESSAGE: message}
        if valid_entity_id(camera):  # a Frigate or action source's id is no entity
            entry[LOGBOOK_ENTRY_ENTITY_ID] = camera
        return entry

    @callback
    def async_describe_gate_opened(event: Event) -> dict[str, str]:
        data: Mapping[str, Any] = event.data
        gate = data[ATTR_GATE]
        verb = "force-opened" if data.get(ATTR_FORCED) else "opened"
        plate = data.get(ATTR_PLATE)
        vehicle = f" for {plate}" if plate else ""
        if plate and (name := data.get(ATTR_NAME)):
            vehicle += f" ({name})"
        return {
            LOGBOOK_ENTRY_NAME: "ANPR",
            LOGBOOK_ENTRY_MESSAGE: (
                f"{verb} {name_of(gate)}{vehicle} at {name_of(data[ATTR_CAMERA])}: "
                f"{data.get(ATTR_REASON) or 'no reason given'}"
            ),
            LOGBOOK_ENTRY_ENTITY_ID: gate,
        }

    async_describe_event(DOMAIN, EVENT_PLATE_DETECTED, async_describe_plate_detected)
    async_describe_event(DOMAIN, EVENT_GATE_OPENED, async_describe_gate_opened)
