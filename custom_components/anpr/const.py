"""Constants of the anpr integration."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
import logging
from typing import Final

from . import contract

DOMAIN: Final = "anpr"
LOGGER = logging.getLogger(__package__)

DEFAULT_PORT: Final = contract.DEFAULT_PORT
ADDON_SERVICE: Final = contract.DISCOVERY_SERVICE
"""Name under which the add-on announces itself to Supervisor discovery."""

HEALTH_INTERVAL: Final = timedelta(seconds=30)

# Config entry options.
CONF_CAMERAS: Final = "cameras"
CONF_TRIGGERS: Final = "triggers"
CONF_SCAN_INTERVAL: Final = "scan_interval"
CONF_BURST_FRAMES: Final = "burst_frames"
CONF_BURST_INTERVAL: Final = "burst_interval"
CONF_REGION: Final = "region"
CONF_MIN_CONFIDENCE: Final = "min_confidence"
CONF_HOLD_TIME: Final = "hold_time"
CONF_COOLDOWN: Final = "cooldown"
CONF_REQUEST_TIMEOUT: Final = "request_timeout"
CONF_DEFAULT_REGION: Final = "default_region"
CONF_CAMERA: Final = "camera"
CONF_ADDON_SLUG: Final = "addon_slug"
CONF_GATE: Final = "gate"
CONF_HISTORY_SIZE: Final = "history_size"
CONF_RETENTION_RESIDENT: Final = "retention_resident"
CONF_RETENTION_VISITOR: Final = "retention_visitor"
CONF_RETENTION_UNKNOWN: Final = "retention_unknown"
CONF_RETENTION_BLOCKED: Final = "retention_blocked"
CONF_DASHBOARD_CARD: Final = "dashboard_card"
"""Whether the integration loads its dashboard card on every dashboard (`frontend.py`)."""

# Plate sources other than watched cameras (`sources/`), under `options["sources"]`.
CONF_SOURCES: Final = "sources"
CONF_SOURCE: Final = "source"
CONF_SOURCE_KIND: Final = "kind"
CONF_SOURCE_ENTITY: Final = "entity"
CONF_PLATE_ATTRIBUTE: Final = "plate_attribute"
CONF_CONFIDENCE_ATTRIBUTE: Final = "confidence_attribute"
CONF_FRIGATE_CAMERA: Final = "frigate_camera"
CONF_FRIGATE_URL: Final = "frigate_url"
CONF_TOPIC_PREFIX: Final = "topic_prefix"
CONF_SOURCE_NAME: Final = "source_name"
CONF_OPEN_GATE: Final = "open_gate"
DEFAULT_TOPIC_PREFIX: Final = "frigate"
"""Frigate's default MQTT topic prefix (its `mqtt.topic_prefix`)."""

REGION_NONE: Final = "none"
"""Selector value for "no region hint" (stored as a missing option)."""

DEFAULT_SCAN_INTERVAL: Final = 0
DEFAULT_BURST_FRAMES: Final = 3
DEFAULT_BURST_INTERVAL: Final = 0.5
DEFAULT_MIN_CONFIDENCE: Final = 0.5
DEFAULT_HOLD_TIME: Final = 120
DEFAULT_COOLDOWN: Final = 300
DEFAULT_REQUEST_TIMEOUT: Final = 30
DEFAULT_HISTORY_SIZE: Final = 1000
DEFAULT_RETENTION_RESIDENT: Final = 30
"""Days a resident's visit stays in the history (as for visitors)."""
DEFAULT_RETENTION_VISITOR: Final = 30
DEFAULT_RETENTION_UNKNOWN: Final = 7
"""Days an unknown plate's visit is kept: strangers' plates are kept the shortest."""
DEFAULT_RETENTION_BLOCKED: Final = 90
"""Days a blocked plate's visit is kept: evidence is worth keeping longer."""
MAX_HISTORY_SIZE: Final = 100_000
MAX_RETENTION_DAYS: Final = 3650

MIN_SCAN_INTERVAL: Final = 2
MAX_BURST_FRAMES: Final = 10

EVENT_PLATE_DETECTED: Final = "anpr_plate_detected"
EVENT_GATE_OPENED: Final = "anpr_gate_opened"

SERVICE_SCAN: Final = "scan"
SERVICE_ADD_PLATE: Final = "add_plate"
SERVICE_REMOVE_PLATE: Final = "remove_plate"
SERVICE_ADD_VISITOR_PASS: Final = "add_visitor_pass"  # noqa: S105 - a pass, no password
SERVICE_LIST_PLATES: Final = "list_plates"
SERVICE_OPEN_GATE: Final = "open_gate"
SERVICE_EXPORT_HISTORY: Final = "export_history"
SERVICE_REPORT_PLATE: Final = "report_plate"

HOUSEKEEPING_INTERVAL: Final = timedelta(hours=1)
"""How often expired visitor passes and history beyond its retention are purged."""

ATTR_CAMERA: Final = "camera"
ATTR_CATEGORY: Final = "category"
ATTR_CONFIDENCE: Final = "confidence"
ATTR_DEVICE_ID: Final = "device_id"
ATTR_MATCHED_PLATE: Final = "matched_plate"
ATTR_OWNER: Final = "owner"
ATTR_PLATE: Final = "plate"
ATTR_PLATES: Final = "plates"
ATTR_REASON: Final = "reason"
ATTR_TIME: Final = "time"
ATTR_FRAMES: Final = "frames"
ATTR_ACCESS_GRANTED: Final = "access_granted"
ATTR_DECISION: Final = "decision"
ATTR_DISTANCE: Final = "distance"
ATTR_MATCH: Final = "match"
ATTR_GATE: Final = "gate"
ATTR_NAME: Final = "name"
ATTR_FORCED: Final = "forced"
ATTR_ENTRY_ID: Final = "entry_id"
ATTR_FORCE: Final = "force"
ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_NOTES: Final = "notes"
ATTR_START: Final = "start"
ATTR_END: Final = "end"
ATTR_DURATION: Final = "duration"
ATTR_MAX_ENTRIES: Final = "max_entries"
ATTR_FORMAT: Final = "format"
ATTR_PATH: Final = "path"
ATTR_SOURCE: Final = "source"
ATTR_IMAGE: Final = "image"


class Category(StrEnum):
    """What a plate means for the home: the access decision's outcome."""

    RESIDENT = "resident"
    VISITOR = "visitor"
    UNKNOWN = "unknown"
    BLOCKED = "blocked"


REGISTERED_CATEGORIES: Final = (Category.RESIDENT, Category.VISITOR, Category.BLOCKED)
"""The categories a registry entry can have (`unknown` is what is not registered)."""
