"""One plate source at run time: its reads become visits, like a watched camera's.

`SourceRuntime` is what the entities, the history and the gate see of a source, the same view
a camera watcher gives (`entity_id`, `device_identifier`, `settings`, `last_detection`,
`recent_detections`, `present`, listeners): the visit, classification, presence and bus event
all come from the shared `visits.VisitTracker`. A source only feeds it reads
(`async_report`), after the junk filter and the source's minimum confidence.

A text read carries no evidence per character, so it is classified as text only: only an exact
read (or a fleet pattern's match) can be granted access (`access.classify`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback

from ..const import DOMAIN, LOGGER, Category
from ..visits import PlateSighting, PlateSource, VisitTracker

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..detection import Detection
    from ..registry import PlateRegistry
    from .reads import PlateRead
    from .settings import SourceSettings

NO_CONFIDENCE = 1.0
"""The confidence a detection carries when its source gave none: the source's word is all
there is. It never opens anything by itself: a text read is only granted when exact."""


class SourceRuntime:
    """Turns one source's reads into visits, presence and events."""

    last_error: None = None
    """A source has no scans that can fail; the gate's "last scan failed" check never applies."""
    last_scan: None = None
    busy = False

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        settings: SourceSettings,
        registry: PlateRegistry,
    ) -> None:
        """Follow the reads of the source `settings` describes, for the entry `entry_id`."""
        self.hass = hass
        self.settings = settings
        self.tracker = VisitTracker(
            hass,
            PlateSource(
                entity_id=settings.source_id,
                device_identifier=(DOMAIN, f"{entry_id}_{settings.source_id}"),
                entry_id=entry_id,
            ),
            settings,
            registry,
        )
        self._unsubs: list[CALLBACK_TYPE] = []
        self._junk: str | None = None

    @property
    def entity_id(self) -> str:
        """The source's id (its events' `camera`, and what `anpr.open_gate` is given)."""
        return self.settings.source_id

    @property
    def device_identifier(self) -> tuple[str, str]:
        """Identifier of the device that groups this source's entities."""
        return self.tracker.source.device_identifier

    @property
    def last_detection(self) -> Detection | None:
        """The newest read's detection."""
        return self.tracker.last_detection

    @property
    def recent_detections(self) -> tuple[Detection, ...]:
        """The newest read: the latest visit (a source reports one vehicle at a time)."""
        return self.tracker.recent_detections

    @property
    def present(self) -> dict[Category, bool]:
        """Which categories are present (within the hold time of their last read)."""
        return self.tracker.present

    @property
    def active_visits(self) -> int:
        """How many vehicles are still within their cooldown."""
        return self.tracker.active_visits

    @callback
    def async_add_listener(self, update_callback: Callable[[], None]) -> CALLBACK_TYPE:
        """Call `update_callback` whenever what the entities show changes."""
        return self.tracker.async_add_listener(update_callback)

    @callback
    def async_add_visit_listener(
        self, visit_callback: Callable[[Detection], None]
    ) -> CALLBACK_TYPE:
        """Call `visit_callback` once per new vehicle visit."""
        return self.tracker.async_add_visit_listener(visit_callback)

    @callback
    def async_on_stop(self, unsubscribe: CALLBACK_TYPE) -> None:
        """Call `unsubscribe` when the source stops (its subscriptions)."""
        self._unsubs.append(unsubscribe)

    @callback
    def async_stop(self) -> None:
        """Unsubscribe and stop the hold timers (the entry is unloading)."""
        while self._unsubs:
            self._unsubs.pop()()
        self.tracker.async_stop()

    @callback
    def async_junk(self, text: object) -> None:
        """Log a read that is no plate: a warning once, then at debug until a plate comes."""
        message = f"{self.entity_id} reported {text!r}, which is not a plate; ignored"
        if self._junk is None:
            LOGGER.warning("%s", message)
            self._junk = message
        else:
            LOGGER.debug("%s", message)

    @callback
    def async_report(self, read: PlateRead) -> Detection | None:
        """Record a read as a visit (or part of a running one); None if it is ignored."""
        self._junk = None
        confidence = read.confidence
        if confidence is not None and confidence < self.settings.min_confidence:
            LOGGER.debug(
                "%s: %s read with confidence %.2f, under %.2f; ignored",
                self.entity_id,
                read.plate,
                confidence,
                self.settings.min_confidence,
            )
            return None
        sighting = PlateSighting(
            plate=read.plate,
            confidence=NO_CONFIDENCE if confidence is None else confidence,
            crop=read.image,
        )
        (detection,) = self.tracker.async_report((sighting,), read.time)
        return detection
