"""One frame from one camera: take a snapshot and have the service read it.

Its own module so the burst (`burst.py`) only decides how many frames and what to do when
one fails, while this part knows how a single frame is got: a snapshot from the camera (any
failure there skips the frame), sent to the inference service with retries and backoff while
the service is failing or busy. Problems are logged as a warning once, then at debug level
until scanning works again, so a broken camera does not flood the log.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from homeassistant.components.camera import async_get_image
from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .api import (
    AnprConnectionError,
    AnprOverloadedError,
    AnprResponseError,
    image_content_type,
)
from .const import LOGGER

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .api import AnprClient, AnprError, Recognition
    from .settings import CameraSettings

RETRY_DELAYS: tuple[float, ...] = (1.0, 3.0)
"""Pause before each retry of a frame the service could not take (network, 5xx, junk, busy)."""
MAX_RETRY_AFTER = 10.0
"""Longest an overloaded service's `Retry-After` is honoured within a burst."""
SNAPSHOT_TIMEOUT = 10


class ScanError(ServiceValidationError):
    """A burst failed (too few frames read, the service down or busy...); says why, translated.

    A `ServiceValidationError`: each is an expected refusal that says all there is to say, so
    Home Assistant logs one line for it, where a plain `HomeAssistantError` is logged as an
    "Unexpected exception" with a traceback (websocket calls from the UI, 2025.4). Anything
    really unexpected is logged with its traceback where it happens (`async_scan`).
    """


def retry_delay(attempt: int, err: AnprError) -> float:
    """Return the pause before retry number `attempt + 1` of a frame that failed with `err`.

    The backoff of `RETRY_DELAYS`, or longer when a busy service asks for it with
    `Retry-After`, but never more than `MAX_RETRY_AFTER`: by then the car may have moved on.
    """
    delay = RETRY_DELAYS[attempt]
    if isinstance(err, AnprOverloadedError) and err.retry_after is not None:
        delay = min(max(delay, err.retry_after), MAX_RETRY_AFTER)
    return delay


class FrameScanner:
    """Takes snapshots of one camera and has the service read them."""

    def __init__(self, hass: HomeAssistant, settings: CameraSettings, client: AnprClient) -> None:
        """Scan `settings.entity_id` with `client`, using the camera's region and threshold."""
        self.hass = hass
        self.settings = settings
        self.client = client
        self._problem: str | None = None

    @property
    def entity_id(self) -> str:
        """The camera's entity id."""
        return self.settings.entity_id

    async def async_snapshot(self) -> tuple[bytes, str] | None:
        """Take one snapshot; a failure is logged (once until the camera recovers).

        Camera integrations do not all keep to `HomeAssistantError` (a `local_file` camera
        pointed at a folder raises `IsADirectoryError`); whatever one raises is that camera's
        problem, so it skips the frame like any other camera failure.
        """
        try:
            image = await async_get_image(self.hass, self.entity_id, timeout=SNAPSHOT_TIMEOUT)
        except HomeAssistantError as err:
            self.async_report_problem(f"cannot take a snapshot from {self.entity_id}: {err}")
            return None
        except Exception as err:  # noqa: BLE001 - see the docstring
            self.async_report_problem(
                f"cannot take a snapshot from {self.entity_id}: the camera raised "
                f"{type(err).__name__}: {err}"
            )
            return None
        content_type = image_content_type(image.content)
        if content_type is None:
            self.async_report_problem(
                f"{self.entity_id} returned {len(image.content)} bytes that are not a JPEG, "
                "PNG or WebP image"
            )
            return None
        return image.content, content_type

    async def async_recognize(self, image: bytes, content_type: str) -> Recognition:
        """Send one frame, retrying with backoff while the service is busy or failing.

        An answer that is not the API's JSON is retried like a 5xx: it is the service (or a
        connection cut mid-answer) failing, not the image, which gets a 400.
        """
        for attempt in range(len(RETRY_DELAYS) + 1):
            try:
                return await self.client.recognize(
                    image,
                    content_type,
                    region=self.settings.region,
                    min_confidence=self.settings.min_confidence,
                    crops=True,
                )
            except (AnprConnectionError, AnprResponseError) as err:
                if attempt == len(RETRY_DELAYS):
                    raise
                delay = retry_delay(attempt, err)
                LOGGER.debug("%s: %s; retrying in %.1f s", self.entity_id, err, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    @callback
    def async_report_problem(self, message: str) -> None:
        """Log a camera or frame problem as a warning once, then at debug until it clears."""
        if self._problem != message:
            LOGGER.warning("%s", message)
            self._problem = message
        else:
            LOGGER.debug("%s", message)

    @callback
    def async_clear_problem(self) -> None:
        """Say once that scanning works again, after a problem was reported."""
        if self._problem is not None:
            LOGGER.info("%s: scanning works again", self.entity_id)
            self._problem = None
