"""Image entity of a watched camera: the crop of the last plate read.

The crop survives a reload of the entry and a restart of Home Assistant: it is kept, with its
time, in the entity's extra restore data (`PlateImageExtraStoredData`), beside the sensors'
restored states. Why there and not in a file of our own: the crop is the entity's state, so
Home Assistant writes it when the entity goes away (a reload), when it stops and every 15
minutes, and forgets it a week after the entity is deleted; nothing else has to be cleaned
up. A plate crop is a few kilobytes; one larger than `MAX_RESTORED_CROP` (a whole frame, say)
is not kept across a restart, and the image then starts empty, as it did before the first
read.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Self

from homeassistant.components.image import ImageEntity, ImageEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.restore_state import ExtraStoredData, RestoreEntity
from homeassistant.util import dt as dt_util

from .entity import AnprCameraEntity

if TYPE_CHECKING:
    from datetime import datetime

    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .coordinator import AnprHealthCoordinator
    from .runtime import AnprConfigEntry
    from .source_view import PlateSourceView

PARALLEL_UPDATES = 0

# Not "Last plate": that is the sensor's name, and two entities of one device may not share it.
LAST_PLATE_IMAGE = ImageEntityDescription(
    key="last_plate_image", translation_key="last_plate_picture"
)

MAX_RESTORED_CROP: Final = 128 * 1024
"""Largest crop, in bytes, kept across restarts (plate crops are a few kilobytes)."""


@dataclass(frozen=True, slots=True)
class PlateImageExtraStoredData(ExtraStoredData):
    """The crop the image shows and when it was read."""

    crop: bytes
    time: datetime

    def as_dict(self) -> dict[str, Any]:
        """Return the data to store: the JPEG as base64."""
        return {"crop": base64.b64encode(self.crop).decode("ascii"), "time": self.time.isoformat()}

    @classmethod
    def from_dict(cls, restored: dict[str, Any]) -> Self | None:
        """Rebuild the stored crop; None when the data is missing or damaged."""
        try:
            crop = base64.b64decode(restored["crop"], validate=True)
            time = dt_util.parse_datetime(restored["time"])
        except (KeyError, TypeError, ValueError, binascii.Error):
            return None
        return cls(crop, time) if crop and time is not None else None


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AnprConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one plate image per watched camera."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        AnprPlateImage(hass, coordinator, watcher) for watcher in entry.runtime_data.all_sources()
    )


class AnprPlateImage(AnprCameraEntity, ImageEntity, RestoreEntity):
    """The JPEG crop of the last plate the camera's scans read (from the service)."""

    _attr_content_type = "image/jpeg"

    def __init__(
        self,
        hass: HomeAssistant,
        coordinator: AnprHealthCoordinator,
        watcher: PlateSourceView,
    ) -> None:
        """Start empty: there is no crop before the first read (or the restore)."""
        AnprCameraEntity.__init__(self, coordinator, watcher, LAST_PLATE_IMAGE)
        ImageEntity.__init__(self, hass)
        self._crop: bytes | None = None

    async def async_added_to_hass(self) -> None:
        """Show the crop of before the reload or restart until the next read."""
        await super().async_added_to_hass()
        if (
            self._crop is None
            and (extra := await self.async_get_last_extra_data()) is not None
            and (restored := PlateImageExtraStoredData.from_dict(extra.as_dict())) is not None
        ):
            self._crop = restored.crop
            self._attr_image_last_updated = restored.time

    @property
    def extra_restore_state_data(self) -> PlateImageExtraStoredData | None:
        """Return the crop to keep across restarts, unless there is none or it is too big."""
        if (
            self._crop is None
            or self._attr_image_last_updated is None
            or len(self._crop) > MAX_RESTORED_CROP
        ):
            return None
        return PlateImageExtraStoredData(self._crop, self._attr_image_last_updated)

    @callback
    def _handle_watcher_update(self) -> None:
        """Take the new crop when the last read changed."""
        detection = self.watcher.last_detection
        if (
            detection is not None
            and detection.crop is not None
            and detection.time != self._attr_image_last_updated
        ):
            self._crop = detection.crop
            self._attr_image_last_updated = detection.time
        self.async_write_ha_state()

    async def async_image(self) -> bytes | None:
        """Return the crop's JPEG bytes."""
        return self._crop
