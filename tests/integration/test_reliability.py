"""The gate controller at 3 a.m.: the service going away, failing, timing out or busy.

The inference service is the fake on 127.0.0.1, really stopped and started again, or made to
answer 500s, junk, slow or busy answers; the camera is a real `local_file` camera. What must
hold: entities go unavailable while the service is down, a sustained outage becomes a repair
issue that clears itself, the next trigger after recovery scans normally, and no gate opens on
a burst that failed or was cut short.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_get_translations
import pytest
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)
from yarl import URL

from custom_components.anpr import scanner as scanner_module
from custom_components.anpr.api import AnprConnectionError, AnprOverloadedError
from custom_components.anpr.burst import quorum
from custom_components.anpr.const import CONF_BURST_FRAMES, CONF_GATE, DOMAIN, EVENT_PLATE_DETECTED
from custom_components.anpr.issues import DATA_OUTAGES, OUTAGE_ISSUE_AFTER
from custom_components.anpr.scanner import ScanError, retry_delay

from .conftest import CAMERA, GATE, MOTION, camera_options
from .fakes import Answer, FakeAnprService, error_json, plate_json, recognition_json

if TYPE_CHECKING:
    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant, ServiceCall
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from custom_components.anpr.watcher import CameraWatcher

LAST_PLATE = "sensor.driveway_last_plate"
CONNECTIVITY = "binary_sensor.anpr_127_0_0_1_connectivity"
GOOD = Answer(body=recognition_json(plate_json("AYO9034")))
SETUP_RETRY_MAX_WAIT: float = getattr(config_entries, "SETUP_RETRY_MAX_WAIT", 80)
"""Home Assistant's longest wait between setup retries (5 s, doubling): 600 s since 2026.6,
80 s before (2 ** 4 * 5, without a name)."""


@pytest.fixture
def cameras_options() -> dict[str, dict[str, Any]]:
    """Watch the driveway (three frames per burst), whose gate is `cover.gate`."""
    return {CAMERA: camera_options(**{CONF_GATE: GATE})}


def watcher_of(entry: MockConfigEntry) -> CameraWatcher:
    return entry.runtime_data.watchers[CAMERA]


def outage_issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"service_unavailable_{entry.entry_id}")


async def settle(hass: HomeAssistant) -> None:
    await hass.async_block_till_done(wait_background_tasks=True)


async def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await settle(hass)


async def fail_setup_retries_until_the_outage_issue(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: MockConfigEntry
) -> None:
    """Let every setup retry fail: no issue before `OUTAGE_ISSUE_AFTER`, one at the next retry."""
    step, elapsed = 60.0, 0.0
    while elapsed + step < OUTAGE_ISSUE_AFTER.total_seconds():
        await advance(hass, freezer, step)
        elapsed += step
        assert entry.state is ConfigEntryState.SETUP_RETRY
        assert outage_issue(hass, entry) is None
    deadline = OUTAGE_ISSUE_AFTER.total_seconds() + SETUP_RETRY_MAX_WAIT + step
    while outage_issue(hass, entry) is None and elapsed < deadline:
        await advance(hass, freezer, step)
        elapsed += step
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert outage_issue(hass, entry) is not None


async def motion(hass: HomeAssistant) -> None:
    """Let a car arrive: the motion sensor turns on and the burst runs."""
    hass.states.async_set(MOTION, "off")
    await settle(hass)
    hass.states.async_set(MOTION, "on")
    await settle(hass)


async def add_resident(hass: HomeAssistant) -> None:
    await hass.services.async_call(
        DOMAIN, "add_plate", {"plate": "AYO9034", "name": "Alice"}, blocking=True
    )


async def open_gate(hass: HomeAssistant) -> None:
    await hass.services.async_call(DOMAIN, "open_gate", {"camera": CAMERA}, blocking=True)


async def gate_refusal(hass: HomeAssistant) -> str | None:
    with pytest.raises(HomeAssistantError) as info:
        await open_gate(hass)
    return info.value.translation_key


# --- a sustained outage --------------------------------------------------------------------


async def test_sustained_outage_raises_a_repair_issue_that_clears_itself(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    freezer: FrozenDateTimeFactory,
) -> None:
    await anpr_service.stop()
    await advance(hass, freezer, 31)
    # Down at once for the entities, but a short outage is no repair issue.
    assert hass.states.get(LAST_PLATE).state == STATE_UNAVAILABLE
    assert hass.states.get(CONNECTIVITY).state == STATE_OFF
    assert outage_issue(hass, loaded_entry) is None
    assert loaded_entry.runtime_data.coordinator.outage.since is not None

    # One poll short of the limit: still nothing.
    await advance(hass, freezer, OUTAGE_ISSUE_AFTER.total_seconds() - 60)
    assert outage_issue(hass, loaded_entry) is None

    await advance(hass, freezer, 61)
    issue = outage_issue(hass, loaded_entry)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert not issue.is_fixable
    assert issue.translation_key == "service_unavailable"
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["url"] == anpr_service.url
    assert issue.translation_placeholders["entry"] == loaded_entry.title
    assert "cannot reach" in issue.translation_placeholders["error"]
    texts = await async_get_translations(hass, "en", "issues", [DOMAIN])
    title = texts[f"component.{DOMAIN}.issues.service_unavailable.title"].format(
        **issue.translation_placeholders
    )
    # Named once, by address (the entry's title "ANPR (127.0.0.1)" doubled the name).
    assert title == f"ANPR inference service at {URL(anpr_service.url).authority} is unreachable"

    # Back: the next poll clears the issue and the entities.
    await anpr_service.start()
    await advance(hass, freezer, 31)
    assert outage_issue(hass, loaded_entry) is None
    assert hass.states.get(LAST_PLATE).state != STATE_UNAVAILABLE
    assert hass.states.get(CONNECTIVITY).state == STATE_ON
    assert loaded_entry.runtime_data.coordinator.outage.since is None


async def test_outages_with_answers_in_between_do_not_add_up(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    freezer: FrozenDateTimeFactory,
) -> None:
    for _ in range(3):
        anpr_service.down = True  # 500s
        await advance(hass, freezer, OUTAGE_ISSUE_AFTER.total_seconds() / 2)
        anpr_service.down = False
        await advance(hass, freezer, 31)
    assert outage_issue(hass, loaded_entry) is None


async def test_recovery_seen_by_a_scan_clears_the_issue(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    freezer: FrozenDateTimeFactory,
) -> None:
    anpr_service.down = True
    await advance(hass, freezer, 31)
    await advance(hass, freezer, OUTAGE_ISSUE_AFTER.total_seconds())
    assert outage_issue(hass, loaded_entry) is not None

    # The service is back before the next poll: the next trigger scans normally, and its
    # success has the coordinator check the service again at once.
    anpr_service.down = False
    await motion(hass)
    assert outage_issue(hass, loaded_entry) is None
    assert hass.states.get(LAST_PLATE).state == "AYO9034"


@pytest.mark.usefixtures("camera")
async def test_outage_from_startup_across_setup_retries(
    hass: HomeAssistant,
    anpr_service: FakeAnprService,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """After a reboot the add-on may never come up: the setup retries count as one outage."""
    await anpr_service.stop()
    config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY

    # Home Assistant retries with a growing delay (SETUP_RETRY_MAX_WAIT); every retry fails.
    await fail_setup_retries_until_the_outage_issue(hass, freezer, config_entry)

    await anpr_service.start()
    await advance(hass, freezer, SETUP_RETRY_MAX_WAIT + 10)
    assert config_entry.state is ConfigEntryState.LOADED
    assert outage_issue(hass, config_entry) is None
    await hass.config_entries.async_unload(config_entry.entry_id)


@pytest.mark.usefixtures("camera")
async def test_unloading_a_retrying_entry_drops_its_issue(
    hass: HomeAssistant,
    anpr_service: FakeAnprService,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    anpr_service.down = True
    config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(config_entry.entry_id)
    await fail_setup_retries_until_the_outage_issue(hass, freezer, config_entry)

    # Disabled, say: it no longer tries to reach the service, so there is nothing to repair.
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.NOT_LOADED
    assert outage_issue(hass, config_entry) is None


@pytest.mark.usefixtures("camera")
async def test_removing_the_entry_drops_its_issue(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    freezer: FrozenDateTimeFactory,
) -> None:
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    anpr_service.down = True
    await advance(hass, freezer, 31)
    await advance(hass, freezer, OUTAGE_ISSUE_AFTER.total_seconds())
    assert outage_issue(hass, config_entry) is not None
    assert await hass.config_entries.async_remove(config_entry.entry_id)
    await hass.async_block_till_done()
    assert outage_issue(hass, config_entry) is None
    assert config_entry.entry_id not in hass.data[DATA_OUTAGES]


async def test_a_rejected_key_is_no_outage(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    freezer: FrozenDateTimeFactory,
) -> None:
    anpr_service.down = True
    await advance(hass, freezer, 31)
    assert loaded_entry.runtime_data.coordinator.outage.since is not None
    # The service answers again, but refuses the key: re-authentication is the repair.
    anpr_service.down = False
    anpr_service.api_key = "rotated-key-456"
    await advance(hass, freezer, 31)
    assert loaded_entry.runtime_data.coordinator.outage.since is None
    assert outage_issue(hass, loaded_entry) is None


# --- the service going away during a burst -------------------------------------------------


async def test_service_gone_mid_burst_then_back(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    gate_calls: list[ServiceCall],
) -> None:
    await add_resident(hass)
    events = async_capture_events(hass, EVENT_PLATE_DETECTED)
    watcher = watcher_of(loaded_entry)

    # The first frame is read, then the service's process dies.
    anpr_service.recognize_answers.append(
        Answer(body=recognition_json(plate_json("AYO9034")), then_stop=True)
    )
    await motion(hass)
    assert not anpr_service.running
    assert len(anpr_service.recognize_requests) == 1
    # Nothing is decided on the frame read before: no visit, no event, nothing shown.
    assert events == []
    assert watcher.last_scan is None
    assert watcher.last_error is not None
    assert watcher.last_error.translation_key == "service_unavailable"
    assert hass.states.get(LAST_PLATE).state == STATE_UNAVAILABLE
    assert await gate_refusal(hass) == "gate_service_unavailable"
    assert gate_calls == []

    # Triggers while it is gone fail the same way, and quickly.
    await motion(hass)
    assert watcher.last_error.translation_key == "service_unavailable"

    # Back (the Pi rebooted): the next trigger scans normally, and the gate opens.
    await anpr_service.start()
    await motion(hass)
    assert watcher.last_error is None
    assert watcher.last_scan is not None
    assert watcher.last_scan.frames == 3
    assert [event.data["plate"] for event in events] == ["AYO9034"]
    assert hass.states.get(LAST_PLATE).state == "AYO9034"
    await open_gate(hass)
    assert len(gate_calls) == 1


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(Answer(500, error_json("internal_error", "boom")), id="500"),
        pytest.param(Answer(502, b"<html>Bad Gateway</html>"), id="proxy-502"),
        pytest.param(Answer(body=b"<html>it works!</html>"), id="not-json"),
        pytest.param(Answer(body={"plates": [{"text": 1}]}), id="foreign-json"),
        pytest.param(Answer(body=[1, 2, 3]), id="json-list"),
    ],
)
async def test_service_failing_mid_burst(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    gate_calls: list[ServiceCall],
    failure: Answer,
) -> None:
    await add_resident(hass)
    # The second frame fails on every retry: the service is broken, not the image.
    anpr_service.recognize_answers += [GOOD, failure, failure, failure]
    watcher = watcher_of(loaded_entry)
    with pytest.raises(ScanError) as info:
        await watcher.async_scan()
    assert info.value.translation_key == "service_unavailable"
    await hass.async_block_till_done()
    assert len(anpr_service.recognize_requests) == 4
    assert watcher.last_scan is None
    assert hass.states.get(LAST_PLATE).state == STATE_UNAVAILABLE
    assert await gate_refusal(hass) == "gate_service_unavailable"
    assert gate_calls == []

    # The next scan reads normally again and brings the entities back.
    result = await watcher.async_scan()
    await settle(hass)
    assert result.frames == 3
    assert hass.states.get(LAST_PLATE).state == "AYO9034"
    await open_gate(hass)
    assert len(gate_calls) == 1


@pytest.mark.parametrize("cameras_options", [{CAMERA: camera_options(**{CONF_BURST_FRAMES: 2})}])
async def test_answers_slower_than_the_timeout(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, anpr_service: FakeAnprService
) -> None:
    client = loaded_entry.runtime_data.client
    client._request_timeout = aiohttp.ClientTimeout(total=0.25)
    slow = Answer(body=recognition_json(plate_json("AYO9034")), delay=2.0)
    anpr_service.recognize_answers += [GOOD, slow, slow, slow]
    watcher = watcher_of(loaded_entry)
    with pytest.raises(ScanError) as info:
        await watcher.async_scan()
    assert info.value.translation_key == "service_unavailable"
    assert "timeout" in str(info.value)
    await hass.async_block_till_done()
    assert hass.states.get(LAST_PLATE).state == STATE_UNAVAILABLE
    assert watcher.last_scan is None

    result = await watcher.async_scan()
    assert result.frames == 2


# --- a busy service ------------------------------------------------------------------------

BUSY = Answer(503, error_json("overloaded", "queue full"), {"Retry-After": "1"})


async def test_busy_service_is_retried_within_the_burst(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, anpr_service: FakeAnprService
) -> None:
    anpr_service.recognize_answers += [BUSY, BUSY, GOOD, BUSY]
    result = await watcher_of(loaded_entry).async_scan()
    assert result.frames == 3
    assert len(anpr_service.recognize_requests) == 6
    assert hass.states.get(LAST_PLATE).state == "AYO9034"


async def test_busy_service_ends_the_burst_but_is_no_outage(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    gate_calls: list[ServiceCall],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await add_resident(hass)
    watcher = watcher_of(loaded_entry)

    # Still busy after the retries on the third frame: the burst stops adding to the queue
    # and votes on the two frames it read (a majority of three).
    anpr_service.recognize_answers += [GOOD, GOOD, BUSY, BUSY, BUSY]
    result = await watcher.async_scan()
    assert result.frames == 2
    assert len(anpr_service.recognize_requests) == 5
    await open_gate(hass)
    assert len(gate_calls) == 1
    assert "the inference service is busy" in caplog.text

    # Busy from the second frame on: one frame of three is too few to trust.
    anpr_service.recognize_answers += [GOOD, BUSY, BUSY, BUSY]
    with pytest.raises(ScanError) as info:
        await watcher.async_scan()
    assert info.value.translation_key == "too_few_frames"
    assert info.value.translation_placeholders is not None
    assert info.value.translation_placeholders["read"] == "1"
    assert len(anpr_service.recognize_requests) == 9  # no more frames sent to a full queue

    # Busy from the start: no frame at all.
    anpr_service.recognize_answers += [BUSY, BUSY, BUSY]
    with pytest.raises(ScanError) as info:
        await watcher.async_scan()
    assert info.value.translation_key == "service_busy"

    # Busy is not down: the entities stay available, but the gate does not open on a failed
    # scan.
    await hass.async_block_till_done()
    assert loaded_entry.runtime_data.coordinator.last_update_success
    assert hass.states.get(LAST_PLATE).state == "AYO9034"
    assert await gate_refusal(hass) == "gate_scan_failed"
    assert len(gate_calls) == 1


def test_retry_delays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scanner_module, "RETRY_DELAYS", (1.0, 3.0))
    monkeypatch.setattr(scanner_module, "MAX_RETRY_AFTER", 10.0)
    down = AnprConnectionError("cannot reach")
    assert [retry_delay(attempt, down) for attempt in (0, 1)] == [1.0, 3.0]
    # A busy service's Retry-After is honoured when longer than the backoff, up to a limit.
    assert retry_delay(0, AnprOverloadedError("busy", retry_after=1)) == 1.0
    assert retry_delay(0, AnprOverloadedError("busy", retry_after=5)) == 5.0
    assert retry_delay(1, AnprOverloadedError("busy", retry_after=2)) == 3.0
    assert retry_delay(0, AnprOverloadedError("busy", retry_after=3600)) == 10.0
    assert retry_delay(0, AnprOverloadedError("busy")) == 1.0


# --- frames lost within a burst ------------------------------------------------------------

REJECTED = Answer(400, error_json("invalid_image", "cannot decode"))


def test_quorum_is_a_majority_of_the_burst() -> None:
    assert [quorum(frames) for frames in range(1, 11)] == [1, 2, 2, 3, 3, 4, 4, 5, 5, 6]


async def test_one_lost_frame_of_three_still_votes(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    gate_calls: list[ServiceCall],
) -> None:
    await add_resident(hass)
    anpr_service.recognize_answers += [GOOD, REJECTED, GOOD]
    result = await watcher_of(loaded_entry).async_scan()
    assert result.frames == 2
    await open_gate(hass)
    assert len(gate_calls) == 1


async def test_a_burst_that_lost_most_frames_decides_nothing(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    gate_calls: list[ServiceCall],
) -> None:
    await add_resident(hass)
    events = async_capture_events(hass, EVENT_PLATE_DETECTED)
    anpr_service.recognize_answers += [REJECTED, GOOD, REJECTED]
    watcher = watcher_of(loaded_entry)
    with pytest.raises(ScanError) as info:
        await watcher.async_scan()
    assert info.value.translation_key == "too_few_frames"
    assert info.value.translation_placeholders == {
        "camera": CAMERA,
        "read": "1",
        "frames": "3",
        "error": "The ANPR inference service could not read the snapshots of camera.driveway: "
        "invalid_image: cannot decode",
    }
    await hass.async_block_till_done()
    # Not an outage, but no visit either, and the gate stays shut.
    assert events == []
    assert watcher.last_scan is None
    assert hass.states.get(LAST_PLATE).state not in ("AYO9034", STATE_UNAVAILABLE)
    assert await gate_refusal(hass) == "gate_scan_failed"
    assert gate_calls == []
