"""The camera's entities keep what they showed across a reload and a restart (issue 13, item 7).

Home Assistant's own restore state does the keeping: an entry reload (an options change, a
reauthentication) removes and re-adds the entities in memory, and a restart writes the states
to `.storage/core.restore_state` and reads them back, which the harness does for real
(`async_mock_restore_state_shutdown_restart`: a JSON round trip through the storage).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_UNKNOWN
from homeassistant.core import State
import pytest
from pytest_homeassistant_custom_component.common import (
    async_mock_restore_state_shutdown_restart,
    mock_restore_cache_with_extra_data,
)

from custom_components.anpr.const import CONF_CAMERAS, CONF_REGION
from custom_components.anpr.image import MAX_RESTORED_CROP

from .conftest import CAMERA, MOTION
from .fakes import CROP_JPEG, FakeAnprService, plate_json, recognition_json

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

LAST_PLATE = "sensor.driveway_last_plate"
LAST_SCAN = "sensor.driveway_last_scan"
IMAGE = "image.driveway_last_plate_picture"
EVENT = "event.driveway_vehicle"
UNKNOWN_PRESENT = "binary_sensor.driveway_unknown_vehicle_present"
RESTORED = (LAST_PLATE, LAST_SCAN, IMAGE, EVENT)


async def motion(hass: HomeAssistant) -> None:
    """Motion at the driveway; wait for the burst it starts."""
    hass.states.async_set(MOTION, "on")
    await hass.async_block_till_done(wait_background_tasks=True)
    hass.states.async_set(MOTION, "off")
    await hass.async_block_till_done(wait_background_tasks=True)


def shown(hass: HomeAssistant) -> dict[str, tuple[str, dict[str, Any]]]:
    """Return the state and attributes (less the image's access token) of each entity."""
    result = {}
    for entity_id in RESTORED:
        state = hass.states.get(entity_id)
        assert state is not None
        attributes = {
            key: value
            for key, value in state.attributes.items()
            if key not in {"access_token", "entity_picture"}
        }
        result[entity_id] = (state.state, attributes)
    return result


async def image_bytes(hass: HomeAssistant, hass_client: ClientSessionGenerator) -> bytes:
    client = await hass_client()
    response = await client.get(f"/api/image_proxy/{IMAGE}")
    assert response.status == HTTPStatus.OK
    return await response.read()


async def test_an_options_change_keeps_the_last_read(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, hass_client: ClientSessionGenerator
) -> None:
    await motion(hass)
    before = shown(hass)
    assert before[LAST_PLATE][0] == "AYO9034"
    assert before[LAST_PLATE][1]["category"] == "unknown"
    assert STATE_UNKNOWN not in {state for state, _ in before.values()}

    # Changing a camera's options reloads the entry (its update listener).
    cameras = {CAMERA: {**loaded_entry.options[CONF_CAMERAS][CAMERA], CONF_REGION: "eu"}}
    hass.config_entries.async_update_entry(loaded_entry, options={CONF_CAMERAS: cameras})
    await hass.async_block_till_done(wait_background_tasks=True)
    assert loaded_entry.state is ConfigEntryState.LOADED
    assert loaded_entry.runtime_data.watchers[CAMERA].settings.region == "eu"  # reloaded

    assert shown(hass) == before
    assert await image_bytes(hass, hass_client) == CROP_JPEG
    # Only the entities remember: no vehicle is present and the watcher knows no visit, so
    # nothing restored can open a gate.
    assert hass.states.get(UNKNOWN_PRESENT).state == STATE_OFF
    assert loaded_entry.runtime_data.watchers[CAMERA].recent_detections == ()


async def test_a_restart_keeps_the_last_read(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    hass_client: ClientSessionGenerator,
) -> None:
    await motion(hass)
    before = shown(hass)

    # Home Assistant stops (the entities go, their states are written to storage) and starts
    # again (the states are read back from storage).
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    await async_mock_restore_state_shutdown_restart(hass)
    assert await hass.config_entries.async_setup(loaded_entry.entry_id)
    await hass.async_block_till_done()

    assert shown(hass) == before
    assert await image_bytes(hass, hass_client) == CROP_JPEG

    # The next read replaces what was restored.
    anpr_service.default_recognition = recognition_json(
        plate_json("XYZ1234", crop=b"\xff\xd8new-crop\xff\xd9")
    )
    await motion(hass)
    assert hass.states.get(LAST_PLATE).state == "XYZ1234"
    assert hass.states.get(LAST_PLATE).attributes["confidence"] == 0.95
    assert await image_bytes(hass, hass_client) == b"\xff\xd8new-crop\xff\xd9"


@pytest.mark.parametrize(
    ("crop_extra", "restored"),
    [
        ({"crop": "not base64!", "time": "2025-06-01T12:00:00+00:00"}, False),
        ({"time": "2025-06-01T12:00:00+00:00"}, False),
        ({"crop": "/9j/2Q==", "time": "not a time"}, False),
        ({"crop": "/9j/2Q==", "time": "2025-06-01T12:00:00+00:00"}, True),
    ],
)
@pytest.mark.usefixtures("camera")
async def test_damaged_restore_data_starts_empty(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    crop_extra: dict[str, Any],
    restored: bool,
) -> None:
    mock_restore_cache_with_extra_data(
        hass,
        [
            (State(IMAGE, "2025-06-01T12:00:00+00:00"), crop_extra),
            (State(LAST_PLATE, "AYO9034"), {"native_value": "AYO9034"}),  # no unit: damaged
        ],
    )
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(LAST_PLATE).state == STATE_UNKNOWN
    image = hass.states.get(IMAGE)
    if restored:
        assert image.state == "2025-06-01T12:00:00+00:00"
        assert await image_bytes(hass, hass_client) == b"\xff\xd8\xff\xd9"
    else:
        assert image.state == STATE_UNKNOWN


async def test_an_oversized_crop_is_not_kept(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, anpr_service: FakeAnprService
) -> None:
    huge = b"\xff\xd8" + b"\0" * MAX_RESTORED_CROP + b"\xff\xd9"
    anpr_service.default_recognition = recognition_json(plate_json("AYO9034", crop=huge))
    await motion(hass)
    assert hass.states.get(IMAGE).state != STATE_UNKNOWN
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    await async_mock_restore_state_shutdown_restart(hass)
    assert await hass.config_entries.async_setup(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(IMAGE).state == STATE_UNKNOWN
    assert hass.states.get(LAST_PLATE).state == "AYO9034"  # the sensors are kept all the same
