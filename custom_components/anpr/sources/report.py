"""`anpr.report_plate`: an automation, script or webhook reports a plate for an action source.

The action names the source (the name given when it was added in the options), the plate, and
optionally the reader's confidence and a picture: a file Home Assistant may read
(`allowlist_external_dirs`) or an http(s) URL. The read then goes the way of every source's:
junk filter, minimum confidence, visit, events, history, gate. A picture that cannot be read is
refused with a translated error (a path outside the allowed folders, a missing file, not a
JPEG); one that cannot be fetched from a URL is logged and the read counts without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util
import voluptuous as vol

from ..api import image_content_type
from ..const import (
    ATTR_CONFIDENCE,
    ATTR_IMAGE,
    ATTR_PLATE,
    ATTR_SOURCE,
    CONF_SOURCES,
    DOMAIN,
    LOGGER,
    SERVICE_REPORT_PLATE,
)
from .reads import PlateRead, clean_plate
from .settings import SourceKind, source_id

if TYPE_CHECKING:
    from ..runtime import AnprConfigEntry
    from .runtime import SourceRuntime

MAX_IMAGE_BYTES = 10 * 1024 * 1024
"""Largest picture taken: a plate crop or a camera frame is far smaller."""
IMAGE_TIMEOUT = 10

REPORT_PLATE_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_SOURCE): vol.All(cv.string, vol.Length(min=1)),
        vol.Required(ATTR_PLATE): cv.string,
        vol.Optional(ATTR_CONFIDENCE): vol.All(vol.Coerce(float), vol.Range(min=0, max=1)),
        vol.Optional(ATTR_IMAGE): vol.All(cv.string, vol.Length(min=1)),
    }
)


def async_setup_report_action(hass: HomeAssistant) -> None:
    """Register `anpr.report_plate` (once, for every entry)."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_REPORT_PLATE,
        _async_report_plate,
        schema=REPORT_PLATE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )


def _error(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def _source(hass: HomeAssistant, name: str) -> SourceRuntime:
    """Find the loaded action source called `name` (names compare as slugs)."""
    wanted = source_id(SourceKind.ACTION, name)
    entries: list[AnprConfigEntry] = hass.config_entries.async_entries(DOMAIN)
    for entry in entries:
        if entry.state is ConfigEntryState.LOADED and wanted in entry.runtime_data.sources:
            return entry.runtime_data.sources[wanted]
    if any(wanted in entry.options.get(CONF_SOURCES, {}) for entry in entries):
        raise _error("source_not_loaded", source=name)
    raise _error("unknown_source", source=name)


async def _async_report_plate(call: ServiceCall) -> ServiceResponse:
    """Report a plate for an action source; return what became of it."""
    source = _source(call.hass, call.data[ATTR_SOURCE])
    text = call.data[ATTR_PLATE]
    if (plate := clean_plate(text)) is None:
        raise _error("not_a_plate", plate=text)
    image = None
    if (where := call.data.get(ATTR_IMAGE)) is not None:
        image = await _async_image(call.hass, where)
    detection = source.async_report(
        PlateRead(
            plate=plate,
            time=dt_util.utcnow(),
            confidence=call.data.get(ATTR_CONFIDENCE),
            image=image,
        )
    )
    if not call.return_response:
        return None
    if detection is None:
        return {ATTR_PLATE: plate, "recorded": False}
    return {**detection.as_dict(("camera", "plate", "category", "owner")), "recorded": True}


async def _async_image(hass: HomeAssistant, where: str) -> bytes | None:
    """Read the picture at a path Home Assistant may read, or fetch it from a URL."""
    if where.startswith(("http://", "https://")):
        return await _async_fetch(hass, where)
    if not hass.config.is_allowed_path(where):
        raise _error("image_not_allowed", path=where)
    try:
        data = await hass.async_add_executor_job(_read, Path(where))
    except OSError as err:
        raise _error("image_unreadable", path=where, error=str(err)) from err
    if image_content_type(data) != "image/jpeg":
        raise _error("image_not_jpeg", path=where)
    return data


def _read(path: Path) -> bytes:
    with path.open("rb") as file:
        return file.read(MAX_IMAGE_BYTES + 1)[:MAX_IMAGE_BYTES]


async def _async_fetch(hass: HomeAssistant, url: str) -> bytes | None:
    """Fetch a picture; a failure is logged and the read goes on without it."""
    try:
        async with async_get_clientsession(hass).get(
            url, timeout=aiohttp.ClientTimeout(total=IMAGE_TIMEOUT)
        ) as response:
            data = await response.content.read(MAX_IMAGE_BYTES)
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as err:
        LOGGER.warning("Cannot fetch the plate picture %s: %s", url, err)
        return None
    if status != 200 or image_content_type(data) != "image/jpeg":
        LOGGER.warning("%s answered %s, not a JPEG picture; the read has none", url, status)
        return None
    return data
