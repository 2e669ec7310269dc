"""When a camera is scanned, and how bursts survive a busy service or a broken camera."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import TYPE_CHECKING

from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import STATE_UNAVAILABLE
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.anpr.const import CONF_BURST_FRAMES
from custom_components.anpr.scanner import ScanError

from .conftest import CAMERA, MOTION, camera_options
from .fakes import Answer, FakeAnprService, error_json, plate_json, recognition_json

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant

    from custom_components.anpr.watcher import CameraWatcher

LAST_PLATE = "sensor.driveway_last_plate"
ONE_FRAME = {CAMERA: camera_options(**{CONF_BURST_FRAMES: 1})}


def watcher_of(entry: MockConfigEntry) -> CameraWatcher:
    return entry.runtime_data.watchers[CAMERA]


async def settle(hass: HomeAssistant) -> None:
    await hass.async_block_till_done(wait_background_tasks=True)


@pytest.mark.parametrize("cameras_options", [ONE_FRAME])
@pytest.mark.parametrize(
    ("states", "bursts"),
    [
        (["off", "on"], 1),
        (["on"], 1),  # a trigger that appears already active
        (["off", "on", "on"], 1),  # attribute-only changes do not scan again
        (["off", "unavailable", "unknown", "off"], 0),
        (["0", "1", "2"], 2),  # counters (e.g. cars detected) scan on every change
        (["idle", "closed", "open"], 1),
        (["off", "Detected"], 1),
    ],
)
async def test_trigger_states(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    states: list[str],
    bursts: int,
) -> None:
    hass.states.async_remove(MOTION)
    for index, state in enumerate(states):
        hass.states.async_set(MOTION, state, {"index": index} if state == "on" else None)
        await settle(hass)
    assert len(anpr_service.recognize_requests) == bursts


@pytest.mark.parametrize(
    "cameras_options", [{CAMERA: camera_options(triggers=[], scan_interval=10)}]
)
async def test_interval(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    freezer: FrozenDateTimeFactory,
) -> None:
    assert anpr_service.recognize_requests == []
    freezer.tick(timedelta(seconds=10))
    async_fire_time_changed(hass)
    await settle(hass)
    assert len(anpr_service.recognize_requests) == 3
    assert hass.states.get(LAST_PLATE).state == "AYO9034"


@pytest.mark.parametrize("cameras_options", [ONE_FRAME])
async def test_triggers_during_a_burst_queue_one_more(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, anpr_service: FakeAnprService
) -> None:
    anpr_service.recognize_answers.append(
        Answer(body=recognition_json(plate_json("AYO9034")), delay=0.2)
    )
    watcher = watcher_of(loaded_entry)
    watcher.async_request_scan()
    await hass.async_block_till_done()
    watcher.async_request_scan()
    watcher.async_request_scan()
    await settle(hass)
    assert len(anpr_service.recognize_requests) == 2
    assert not watcher.busy


@pytest.mark.parametrize("cameras_options", [ONE_FRAME])
async def test_service_busy_is_retried(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, anpr_service: FakeAnprService
) -> None:
    anpr_service.recognize_answers += [
        Answer(503, error_json("overloaded", "queue full"), {"Retry-After": "1"}),
        Answer(500, error_json("internal_error", "oops")),
    ]
    result = await watcher_of(loaded_entry).async_scan()
    assert [d.plate for d in result.detections] == ["AYO9034"]
    assert len(anpr_service.recognize_requests) == 3


@pytest.mark.parametrize("cameras_options", [ONE_FRAME])
async def test_service_down_during_scan(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, anpr_service: FakeAnprService
) -> None:
    anpr_service.recognize_answers += [Answer(500, error_json("internal_error", "oops"))] * 3
    with pytest.raises(ScanError) as info:
        await watcher_of(loaded_entry).async_scan()
    assert info.value.translation_key == "service_unavailable"
    await hass.async_block_till_done()
    # Retries are used up: the service counts as down until it answers again.
    assert hass.states.get(LAST_PLATE).state == STATE_UNAVAILABLE

    await watcher_of(loaded_entry).async_scan()
    await settle(hass)
    assert hass.states.get(LAST_PLATE).state == "AYO9034"


@pytest.mark.parametrize("cameras_options", [ONE_FRAME])
async def test_key_rejected_during_scan(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, anpr_service: FakeAnprService
) -> None:
    anpr_service.api_key = "rotated-key-456"
    with pytest.raises(ScanError) as info:
        await watcher_of(loaded_entry).async_scan()
    assert info.value.translation_key == "invalid_auth"
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_rejected_frames_are_logged_once(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    rejected = Answer(400, error_json("invalid_image", "cannot decode"))
    anpr_service.recognize_answers += [rejected] * 6
    for _ in range(2):
        hass.states.async_set(MOTION, "on")
        await settle(hass)
        hass.states.async_set(MOTION, "off")
        await settle(hass)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len([r for r in warnings if "rejected a frame" in r.getMessage()]) == 1
    assert hass.states.get(LAST_PLATE).state != "AYO9034"

    # A junk answer is the service failing, not the image: retried, and every frame is read.
    caplog.clear()
    anpr_service.recognize_answers.append(Answer(body={"plates": "junk"}))
    result = await watcher_of(loaded_entry).async_scan()
    assert [(d.plate, d.frames) for d in result.detections] == [("AYO9034", 3)]
    assert len(anpr_service.recognize_requests) == 6 + 4
    assert "scanning works again" in caplog.text


@pytest.mark.parametrize(
    "cameras_options", [{CAMERA: camera_options(burst_frames=2, burst_interval=0.01)}]
)
async def test_burst_frames_are_spaced(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, anpr_service: FakeAnprService
) -> None:
    result = await watcher_of(loaded_entry).async_scan()
    assert result.frames == 2
    assert len(anpr_service.recognize_requests) == 2


@pytest.mark.parametrize("cameras_options", [ONE_FRAME])
async def test_unload_during_a_burst(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, anpr_service: FakeAnprService
) -> None:
    anpr_service.recognize_answers.append(Answer(body=recognition_json(), delay=5))
    watcher = watcher_of(loaded_entry)
    watcher.async_request_scan()
    await hass.async_block_till_done()
    assert watcher.busy
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert not watcher.busy
    assert watcher.last_scan is None
