"""End to end: the real inference service, a real camera, a real photo, a real plate.

The service runs as a subprocess (`anpr-inference serve`, embedded detector, the real OCR model
from `../shared/models`) for the whole session; Home Assistant is set up through the user's
path: config flow, options flow, then a scan. The plate in the photo is `AYO9034`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, CONF_API_KEY, CONF_URL
from homeassistant.data_entry_flow import FlowResultType

from custom_components.anpr.const import (
    CONF_BURST_FRAMES,
    CONF_BURST_INTERVAL,
    CONF_CAMERA,
    CONF_COOLDOWN,
    CONF_HOLD_TIME,
    CONF_MIN_CONFIDENCE,
    CONF_REGION,
    CONF_REQUEST_TIMEOUT,
    CONF_SCAN_INTERVAL,
    CONF_TRIGGERS,
    DOMAIN,
)

from .conftest import CAMERA, photo
from .real_service import API_KEY

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant


async def test_plate_read_end_to_end(
    hass: HomeAssistant, socket_enabled: None, inference_service: str, camera: str
) -> None:
    assert camera == CAMERA
    assert photo("br", "AYO9034").is_file()

    # Settings > Devices & services > Add integration: URL and key, checked against /v1/health.
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: inference_service, CONF_API_KEY: API_KEY}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    entry = result["result"]
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED

    # Configure: a generous timeout (2 shared CPU cores), then watch the camera.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "settings"}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_REQUEST_TIMEOUT: 120, "default_region": "br"}
    )
    await hass.async_block_till_done()
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "add_camera"}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_CAMERA: CAMERA,
            CONF_TRIGGERS: [],
            CONF_SCAN_INTERVAL: 3600,
            CONF_BURST_FRAMES: 2,
            CONF_BURST_INTERVAL: 0,
            CONF_REGION: "br",
            CONF_MIN_CONFIDENCE: 0.3,
            CONF_HOLD_TIME: 60,
            CONF_COOLDOWN: 300,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED

    response = await hass.services.async_call(
        DOMAIN, "scan", {ATTR_ENTITY_ID: CAMERA}, blocking=True, return_response=True
    )
    assert response is not None
    # The best read is the car's plate (the detector may find other text in the photo too).
    assert response["plates"][0]["plate"] == "AYO9034"

    plate = hass.states.get("sensor.driveway_last_plate")
    assert plate is not None
    assert plate.state == "AYO9034"
    assert plate.attributes["frames"] == 2
    assert hass.states.get("binary_sensor.driveway_unknown_vehicle_present").state == "on"
    image = hass.states.get("image.driveway_last_plate_picture")
    assert image is not None
    assert image.state not in ("unknown", "unavailable")  # the service sent the crop

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
