"""Diagnostics of a config entry, with the API key and every plate redacted.

Plates are personal data: a diagnostics file is attached to public bug reports, so reads,
owners and registry matches are replaced by `**REDACTED**`; the shape (how many plates, which
confidences, which frames) stays, which is what debugging needs.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_API_KEY

from .const import CONF_FRIGATE_URL, REGISTERED_CATEGORIES

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .detection import Detection
    from .runtime import AnprConfigEntry
    from .sources.runtime import SourceRuntime
    from .watcher import CameraWatcher

TO_REDACT = {
    CONF_API_KEY,
    "plate",
    "owner",
    "matched_plate",
    "reason",
    "decision",
    "plates",
    CONF_FRIGATE_URL,
}


def _detection(detection: Detection | None) -> dict[str, Any] | None:
    if detection is None:
        return None
    return {
        "plate": detection.plate,
        "confidence": detection.confidence,
        "char_confidences": list(detection.char_confidences),
        "category": detection.category.value,
        "owner": detection.classification.owner,
        "matched_plate": detection.classification.matched_plate,
        "reason": detection.classification.reason,
        "decision": detection.classification.decision,
        "access_granted": detection.classification.access_granted,
        "time": detection.time.isoformat(),
        "frames": detection.frames,
        "new_visit": detection.new_visit,
        "crop_bytes": len(detection.crop) if detection.crop else 0,
    }


def _watcher(watcher: CameraWatcher) -> dict[str, Any]:
    scan = watcher.last_scan
    return {
        "settings": asdict(watcher.settings),
        "busy": watcher.busy,
        "present": {category.value: on for category, on in watcher.present.items()},
        "active_visits": watcher.active_visits,
        "last_error": str(watcher.last_error) if watcher.last_error else None,
        "last_detection": _detection(watcher.last_detection),
        "last_scan": None
        if scan is None
        else {
            "time": scan.time.isoformat(),
            "frames": scan.frames,
            "inference_ms": scan.inference_ms,
            "detections": [_detection(detection) for detection in scan.detections],
        },
    }


def _source(source: SourceRuntime) -> dict[str, Any]:
    return {
        "settings": asdict(source.settings),
        "present": {category.value: on for category, on in source.present.items()},
        "active_visits": source.active_visits,
        "last_detection": _detection(source.last_detection),
    }


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: AnprConfigEntry
) -> dict[str, Any]:
    """Return what support needs to see of an entry, without secrets or plates."""
    data = entry.runtime_data
    coordinator = data.coordinator
    return async_redact_data(
        {
            "entry": {
                "title": entry.title,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            "service": {
                "url": data.client.url,
                "available": coordinator.last_update_success,
                "last_error": str(coordinator.last_exception)
                if coordinator.last_exception
                else None,
                "health": asdict(coordinator.data) if coordinator.data else None,
                "outage_since": coordinator.outage.since.isoformat()
                if coordinator.outage.since
                else None,
            },
            "cameras": {
                entity_id: _watcher(watcher) for entity_id, watcher in data.watchers.items()
            },
            # Only counts: the registry and the history are plates and names.
            "registry": {
                category.value: sum(
                    entry.category is category for entry in data.registry.plates.values()
                )
                for category in REGISTERED_CATEGORIES
            },
            "history": {"visits": len(data.history.visits)},
        }
        | (
            {"sources": {key: _source(source) for key, source in data.sources.items()}}
            if data.sources
            else {}
        ),
        TO_REDACT,
    )
