"""Actions of the anpr integration: `anpr.scan` reads a watched camera now.

Registered once in `async_setup` (not per entry) so the action exists, and explains itself,
even while an entry is not loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from .const import (
    ATTR_CAMERA,
    ATTR_CATEGORY,
    ATTR_CONFIDENCE,
    ATTR_FRAMES,
    ATTR_MATCHED_PLATE,
    ATTR_OWNER,
    ATTR_PLATE,
    ATTR_PLATES,
    ATTR_TIME,
    CONF_CAMERAS,
    DOMAIN,
    SERVICE_SCAN,
)

if TYPE_CHECKING:
    from homeassistant.util.json import JsonValueType

    from .coordinator import AnprConfigEntry
    from .watcher import CameraWatcher

SCAN_SCHEMA = vol.Schema({vol.Required(ATTR_ENTITY_ID): cv.entity_domain("camera")})


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_SCAN,
        _async_scan,
        schema=SCAN_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )


def _watcher_for(hass: HomeAssistant, camera: str) -> CameraWatcher:
    """Find the loaded entry's watcher of `camera`, or explain why there is none."""
    entries: list[AnprConfigEntry] = hass.config_entries.async_entries(DOMAIN)
    watching = [entry for entry in entries if camera in entry.options.get(CONF_CAMERAS, {})]
    for entry in watching:
        if entry.state is ConfigEntryState.LOADED:
            return entry.runtime_data.watchers[camera]
    if watching:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"camera": camera, "entry": watching[0].title},
        )
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="camera_not_watched",
        translation_placeholders={"camera": camera},
    )


async def _async_scan(call: ServiceCall) -> ServiceResponse:
    """Run one burst on a watched camera and return the plates it read."""
    camera: str = call.data[ATTR_ENTITY_ID]
    watcher = _watcher_for(call.hass, camera)
    result = await watcher.async_scan()  # ScanError is a translated HomeAssistantError
    if not call.return_response:
        return None
    plates: list[JsonValueType] = [
        {
            ATTR_PLATE: detection.plate,
            ATTR_CONFIDENCE: detection.confidence,
            ATTR_CATEGORY: detection.category.value,
            ATTR_OWNER: detection.classification.owner,
            ATTR_MATCHED_PLATE: detection.classification.matched_plate,
            ATTR_FRAMES: detection.frames,
        }
        for detection in result.detections
    ]
    return {
        ATTR_CAMERA: camera,
        ATTR_TIME: result.time.isoformat(),
        ATTR_FRAMES: result.frames,
        ATTR_PLATES: plates,
    }
