"""The repair issue of an entity source whose entity is gone (removed or renamed).

Raised when the entity disappears while the entry is loaded, or is missing once Home Assistant
has started (another integration's entities may load after this one); deleted when the entity
is back, when the source is removed, or when the entry unloads (a reload checks again).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir

from ..const import DOMAIN, LOGGER

if TYPE_CHECKING:
    from .settings import SourceSettings


def issue_id(entry_id: str, entity_id: str) -> str:
    """Return the issue id of the source entity `entity_id` of entry `entry_id`."""
    return f"missing_source_entity_{entry_id}_{entity_id}"


@callback
def async_source_entity_missing(
    hass: HomeAssistant, entry_id: str, settings: SourceSettings
) -> None:
    """Raise the issue, unless the entity is there or only disabled by the user."""
    entity_id = settings.entity_id
    assert entity_id is not None  # noqa: S101 - entity sources have one
    registered = er.async_get(hass).async_get(entity_id)
    if hass.states.get(entity_id) is not None or (registered is not None and registered.disabled):
        return
    entry = hass.config_entries.async_get_entry(entry_id)
    LOGGER.warning("The plate source %s does not exist anymore", entity_id)
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(entry_id, entity_id),
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="missing_source_entity",
        translation_placeholders={
            "entity": entity_id,
            "entry": entry.title if entry is not None else entry_id,
        },
    )


@callback
def async_source_entity_back(hass: HomeAssistant, entry_id: str, entity_id: str) -> None:
    """Delete the issue: the entity exists (again), or the source is unloading."""
    ir.async_delete_issue(hass, DOMAIN, issue_id(entry_id, entity_id))
