"""Binary sensors: vehicles present per category at a camera, and service connectivity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory

from .const import Category
from .entity import AnprCameraEntity, AnprServiceEntity

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .runtime import AnprConfigEntry

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class AnprPresenceEntityDescription(BinarySensorEntityDescription):
    """Describes a "vehicle of this category present" sensor.

    Device class occupancy: its states read Detected / Clear. Presence is about people being
    home or away ("Blocked vehicle present was detected away").
    """

    category: Category


PRESENCE_SENSORS: tuple[AnprPresenceEntityDescription, ...] = tuple(
    AnprPresenceEntityDescription(
        key=f"{category}_present",
        translation_key=f"{category}_present",
        device_class=BinarySensorDeviceClass.OCCUPANCY,
        category=category,
    )
    for category in Category
)

CONNECTIVITY = BinarySensorEntityDescription(
    key="connectivity",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
    entity_category=EntityCategory.DIAGNOSTIC,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AnprConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the service's connectivity and each camera's presence sensors."""
    coordinator = entry.runtime_data.coordinator
    entities: list[BinarySensorEntity] = [AnprConnectivitySensor(coordinator, CONNECTIVITY)]
    entities.extend(
        AnprPresenceSensor(coordinator, watcher, description)
        for watcher in entry.runtime_data.all_sources()
        for description in PRESENCE_SENSORS
    )
    async_add_entities(entities)


class AnprPresenceSensor(AnprCameraEntity, BinarySensorEntity):
    """On while a vehicle of one category was seen within the hold time."""

    entity_description: AnprPresenceEntityDescription

    @property
    def is_on(self) -> bool:
        """Return whether such a vehicle is there."""
        return self.watcher.present[self.entity_description.category]


class AnprConnectivitySensor(AnprServiceEntity, BinarySensorEntity):
    """Whether Home Assistant reaches the inference service; itself always available."""

    @property
    def available(self) -> bool:
        """Stay available: this entity reports the outage instead of hiding it."""
        return True

    @property
    def is_on(self) -> bool:
        """Return whether the last health check succeeded."""
        return self.coordinator.last_update_success
