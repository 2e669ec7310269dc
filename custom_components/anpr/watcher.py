"""Watching one camera: when to scan, the burst of frames, visits and presence.

One `CameraWatcher` per watched camera. A trigger (an entity turning on, or the interval)
starts a burst in the entry's background: N snapshots spaced by the configured delay, each sent
to the inference service, the reads combined by voting (`voting.py`). A plate seen again within
the cooldown is the same visit: the entities update, but the visit's event fires only once.

Each camera has its own task and lock, so a slow or broken camera never delays another, and one
camera is never scanned twice at once: a trigger that arrives during a burst queues at most one
more burst.

What a burst does when something fails (a gate must never open because something failed):

* A frame the camera could not give (an error, a timeout, bytes that are no image) or that the
  service rejected (400: the camera sent a broken image) is skipped, with a warning logged once
  until the camera recovers. The burst is only trusted when a majority of its frames were
  read (`quorum`): one lost frame of three still leaves a vote; more, and the burst fails.
* An unreachable or failing service (network errors, timeouts, 5xx, answers that are not the
  API's JSON) is retried with backoff (`RETRY_DELAYS`); when the retries are used up the
  service is down: the burst fails as a whole (nothing is decided on the frames read before),
  and the health coordinator marks every entity unavailable.
* A busy service (503 `overloaded`) is retried after its `Retry-After` (at most
  `MAX_RETRY_AFTER`); if it stays busy the burst stops adding to its queue and votes on what it
  read. Busy is not down: the entities stay available.
* Anything unexpected still fails the burst, so `last_error` is always set when the newest scan
  did not complete: the gate (`gate.py`) refuses to open on the visit read before.

The next trigger after any failure scans normally; there is no back-off between bursts.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import count
from typing import TYPE_CHECKING, Any

from homeassistant.components.camera import async_get_image
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
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.event import (
    async_call_later,
    async_track_state_change_event,
    async_track_time_interval,
)
from homeassistant.util import dt as dt_util

from .access import Classification, classify
from .api import (
    AnprAuthenticationError,
    AnprConnectionError,
    AnprError,
    AnprOverloadedError,
    AnprResponseError,
    Recognition,
    image_content_type,
)
from .compat import async_get_device
from .const import (
    ATTR_ACCESS_GRANTED,
    ATTR_CAMERA,
    ATTR_CATEGORY,
    ATTR_CONFIDENCE,
    ATTR_DECISION,
    ATTR_DEVICE_ID,
    ATTR_DISTANCE,
    ATTR_FRAMES,
    ATTR_MATCH,
    ATTR_MATCHED_PLATE,
    ATTR_OWNER,
    ATTR_PLATE,
    ATTR_REASON,
    DOMAIN,
    EVENT_PLATE_DETECTED,
    LOGGER,
    Category,
)
from .voting import VotedPlate, edit_distance, vote

if TYPE_CHECKING:
    from .evidence import PlateEvidence

if TYPE_CHECKING:
    from collections.abc import Callable

    from .coordinator import AnprConfigEntry
    from .settings import CameraSettings

INACTIVE_STATES = frozenset(
    {STATE_OFF, STATE_UNAVAILABLE, STATE_UNKNOWN, STATE_IDLE, STATE_CLOSED, "0", ""}
)
"""Trigger states that mean "nothing there"; a change to any other state starts a burst."""

RETRY_DELAYS: tuple[float, ...] = (1.0, 3.0)
"""Pause before each retry of a frame the service could not take (network, 5xx, junk, busy)."""
MAX_RETRY_AFTER = 10.0
"""Longest an overloaded service's `Retry-After` is honoured within a burst."""
SNAPSHOT_TIMEOUT = 10
_VISIT_IDS = count(1)
"""Visit ids, unique for the whole run (across reloads): the history and the gate key by them."""


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


def quorum(burst_frames: int) -> int:
    """Return how many frames of a burst must be read for its result to count: a majority.

    Voting is what outvotes a misread frame; with fewer than half the frames there is no
    majority left to do that, so such a burst fails instead of deciding on partial data.
    """
    return burst_frames // 2 + 1


@dataclass(frozen=True, slots=True)
class Detection:
    """One vehicle a scan saw at one camera, after voting and classification."""

    camera: str
    plate: str
    confidence: float
    char_confidences: tuple[float, ...]
    classification: Classification
    time: datetime
    frames: int
    """How many frames of the burst showed this vehicle."""
    new_visit: bool
    """True for the first sighting of a visit (its event fires), False for a repeat."""
    visit_id: int
    """Identifies the visit (a gate opens once per visit; its history record is marked)."""
    crop: bytes | None = field(default=None, repr=False)
    evidence: PlateEvidence | None = field(default=None, repr=False)
    """What the burst saw of the plate; the gate decides on it again (None: the text only)."""

    @property
    def decision_input(self) -> PlateEvidence | str:
        """What `access.classify` is asked with: the evidence, or the plate text without it."""
        return self.evidence if self.evidence is not None else self.plate

    @property
    def category(self) -> Category:
        """The access decision's category."""
        return self.classification.category


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


@dataclass(slots=True)
class _Visit:
    """A vehicle's stay in front of a camera, for the cooldown."""

    id: int
    plates: set[str]
    last_seen: datetime


class CameraWatcher:
    """Scans one camera on its triggers and keeps what the entities show."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: AnprConfigEntry,
        settings: CameraSettings,
    ) -> None:
        """Watch `settings.entity_id` for `entry` (runtime data must be set before start)."""
        self.hass = hass
        self.entry = entry
        self.settings = settings
        self.last_detection: Detection | None = None
        self.last_scan: ScanResult | None = None
        self.recent_detections: tuple[Detection, ...] = ()
        """The vehicles of the newest scan that read any plate: the latest visit."""
        self.last_error: ScanError | None = None
        """Why the newest scan failed; None once a scan succeeds."""
        self.present: dict[Category, bool] = dict.fromkeys(Category, False)
        self._visits: list[_Visit] = []
        self._hold_timers: dict[Category, CALLBACK_TYPE] = {}
        self._unsubs: list[CALLBACK_TYPE] = []
        self._listeners: list[Callable[[], None]] = []
        self._visit_listeners: list[Callable[[Detection], None]] = []
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._pending = False
        self._problem: str | None = None

    @property
    def entity_id(self) -> str:
        """The camera's entity id."""
        return self.settings.entity_id

    @property
    def device_identifier(self) -> tuple[str, str]:
        """Identifier of the device that groups this camera's entities."""
        return (DOMAIN, f"{self.entry.entry_id}_{self.entity_id}")

    @property
    def active_visits(self) -> int:
        """How many vehicles are still within their cooldown at this camera."""
        now = dt_util.utcnow()
        cooldown = timedelta(seconds=self.settings.cooldown)
        return sum(now - visit.last_seen <= cooldown for visit in self._visits)

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
        for cancel in self._hold_timers.values():
            cancel()
        self._hold_timers.clear()
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None

    @callback
    def async_add_listener(self, update_callback: Callable[[], None]) -> CALLBACK_TYPE:
        """Call `update_callback` whenever what the entities show changes."""
        self._listeners.append(update_callback)
        return lambda: self._listeners.remove(update_callback)

    @callback
    def async_add_visit_listener(
        self, visit_callback: Callable[[Detection], None]
    ) -> CALLBACK_TYPE:
        """Call `visit_callback` once per new vehicle visit."""
        self._visit_listeners.append(visit_callback)
        return lambda: self._visit_listeners.remove(visit_callback)

    @callback
    def _async_notify(self) -> None:
        for update_callback in list(self._listeners):
            update_callback()

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
        self._task = self.entry.async_create_background_task(
            self.hass, self._async_run(), name=f"anpr scan {self.entity_id}"
        )

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

    # --- the burst ----------------------------------------------------------------------

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
        settings = self.settings
        frames: list[Recognition] = []
        failure: ScanError | None = None
        for index in range(settings.burst_frames):
            if index and settings.burst_interval:
                await asyncio.sleep(settings.burst_interval)
            snapshot = await self._async_snapshot()
            if snapshot is None:
                failure = ScanError(
                    translation_domain=DOMAIN,
                    translation_key="camera_failed",
                    translation_placeholders={"camera": self.entity_id},
                )
                continue
            try:
                frames.append(await self._async_recognize(*snapshot))
            except AnprAuthenticationError as err:
                self.entry.async_start_reauth(self.hass)
                raise ScanError(translation_domain=DOMAIN, translation_key="invalid_auth") from err
            except AnprOverloadedError as err:
                # Busy, not down (its health check answers): stop adding to its queue.
                self._async_report_problem(
                    f"the inference service is busy; the burst of {self.entity_id} stopped "
                    f"after {len(frames)} of {settings.burst_frames} frames: {err}"
                )
                failure = ScanError(
                    translation_domain=DOMAIN,
                    translation_key="service_busy",
                    translation_placeholders={"error": str(err)},
                )
                break
            except (AnprConnectionError, AnprResponseError) as err:
                # Retries are used up: the service is down or broken. The coordinator marks
                # every entity unavailable and logs the outage once.
                self.entry.runtime_data.coordinator.async_set_update_error(err)
                raise ScanError(
                    translation_domain=DOMAIN,
                    translation_key="service_unavailable",
                    translation_placeholders={"error": str(err)},
                ) from err
            except AnprError as err:
                self._async_report_problem(
                    f"the inference service rejected a frame from {self.entity_id}: {err}"
                )
                failure = ScanError(
                    translation_domain=DOMAIN,
                    translation_key="frame_rejected",
                    translation_placeholders={"camera": self.entity_id, "error": str(err)},
                )

        coordinator = self.entry.runtime_data.coordinator
        if frames and not coordinator.last_update_success:
            await coordinator.async_request_refresh()
        if len(frames) < quorum(settings.burst_frames):
            # Every frame that was not read left its reason in `failure`.
            assert failure is not None  # noqa: S101
            if not frames:
                raise failure
            raise ScanError(
                translation_domain=DOMAIN,
                translation_key="too_few_frames",
                translation_placeholders={
                    "camera": self.entity_id,
                    "read": str(len(frames)),
                    "frames": str(settings.burst_frames),
                    "error": str(failure),
                },
            ) from failure
        if failure is None:
            self._async_clear_problem()
        return self._async_record_scan(frames)

    async def _async_snapshot(self) -> tuple[bytes, str] | None:
        """Take one snapshot; a failure is logged (once until the camera recovers).

        Camera integrations do not all keep to `HomeAssistantError` (a `local_file` camera
        pointed at a folder raises `IsADirectoryError`); whatever one raises is that camera's
        problem, so it skips the frame like any other camera failure.
        """
        try:
            image = await async_get_image(self.hass, self.entity_id, timeout=SNAPSHOT_TIMEOUT)
        except HomeAssistantError as err:
            self._async_report_problem(f"cannot take a snapshot from {self.entity_id}: {err}")
            return None
        except Exception as err:  # noqa: BLE001 - see the docstring
            self._async_report_problem(
                f"cannot take a snapshot from {self.entity_id}: the camera raised "
                f"{type(err).__name__}: {err}"
            )
            return None
        content_type = image_content_type(image.content)
        if content_type is None:
            self._async_report_problem(
                f"{self.entity_id} returned {len(image.content)} bytes that are not a JPEG, "
                "PNG or WebP image"
            )
            return None
        return image.content, content_type

    async def _async_recognize(self, image: bytes, content_type: str) -> Recognition:
        """Send one frame, retrying with backoff while the service is busy or failing.

        An answer that is not the API's JSON is retried like a 5xx: it is the service (or a
        connection cut mid-answer) failing, not the image, which gets a 400.
        """
        client = self.entry.runtime_data.client
        for attempt in range(len(RETRY_DELAYS) + 1):
            try:
                return await client.recognize(
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
    def _async_report_problem(self, message: str) -> None:
        """Log a camera or frame problem as a warning once, then at debug until it clears."""
        if self._problem != message:
            LOGGER.warning("%s", message)
            self._problem = message
        else:
            LOGGER.debug("%s", message)

    @callback
    def _async_clear_problem(self) -> None:
        if self._problem is not None:
            LOGGER.info("%s: scanning works again", self.entity_id)
            self._problem = None

    # --- results ------------------------------------------------------------------------

    @callback
    def _async_record_scan(self, frames: list[Recognition]) -> ScanResult:
        """Vote, classify, update visits and presence, fire events; return the result."""
        now = dt_util.utcnow()
        voted = [
            plate
            for plate in vote([frame.plates for frame in frames])
            if plate.confidence >= self.settings.min_confidence
        ]
        self._visits = [
            visit
            for visit in self._visits
            if now - visit.last_seen <= timedelta(seconds=self.settings.cooldown)
        ]
        detections = tuple(self._async_record_plate(plate, now) for plate in voted)
        result = ScanResult(
            camera=self.entity_id,
            time=now,
            frames=len(frames),
            detections=detections,
            inference_ms=round(sum(frame.total_ms for frame in frames) / len(frames), 1),
        )
        self.last_scan = result
        if detections:
            self.last_detection = detections[0]
            self.recent_detections = detections
        self._async_notify()
        for detection in detections:
            if detection.new_visit:
                self._async_fire_visit(detection)
        return result

    @callback
    def _async_record_plate(self, voted: VotedPlate, now: datetime) -> Detection:
        """Turn a voted plate into a detection, joining a running visit if there is one."""
        visit = next(
            (
                visit
                for visit in self._visits
                if any(edit_distance(voted.plate, seen) <= 1 for seen in visit.plates)
            ),
            None,
        )
        new_visit = visit is None
        if visit is None:
            visit = _Visit(id=next(_VISIT_IDS), plates={voted.plate}, last_seen=now)
            self._visits.append(visit)
        else:
            visit.plates.add(voted.plate)
            visit.last_seen = now
        classification = classify(self.entry.runtime_data.registry, voted.evidence, now)
        self._async_mark_present(classification.category)
        return Detection(
            camera=self.entity_id,
            plate=voted.plate,
            confidence=voted.confidence,
            char_confidences=voted.char_confidences,
            classification=classification,
            time=now,
            frames=voted.frames,
            new_visit=new_visit,
            visit_id=visit.id,
            crop=voted.best.crop,
            evidence=voted.evidence,
        )

    @callback
    def _async_mark_present(self, category: Category) -> None:
        """Mark a category present and (re)start its hold timer."""
        if cancel := self._hold_timers.pop(category, None):
            cancel()
        self.present[category] = True

        @callback
        def _async_hold_expired(_now: datetime) -> None:
            self._hold_timers.pop(category, None)
            self.present[category] = False
            self._async_notify()

        self._hold_timers[category] = async_call_later(
            self.hass, self.settings.hold_time, _async_hold_expired
        )

    @callback
    def _async_fire_visit(self, detection: Detection) -> None:
        """Announce a new visit: the bus event (automations, logbook) and the event entity."""
        device = async_get_device(
            dr.async_get(self.hass), self.device_identifier, self.entry.entry_id
        )
        classification = detection.classification
        data: dict[str, Any] = {
            ATTR_CAMERA: self.entity_id,
            ATTR_DEVICE_ID: device.id if device else None,
            ATTR_PLATE: detection.plate,
            ATTR_CONFIDENCE: detection.confidence,
            ATTR_CATEGORY: classification.category.value,
            ATTR_OWNER: classification.owner,
            ATTR_MATCHED_PLATE: classification.matched_plate,
            ATTR_REASON: classification.reason,
            ATTR_FRAMES: detection.frames,
            ATTR_ACCESS_GRANTED: classification.access_granted,
            ATTR_DECISION: classification.decision,
            ATTR_MATCH: classification.match.value if classification.match else None,
            ATTR_DISTANCE: classification.distance,
        }
        self.hass.bus.async_fire(EVENT_PLATE_DETECTED, data)
        for visit_callback in list(self._visit_listeners):
            visit_callback(detection)
