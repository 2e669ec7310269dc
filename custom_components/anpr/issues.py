"""Repair issues: tell the user when a watched camera no longer exists.

A camera that was removed or renamed keeps failing its scans; the log says so, but a repair
issue is where a homeowner looks. It is raised once Home Assistant has started (cameras of
other integrations may load after this one) and cleared when the camera is back or the entry
is unloaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir

from .const import DOMAIN

if TYPE_CHECKING:
    from .coordinator import AnprConfigEntry


def _issue_id(entry: AnprConfigEntry, camera: str) -> str:
    return f"missing_camera_{entry.entry_id}_{camera}"


@callback
def async_check_cameras(hass: HomeAssistant, entry: AnprConfigEntry) -> None:
    """Raise an issue for each watched camera that does not exist, clear the others."""
    registry = er.async_get(hass)
    for camera in entry.runtime_data.watchers:
        if hass.states.get(camera) is None and registry.async_get(camera) is None:
            ir.async_create_issue(
                hass,
                DOMAIN,
                _issue_id(entry, camera),
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="missing_camera",
                translation_placeholders={"camera": camera, "entry": entry.title},
            )
        else:
            ir.async_delete_issue(hass, DOMAIN, _issue_id(entry, camera))


@callback
def async_clear_issues(hass: HomeAssistant, entry: AnprConfigEntry) -> None:
    """Remove the entry's issues (it is unloading; a reload checks again)."""
    for camera in entry.runtime_data.watchers:
        ir.async_delete_issue(hass, DOMAIN, _issue_id(entry, camera))
