"""Opening a camera's gate for the vehicle it just read, and for nothing else.

`anpr.open_gate` names a camera; the gate is the entity chosen in that camera's options (a
cover, switch, button or lock, each opened by its own action: `GATE_ACTIONS`). Automations
and blueprints only ask; every check is made here, in one place, at the moment the gate would
open. The gate opens only if all of these hold:

1. the inference service is available and the camera's last scan did not fail (no decision
   is made on stale or partial data: a burst that lost most of its frames, or was cut short
   by the service going away, is a failed scan; see `burst.py`);
2. the camera has a latest visit (the newest scan that read plates), and when the caller says
   which plate it means, that visit includes it;
3. the visit is recent: seen within the camera's presence hold time;
4. no blocked vehicle was read in the same scan (no tailgating behind a resident);
5. the read is *still* granted when re-classified now (`access.classify`): the registry or
   a visitor pass may have changed since the read, and a pass may have expired or run out;
6. this visit has not opened the gate already: one visit opens the gate once. A visit lasts
   as long as the vehicle keeps being seen within the camera's visit cooldown, so the visit
   cooldown is the gate's cooldown too.

Otherwise the action refuses with a translated error that says which check failed (and, for
a denial, the decision's reason). `force: true` is for a person at the gate: it skips every
one of these checks (the service may be down, the scan failed, the car unknown or blocked),
opens any configured gate that is there and available, logs a warning that the checks were
skipped, and is recorded as forced (bus event, logbook, history) with what the checks would
have said. When a visitor's pass opens the gate, one of its entries is used.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util

from .access import Classification, classify
from .const import DOMAIN, EVENT_GATE_OPENED, LOGGER, Category
from .matching import normalize_plate

if TYPE_CHECKING:
    from homeassistant.core import Context, HomeAssistant

    from .burst import ServiceHealth
    from .detection import Detection
    from .history import VisitHistory
    from .registry import PlateRegistry
    from .source_view import PlateSourceView

GATE_ACTIONS: Final[dict[str, str]] = {
    "cover": "open_cover",
    "switch": "turn_on",
    "button": "press",
    "lock": "unlock",
}
"""The action that opens a gate, by the gate entity's domain."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GateOpening:
    """What `anpr_gate_opened` reports (and `anpr.open_gate` returns)."""

    camera: str
    gate: str
    plate: str | None
    name: str | None
    category: str | None
    reason: str
    forced: bool
    entry_id: str
    matched_plate: str | None
    access_granted: bool
    entries_left: int | None
    """Entries left on the visitor pass that was used; None when no pass was counted."""

    def as_dict(self) -> dict[str, Any]:
        """Return the event data."""
        return asdict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class GateDeps:
    """What a gate controller is given by the entry that owns it."""

    entry_id: str
    registry: PlateRegistry
    """Re-classifies the read at the moment the gate would open; counts pass entries."""
    history: VisitHistory
    """Marks the visit the gate was opened for."""
    health: ServiceHealth
    """The service's health coordinator: no opening while the service is down."""


class GateController:
    """Opens the gate of one watched camera, after the checks in the module docstring."""

    def __init__(self, hass: HomeAssistant, watcher: PlateSourceView, deps: GateDeps) -> None:
        """Control the gate configured for `watcher`'s camera."""
        self.hass = hass
        self.watcher = watcher
        self.entry_id = deps.entry_id
        self.registry = deps.registry
        self.history = deps.history
        self.health = deps.health
        self._opened: dict[int, datetime] = {}
        """When the gate opened, by visit id: a visit opens the gate once."""
        self._lock = asyncio.Lock()
        """One request at a time: two automations racing must not both open for one visit."""

    @property
    def camera(self) -> str:
        """The camera's entity id."""
        return self.watcher.entity_id

    async def async_open(
        self, *, plate: str | None = None, force: bool = False, context: Context | None = None
    ) -> GateOpening:
        """Open the gate for the camera's latest visit, or refuse and say why."""
        async with self._lock:
            return await self._async_open(plate=plate, force=force, context=context)

    async def _async_open(
        self, *, plate: str | None, force: bool, context: Context | None
    ) -> GateOpening:
        gate = self._gate()
        now = dt_util.utcnow()
        self._forget_old_openings(now)
        detection = self._select(plate, now)
        classification = (
            classify(self.registry, detection.decision_input, now)
            if detection is not None
            else None
        )
        refusal = self._refusal(plate, detection, classification, now)
        if force:
            # Said at warning level on purpose: nothing of the above protected this opening.
            LOGGER.warning(
                "Opening %s for %s by force: every check was skipped (%s)",
                gate,
                self.camera,
                f"they said: {refusal}" if refusal is not None else "they would have passed",
            )
        elif refusal is not None:
            LOGGER.info("Not opening %s for %s: %s", gate, self.camera, refusal)
            raise refusal

        await self._async_press(gate, context)
        entries_left = self._async_record(detection, classification, now, force=force)
        reason = _reason(refusal, classification, force=force)
        opening = GateOpening(
            camera=self.camera,
            gate=gate,
            plate=detection.plate if detection is not None else plate,
            name=classification.owner if classification else None,
            category=classification.category.value if classification else None,
            reason=reason,
            forced=force,
            entry_id=self.entry_id,
            matched_plate=classification.matched_plate if classification else None,
            access_granted=bool(classification and classification.access_granted),
            entries_left=entries_left,
        )
        LOGGER.info("Opened %s for %s at %s: %s", gate, opening.plate, self.camera, reason)
        self.hass.bus.async_fire(EVENT_GATE_OPENED, opening.as_dict(), context=context)
        return opening

    async def _async_press(self, gate: str, context: Context | None) -> None:
        """Call the action that opens `gate`; its failure is a translated error."""
        domain = gate.split(".", 1)[0]
        try:
            await self.hass.services.async_call(
                domain,
                GATE_ACTIONS[domain],
                {ATTR_ENTITY_ID: gate},
                blocking=True,
                context=context,
            )
        except HomeAssistantError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="gate_failed",
                translation_placeholders={"gate": gate, "error": str(err)},
            ) from err

    def _async_record(
        self,
        detection: Detection | None,
        classification: Classification | None,
        now: datetime,
        *,
        force: bool,
    ) -> int | None:
        """Note the opening: use a visitor pass's entry, mark the visit; return entries left."""
        entries_left: int | None = None
        if (
            classification is not None
            and classification.access_granted
            and classification.category is Category.VISITOR
            and classification.matched_plate is not None
        ):
            used = self.registry.async_use_entry(classification.matched_plate, now)
            entries_left = used.entries_left if used is not None else None
        if detection is not None:
            self._opened[detection.visit_id] = now
            self.history.async_mark_gate_opened(self.camera, detection.visit_id, now, forced=force)
        return entries_left

    def _gate(self) -> str:
        """Return the camera's gate entity, or refuse: none configured, gone, unavailable."""
        gate = self.watcher.settings.gate
        if gate is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="no_gate",
                translation_placeholders={"camera": self.camera},
            )
        state = self.hass.states.get(gate)
        if state is None or gate.split(".", 1)[0] not in GATE_ACTIONS:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="gate_missing",
                translation_placeholders={"camera": self.camera, "gate": gate},
            )
        if state.state == STATE_UNAVAILABLE:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="gate_unavailable",
                translation_placeholders={"gate": gate},
            )
        return gate

    def _forget_old_openings(self, now: datetime) -> None:
        """Forget openings of visits that are certainly over."""
        settings = self.watcher.settings
        horizon = timedelta(seconds=settings.cooldown + settings.hold_time)
        self._opened = {
            visit: when for visit, when in self._opened.items() if now - when <= horizon
        }

    def _select(self, plate: str | None, now: datetime) -> Detection | None:
        """Pick the latest visit's vehicle the request is about (None: there is none)."""
        recent = self.watcher.recent_detections
        if plate is not None:
            wanted = normalize_plate(plate)
            return next(
                (
                    detection
                    for detection in recent
                    if wanted in (detection.plate, detection.classification.matched_plate)
                ),
                None,
            )
        registry = self.registry
        return next(
            (
                detection
                for detection in recent
                if classify(registry, detection.decision_input, now).access_granted
            ),
            recent[0] if recent else None,
        )

    def _refusal(
        self,
        plate: str | None,
        detection: Detection | None,
        classification: Classification | None,
        now: datetime,
    ) -> ServiceValidationError | None:
        """Return why the gate must stay shut, or None when it may open.

        Every refusal is expected and fully explained, hence a `ServiceValidationError`: Home
        Assistant logs one line for it, not a traceback (see `scanner.ScanError`).
        """
        if (refusal := self._scan_refusal(plate, detection)) is not None or detection is None:
            return refusal
        return self._visit_refusal(detection, classification, now)

    def _scan_refusal(
        self, plate: str | None, detection: Detection | None
    ) -> ServiceValidationError | None:
        """Return why the newest scan gives nothing to open for (checks 1 and 2), or None."""
        camera = self.camera
        if not self.health.last_update_success:
            return ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="gate_service_unavailable",
                translation_placeholders={"camera": camera},
            )
        if (error := self.watcher.last_error) is not None:
            return ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="gate_scan_failed",
                translation_placeholders={"camera": camera, "error": str(error)},
            )
        recent = self.watcher.recent_detections
        if not recent:
            return ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="no_recent_visit",
                translation_placeholders={"camera": camera},
            )
        if detection is None:
            return ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="plate_mismatch",
                translation_placeholders={
                    "camera": camera,
                    "plate": plate or "",
                    "latest": ", ".join(seen.plate for seen in recent),
                },
            )
        return None

    def _visit_refusal(
        self, detection: Detection, classification: Classification | None, now: datetime
    ) -> ServiceValidationError | None:
        """Return why the selected vehicle may not pass (checks 3 to 6), or None."""
        camera = self.camera
        recent = self.watcher.recent_detections
        age = (now - detection.time).total_seconds()
        if age > self.watcher.settings.hold_time:
            return ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="visit_stale",
                translation_placeholders={
                    "camera": camera,
                    "plate": detection.plate,
                    "age": str(round(age)),
                },
            )
        if blocked := [
            other.plate
            for other in recent
            if other is not detection and other.category is Category.BLOCKED
        ]:
            return ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="blocked_vehicle_present",
                translation_placeholders={"camera": camera, "plates": ", ".join(blocked)},
            )
        assert classification is not None  # noqa: S101 - classified whenever detected
        if not classification.access_granted:
            return ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="access_denied",
                translation_placeholders={
                    "plate": detection.plate,
                    "reason": classification.reason,
                },
            )
        if (opened := self._opened.get(detection.visit_id)) is not None:
            return ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="gate_already_opened",
                translation_placeholders={
                    "plate": detection.plate,
                    "time": dt_util.as_local(opened).strftime("%H:%M:%S"),
                },
            )
        return None


def _reason(
    refusal: ServiceValidationError | None, classification: Classification | None, *, force: bool
) -> str:
    """Return why the gate opened: the decision, or that it was forced and what checks said."""
    if refusal is not None:
        return f"Opened by force; the checks said: {refusal}"
    if force:
        return f"Opened by force. {classification.reason if classification else ''}".strip()
    assert classification is not None  # noqa: S101 - no refusal means a granted read
    return classification.reason
