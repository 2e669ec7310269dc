"""A camera that fails or sends something that is not an image: skipped, logged once.

A broken camera never holds up or spoils another camera's scan, and whatever fails leaves
the camera's last scan failed (so its gate stays shut).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from homeassistant.const import STATE_UNKNOWN
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.anpr import burst as burst_module
from custom_components.anpr.const import EVENT_PLATE_DETECTED
from custom_components.anpr.scanner import ScanError

from .conftest import CAMERA, MOTION, camera_options, photo

if TYPE_CHECKING:
    from pathlib import Path

    from homeassistant.core import HomeAssistant

    from .fakes import FakeAnprService


@pytest.fixture
def camera_photo(tmp_path: Path) -> Path:
    """Return the file the camera serves; each test breaks it its own way after setup."""
    path = tmp_path / "driveway.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0placeholder")
    return path


def warnings_with(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(1 for r in caplog.records if r.levelno == logging.WARNING and text in r.getMessage())


async def test_camera_without_image(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    camera_photo: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await hass.async_add_executor_job(camera_photo.unlink)
    watcher = loaded_entry.runtime_data.watchers[CAMERA]
    for _ in range(2):
        with pytest.raises(ScanError) as info:
            await watcher.async_scan()
        assert info.value.translation_key == "camera_failed"
    assert anpr_service.recognize_requests == []
    # Six failed snapshots, one warning.
    assert warnings_with(caplog, "cannot take a snapshot from camera.driveway") == 1


async def test_camera_sends_no_image(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    camera_photo: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await hass.async_add_executor_job(camera_photo.write_bytes, b"<html>error 500</html>")
    with pytest.raises(ScanError):
        await loaded_entry.runtime_data.watchers[CAMERA].async_scan()
    assert anpr_service.recognize_requests == []
    assert warnings_with(caplog, "that are not a JPEG, PNG or WebP image") == 1


async def test_camera_raising_anything_is_skipped(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    camera_photo: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A camera integration may raise more than `HomeAssistantError`: still just skipped."""
    await hass.async_add_executor_job(camera_photo.unlink)
    await hass.async_add_executor_job(camera_photo.mkdir)  # local_file: IsADirectoryError
    watcher = loaded_entry.runtime_data.watchers[CAMERA]
    with pytest.raises(ScanError) as info:
        await watcher.async_scan()
    assert info.value.translation_key == "camera_failed"
    assert watcher.last_error is info.value
    assert anpr_service.recognize_requests == []
    assert (
        warnings_with(
            caplog,
            "cannot take a snapshot from camera.driveway: the camera raised IsADirectoryError",
        )
        == 1
    )

    # Fixed: the next scan reads normally.
    await hass.async_add_executor_job(camera_photo.rmdir)
    await hass.async_add_executor_job(camera_photo.write_bytes, photo("br", "AYO9034").read_bytes())
    result = await watcher.async_scan()
    assert [detection.plate for detection in result.detections] == ["AYO9034"]
    assert watcher.last_error is None
    assert "camera.driveway: scanning works again" in caplog.text


STREET = "camera.street"


@pytest.fixture
async def street_camera(hass: HomeAssistant) -> str:
    """Set up a second, working camera (same motion sensor as the driveway's)."""
    entry = MockConfigEntry(
        domain="local_file",
        title="Street",
        options={"name": "Street", "file_path": str(photo("br", "AYO9034"))},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return STREET


@pytest.mark.parametrize("cameras_options", [{CAMERA: camera_options(), STREET: camera_options()}])
@pytest.mark.parametrize("breakage", ["missing", "folder", "not an image"])
@pytest.mark.usefixtures("street_camera")
async def test_a_broken_camera_does_not_affect_another(
    hass: HomeAssistant,
    *,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    camera_photo: Path,
    caplog: pytest.LogCaptureFixture,
    breakage: str,
) -> None:
    await hass.async_add_executor_job(camera_photo.unlink)
    if breakage == "folder":
        await hass.async_add_executor_job(camera_photo.mkdir)
    elif breakage == "not an image":
        await hass.async_add_executor_job(camera_photo.write_bytes, b"<html>oops</html>")
    events = async_capture_events(hass, EVENT_PLATE_DETECTED)

    # Both cameras are triggered by the same motion, in the same moment.
    hass.states.async_set(MOTION, "on")
    await hass.async_block_till_done(wait_background_tasks=True)

    watchers = loaded_entry.runtime_data.watchers
    assert watchers[CAMERA].last_error is not None
    assert watchers[CAMERA].last_scan is None
    assert watchers[STREET].last_error is None
    assert [event.data["camera"] for event in events] == [STREET]
    assert hass.states.get("sensor.street_last_plate").state == "AYO9034"
    assert hass.states.get("sensor.driveway_last_plate").state == STATE_UNKNOWN
    assert len(anpr_service.recognize_requests) == 3  # the street's burst only
    problems = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "camera.driveway" in r.getMessage()
    ]
    assert len(problems) == 1
    assert not [
        r
        for r in caplog.records
        if "camera.street" in r.getMessage() and r.levelno >= logging.WARNING
    ]


async def test_an_unexpected_error_fails_the_scan(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    camera_photo: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug must leave the camera's last scan failed, never look like a good scan."""
    await hass.async_add_executor_job(camera_photo.write_bytes, photo("br", "AYO9034").read_bytes())

    def broken_vote(*_args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(burst_module, "vote", broken_vote)
    watcher = loaded_entry.runtime_data.watchers[CAMERA]
    hass.states.async_set(MOTION, "on")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert watcher.last_error is not None
    assert watcher.last_error.translation_key == "scan_failed"
    assert watcher.last_error.translation_placeholders == {
        "camera": CAMERA,
        "error": "RuntimeError('a bug')",
    }
    assert watcher.last_scan is None
    assert not watcher.busy
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == ["camera.driveway: unexpected error while scanning"]
    assert errors[0].exc_info is not None

    monkeypatch.undo()
    await watcher.async_scan()
    assert watcher.last_error is None
