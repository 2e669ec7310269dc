"""Sensors of a watched camera: the last plate read and how the last scan went.

They survive a reload of the entry (options changed, reauthentication) and a restart of Home
Assistant: until the camera's next scan or read, each shows what it showed before, with its
attributes, from Home Assistant's restore state (`RestoreSensor`, plus the attributes in the
extra stored data). Only the entities remember: the watcher starts empty, so nothing restored
can open a gate or count as a present vehicle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntityDescription,
    SensorExtraStoredData,
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

    from .runtime import AnprConfigEntry
    from .source_view import PlateSourceView

# Entities only read the watcher's state; nothing is polled.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class AnprSensorEntityDescription(SensorEntityDescription):
    """Describes a sensor of a watched camera."""

    value_fn: Callable[[PlateSourceView], StateType | datetime]
    attributes_fn: Callable[[PlateSourceView], Mapping[str, Any] | None] = lambda _: None


LAST_PLATE_KEYS = (
    ATTR_CONFIDENCE,
    ATTR_TIME,
    ATTR_CATEGORY,
    ATTR_OWNER,
    ATTR_MATCHED_PLATE,
    ATTR_ACCESS_GRANTED,
    ATTR_FRAMES,
)
"""The attributes of the last plate sensor."""


def _last_plate_attributes(watcher: PlateSourceView) -> Mapping[str, Any] | None:
    if (detection := watcher.last_detection) is None:
        return None
    return detection.as_dict(LAST_PLATE_KEYS)


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
    entities = [
        AnprCameraSensor(coordinator, watcher, description)
        for watcher in entry.runtime_data.watchers.values()
        for description in SENSORS
    ]
    # A plate source has no scans: only its last plate.
    entities.extend(
        AnprCameraSensor(coordinator, source, SENSORS[0])
        for source in entry.runtime_data.sources.values()
    )
    async_add_entities(entities)


@dataclass
class AnprSensorExtraStoredData(SensorExtraStoredData):
    """What a camera sensor restores: its value, and the attributes that go with it."""

    attributes: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        """Return the data to store (JSON-compatible: the attributes already are)."""
        return {**super().as_dict(), "attributes": self.attributes}

    @classmethod
    def from_dict(cls, restored: dict[str, Any]) -> Self | None:
        """Rebuild the stored data; None when it is not a sensor's."""
        if (sensor := SensorExtraStoredData.from_dict(restored)) is None:
            return None
        attributes = restored.get("attributes")
        return cls(
            sensor.native_value,
            sensor.native_unit_of_measurement,
            dict(attributes) if isinstance(attributes, dict) else None,
        )


class AnprCameraSensor(AnprCameraEntity, RestoreSensor):
    """A sensor of a watched camera; shows its restored state until the watcher has news."""

    entity_description: AnprSensorEntityDescription
    _restored: AnprSensorExtraStoredData | None = None

    async def async_added_to_hass(self) -> None:
        """Restore what the sensor showed before the reload or restart."""
        await super().async_added_to_hass()
        if (extra := await self.async_get_last_extra_data()) is not None:
            self._restored = AnprSensorExtraStoredData.from_dict(extra.as_dict())

    @property
    def native_value(self) -> StateType | datetime:
        """Return the state: the watcher's, else the restored one."""
        value = self.entity_description.value_fn(self.watcher)
        if value is None and self._restored is not None:
            return self._restored.native_value  # type: ignore[return-value]
        return value

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Return the details of the state, restored with it while the watcher has none."""
        if self.entity_description.value_fn(self.watcher) is None and self._restored is not None:
            return self._restored.attributes
        return self.entity_description.attributes_fn(self.watcher)

    @property
    def extra_restore_state_data(self) -> AnprSensorExtraStoredData:
        """Return what to restore: the value and its attributes."""
        attributes = self.extra_state_attributes
        return AnprSensorExtraStoredData(
            self.native_value,
            self.native_unit_of_measurement,
            dict(attributes) if attributes is not None else None,
        )
