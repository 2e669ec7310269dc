"""End to end: the real inference service, a real camera, a real photo, a real plate.

The service runs as a subprocess (`anpr-inference serve`, embedded detector, the real OCR model
from `../shared/models`) for the whole session; Home Assistant is set up through the user's
path: config flow, options flow, then a scan. The plate in the photo is `AYO9034`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from typing import TYPE_CHECKING

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, CONF_API_KEY, CONF_URL
from homeassistant.data_entry_flow import FlowResultType
import pytest

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

from .conftest import CAMERA, MODELS, REPO, photo, shared_file

if TYPE_CHECKING:
    from collections.abc import Generator
    from pathlib import Path

    from homeassistant.core import HomeAssistant

API_KEY = "end-to-end-key"
STARTUP_TIMEOUT = 180.0
LISTENING = re.compile(r"anpr-inference listening on (http://127\.0\.0\.1:\d+)")


@pytest.fixture(scope="session")
def inference_service(tmp_path_factory: pytest.TempPathFactory) -> Generator[str]:
    """Run the real inference service for the session; return its URL."""
    ocr = shared_file(MODELS / "cct_xs_v1_global.onnx")
    ocr_config = shared_file(MODELS / "cct_xs_v1_global_plate_config.yaml")
    data_dir = tmp_path_factory.mktemp("anpr-inference")
    log_path = data_dir / "service.log"
    command = [
        sys.executable,
        "-m",
        "anpr_inference",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--detector",
        "embedded",
        "--ocr",
        "file",
        "--ocr-path",
        str(ocr),
        "--ocr-config-path",
        str(ocr_config),
        "--data-dir",
        str(data_dir),
        "--model-dir",
        str(data_dir / "models"),
        "--api-key",
        API_KEY,
        "--no-download",
        "--no-announce",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("SUPERVISOR_TOKEN", None)
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
            command, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env=env
        )
    try:
        yield _wait_until_listening(process, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover - only if it hangs on stop
            process.kill()
            process.wait()


def _wait_until_listening(process: subprocess.Popen[bytes], log_path: Path) -> str:
    """Return the service's URL once it prints that it listens; fail with its log if not."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        output = log_path.read_text(encoding="utf-8", errors="replace")
        if match := LISTENING.search(output):
            return match.group(1)
        if process.poll() is not None:
            pytest.fail(f"anpr-inference exited with {process.returncode}:\n{output[-4000:]}")
        time.sleep(0.2)
    pytest.fail(f"anpr-inference did not start within {STARTUP_TIMEOUT} s:\n{output[-4000:]}")


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
