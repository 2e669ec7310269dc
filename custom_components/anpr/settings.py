"""Typed views of the config entry's options.

The options flow stores plain JSON (`options["cameras"]` keyed by camera entity id); the rest of
the integration reads it only through these frozen dataclasses, so an option added later cannot
break entries saved before it existed. Each default is a `DEFAULT_*` constant of `const.py`,
named once here as a field's default: `from_options` falls back to the field defaults, and the
options flow shows the same constants (`HISTORY_DEFAULTS` for the history fields).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from .const import (
    CONF_BURST_FRAMES,
    CONF_BURST_INTERVAL,
    CONF_CAMERAS,
    CONF_COOLDOWN,
    CONF_DASHBOARD_CARD,
    CONF_DEFAULT_REGION,
    CONF_GATE,
    CONF_HISTORY_SIZE,
    CONF_HOLD_TIME,
    CONF_MIN_CONFIDENCE,
    CONF_REGION,
    CONF_REQUEST_TIMEOUT,
    CONF_RETENTION_BLOCKED,
    CONF_RETENTION_RESIDENT,
    CONF_RETENTION_UNKNOWN,
    CONF_RETENTION_VISITOR,
    CONF_SCAN_INTERVAL,
    CONF_SOURCES,
    CONF_TRIGGERS,
    DEFAULT_BURST_FRAMES,
    DEFAULT_BURST_INTERVAL,
    DEFAULT_COOLDOWN,
    DEFAULT_HISTORY_SIZE,
    DEFAULT_HOLD_TIME,
    DEFAULT_MIN_CONFIDENCE,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_RETENTION_BLOCKED,
    DEFAULT_RETENTION_RESIDENT,
    DEFAULT_RETENTION_UNKNOWN,
    DEFAULT_RETENTION_VISITOR,
    DEFAULT_SCAN_INTERVAL,
    Category,
)
from .sources.settings import SourceSettings

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True, slots=True)
class CameraSettings:
    """How one watched camera is scanned and how its results are interpreted."""

    entity_id: str
    triggers: tuple[str, ...] = ()
    """Entities whose change to an active state starts a burst (motion, occupancy...)."""
    scan_interval: int = DEFAULT_SCAN_INTERVAL
    """Seconds between unconditional bursts; 0 means only on triggers."""
    burst_frames: int = DEFAULT_BURST_FRAMES
    burst_interval: float = DEFAULT_BURST_INTERVAL
    """Seconds between the frames of one burst."""
    region: str | None = None
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    hold_time: int = DEFAULT_HOLD_TIME
    """Seconds a vehicle counts as present after it was last seen."""
    cooldown: int = DEFAULT_COOLDOWN
    """Seconds in which the same plate at this camera is still the same visit.

    It is the gate's cooldown as well: one visit opens the gate at most once (`gate.py`)."""
    gate: str | None = None
    """Entity (cover, switch, button or lock) that `anpr.open_gate` opens for this camera."""

    @classmethod
    def from_options(cls, entity_id: str, options: Mapping[str, Any]) -> CameraSettings:
        """Build from one camera's stored options, defaulting what is missing."""
        defaults = cls(entity_id)
        return cls(
            entity_id=entity_id,
            triggers=tuple(options.get(CONF_TRIGGERS, defaults.triggers)),
            scan_interval=int(options.get(CONF_SCAN_INTERVAL, defaults.scan_interval)),
            burst_frames=int(options.get(CONF_BURST_FRAMES, defaults.burst_frames)),
            burst_interval=float(options.get(CONF_BURST_INTERVAL, defaults.burst_interval)),
            region=options.get(CONF_REGION) or None,
            min_confidence=float(options.get(CONF_MIN_CONFIDENCE, defaults.min_confidence)),
            hold_time=int(options.get(CONF_HOLD_TIME, defaults.hold_time)),
            cooldown=int(options.get(CONF_COOLDOWN, defaults.cooldown)),
            gate=options.get(CONF_GATE) or None,
        )


HISTORY_OPTIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        CONF_HISTORY_SIZE: "size",
        CONF_RETENTION_RESIDENT: "resident_days",
        CONF_RETENTION_VISITOR: "visitor_days",
        CONF_RETENTION_UNKNOWN: "unknown_days",
        CONF_RETENTION_BLOCKED: "blocked_days",
    }
)
"""Each history option of `entry.options` and the `HistorySettings` field it sets."""


@dataclass(frozen=True, slots=True)
class HistorySettings:
    """How much of the visit history is kept: a count, and days per category."""

    size: int = DEFAULT_HISTORY_SIZE
    """The most visits kept; the oldest go first."""
    resident_days: int = DEFAULT_RETENTION_RESIDENT
    visitor_days: int = DEFAULT_RETENTION_VISITOR
    unknown_days: int = DEFAULT_RETENTION_UNKNOWN
    blocked_days: int = DEFAULT_RETENTION_BLOCKED

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> HistorySettings:
        """Build from `entry.options`, defaulting what is missing."""
        return cls(
            **{field: int(options[key]) for key, field in HISTORY_OPTIONS.items() if key in options}
        )

    def retention(self, category: Category) -> timedelta:
        """How long a visit of `category` is kept."""
        days = {
            Category.RESIDENT: self.resident_days,
            Category.VISITOR: self.visitor_days,
            Category.UNKNOWN: self.unknown_days,
            Category.BLOCKED: self.blocked_days,
        }[category]
        return timedelta(days=days)


@dataclass(frozen=True, slots=True)
class EntrySettings:
    """All options of one config entry."""

    cameras: Mapping[str, CameraSettings]
    request_timeout: int = DEFAULT_REQUEST_TIMEOUT
    default_region: str | None = None
    history: HistorySettings = HistorySettings()
    dashboard_card: bool = True
    """Whether the dashboard card is loaded on every dashboard (`frontend.py`)."""
    sources: Mapping[str, SourceSettings] = field(default_factory=dict)
    """Plate sources other than watched cameras, keyed by source id (`sources/`)."""

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> EntrySettings:
        """Build from `entry.options`."""
        cameras: Mapping[str, Mapping[str, Any]] = options.get(CONF_CAMERAS, {})
        defaults = cls(cameras={})
        return cls(
            cameras={
                entity_id: CameraSettings.from_options(entity_id, camera)
                for entity_id, camera in cameras.items()
            },
            request_timeout=int(options.get(CONF_REQUEST_TIMEOUT, defaults.request_timeout)),
            default_region=options.get(CONF_DEFAULT_REGION) or None,
            history=HistorySettings.from_options(options),
            dashboard_card=bool(options.get(CONF_DASHBOARD_CARD, True)),
            sources={
                key: SourceSettings.from_options(key, source)
                for key, source in options.get(CONF_SOURCES, {}).items()
            },
        )


HISTORY_DEFAULTS: Final[Mapping[str, int]] = MappingProxyType(
    {key: getattr(HistorySettings(), field) for key, field in HISTORY_OPTIONS.items()}
)
"""Each history option's default, as the options form offers it."""
