"""Sensors of a watched camera: the last plate read and how the last scan went."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfTime

from .const import (
    ATTR_ACCESS_GRANTED,
    ATTR_CATEGORY,
    ATTR_CONFIDENCE,
    ATTR_FRAMES,
    ATTR_MATCHED_PLATE,
    ATTR_OWNER,
    ATTR_TIME,
)
from .entity import AnprCameraEntity

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
    from homeassistant.helpers.typing import StateType

    from .coordinator import AnprConfigEntry
    from .watcher import CameraWatcher

# Entities only read the watcher's state; nothing is polled.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class AnprSensorEntityDescription(SensorEntityDescription):
    """Describes a sensor of a watched camera."""

    value_fn: Callable[[CameraWatcher], StateType | datetime]
    attributes_fn: Callable[[CameraWatcher], Mapping[str, Any] | None] = lambda _: None


def _last_plate_attributes(watcher: CameraWatcher) -> Mapping[str, Any] | None:
    if (detection := watcher.last_detection) is None:
        return None
    return {
        ATTR_CONFIDENCE: detection.confidence,
        ATTR_TIME: detection.time.isoformat(),
        ATTR_CATEGORY: detection.category.value,
        ATTR_OWNER: detection.classification.owner,
        ATTR_MATCHED_PLATE: detection.classification.matched_plate,
        ATTR_ACCESS_GRANTED: detection.classification.access_granted,
        ATTR_FRAMES: detection.frames,
    }


SENSORS: tuple[AnprSensorEntityDescription, ...] = (
    AnprSensorEntityDescription(
        key="last_plate",
        translation_key="last_plate",
        value_fn=lambda watcher: watcher.last_detection.plate if watcher.last_detection else None,
        attributes_fn=_last_plate_attributes,
    ),
    AnprSensorEntityDescription(
        key="last_scan",
        translation_key="last_scan",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda watcher: watcher.last_scan.time if watcher.last_scan else None,
    ),
    AnprSensorEntityDescription(
        key="inference_time",
        translation_key="inference_time",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MILLISECONDS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda watcher: watcher.last_scan.inference_ms if watcher.last_scan else None,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AnprConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of every watched camera."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        AnprCameraSensor(coordinator, watcher, description)
        for watcher in entry.runtime_data.watchers.values()
        for description in SENSORS
    )


class AnprCameraSensor(AnprCameraEntity, SensorEntity):
    """A sensor of a watched camera."""

    entity_description: AnprSensorEntityDescription

    @property
    def native_value(self) -> StateType | datetime:
        """Return the state."""
        return self.entity_description.value_fn(self.watcher)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Return the details of the state."""
        return self.entity_description.attributes_fn(self.watcher)
