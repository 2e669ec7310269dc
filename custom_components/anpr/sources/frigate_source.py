"""A Frigate camera as a plate source, heard through Home Assistant's MQTT integration.

Subscribes to Frigate's `<prefix>/tracked_object_update` and `<prefix>/events` (the shapes are
in `frigate_payload.py`) with `mqtt.async_subscribe`, keeps the messages of the configured
Frigate camera, and reports each new plate of a tracked object once (Frigate repeats it as it
refines the read and on every event update). With a Frigate URL, the tracked object's snapshot
(`/api/events/<id>/snapshot.jpg?crop=1`) becomes the plate picture for notifications; a
snapshot that cannot be fetched is logged and the read counts without it.

A message that is not Frigate's shape is ignored with a debug line, never an exception: other
publishers share the broker, and Frigate's other update types share the topic.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import aiohttp
from homeassistant.components import mqtt
from homeassistant.core import HomeAssistant, callback
from homeassistant.util import dt as dt_util

from ..api import image_content_type
from ..const import LOGGER
from .frigate_payload import (
    EVENTS,
    SNAPSHOT_PATH,
    TRACKED_OBJECT_UPDATE,
    FrigatePlate,
    NotAPlate,
    parse_message,
)
from .reads import PlateRead, clean_plate

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine
    from typing import Any

    from .runtime import SourceRuntime

SNAPSHOT_TIMEOUT = 5
"""Seconds a snapshot may take: the read waits for it (the notification shows it), and Frigate
is on the local network."""
SEEN_READS = 64
"""Tracked-object reads remembered, so a plate Frigate repeats is reported once."""


class FrigateSource:
    """Feeds one source runtime with the plates of one Frigate camera."""

    def __init__(
        self,
        hass: HomeAssistant,
        runtime: SourceRuntime,
        session: aiohttp.ClientSession,
        create_task: Callable[[Coroutine[Any, Any, None], str], object],
    ) -> None:
        """Hear the Frigate camera of `runtime`'s settings; fetch snapshots with `session`."""
        self.hass = hass
        self.runtime = runtime
        self.session = session
        self.create_task = create_task
        settings = runtime.settings
        self.camera = settings.frigate_camera
        self.prefix = settings.topic_prefix
        self._seen: deque[tuple[str, str]] = deque(maxlen=SEEN_READS)

    async def async_start(self) -> None:
        """Subscribe to Frigate's topics once the MQTT integration is connected."""
        if not await mqtt.async_wait_for_mqtt_client(self.hass):
            LOGGER.warning(
                "%s: Home Assistant's MQTT integration is not available; no plates from Frigate",
                self.runtime.entity_id,
            )
            return
        for suffix in (TRACKED_OBJECT_UPDATE, EVENTS):
            self.runtime.async_on_stop(
                await mqtt.async_subscribe(
                    self.hass, f"{self.prefix}/{suffix}", self._async_message, encoding=None
                )
            )

    @callback
    def _async_message(self, message: mqtt.ReceiveMessage) -> None:
        """Take one message: a plate of our camera, once per tracked object and plate."""
        try:
            found = parse_message(message.topic, message.payload, self.prefix)
        except NotAPlate as err:
            LOGGER.debug("%s: ignored a message on %s: %s", self.camera, message.topic, err)
            return
        if found.camera != self.camera:
            return
        if (plate := clean_plate(found.plate)) is None:
            self.runtime.async_junk(found.plate)
            return
        if found.event_id is not None:
            if (found.event_id, plate) in self._seen:
                return
            self._seen.append((found.event_id, plate))
        read = PlateRead(plate=plate, time=dt_util.utcnow(), confidence=found.score)
        url = self.runtime.settings.frigate_url
        if url is None or found.event_id is None:
            self.runtime.async_report(read)
            return
        self.create_task(self._async_report_with_snapshot(read, url, found), "anpr frigate")

    async def _async_report_with_snapshot(
        self, read: PlateRead, url: str, found: FrigatePlate
    ) -> None:
        """Fetch the tracked object's snapshot, then report the read (with it if it came)."""
        assert found.event_id is not None  # noqa: S101 - checked by the caller
        snapshot = await self._async_snapshot(url, found.event_id)
        self.runtime.async_report(
            PlateRead(plate=read.plate, time=read.time, confidence=read.confidence, image=snapshot)
        )

    async def _async_snapshot(self, url: str, event_id: str) -> bytes | None:
        """Return the JPEG snapshot of a tracked object, or None (logged) if Frigate has none."""
        address = url + SNAPSHOT_PATH.format(event_id=event_id)
        try:
            async with self.session.get(
                address,
                params={"crop": "1"},
                timeout=aiohttp.ClientTimeout(total=SNAPSHOT_TIMEOUT),
            ) as response:
                body = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as err:
            LOGGER.warning("%s: cannot fetch the snapshot from %s: %s", self.camera, address, err)
            return None
        if status != 200 or image_content_type(body) != "image/jpeg":
            LOGGER.warning(
                "%s: Frigate answered %s for the snapshot %s, not a JPEG",
                self.camera,
                status,
                address,
            )
            return None
        return body
