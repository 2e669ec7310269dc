"""Actions of the anpr integration.

* `anpr.scan` reads a watched camera now.
* `anpr.add_plate`, `anpr.remove_plate`, `anpr.add_visitor_pass`, `anpr.list_plates` manage
  an entry's plate registry (`registry.py`).
* `anpr.open_gate` opens a camera's gate for its latest visit, after the checks of `gate.py`.
* `anpr.export_history` writes an entry's visit history to a CSV or JSON file.

Registered once in `async_setup` (not per entry) so the actions exist, and explain themselves,
even while an entry is not loaded. The registry actions work on an entry that is not loaded
when it is named by `config_entry_id` (the registry lives beside the entry); without it they
need exactly one loaded entry. Bad input gets a translated `ServiceValidationError`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .const import (
    ATTR_CAMERA,
    ATTR_CATEGORY,
    ATTR_CONFIDENCE,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DURATION,
    ATTR_END,
    ATTR_FORCE,
    ATTR_FORMAT,
    ATTR_FRAMES,
    ATTR_MATCHED_PLATE,
    ATTR_MAX_ENTRIES,
    ATTR_NAME,
    ATTR_NOTES,
    ATTR_OWNER,
    ATTR_PATH,
    ATTR_PLATE,
    ATTR_PLATES,
    ATTR_START,
    ATTR_TIME,
    CONF_CAMERAS,
    CONF_SOURCES,
    DOMAIN,
    REGISTERED_CATEGORIES,
    SERVICE_ADD_PLATE,
    SERVICE_ADD_VISITOR_PASS,
    SERVICE_EXPORT_HISTORY,
    SERVICE_LIST_PLATES,
    SERVICE_OPEN_GATE,
    SERVICE_REMOVE_PLATE,
    SERVICE_SCAN,
    Category,
)
from .history import async_get_history
from .registry import async_get_registry

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from homeassistant.util.json import JsonValueType

    from .runtime import AnprConfigEntry
    from .watcher import CameraWatcher

ATTR_VISITS = "visits"
SCAN_PLATE_KEYS = (
    ATTR_PLATE,
    ATTR_CONFIDENCE,
    ATTR_CATEGORY,
    ATTR_OWNER,
    ATTR_MATCHED_PLATE,
    ATTR_FRAMES,
)
"""What the `anpr.scan` response says of each plate read."""

type _Handler = Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]]

_ENTRY: dict[vol.Marker, Any] = {vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string}
_CATEGORIES = [category.value for category in REGISTERED_CATEGORIES]

SCAN_SCHEMA = vol.Schema({vol.Required(ATTR_ENTITY_ID): cv.entity_domain("camera")})
ADD_PLATE_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_PLATE): cv.string,
        vol.Required(ATTR_NAME): cv.string,
        vol.Optional(ATTR_CATEGORY, default=Category.RESIDENT.value): vol.In(_CATEGORIES),
        vol.Optional(ATTR_NOTES): cv.string,
        **_ENTRY,
    }
)
REMOVE_PLATE_SCHEMA = vol.Schema({vol.Required(ATTR_PLATE): cv.string, **_ENTRY})
ADD_VISITOR_PASS_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_PLATE): cv.string,
        vol.Required(ATTR_NAME): cv.string,
        vol.Optional(ATTR_START): cv.datetime,
        vol.Optional(ATTR_END): cv.datetime,
        vol.Optional(ATTR_DURATION): cv.time_period,
        vol.Optional(ATTR_MAX_ENTRIES): vol.All(vol.Coerce(int), vol.Range(min=1)),
        vol.Optional(ATTR_NOTES): cv.string,
        **_ENTRY,
    }
)
LIST_PLATES_SCHEMA = vol.Schema({vol.Optional(ATTR_CATEGORY): vol.In(_CATEGORIES), **_ENTRY})
OPEN_GATE_SCHEMA = vol.Schema(
    {
        # A watched camera, or a plate source's id (`sources/settings.py`: an entity id,
        # `frigate:<camera>` or `action:<name>`).
        vol.Required(ATTR_CAMERA): cv.string,
        vol.Optional(ATTR_PLATE): cv.string,
        vol.Optional(ATTR_FORCE, default=False): cv.boolean,
    }
)
EXPORT_HISTORY_SCHEMA = vol.Schema(
    {vol.Optional(ATTR_FORMAT, default="csv"): vol.In(["csv", "json"]), **_ENTRY}
)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""
    actions: tuple[tuple[str, _Handler, vol.Schema, SupportsResponse], ...] = (
        (SERVICE_SCAN, _async_scan, SCAN_SCHEMA, SupportsResponse.OPTIONAL),
        (SERVICE_ADD_PLATE, _async_add_plate, ADD_PLATE_SCHEMA, SupportsResponse.OPTIONAL),
        (SERVICE_REMOVE_PLATE, _async_remove_plate, REMOVE_PLATE_SCHEMA, SupportsResponse.NONE),
        (
            SERVICE_ADD_VISITOR_PASS,
            _async_add_visitor_pass,
            ADD_VISITOR_PASS_SCHEMA,
            SupportsResponse.OPTIONAL,
        ),
        (SERVICE_LIST_PLATES, _async_list_plates, LIST_PLATES_SCHEMA, SupportsResponse.ONLY),
        (SERVICE_OPEN_GATE, _async_open_gate, OPEN_GATE_SCHEMA, SupportsResponse.OPTIONAL),
        (
            SERVICE_EXPORT_HISTORY,
            _async_export_history,
            EXPORT_HISTORY_SCHEMA,
            SupportsResponse.OPTIONAL,
        ),
    )
    for name, handler, schema, supports_response in actions:
        hass.services.async_register(
            DOMAIN, name, handler, schema=schema, supports_response=supports_response
        )


# --- finding the entry ------------------------------------------------------------------


def _entry_watching(hass: HomeAssistant, camera: str) -> AnprConfigEntry:
    """Find the loaded entry that watches `camera`, or explain why there is none."""
    entries: list[AnprConfigEntry] = hass.config_entries.async_entries(DOMAIN)
    watching = [
        entry
        for entry in entries
        if camera in entry.options.get(CONF_CAMERAS, {})
        or camera in entry.options.get(CONF_SOURCES, {})
    ]
    for entry in watching:
        if entry.state is ConfigEntryState.LOADED:
            return entry
    if watching:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"camera": camera, "entry": watching[0].title},
        )
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="camera_not_watched",
        translation_placeholders={"camera": camera},
    )


def _watcher_for(hass: HomeAssistant, camera: str) -> CameraWatcher:
    """Find the loaded entry's watcher of `camera`, or explain why there is none."""
    return _entry_watching(hass, camera).runtime_data.watchers[camera]


def _entry_for(call: ServiceCall) -> AnprConfigEntry:
    """Return the entry an action is about: the one named, or the only loaded one."""
    hass = call.hass
    if entry_id := call.data.get(ATTR_CONFIG_ENTRY_ID):
        entry: AnprConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="entry_not_found",
                translation_placeholders={"entry_id": entry_id},
            )
        return entry
    loaded: list[AnprConfigEntry] = hass.config_entries.async_loaded_entries(DOMAIN)
    if len(loaded) == 1:
        return loaded[0]
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="no_loaded_entry" if not loaded else "several_entries",
        translation_placeholders={"count": str(len(loaded))},
    )


# --- the actions ------------------------------------------------------------------------


async def _async_scan(call: ServiceCall) -> ServiceResponse:
    """Run one burst on a watched camera and return the plates it read."""
    camera: str = call.data[ATTR_ENTITY_ID]
    watcher = _watcher_for(call.hass, camera)
    result = await watcher.async_scan()  # ScanError: a translated ServiceValidationError
    if not call.return_response:
        return None
    plates: list[JsonValueType] = [
        detection.as_dict(SCAN_PLATE_KEYS) for detection in result.detections
    ]
    return {
        ATTR_CAMERA: camera,
        ATTR_TIME: result.time.isoformat(),
        ATTR_FRAMES: result.frames,
        ATTR_PLATES: plates,
    }


async def _async_add_plate(call: ServiceCall) -> ServiceResponse:
    """Register a resident, visitor or blocked plate (or wildcard pattern)."""
    registry = await async_get_registry(call.hass, _entry_for(call).entry_id)
    entry = registry.async_add(
        call.data[ATTR_PLATE],
        call.data[ATTR_NAME],
        Category(call.data[ATTR_CATEGORY]),
        call.data.get(ATTR_NOTES),
    )
    return {ATTR_PLATE: entry.as_dict(dt_util.utcnow())} if call.return_response else None


async def _async_remove_plate(call: ServiceCall) -> None:
    """Forget a registered plate."""
    registry = await async_get_registry(call.hass, _entry_for(call).entry_id)
    registry.async_remove(call.data[ATTR_PLATE])


def pass_window(data: dict[str, Any], now: datetime) -> tuple[datetime, datetime]:
    """Return a pass's start and end from `start` and exactly one of `end` and `duration`."""
    start = dt_util.as_utc(data[ATTR_START]) if ATTR_START in data else now
    end: datetime | None = data.get(ATTR_END)
    duration: timedelta | None = data.get(ATTR_DURATION)
    if end is not None and duration is not None:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="end_and_duration")
    if duration is not None:
        if duration <= timedelta(0):
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="invalid_duration"
            )
        return start, start + duration
    if end is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="end_or_duration_required"
        )
    # The registry refuses an end in the past, then an end before the start.
    return start, dt_util.as_utc(end)


async def async_user_name(hass: HomeAssistant, user_id: str | None) -> str | None:
    """Return the name of the Home Assistant user who asked for something, when known.

    Passes remember who issued them by name (shown in the visitor-pass calendar), so the
    name stays readable after the user is renamed or removed.
    """
    if user_id is None or (user := await hass.auth.async_get_user(user_id)) is None:
        return None
    return user.name


async def _async_add_visitor_pass(call: ServiceCall) -> ServiceResponse:
    """Issue a visitor pass: a time window and optionally a number of entries."""
    now = dt_util.utcnow()
    start, end = pass_window(dict(call.data), now)
    registry = await async_get_registry(call.hass, _entry_for(call).entry_id)
    entry = registry.async_set_pass(
        call.data[ATTR_PLATE],
        call.data[ATTR_NAME],
        start=start,
        end=end,
        max_entries=call.data.get(ATTR_MAX_ENTRIES),
        notes=call.data.get(ATTR_NOTES),
        now=now,
        created_by=await async_user_name(call.hass, call.context.user_id),
    )
    return {ATTR_PLATE: entry.as_dict(now)} if call.return_response else None


async def _async_list_plates(call: ServiceCall) -> ServiceResponse:
    """Return the registered plates, optionally of one category."""
    registry = await async_get_registry(call.hass, _entry_for(call).entry_id)
    now = dt_util.utcnow()
    wanted = call.data.get(ATTR_CATEGORY)
    order = {category: index for index, category in enumerate(REGISTERED_CATEGORIES)}
    entries = sorted(
        (entry for entry in registry.plates.values() if wanted in (None, entry.category)),
        key=lambda entry: (order[entry.category], entry.plate),
    )
    return {ATTR_PLATES: [entry.as_dict(now) for entry in entries]}


async def _async_open_gate(call: ServiceCall) -> ServiceResponse:
    """Open a camera's gate for its latest visit, if that visit was granted access."""
    camera: str = call.data[ATTR_CAMERA]
    entry = _entry_watching(call.hass, camera)
    opening = await entry.runtime_data.gates[camera].async_open(
        plate=call.data.get(ATTR_PLATE) or None,
        force=call.data[ATTR_FORCE],
        context=call.context,
    )
    return opening.as_dict() if call.return_response else None


async def _async_export_history(call: ServiceCall) -> ServiceResponse:
    """Write the entry's visit history to `<config>/anpr/exports` and return the file."""
    entry = _entry_for(call)
    history = await async_get_history(call.hass, entry.entry_id)
    try:
        path, count = await history.async_export(call.data[ATTR_FORMAT], entry.title)
    except OSError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="export_failed",
            translation_placeholders={"error": str(err)},
        ) from err
    return {ATTR_PATH: str(path), ATTR_VISITS: count} if call.return_response else None
