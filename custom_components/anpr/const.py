"""Constants of the anpr integration."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
import logging
from typing import Final

DOMAIN: Final = "anpr"
LOGGER = logging.getLogger(__package__)

DEFAULT_PORT: Final = 8756
ADDON_SERVICE: Final = "anpr"
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

REGION_NONE: Final = "none"
"""Selector value for "no region hint" (stored as a missing option)."""

DEFAULT_SCAN_INTERVAL: Final = 0
DEFAULT_BURST_FRAMES: Final = 3
DEFAULT_BURST_INTERVAL: Final = 0.5
DEFAULT_MIN_CONFIDENCE: Final = 0.5
DEFAULT_HOLD_TIME: Final = 120
DEFAULT_COOLDOWN: Final = 300
DEFAULT_REQUEST_TIMEOUT: Final = 30

MIN_SCAN_INTERVAL: Final = 2
MAX_BURST_FRAMES: Final = 10

EVENT_PLATE_DETECTED: Final = "anpr_plate_detected"

SERVICE_SCAN: Final = "scan"

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


class Category(StrEnum):
    """What a plate means for the home: the access decision's outcome."""

    RESIDENT = "resident"
    VISITOR = "visitor"
    UNKNOWN = "unknown"
    BLOCKED = "blocked"
