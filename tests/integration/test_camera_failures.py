"""A camera that fails or sends something that is not an image: skipped, logged once."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest

from custom_components.anpr.watcher import ScanError

from .conftest import CAMERA

if TYPE_CHECKING:
    from pathlib import Path

    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

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
