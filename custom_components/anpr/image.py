"""Image entity of a watched camera: the crop of the last plate read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.image import ImageEntity, ImageEntityDescription
from homeassistant.core import HomeAssistant, callback

from .entity import AnprCameraEntity

if TYPE_CHECKING:
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .coordinator import AnprConfigEntry, AnprHealthCoordinator
    from .watcher import CameraWatcher

PARALLEL_UPDATES = 0

# Not "Last plate": that is the sensor's name, and two entities of one device may not share it.
LAST_PLATE_IMAGE = ImageEntityDescription(
    key="last_plate_image", translation_key="last_plate_picture"
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AnprConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one plate image per watched camera."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        AnprPlateImage(hass, coordinator, watcher)
        for watcher in entry.runtime_data.watchers.values()
    )


class AnprPlateImage(AnprCameraEntity, ImageEntity):
    """The JPEG crop of the last plate the camera's scans read (from the service)."""

    _attr_content_type = "image/jpeg"

    def __init__(
        self,
        hass: HomeAssistant,
        coordinator: AnprHealthCoordinator,
        watcher: CameraWatcher,
    ) -> None:
        """Start empty: there is no crop before the first read."""
        AnprCameraEntity.__init__(self, coordinator, watcher, LAST_PLATE_IMAGE)
        ImageEntity.__init__(self, hass)
        self._crop: bytes | None = None

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
