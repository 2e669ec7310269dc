"""Expected refusals, called from the UI as the frontend does (websocket): one log line each.

Home Assistant 2025.4's websocket `call_service` logs a `ServiceValidationError` as one error
line (its traceback only at debug level) and any other `HomeAssistantError` as "Unexpected
exception" with a traceback. A refusal the integration explains (the service is down, the
camera failed, the last scan failed) is expected, so it must be the former (issue 13, item 5).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.exceptions import HomeAssistantError
import pytest

from custom_components.anpr.const import CONF_GATE, DOMAIN

from .conftest import CAMERA, GATE, camera_options, photo
from .fakes import Answer, FakeAnprService, error_json

if TYPE_CHECKING:
    from pathlib import Path

    from homeassistant.core import HomeAssistant, ServiceCall
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from pytest_homeassistant_custom_component.typing import WebSocketGenerator


@pytest.fixture
def camera_photo(tmp_path: Path) -> Path:
    """Serve a copy of a real photo, so that a test can take it away from the camera."""
    path = tmp_path / "driveway.jpg"
    path.write_bytes(photo("br", "AYO9034").read_bytes())
    return path


@pytest.fixture
def cameras_options() -> dict[str, dict[str, Any]]:
    """Watch the driveway camera, whose gate is `cover.gate`."""
    return {CAMERA: camera_options(**{CONF_GATE: GATE})}


async def ws_call(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, service: str, data: dict[str, Any]
) -> dict[str, Any]:
    """Call an anpr action over the websocket, as the frontend's action buttons do."""
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": "call_service", "domain": DOMAIN, "service": service, "service_data": data}
    )
    response: dict[str, Any] = await client.receive_json()
    assert not response["success"]
    return response


def assert_one_line(caplog: pytest.LogCaptureFixture, key: str, message: str) -> None:
    """Check the refusal was logged once, as one line, and no traceback above debug."""
    assert "Unexpected exception" not in caplog.text
    assert [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.INFO and record.exc_info
    ] == []
    lines = [
        record
        for record in caplog.records
        if record.name.startswith("homeassistant.components.websocket_api")
        and record.levelno >= logging.WARNING
    ]
    # The connection's logger prefixes its id: "[140598643079440] The ANPR ..."
    assert [record.getMessage().split("] ", 1)[1] for record in lines] == [message], key


async def test_scan_while_the_service_is_down(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    hass_ws_client: WebSocketGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    anpr_service.recognize_answers += [Answer(500, error_json("internal_error", "boom"))] * 3
    response = await ws_call(hass, hass_ws_client, "scan", {ATTR_ENTITY_ID: CAMERA})
    error = response["error"]
    assert (error["code"], error["translation_key"]) == (
        "service_validation_error",
        "service_unavailable",
    )
    assert_one_line(
        caplog, "service_unavailable", error["message"].removeprefix("Validation error: ")
    )


async def test_scan_when_the_camera_fails(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    camera_photo: Path,
    hass_ws_client: WebSocketGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await hass.async_add_executor_job(camera_photo.unlink)
    response = await ws_call(hass, hass_ws_client, "scan", {ATTR_ENTITY_ID: CAMERA})
    error = response["error"]
    assert (error["code"], error["translation_key"]) == (
        "service_validation_error",
        "camera_failed",
    )
    assert_one_line(caplog, "camera_failed", error["message"].removeprefix("Validation error: "))


async def test_open_gate_refusals(  # noqa: PLR0917 - fixtures
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    gate_calls: list[ServiceCall],
    hass_ws_client: WebSocketGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await hass.services.async_call(
        DOMAIN, "add_plate", {"plate": "AYO9034", "name": "Alice"}, blocking=True
    )
    await hass.services.async_call(DOMAIN, "scan", {ATTR_ENTITY_ID: CAMERA}, blocking=True)

    # The last scan failed: the service rejected every frame.
    anpr_service.recognize_answers += [Answer(400, error_json("invalid_image", "garbled"))] * 3
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(DOMAIN, "scan", {ATTR_ENTITY_ID: CAMERA}, blocking=True)
    caplog.clear()
    error = (await ws_call(hass, hass_ws_client, "open_gate", {"camera": CAMERA}))["error"]
    assert (error["code"], error["translation_key"]) == (
        "service_validation_error",
        "gate_scan_failed",
    )
    assert_one_line(caplog, "gate_scan_failed", error["message"].removeprefix("Validation error: "))

    # The service is down.
    anpr_service.down = True
    await loaded_entry.runtime_data.coordinator.async_refresh()
    caplog.clear()
    error = (await ws_call(hass, hass_ws_client, "open_gate", {"camera": CAMERA}))["error"]
    assert (error["code"], error["translation_key"]) == (
        "service_validation_error",
        "gate_service_unavailable",
    )
    assert_one_line(
        caplog, "gate_service_unavailable", error["message"].removeprefix("Validation error: ")
    )
    assert gate_calls == []


async def test_force_skips_every_check_and_warns(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    gate_calls: list[ServiceCall],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 13, item 11: with the service down, `force` still opens, and says so."""
    anpr_service.down = True
    await loaded_entry.runtime_data.coordinator.async_refresh()
    response = await hass.services.async_call(
        DOMAIN, "open_gate", {"camera": CAMERA, "force": True}, blocking=True, return_response=True
    )
    assert response is not None
    assert response["forced"] is True
    assert len(gate_calls) == 1
    warnings = [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING and record.name == "custom_components.anpr"
    ]
    assert warnings == [
        (
            "Opening cover.gate for camera.driveway by force: every check was skipped (they "
            "said: Not opening the gate of camera.driveway: the ANPR inference service is "
            "unavailable, so the latest read cannot be trusted)"
        )
    ], warnings
