"""Base entities and devices of the anpr integration.

Two kinds of device: the inference service (one per config entry, identified by the
service's stable instance id) and one device per watched camera, reached via the service. All
entities follow the health coordinator, so they become unavailable together when the service
is down.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .compat import via_device
from .const import CONF_ADDON_SLUG, DOMAIN
from .coordinator import AnprHealthCoordinator
from .sources.runtime import SourceRuntime
from .sources.settings import SourceKind

if TYPE_CHECKING:
    from homeassistant.helpers.entity import EntityDescription

    from .runtime import AnprConfigEntry
    from .source_view import PlateSourceView


def service_device_info(entry: AnprConfigEntry, sw_version: str | None) -> DeviceInfo:
    """Describe the inference service's device."""
    if slug := entry.data.get(CONF_ADDON_SLUG):
        configuration_url = f"homeassistant://hassio/addon/{slug}/info"
    else:
        # The service has no web UI; its health document is the most useful page it has.
        configuration_url = f"{entry.data[CONF_URL]}/v1/health"
    return DeviceInfo(
        identifiers={(DOMAIN, service_identifier(entry))},
        name=entry.title,
        manufacturer="anpr",
        model="Licence-plate recognition service",
        sw_version=sw_version,
        configuration_url=configuration_url,
    )


def service_identifier(entry: AnprConfigEntry) -> str:
    """Return the service device's identifier: the instance id the entry is keyed by."""
    return entry.unique_id or entry.entry_id


def camera_name(hass: HomeAssistant, entity_id: str) -> str:
    """Return the camera's name as the user sees it, for the device of its entities."""
    if (entry := er.async_get(hass).async_get(entity_id)) and (
        name := entry.name or entry.original_name
    ):
        return name
    if (state := hass.states.get(entity_id)) and (name := state.attributes.get("friendly_name")):
        return str(name)
    return entity_id


def source_name(hass: HomeAssistant, watcher: PlateSourceView) -> str:
    """Return the name of a camera's or plate source's device."""
    if isinstance(watcher, SourceRuntime) and watcher.settings.kind is not SourceKind.ENTITY:
        return watcher.settings.title
    return camera_name(hass, watcher.entity_id)


class AnprEntity(CoordinatorEntity[AnprHealthCoordinator]):
    """An entity of the anpr integration."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: AnprHealthCoordinator, description: EntityDescription) -> None:
        """Describe the entity by `description`."""
        super().__init__(coordinator)
        self.entity_description = description


class AnprServiceEntity(AnprEntity):
    """An entity of the inference service's device."""

    def __init__(self, coordinator: AnprHealthCoordinator, description: EntityDescription) -> None:
        """Attach to the service device."""
        super().__init__(coordinator, description)
        entry = coordinator.config_entry
        self._attr_unique_id = f"{service_identifier(entry)}_{description.key}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, service_identifier(entry))})


class AnprCameraEntity(AnprEntity):
    """An entity of one watched camera's device; it updates when the watcher has news."""

    def __init__(
        self,
        coordinator: AnprHealthCoordinator,
        watcher: PlateSourceView,
        description: EntityDescription,
    ) -> None:
        """Attach to the camera's device."""
        super().__init__(coordinator, description)
        self.watcher = watcher
        entry = coordinator.config_entry
        self._attr_unique_id = f"{entry.entry_id}_{watcher.entity_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={watcher.device_identifier},
            name=source_name(coordinator.hass, watcher),
            manufacturer="anpr",
            model="Plate source" if isinstance(watcher, SourceRuntime) else "Watched camera",
            **via_device(coordinator.hass, (DOMAIN, service_identifier(entry)), entry.entry_id),
        )

    @property
    def available(self) -> bool:
        """Follow the inference service, which a plate source does not need (text reads)."""
        return isinstance(self.watcher, SourceRuntime) or super().available

    async def async_added_to_hass(self) -> None:
        """Follow the watcher as well as the coordinator."""
        await super().async_added_to_hass()
        self.async_on_remove(self.watcher.async_add_listener(self._handle_watcher_update))

    @callback
    def _handle_watcher_update(self) -> None:
        """Write the new state."""
        self.async_write_ha_state()
