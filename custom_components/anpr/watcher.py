"""Watching one camera: when to scan, and what the camera's entities show.

One `CameraWatcher` per watched camera. A trigger (an entity turning on, or the interval)
starts a burst in the entry's background; the watcher composes the parts that do the work:
`scanner.FrameScanner` takes each snapshot and has the service read it, `burst.Burst` reads
the configured frames and votes (and decides when a burst failed), and `visits.VisitTracker`
turns the voted plates into visits, presence and events. What is left here is the camera's
own: its triggers, one burst at a time, and the newest scan and its error.

Each camera has its own task and lock, so a slow or broken camera never delays another, and one
camera is never scanned twice at once: a trigger that arrives during a burst queues at most one
more burst. Anything unexpected still fails the burst, so `last_error` is always set when the
newest scan did not complete: the gate (`gate.py`) refuses to open on the visit read before.
The next trigger after any failure scans normally; there is no back-off between bursts.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.const import (
    STATE_CLOSED,
    STATE_IDLE,
    STATE_OFF,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_time_interval,
)
from homeassistant.util import dt as dt_util

from .burst import Burst
from .const import DOMAIN, LOGGER
from .detection import Detection
from .scanner import FrameScanner, ScanError
from .visits import PlateSighting, PlateSource, VisitTracker

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from .api import AnprClient
    from .burst import ServiceHealth
    from .const import Category
    from .registry import PlateRegistry
    from .settings import CameraSettings

# Re-exported: they were defined here before the watcher was split into parts.
__all__ = ["CameraWatcher", "Detection", "ScanError", "ScanResult", "WatcherDeps"]

INACTIVE_STATES = frozenset(
    {STATE_OFF, STATE_UNAVAILABLE, STATE_UNKNOWN, STATE_IDLE, STATE_CLOSED, "0", ""}
)
"""Trigger states that mean "nothing there"; a change to any other state starts a burst."""


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What one burst produced."""

    camera: str
    time: datetime
    frames: int
    """Frames that reached the service and were read."""
    detections: tuple[Detection, ...]
    inference_ms: float | None
    """Mean time the service spent per frame."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WatcherDeps:
    """What a camera watcher is given by the entry that owns it."""

    entry_id: str
    client: AnprClient
    registry: PlateRegistry
    health: ServiceHealth
    """The service's health coordinator: told of outages, asked to check again."""
    start_reauth: Callable[[], None]
    """Start re-authentication: the service rejected the entry's key."""
    create_task: Callable[[Coroutine[Any, Any, None], str], asyncio.Task[None]]
    """Start a background task that ends with the entry (`entry.async_create_background_task`)."""


class CameraWatcher:
    """Scans one camera on its triggers and keeps what the entities show."""

    def __init__(self, hass: HomeAssistant, settings: CameraSettings, deps: WatcherDeps) -> None:
        """Watch `settings.entity_id` with what the entry gives in `deps`."""
        self.hass = hass
        self.settings = settings
        self._create_task = deps.create_task
        self.device_identifier = (DOMAIN, f"{deps.entry_id}_{settings.entity_id}")
        """Identifier of the device that groups this camera's entities."""
        scanner = FrameScanner(hass, settings, deps.client)
        self.burst = Burst(scanner, settings, deps.health, deps.start_reauth)
        self.visits = VisitTracker(
            hass,
            PlateSource(settings.entity_id, self.device_identifier, deps.entry_id),
            settings,
            deps.registry,
        )
        self.last_scan: ScanResult | None = None
        self.last_error: ScanError | None = None
        """Why the newest scan failed; None once a scan succeeds."""
        self._unsubs: list[CALLBACK_TYPE] = []
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._pending = False

    @property
    def entity_id(self) -> str:
        """The camera's entity id."""
        return self.settings.entity_id

    @property
    def last_detection(self) -> Detection | None:
        """The newest vehicle read at this camera."""
        return self.visits.last_detection

    @property
    def recent_detections(self) -> tuple[Detection, ...]:
        """The vehicles of the newest scan that read any plate: the latest visit."""
        return self.visits.recent_detections

    @property
    def present(self) -> dict[Category, bool]:
        """Whether each category was read within its hold time."""
        return self.visits.present

    @property
    def active_visits(self) -> int:
        """How many vehicles are still within their cooldown at this camera."""
        return self.visits.active_visits

    @property
    def busy(self) -> bool:
        """Whether a burst is running."""
        return self._lock.locked()

    # --- life cycle ---------------------------------------------------------------------

    @callback
    def async_start(self) -> None:
        """Subscribe to the camera's triggers."""
        if self.settings.triggers:
            self._unsubs.append(
                async_track_state_change_event(
                    self.hass, self.settings.triggers, self._async_trigger_changed
                )
            )
        if self.settings.scan_interval:
            self._unsubs.append(
                async_track_time_interval(
                    self.hass,
                    self._async_interval_elapsed,
                    timedelta(seconds=self.settings.scan_interval),
                    name=f"anpr scan {self.entity_id}",
                    cancel_on_shutdown=True,
                )
            )

    @callback
    def async_stop(self) -> None:
        """Unsubscribe, stop timers and cancel a running burst (the entry is unloading)."""
        while self._unsubs:
            self._unsubs.pop()()
        self.visits.async_stop()
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None

    @callback
    def async_add_listener(self, update_callback: Callable[[], None]) -> CALLBACK_TYPE:
        """Call `update_callback` whenever what the entities show changes."""
        return self.visits.async_add_listener(update_callback)

    @callback
    def async_add_visit_listener(
        self, visit_callback: Callable[[Detection], None]
    ) -> CALLBACK_TYPE:
        """Call `visit_callback` once per new vehicle visit."""
        return self.visits.async_add_visit_listener(visit_callback)

    # --- triggers -----------------------------------------------------------------------

    @callback
    def _async_trigger_changed(self, event: Event[EventStateChangedData]) -> None:
        """Scan when a trigger entity changes to an active state."""
        new_state = event.data["new_state"]
        old_state = event.data["old_state"]
        if new_state is None or new_state.state.lower() in INACTIVE_STATES:
            return
        if old_state is not None and old_state.state == new_state.state:
            return
        LOGGER.debug("%s: %s is %s, scanning", self.entity_id, new_state.entity_id, new_state.state)
        self.async_request_scan()

    @callback
    def _async_interval_elapsed(self, _now: datetime) -> None:
        self.async_request_scan()

    @callback
    def async_request_scan(self) -> None:
        """Start a burst in the background, or queue one if a burst is running."""
        if self._task is not None and not self._task.done():
            self._pending = True
            return
        self._task = self._create_task(self._async_run(), f"anpr scan {self.entity_id}")

    async def _async_run(self) -> None:
        """Run bursts until no trigger is queued; failures are logged, never raised."""
        while True:
            self._pending = False
            try:
                await self.async_scan()
            except ScanError as err:
                LOGGER.debug("%s: scan failed: %s", self.entity_id, err)
            if not self._pending:
                return

    # --- the scan -----------------------------------------------------------------------

    async def async_scan(self) -> ScanResult:
        """Run one burst now (after any running one) and return what it read.

        Raises `ScanError` when too few frames could be read, and for anything unexpected
        (logged with its traceback), so that a failed scan always leaves `last_error` set.
        """
        async with self._lock:
            try:
                result = await self._async_burst()
            except ScanError as err:
                self.last_error = err
                raise
            except Exception as err:
                LOGGER.exception("%s: unexpected error while scanning", self.entity_id)
                self.last_error = ScanError(
                    translation_domain=DOMAIN,
                    translation_key="scan_failed",
                    translation_placeholders={"camera": self.entity_id, "error": repr(err)},
                )
                raise self.last_error from err
            self.last_error = None
            return result

    async def _async_burst(self) -> ScanResult:
        """Read a burst, record its visits, then let the entities and listeners know."""
        reading = await self.burst.async_read()
        now = dt_util.utcnow()
        detections = self.visits.async_record(
            (PlateSighting.from_vote(plate) for plate in reading.plates), now
        )
        result = ScanResult(
            camera=self.entity_id,
            time=now,
            frames=reading.frames,
            detections=detections,
            inference_ms=reading.inference_ms,
        )
        self.last_scan = result
        self.visits.async_announce(detections)
        return result
