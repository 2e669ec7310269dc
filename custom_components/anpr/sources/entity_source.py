"""An entity as a plate source: another reader's sensor or event entity.

Each change of the entity's state (or of the attribute holding the plate, for event entities
whose state is a time) is one read: the Frigate integration's recognised-plate sensor, a UniFi
Protect licence-plate sensor, a template sensor. `unknown`, `unavailable` and empty states are
no read; anything else that is no plate is junk, logged once. An entity that disappears (removed,
renamed) raises a repair issue that clears when it is back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State, callback
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util

from .issues import async_source_entity_back, async_source_entity_missing
from .reads import PlateRead, clean_confidence, clean_plate

if TYPE_CHECKING:
    from .runtime import SourceRuntime

NO_READ_STATES = frozenset({STATE_UNKNOWN, STATE_UNAVAILABLE, "", "none", "None"})
"""States that mean "no plate now", not a bad plate."""


class EntitySource:
    """Feeds one source runtime with the plates an entity shows."""

    def __init__(self, hass: HomeAssistant, entry_id: str, runtime: SourceRuntime) -> None:
        """Read the entity of `runtime`'s settings for the entry `entry_id`."""
        self.hass = hass
        self.entry_id = entry_id
        self.runtime = runtime
        settings = runtime.settings
        assert settings.entity_id is not None  # noqa: S101 - an entity source has one
        self.entity_id: str = settings.entity_id

    @callback
    def async_start(self) -> None:
        """Follow the entity's state changes."""
        self.runtime.async_on_stop(
            async_track_state_change_event(self.hass, self.entity_id, self._async_changed)
        )

    @callback
    def async_check(self) -> None:
        """Raise or clear the repair issue for the entity (once Home Assistant has started)."""
        if self.hass.states.get(self.entity_id) is None:
            async_source_entity_missing(self.hass, self.entry_id, self.runtime.settings)
        else:
            async_source_entity_back(self.hass, self.entry_id, self.entity_id)

    @callback
    def _async_changed(self, event: Event[EventStateChangedData]) -> None:
        new_state, old_state = event.data["new_state"], event.data["old_state"]
        if new_state is None:
            async_source_entity_missing(self.hass, self.entry_id, self.runtime.settings)
            return
        if old_state is None:
            # Added or back (a restart restores the last state): no new read.
            async_source_entity_back(self.hass, self.entry_id, self.entity_id)
            return
        text = self._plate_text(new_state)
        if new_state.state == old_state.state and text == self._plate_text(old_state):
            return  # only other attributes changed: the same read
        if text is None or (isinstance(text, str) and text.strip() in NO_READ_STATES):
            return
        if (plate := clean_plate(text)) is None:
            self.runtime.async_junk(text)
            return
        attribute = self.runtime.settings.confidence_attribute
        confidence = clean_confidence(new_state.attributes.get(attribute)) if attribute else None
        self.runtime.async_report(
            PlateRead(plate=plate, time=dt_util.utcnow(), confidence=confidence)
        )

    def _plate_text(self, state: State) -> object:
        """Return what holds the plate: the plate attribute when one is set, else the state."""
        if (attribute := self.runtime.settings.plate_attribute) is not None:
            return state.attributes.get(attribute)
        return state.state
