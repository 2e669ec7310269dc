"""Visits: what a voted plate read means at one plate source, and who hears of it.

Its own module so that every plate source shares it: the camera watcher today, and sources
that only give text (a sensor, Frigate over MQTT, an action) later, without the camera parts.
A `VisitTracker` takes the voted reads of one sighting and

* classifies each plate against the registry (`access.classify`);
* joins a read to a running visit when the same vehicle (one character apart at most) was
  seen within the cooldown: the entities update, but the visit's event fires only once;
* keeps the presence of each category on for the hold time after its last read;
* announces each new visit: the `anpr_plate_detected` bus event and the visit listeners (the
  event entity, the history).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import count
from typing import TYPE_CHECKING, Protocol

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util

from .access import classify
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
    EVENT_PLATE_DETECTED,
    Category,
)
from .detection import Detection
from .voting import edit_distance

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from .registry import PlateRegistry
    from .voting import VotedPlate

_VISIT_IDS = count(1)
"""Visit ids, unique for the whole run (across reloads): the history and the gate key by them."""

EVENT_KEYS = (
    ATTR_PLATE,
    ATTR_CONFIDENCE,
    ATTR_CATEGORY,
    ATTR_OWNER,
    ATTR_MATCHED_PLATE,
    ATTR_REASON,
    ATTR_FRAMES,
    ATTR_ACCESS_GRANTED,
    ATTR_DECISION,
    ATTR_MATCH,
    ATTR_DISTANCE,
)
"""What `anpr_plate_detected` says of a detection, after its camera and device id."""


class VisitRules(Protocol):
    """The settings of a plate source that visits follow (a camera's `CameraSettings`)."""

    @property
    def cooldown(self) -> int:
        """Seconds after its last read during which a vehicle is still the same visit."""

    @property
    def hold_time(self) -> int:
        """Seconds a category stays present after its last read."""


@dataclass(frozen=True, slots=True)
class PlateSource:
    """The entity whose reads a tracker follows, and the device its entities belong to."""

    entity_id: str
    device_identifier: tuple[str, str]
    entry_id: str


@dataclass(frozen=True, slots=True)
class PlateSighting:
    """One vehicle's plate as a source agreed on it (a camera burst's vote, or a text read)."""

    plate: str
    confidence: float
    char_confidences: tuple[float, ...] = ()
    frames: int = 1
    crop: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_vote(cls, voted: VotedPlate) -> PlateSighting:
        """Return a burst's voted plate, with the crop of its best read."""
        return cls(
            plate=voted.plate,
            confidence=voted.confidence,
            char_confidences=voted.char_confidences,
            frames=voted.frames,
            crop=voted.best.crop,
        )


@dataclass(slots=True)
class _Visit:
    """A vehicle's stay in front of a source, for the cooldown."""

    id: int
    plates: set[str]
    last_seen: datetime


class VisitTracker:
    """Keeps the visits and presence of one plate source and announces new visits."""

    def __init__(
        self,
        hass: HomeAssistant,
        source: PlateSource,
        rules: VisitRules,
        registry: PlateRegistry,
    ) -> None:
        """Follow the reads of `source`, classified against `registry`, under `rules`."""
        self.hass = hass
        self.source = source
        self.rules = rules
        self.registry = registry
        self.last_detection: Detection | None = None
        self.recent_detections: tuple[Detection, ...] = ()
        """The vehicles of the newest sighting that read any plate: the latest visit."""
        self.present: dict[Category, bool] = dict.fromkeys(Category, False)
        self._visits: list[_Visit] = []
        self._hold_timers: dict[Category, CALLBACK_TYPE] = {}
        self._listeners: list[Callable[[], None]] = []
        self._visit_listeners: list[Callable[[Detection], None]] = []

    @property
    def active_visits(self) -> int:
        """How many vehicles are still within their cooldown at this source."""
        now = dt_util.utcnow()
        cooldown = timedelta(seconds=self.rules.cooldown)
        return sum(now - visit.last_seen <= cooldown for visit in self._visits)

    @callback
    def async_stop(self) -> None:
        """Stop the hold timers (the entry is unloading)."""
        for cancel in self._hold_timers.values():
            cancel()
        self._hold_timers.clear()

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
    def async_report(
        self, sightings: Iterable[PlateSighting], now: datetime
    ) -> tuple[Detection, ...]:
        """Record `sightings` and announce them: `async_record`, then `async_announce`."""
        detections = self.async_record(sightings, now)
        self.async_announce(detections)
        return detections

    @callback
    def async_record(
        self, sightings: Iterable[PlateSighting], now: datetime
    ) -> tuple[Detection, ...]:
        """Classify `sightings`, join or start their visits and mark presence; tell no one.

        A source that keeps more state of its own (the camera's last scan) updates it between
        this and `async_announce`, so the entities see all of it at once.
        """
        cooldown = timedelta(seconds=self.rules.cooldown)
        self._visits = [visit for visit in self._visits if now - visit.last_seen <= cooldown]
        detections = tuple(self._async_record_plate(sighting, now) for sighting in sightings)
        if detections:
            self.last_detection = detections[0]
            self.recent_detections = detections
        return detections

    @callback
    def async_announce(self, detections: Iterable[Detection]) -> None:
        """Update the entities, then announce each new visit among `detections`."""
        self._async_notify()
        for detection in detections:
            if detection.new_visit:
                self._async_fire_visit(detection)

    @callback
    def _async_notify(self) -> None:
        for update_callback in list(self._listeners):
            update_callback()

    @callback
    def _async_record_plate(self, sighting: PlateSighting, now: datetime) -> Detection:
        """Turn a sighting into a detection, joining a running visit if there is one."""
        visit = next(
            (
                visit
                for visit in self._visits
                if any(edit_distance(sighting.plate, seen) <= 1 for seen in visit.plates)
            ),
            None,
        )
        new_visit = visit is None
        if visit is None:
            visit = _Visit(id=next(_VISIT_IDS), plates={sighting.plate}, last_seen=now)
            self._visits.append(visit)
        else:
            visit.plates.add(sighting.plate)
            visit.last_seen = now
        classification = classify(self.registry, sighting.plate, now)
        self._async_mark_present(classification.category)
        return Detection(
            camera=self.source.entity_id,
            plate=sighting.plate,
            confidence=sighting.confidence,
            char_confidences=sighting.char_confidences,
            classification=classification,
            time=now,
            frames=sighting.frames,
            new_visit=new_visit,
            visit_id=visit.id,
            crop=sighting.crop,
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
            self.hass, self.rules.hold_time, _async_hold_expired
        )

    @callback
    def _async_fire_visit(self, detection: Detection) -> None:
        """Announce a new visit: the bus event (automations, logbook) and the visit listeners."""
        source = self.source
        device = async_get_device(
            dr.async_get(self.hass), source.device_identifier, source.entry_id
        )
        data = {
            **detection.as_dict((ATTR_CAMERA,)),
            ATTR_DEVICE_ID: device.id if device else None,
            **detection.as_dict(EVENT_KEYS),
        }
        self.hass.bus.async_fire(EVENT_PLATE_DETECTED, data)
        for visit_callback in list(self._visit_listeners):
            visit_callback(detection)
